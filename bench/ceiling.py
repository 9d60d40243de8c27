"""Item 2: the ceiling, the same orders placed straight on the emulator, without the order API.

Same concurrency levels and orders per client as item 1, against a freshly started shop process
each time. Each client (a thread of the bench process, with its own boto3 clients on the shop's
moto server, the "AWS CLI: --endpoint-url" of the banner) does only what the order API does to AWS
for a valid order, with the very same payloads (the order priced once with the shop's own code;
each client only changes the id):

  1. DynamoDB PutItem of the priced order (ConditionExpression attribute_not_exists(orderId)),
  2. Step Functions StartExecution named after the order, with the same input the API sends.

Left out compared with item 1 (that is "our API layer"): the shop's HTTP front (werkzeug) and the
API Gateway event conversion, the handler (Powertools resolver and logger), validating and pricing
the request, the catalog read (DynamoDB BatchGetItem). Kept: the same two AWS writes and the same
executions they start, which run in the shop process in both cases; clients outside the shop
process in both cases. Added: each of the two calls goes through moto's own HTTP server (werkzeug,
a thread per connection), where the handlers call moto in-process. The CPU time per order of the
shop process (item 1's figures) separates the two: API minus ceiling is what our layer costs.

`ceiling_inprocess` (not in the default run: `--only ceiling_inprocess`) measures the same work
with the clients inside the shop process (LocalShop in a worker process, `python -m bench.ceiling`),
calling moto in-process like the handlers do. Its clients then share the interpreter lock with the
executions they start: it places a burst of orders much faster than the executions can follow, and
its figures vary widely from run to run, so it is kept as an experiment, not as the reference.
Lost orders are counted as in item 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import BENCH_PRODUCT, CUSTOMER_DOMAIN, ROOT, customer_email, order_body, progress
from bench.load import LoadResult, Operation, measure, measure_level
from bench.shop_process import FAKE_CREDENTIALS, REGION, ShopProcess
from shop.adapters.workflow import execution_arn

WORKER_TIME_LIMIT = 900.0


def _priced_template():
    from shop.domain.catalog import parse_catalog
    from shop.domain.orders import parse_order_request, price_order
    from shop.logic.clock import iso, utc_now

    catalog = {p.product_id: p for p in parse_catalog((ROOT / "data" / "demo-catalog.json").read_text())}
    assert BENCH_PRODUCT in catalog
    return price_order(parse_order_request(order_body()), catalog, order_id="0" * 26, created_at=iso(utc_now()))


def direct_operation(client: Callable[[str], Any], *, orders_table: str, state_machine_arn: str,
                     approval_timeout: int, feedback_delay: int) -> Callable[[int], Operation]:
    """Clients that PutItem + StartExecution each order, with `client(service)` boto3 clients."""
    from ulid import ULID

    from shop.adapters.tables import to_item
    from shop.logic.orders import workflow_input

    template = _priced_template()

    def make(_: int) -> Operation:
        # One pair of clients per thread, created before the clock starts.
        dynamodb, sfn = client("dynamodb"), client("stepfunctions")

        def place(n: int) -> tuple[str | None, str | None]:
            order = replace(template, order_id=str(ULID()), customer_email=customer_email(n))
            dynamodb.put_item(TableName=orders_table, Item=to_item(order.to_public()),
                              ConditionExpression="attribute_not_exists(orderId)")
            payload = workflow_input(order, approval_timeout_seconds=approval_timeout,
                                     feedback_delay_seconds=feedback_delay)
            sfn.start_execution(stateMachineArn=state_machine_arn, name=order.order_id, input=json.dumps(payload))
            return order.order_id, None

        return place

    return make


# -- ceiling: through the moto server of a `python -m shop.local` process ---------------------------
def run(levels: list[int], per_client: int, shop_env: dict[str, str]) -> list[LoadResult]:
    def make_operation(shop: ShopProcess):
        return direct_operation(shop.client, orders_table=shop.orders_table,
                                state_machine_arn=shop.state_machine_arn,
                                approval_timeout=shop.approval_timeout, feedback_delay=shop.feedback_delay)

    return [measure_level("ceiling", clients, per_client, make_operation=make_operation, shop_env=shop_env)
            for clients in levels]


# -- ceiling_inprocess: in a worker process of its own, clients inside it ---------------------------
class _InProcessTarget:
    """What count_lost needs, for the in-process shop."""

    def __init__(self, shop: Any) -> None:
        from shop.settings import Env

        self.orders_table = shop.stack.environment[Env.ORDERS_TABLE]
        self.state_machine_arn = shop.stack.outputs["StateMachineArn"]

    @staticmethod
    def client(service: str) -> Any:
        import boto3
        from botocore.config import Config

        # What the handlers use (shop/adapters/aws.py); moto's mock intercepts it in-process.
        return boto3.client(service, region_name=REGION, config=Config(retries={"mode": "standard"}))

    def execution_arn(self, name: str) -> str:
        return execution_arn(self.state_machine_arn, name)


def _worker(out: Path, clients: int, per_client: int, approval_timeout: int, feedback_delay: int,
            template: Path) -> None:
    import logging

    from shop.local.runtime import LocalConfig, LocalShop

    # As `python -m shop.local` does, to this process's stdout (the log file): stderr is progress.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    shop = LocalShop(LocalConfig(port=0, aws_port=0, template_path=template,
                                 approval_timeout_seconds=approval_timeout,
                                 feedback_delay_seconds=feedback_delay,
                                 ses_verified=(CUSTOMER_DOMAIN,), lambda_timeouts=False)).start()  # as SHOP_ENV says
    try:
        target = _InProcessTarget(shop)
        make = direct_operation(target.client, orders_table=target.orders_table,
                                state_machine_arn=target.state_machine_arn,
                                approval_timeout=approval_timeout, feedback_delay=feedback_delay)
        result = measure("ceiling_inprocess", make, target, clients=clients, per_client=per_client,
                         pid=os.getpid())
        out.write_text(json.dumps(result.to_json()))
    finally:
        shop.stop()


def measure_inprocess(clients: int, per_client: int, *, approval_timeout: int = 3600, feedback_delay: int = 30,
                      template: Path = ROOT / "cdk.out" / "OrderShop.template.json",
                      shop_env: dict[str, str] | None = None) -> LoadResult:
    from bench.shop_process import LOGS

    LOGS.mkdir(parents=True, exist_ok=True)
    progress(f"ceiling_inprocess: {clients} client(s) x {per_client} orders (worker process)")
    with tempfile.TemporaryDirectory(prefix="bench-ceiling-") as tmp:
        out = Path(tmp) / "result.json"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **FAKE_CREDENTIALS,
               **(shop_env or {})}
        with open(LOGS / f"ceiling_inprocess-{clients}.log", "w") as log:
            worker = subprocess.run(
                [sys.executable, "-m", "bench.ceiling", str(out), str(clients), str(per_client),
                 str(approval_timeout), str(feedback_delay), str(template)],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=None,
                timeout=WORKER_TIME_LIMIT, check=False,
            )
        if worker.returncode != 0 or not out.exists():
            raise RuntimeError(f"the ceiling worker failed ({worker.returncode}); see {log.name}")
        data = json.loads(out.read_text())
    return LoadResult(**data)


def run_inprocess(levels: list[int], per_client: int, shop_env: dict[str, str]) -> list[LoadResult]:
    return [measure_inprocess(clients, per_client, shop_env=shop_env) for clients in levels]


if __name__ == "__main__":
    # python -m bench.ceiling OUT CLIENTS PER_CLIENT APPROVAL_TIMEOUT FEEDBACK_DELAY TEMPLATE
    out_path, n_clients, n_orders, timeout, delay, template_path = sys.argv[1:7]
    _worker(Path(out_path), int(n_clients), int(n_orders), int(timeout), int(delay), Path(template_path))
