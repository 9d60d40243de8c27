"""The `shop` command: parses arguments, finds the shop, calls `shop.logic.owner`, prints.

Each command returns something JSON-shaped; `--json` prints exactly that, otherwise `render`
makes it readable. Errors map to one exit code each, in one place (`_exit_code`, and
`EXIT_KIND_FOR_ERROR` for the shop's own errors).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shop import stack_outputs
from shop.cli import render
from shop.domain.approval import Decision
from shop.domain.errors import (
    AlreadyDecided,
    DecisionUnconfirmed,
    DeliveryUnknown,
    InvalidCatalog,
    InvalidRequest,
    LinkExpired,
    LinkForged,
    LinkRefused,
    NotDelivered,
    NotFound,
    NotReady,
    ResendUnfinished,
    ShopError,
    TooBusy,
    UnprocessableOrder,
)
from shop.domain.text import printable
from shop.settings import LOCAL_DEFAULT_PORT, STACK_NAME

# What the exit status means, for scripts and for `shop --help`. argparse's own usage errors are 2 as well.
_EXITS = (
    ("ok", 0, "done"),
    ("failed", 1, "AWS or the shop failed: trying again may work (a decision recorded but not delivered: "
                  "`approvals deliver ID`)"),
    ("invalid", 2, "bad arguments or input: fix the command"),
    ("not_found", 3, "no such order"),
    ("conflict", 4, "already decided, not awaiting approval, or too late (its deadline passed)"),
    ("unreachable", 5, "nothing to talk to: no local shop running, no such stack, or AWS not configured "
                       "(no region or no credentials)"),
)
EXIT = {name: code for name, code, _ in _EXITS}
# Each domain error as the kind of exit it is: the CLI's one table, as shop/error_answers.py is the
# HTTP fronts' (tests/unit/test_error_answers.py checks that every error is in both).
EXIT_KIND_FOR_ERROR: dict[type[ShopError], str] = {
    ShopError: "invalid",
    InvalidRequest: "invalid",
    UnprocessableOrder: "invalid",
    InvalidCatalog: "invalid",
    NotFound: "not_found",
    TooBusy: "failed",
    # Already decided, not awaiting approval, too late.
    LinkRefused: "conflict",
    LinkForged: "conflict",
    LinkExpired: "conflict",
    AlreadyDecided: "conflict",
    NotReady: "conflict",
    # Recorded, not delivered: trying again (`approvals deliver`) delivers it.
    NotDelivered: "failed",
    DeliveryUnknown: "failed",
    # The old links may be dead, the new ones unsent: `approvals resend` again sends working ones.
    ResendUnfinished: "failed",
    DecisionUnconfirmed: "failed",
}
# Killed by SIGPIPE, as `ls` and `git log` are when `| head` stops reading: the shell reports 128 + 13.
EXIT_BROKEN_PIPE = 141

# `shop --help`: what the owner needs, not how the module is built.
DESCRIPTION = f"""\
Follow and decide the shop's orders: list them, see one with its workflow, approve, reject or
cancel those awaiting approval, send the approval links again, load the catalog.

It talks to the local shop (`make run`) by default: $SHOP_URL, else
http://127.0.0.1:{LOCAL_DEFAULT_PORT}; `--local URL` for another. With `--aws` it works on the stack
deployed to AWS ({STACK_NAME}, or `--stack NAME`), with your own AWS credentials and region
(AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_REGION or `--region`).

`--json` prints results for scripts, and errors as {{"error": {{"kind": ..., "message": ...}}}} on
stderr."""

EPILOG = "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for _, code, meaning in _EXITS)


class CommandError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


# -- finding the shop ------------------------------------------------------------------------------


def _resources(args: argparse.Namespace):
    import boto3

    from shop.adapters.aws import client_config
    from shop.adapters.stack import ShopResources, outputs_from_cloudformation, outputs_from_local

    if args.aws:
        session = boto3.Session(region_name=args.region) if args.region else boto3.Session()
        outputs = outputs_from_cloudformation(args.stack, session.client("cloudformation", config=client_config()))
        return ShopResources(outputs, lambda service: session.client(service, config=client_config()))
    outputs, endpoint, owner_credentials = outputs_from_local(_local_url(args))
    # The owner's local credentials, which the local shop hands out: never the user's real ones.
    session = boto3.Session(**owner_credentials, region_name=_region(outputs))
    return ShopResources(outputs, lambda service: session.client(service, endpoint_url=endpoint,
                                                                 config=client_config()))


def _local_url(args: argparse.Namespace) -> str:
    """The local shop's URL as given, if it is one: http(s), a host, a port if any that is a number,
    and no space or control character (http.client refuses those with a traceback)."""
    from urllib.parse import urlsplit

    source = "--local" if args.local_given else "$SHOP_URL"
    url = args.local
    problem = ""
    if any(char.isspace() or not char.isprintable() for char in url):
        problem = "it contains a space or a control character"
    else:
        try:
            parts = urlsplit(url)
            _ = parts.port  # raises for a port that is not a number
        except ValueError as error:
            problem = str(error)
        else:
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problem = "it needs http:// or https:// and a host"
    if problem:
        raise CommandError("invalid", f"{source} {url!r} is not a URL: {problem} (e.g. http://127.0.0.1:{LOCAL_DEFAULT_PORT})")
    return url


def _region(outputs: dict[str, str]) -> str:
    return outputs[stack_outputs.STATE_MACHINE_ARN].split(":")[3]


# -- commands --------------------------------------------------------------------------------------


def _now():
    from shop.logic.clock import utc_now

    return utc_now()


def order_place(args: argparse.Namespace) -> dict[str, Any]:
    from shop.cli.api_client import post_order

    body = {
        "customerEmail": args.email,
        "customerName": args.name,
        "shippingAddress": {"streetAddress": args.street, "city": args.city, "county": args.county,
                            "country": args.country},
        "items": [_item(text) for text in args.item],
    }
    return post_order(_resources(args).api_url, body, idempotency_key=args.idempotency_key)


def _item(text: str) -> dict[str, Any]:
    product_id, _, quantity = text.rpartition(":")
    if not product_id or not quantity.isdigit() or not quantity.isascii():
        raise CommandError("invalid", f"--item {text!r}: expected PRODUCT_ID:QUANTITY, e.g. 01JDF12740C1HB5QE4DT9TWB3R:2")
    return {"productId": product_id, "quantity": int(quantity)}


def order_show(args):
    from shop.logic import owner

    shop = _resources(args)
    return owner.order_detail(args.order_id, orders=shop.orders, decisions=shop.decisions, workflow=shop.workflow)


def order_list(args):
    from shop.logic import owner

    shop = _resources(args)
    return owner.list_orders(orders=shop.orders, workflow=shop.workflow, status=args.status, limit=args.limit)


def approvals_list(args):
    from shop.logic import owner

    shop = _resources(args)
    return owner.pending_approvals(orders=shop.orders, decisions=shop.decisions, workflow=shop.workflow, now=_now())


def _decide(decision: Decision) -> Callable[[argparse.Namespace], dict[str, Any]]:
    def command(args):
        from shop.logic import owner

        shop = _resources(args)
        return owner.decide(args.order_id, decision, orders=shop.orders, decisions=shop.decisions,
                            workflow=shop.workflow, now=_now())

    return command


def approvals_deliver(args):
    from shop.logic import owner

    shop = _resources(args)
    return owner.deliver(args.order_id, orders=shop.orders, decisions=shop.decisions, workflow=shop.workflow,
                         now=_now())


def approvals_resend(args):
    from shop.logic import owner

    shop = _resources(args)
    return owner.resend(args.order_id, approval_url=shop.approval_url, topic_arn=shop.topic_arn,
                        signing_key=shop.signing_key, orders=shop.orders, decisions=shop.decisions,
                        workflow=shop.workflow, publish=shop.publish, now=_now())


def catalog_load(args):
    from shop.domain.catalog import parse_catalog

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError("invalid", f"cannot read {args.file}: {error}") from None
    products = parse_catalog(text)
    resources = _resources(args)
    return {"loaded": resources.products.put_all(products), "table": resources.outputs[stack_outputs.PRODUCTS_TABLE]}


# -- arguments -------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    # Shared options work before or after the command (`shop --json order list` and
    # `shop order list --json`); SUPPRESS keeps a later parser from resetting an earlier value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON for scripts")
    common.add_argument("--local", metavar="URL", default=argparse.SUPPRESS,
                        help=f"the local shop (default $SHOP_URL or http://127.0.0.1:{LOCAL_DEFAULT_PORT})")
    common.add_argument("--aws", action="store_true", default=argparse.SUPPRESS,
                        help="the stack deployed to AWS, with your AWS credentials")
    common.add_argument("--stack", default=argparse.SUPPRESS, help=f"stack name with --aws (default {STACK_NAME})")
    common.add_argument("--region", default=argparse.SUPPRESS, help="AWS region with --aws (default: your profile's)")

    parser = argparse.ArgumentParser(prog="shop", parents=[common], description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    groups = parser.add_subparsers(dest="group", required=True, metavar="{order,approvals,catalog}")

    def command(group, name: str, run, help: str, order_id: bool = False):
        sub = group.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(run=run)
        if order_id:
            sub.add_argument("order_id", metavar="ID", help="the order id")
        return sub

    order = groups.add_parser("order", help="place, show, list and cancel orders").add_subparsers(
        dest="command", required=True, metavar="{place,show,list,cancel}")
    place = command(order, "place", order_place, "place an order through the order API")
    place.add_argument("--email", required=True, help="the customer's email")
    place.add_argument("--name", required=True, help="the customer's name")
    for field in ("street", "city", "county", "country"):
        place.add_argument(f"--{field}", required=True, help=f"shipping address: {field}")
    place.add_argument("--item", action="append", required=True, metavar="PRODUCT_ID:QTY",
                       help="a product and its quantity; repeat for more")
    place.add_argument("--idempotency-key", help="send as Idempotency-Key: a retry then places no second order")
    command(order, "show", order_show, "an order, its decision and its workflow's history", order_id=True)
    listing = command(order, "list", order_list, "orders, newest first")
    listing.add_argument("--status", help="only orders in this status")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    command(order, "cancel", _decide(Decision.CANCEL),
            "cancel an order awaiting approval: the customer is told and the order deleted", order_id=True)

    approvals = groups.add_parser("approvals", help="orders waiting for your decision").add_subparsers(
        dest="command", required=True, metavar="{list,approve,reject,resend,deliver}")
    command(approvals, "list", approvals_list, "orders awaiting approval, the most urgent first")
    command(approvals, "approve", _decide(Decision.APPROVE), "approve an order: it ships", order_id=True)
    command(approvals, "reject", _decide(Decision.REJECT),
            "reject an order: the customer is told and the order deleted", order_id=True)
    command(approvals, "resend", approvals_resend,
            "send the approval notification again, with new links; the old ones stop working", order_id=True)
    command(approvals, "deliver", approvals_deliver,
            "deliver a decision that was recorded but did not reach the workflow (an AWS fault)",
            order_id=True)

    catalog = groups.add_parser("catalog", help="the products customers can order").add_subparsers(
        dest="command", required=True, metavar="{load}")
    command(catalog, "load", catalog_load, "load a catalog file (JSON) into the products table").add_argument(
        "file", type=Path, metavar="FILE")
    return parser


def _options(args: argparse.Namespace) -> argparse.Namespace:
    args.local_given = hasattr(args, "local")
    defaults = {"json": False, "aws": False, "stack": STACK_NAME, "region": None,
                "local": os.environ.get("SHOP_URL") or f"http://127.0.0.1:{LOCAL_DEFAULT_PORT}"}
    for name, value in defaults.items():
        if not hasattr(args, name):
            setattr(args, name, value)
    return args


# -- errors and output -----------------------------------------------------------------------------


def exit_kind(error: ShopError) -> str:
    """The error's kind of exit: the nearest class in the table (a subclass answers as its parent)."""
    return next(EXIT_KIND_FOR_ERROR[kind] for kind in type(error).__mro__ if kind in EXIT_KIND_FOR_ERROR)


def _exit_code(error: Exception) -> tuple[str, str]:
    """The kind of failure and what to tell the user; the kind is the exit code's name."""
    from shop.adapters.stack import ShopUnreachable
    from shop.cli.api_client import ApiError

    if isinstance(error, CommandError):
        return error.kind, error.message
    if isinstance(error, ShopUnreachable):
        return "unreachable", str(error)
    if isinstance(error, ApiError):
        return error.kind, error.message
    if isinstance(error, ShopError):
        return exit_kind(error), error.message
    from shop.adapters.aws import configuration_problem

    configuration = configuration_problem(error, region_option="--region")
    if configuration:  # exit 5, never "AWS failed, try again": only fixing the setting helps
        return "unreachable", configuration
    from botocore.exceptions import BotoCoreError

    if isinstance(error, BotoCoreError):
        return "failed", f"AWS call failed: {error}"
    from shop.adapters.aws import error_code

    if error_code(error):
        return "failed", f"AWS said {error_code(error)}: {error}"
    raise error  # a bug: let the traceback show


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:
            sys.stdout.flush()  # now, not at exit, so that a reader gone away is caught below
    except BrokenPipeError:
        # The reader stopped reading (`shop order list | head`): not an error of ours. Nothing more
        # can be written, and Python's own flush at exit would fail again, so stdout goes nowhere.
        # Exit as `ls` or `git log` do, killed by SIGPIPE: with `set -o pipefail` a script sees the
        # same 141 for both, and a cut-off listing never passes for a complete one (0 would).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    args = _options(_parser().parse_args(argv))
    try:
        result = args.run(args)
    except Exception as error:
        kind, message = _exit_code(error)
        if args.json:
            print(json.dumps({"error": {"kind": kind, "message": message}}), file=sys.stderr)
        else:
            print(f"shop: {printable(message)}", file=sys.stderr)  # it may quote stored text
        return EXIT[kind]
    print(json.dumps(result, indent=2, default=str) if args.json else render.text(args, result))
    return EXIT["ok"]


if __name__ == "__main__":
    sys.exit(main())
