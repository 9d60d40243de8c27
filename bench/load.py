"""Item 1: the order API under load.

N concurrent clients (threads in the bench process, one `requests.Session` each, keep-alive)
each POST a fixed number of orders to http://127.0.0.1:<port>/orders of a freshly started local
shop (`python -m shop.local`, a separate process). Measured per concurrency level:

- orders/s: 201 answers divided by the wall time from the first request to the last answer;
- latency p50/p95/p99 (nearest rank) of every request, as the client sees it;
- errors: any answer other than 201, or no answer within the client timeout;
- sustained orders/s: 201 answers divided by the time until every one of those orders has reached
  the approval wait (status AWAITING_APPROVAL: its first email sent, the owner notified). The
  executions run in the shop process too, and can lag behind a burst of orders; this counts them;
- CPU ms per order: the shop process's user + system CPU time from the first request until the
  orders have reached the approval wait, divided by the orders (all threads, both cores);
- lost orders: every 201's `orderId` is then looked up through the shop's moto endpoint
  (DynamoDB GetItem, consistent read, on the orders table, and Step Functions DescribeExecution
  of the execution named after the order): an order missing from either is lost.

The generic runner here is also used by the ceiling (bench/ceiling.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import STALL_LIMIT, BenchFailed, ProgressDeadline, order_body, percentile, progress
from bench.shop_process import ShopProcess, proc_cpu_seconds, proc_status
from shop.domain.status import OrderStatus

CLIENT_TIMEOUT = 30.0  # seconds a client waits for one answer
LEVEL_TIME_LIMIT = 300.0  # seconds one concurrency level may run; clients stop placing after it

# One unit of work: place order number i; returns (order id or None, error text or None).
Operation = Callable[[int], tuple[str | None, str | None]]


@dataclass
class LoadResult:
    clients: int
    orders_per_client: int
    attempted: int = 0
    succeeded: int = 0
    errors: int = 0
    seconds: float = 0.0
    orders_per_second: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    cpu_ms_per_order: float = 0.0  # the shop process's CPU time over placing + draining, per order
    drain_seconds: float = 0.0  # after the last answer, until every order awaited its approval
    drain_complete: bool = False  # True once every order got there (else the bench stopped: BenchFailed)
    sustained_orders_per_second: float = 0.0  # orders / (seconds + drain_seconds)
    lost_orders: int = 0
    lost_detail: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    stopped_by_time_limit: bool = False
    shop_threads_after: int = 0
    shop_rss_mb_after: float = 0.0
    shop_log_errors: int = 0  # ERROR lines and tracebacks in the shop's log (bench/results/logs/)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_clients(
    make_operation: Callable[[int], Operation], *, clients: int, per_client: int, label: str,
    time_limit: float = LEVEL_TIME_LIMIT, cpu_seconds: Callable[[], float] | None = None,
) -> tuple[LoadResult, list[str]]:
    """`clients` threads, each running its own operation `per_client` times, started together.
    Returns the figures and the ids of the orders that succeeded. `cpu_seconds`, if given, is read
    once the clients are set up, just before they start (see `drain`)."""
    operations = [make_operation(c) for c in range(clients)]  # set up (sessions, clients) untimed
    result = LoadResult(clients=clients, orders_per_client=per_client)
    latencies: list[float] = []
    order_ids: list[str] = []
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)
    deadline = [0.0]
    done = [0]
    finished = [0.0]  # when the last answer arrived

    def client(index: int) -> None:
        operation = operations[index]
        start_line.wait()
        for n in range(per_client):
            if time.monotonic() > deadline[0]:
                with lock:
                    result.stopped_by_time_limit = True
                return
            began = time.perf_counter()
            try:
                order_id, error = operation(index * per_client + n)
            except Exception as exc:  # a client-side failure counts as an error, never a crash
                order_id, error = None, f"{type(exc).__name__}: {exc}"
            ended = time.perf_counter()
            elapsed = ended - began
            with lock:
                finished[0] = max(finished[0], ended)
                latencies.append(elapsed)
                result.attempted += 1
                done[0] += 1
                if order_id and not error:
                    result.succeeded += 1
                    order_ids.append(order_id)
                else:
                    result.errors += 1
                    if len(result.error_samples) < 5:
                        result.error_samples.append(str(error)[:300])

    threads = [threading.Thread(target=client, args=(i,), name=f"bench-client-{i}", daemon=True)
               for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + time_limit
    result.cpu_seconds_at_start = cpu_seconds() if cpu_seconds else 0.0  # not a field: not in the JSON
    start_line.wait()
    began = time.perf_counter()
    total, last_report = clients * per_client, time.monotonic()
    while any(thread.is_alive() for thread in threads):
        next(thread for thread in threads if thread.is_alive()).join(timeout=1)
        if time.monotonic() - last_report >= 5:
            progress(f"{label}: {done[0]}/{total} orders")
            last_report = time.monotonic()
    result.seconds = max(finished[0], began) - began
    latencies.sort()
    result.orders_per_second = result.succeeded / result.seconds if result.seconds else 0.0
    result.p50_ms, result.p95_ms, result.p99_ms = (percentile(latencies, f) * 1000 for f in (0.50, 0.95, 0.99))
    result.max_ms = (latencies[-1] * 1000) if latencies else 0.0
    return result, order_ids


def api_operation(shop: ShopProcess) -> Callable[[int], Operation]:
    """A client of the order API: its own keep-alive session, POST /orders, expects 201."""
    import requests

    def make(_: int) -> Operation:
        session = requests.Session()
        url = f"{shop.url}/orders"

        def place(n: int) -> tuple[str | None, str | None]:
            response = session.post(url, json=order_body(n), timeout=CLIENT_TIMEOUT)
            if response.status_code != 201:
                return None, f"HTTP {response.status_code}: {response.text[:200]}"
            return response.json()["orderId"], None

        return place

    return make


def count_lost(shop: Any, order_ids: list[str], *, workers: int = 8) -> dict[str, int]:
    """How many of `order_ids` lack their item in the orders table, or their execution. `shop`: a
    ShopProcess, or anything with its `client(service)`, `orders_table` and `execution_arn(name)`."""
    local = threading.local()

    def check(order_id: str) -> tuple[bool, bool]:
        if not hasattr(local, "dynamodb"):
            local.dynamodb = shop.client("dynamodb")
            local.sfn = shop.client("stepfunctions")
        item = local.dynamodb.get_item(
            TableName=shop.orders_table, Key={"orderId": {"S": order_id}}, ConsistentRead=True
        ).get("Item")
        try:
            local.sfn.describe_execution(executionArn=shop.execution_arn(order_id))
            execution = True
        except local.sfn.exceptions.ExecutionDoesNotExist:
            execution = False
        return item is not None, execution

    with ThreadPoolExecutor(max_workers=workers) as pool:
        checks = list(pool.map(check, order_ids))
    no_item = sum(1 for item, _ in checks if not item)
    no_execution = sum(1 for _, execution in checks if not execution)
    lost = sum(1 for item, execution in checks if not (item and execution))
    return {"lost": lost, "missing_item": no_item, "missing_execution": no_execution, "checked": len(order_ids)}


def order_statuses(dynamodb: Any, orders_table: str) -> tuple[Counter[str], list[str]]:
    """How many orders of the table hold each status, and the ids of those FAILED."""
    counts: Counter[str] = Counter()
    failed: list[str] = []
    for page in dynamodb.get_paginator("scan").paginate(
            TableName=orders_table, ConsistentRead=True, ProjectionExpression="orderId, #s",
            ExpressionAttributeNames={"#s": "status"}):
        for item in page.get("Items", []):
            status = item["status"]["S"]
            counts[status] += 1
            if status == OrderStatus.FAILED:
                failed.append(item["orderId"]["S"])
    return counts, failed


def why_failed(target: Any, order_id: str) -> str:
    """The error the order's execution failed with, at the step that failed: the last failure in
    its history (what RecordFailure caught)."""
    history = target.client("stepfunctions").get_execution_history(
        executionArn=target.execution_arn(order_id), reverseOrder=True, maxResults=100)
    for event in history["events"]:
        details = next((value for key, value in event.items()
                        if key.endswith("FailedEventDetails") and isinstance(value, dict)), None)
        if details and details.get("error") not in (None, "OrderFailed"):
            return f"{details.get('error')}: {_message(details.get('cause', ''))}"[:400]
    return "no failed step in its history"


def _message(cause: str) -> str:
    """A Lambda error's message without its stack trace (the cause is the runtime's JSON)."""
    try:
        return str(json.loads(cause).get("errorMessage", cause))
    except (ValueError, AttributeError):
        return cause


def failed_orders(target: Any, failed: list[str], *, of: int) -> BenchFailed:
    """The error that stops the bench when orders failed: how many, and why the first one did."""
    return BenchFailed(f"{len(failed)} of {of} orders FAILED in their workflows; order {failed[0]}: "
                       f"{why_failed(target, failed[0])}")


def drain(target: Any, result: LoadResult, *, cpu_seconds: Callable[[], float] | None = None,
          stall_limit: float = STALL_LIMIT, clock: Callable[[], float] = time.monotonic,
          pause: Callable[[float], None] = time.sleep) -> None:
    """Wait until every placed order's workflow has reached the approval wait (its Lambda steps
    done: the email sent, the owner notified); record how long that took after the last answer, the
    throughput sustained over placing and draining together, and the CPU time per order.

    Stops the bench (BenchFailed) as soon as an order FAILED, which never gets there, or once no
    more orders got there for `stall_limit` seconds: a slow level still finishes, a stuck one says so."""
    began, dynamodb = clock(), target.client("dynamodb")
    stalled = ProgressDeadline("orders reaching the approval wait", stall_limit, clock)
    while True:
        counts, failed = order_statuses(dynamodb, target.orders_table)
        if failed:
            raise failed_orders(target, failed, of=result.succeeded)
        waiting = counts[OrderStatus.AWAITING_APPROVAL]
        if waiting >= result.succeeded:
            break
        stalled.check(waiting, f"{waiting}/{result.succeeded} awaiting approval, statuses {dict(counts)}")
        pause(0.5)  # each look is a Scan the shop process serves: not too often
    result.drain_seconds, result.drain_complete = clock() - began, True
    total = result.seconds + result.drain_seconds
    result.sustained_orders_per_second = result.succeeded / total if total else 0.0
    if cpu_seconds and result.succeeded:
        result.cpu_ms_per_order = (cpu_seconds() - result.cpu_seconds_at_start) * 1000 / result.succeeded


def measure(kind: str, make: Callable[[int], Operation], target: Any, *, clients: int, per_client: int,
            pid: int) -> LoadResult:
    """The measuring loop of one level, the same for every kind: `clients` clients place their
    orders through `make`, the workflows drain to the approval wait, then the shop process's (`pid`)
    threads and memory and any lost order are recorded."""
    def cpu() -> float:
        return proc_cpu_seconds(pid)

    result, order_ids = run_clients(make, clients=clients, per_client=per_client,
                                    label=f"{kind} {clients} client(s)", cpu_seconds=cpu)
    if not result.succeeded:
        raise BenchFailed(f"{kind}: {clients} client(s): none of {result.attempted} orders was placed; "
                          f"first error: {result.error_samples[0] if result.error_samples else 'none recorded'}")
    drain(target, result, cpu_seconds=cpu)
    status = proc_status(pid)
    result.shop_threads_after, result.shop_rss_mb_after = status["Threads"], status["VmRSS"] / 1024
    progress(f"{kind}: {clients} client(s): {result.orders_per_second:.1f} orders/s "
             f"({result.sustained_orders_per_second:.1f} sustained), p99 {result.p99_ms:.0f} ms, "
             f"{result.errors} errors; checking {len(order_ids)} orders")
    lost = count_lost(target, order_ids)
    result.lost_orders, result.lost_detail = lost["lost"], lost
    return result


def measure_level(
    kind: str, clients: int, per_client: int, *, make_operation: Callable[[ShopProcess], Callable[[int], Operation]],
    shop_env: dict[str, str],
) -> LoadResult:
    """One concurrency level against a freshly started shop (no executions left from before)."""
    with ShopProcess(f"{kind}-{clients}", extra_env=shop_env) as shop:
        progress(f"{kind}: {clients} client(s) x {per_client} orders (shop pid {shop.pid})")
        result = measure(kind, make_operation(shop), shop, clients=clients, per_client=per_client, pid=shop.pid)
        result.shop_log_errors = shop.log_errors()
    return result


def run(levels: list[int], per_client: int, shop_env: dict[str, str]) -> list[LoadResult]:
    return [measure_level("api", clients, per_client, make_operation=api_operation, shop_env=shop_env)
            for clients in levels]
