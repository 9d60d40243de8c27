"""Load a catalog file into the products table: `python -m shop.seed FILE`.

On AWS the table is found from the deployed stack's outputs (your usual AWS credentials and
region). Against a running local shop, pass its AWS endpoint and the table name it printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shop import stack_outputs as output
from shop.domain.errors import InvalidCatalog
from shop.settings import STACK_NAME


def products_table_from_stack(stack_name: str, cloudformation) -> str:
    from shop.adapters.stack import ShopUnreachable, read_stack_outputs

    try:
        outputs = read_stack_outputs(stack_name, cloudformation)
    except ShopUnreachable as error:
        raise SystemExit(str(error)) from None
    except Exception as error:  # any other AWS refusal, e.g. access denied
        raise SystemExit(f"stack {stack_name} not found: {error}") from None
    if output.PRODUCTS_TABLE not in outputs:
        raise SystemExit(f"stack {stack_name} has no {output.PRODUCTS_TABLE} output")
    return outputs[output.PRODUCTS_TABLE]


def main(argv: list[str] | None = None) -> int:
    import boto3

    from shop.adapters.tables import ProductsTable
    from shop.domain.catalog import parse_catalog

    parser = argparse.ArgumentParser(prog="shop-seed", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, help="catalog JSON: a list of {Id, Name, Price, Currency, ...}")
    parser.add_argument("--stack", default=STACK_NAME, help="stack to read the table name from")
    parser.add_argument("--table", help="products table name (skips the stack lookup)")
    parser.add_argument("--endpoint-url", help="AWS endpoint, e.g. the local shop's moto server")
    args = parser.parse_args(argv)

    try:
        products = parse_catalog(args.file.read_text())
    except OSError as error:
        print(f"cannot read {args.file}: {error}", file=sys.stderr)
        return 2
    except InvalidCatalog as error:
        print(f"{args.file}: {error.message}", file=sys.stderr)
        return 2
    client = {"endpoint_url": args.endpoint_url} if args.endpoint_url else {}
    table = args.table or products_table_from_stack(args.stack, boto3.client("cloudformation", **client))
    count = ProductsTable(table, dynamodb=boto3.client("dynamodb", **client)).put_all(products)
    print(f"loaded {count} products into {table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
