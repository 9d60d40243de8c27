"""Item 3: whole workflows, and what a pending approval costs the local runtime.

Completion: a fresh shop process with FEEDBACK_DELAY=1 (and a one-hour approval timeout).
500 orders are placed at once (32 client threads), then, as soon as the owner's 500 notifications
are in the outbox, all 500 are approved at once (the approve link's POST, 32 threads). Measured:
the time from the first order placed until the last "How was your order ...?" (feedback) email
is in the outbox (the outbox's own `sentAt` timestamps, same machine clock), the time from the
first approval until then, and the shop process's peak RSS (VmHWM) and peak thread count
(/proc/<pid>/status sampled every 100 ms). Every order must end with its feedback email.

Pending: another fresh shop process. 20 warm-up orders first (they load the handlers, templates
and clients) and wait for their owner notifications; then RSS and threads are read, 1,000 more
orders are placed (16 threads) and left pending approval; once all 1,000 notifications are sent,
RSS and threads are read again. Per pending order: the difference divided by 1,000.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bench import STALL_LIMIT, BenchFailed, ProgressDeadline, order_body, progress
from bench.load import failed_orders, order_statuses
from bench.shop_process import Sampler, ShopProcess, proc_status

FEEDBACK_SUBJECT = re.compile(r"^How was your order (\w+)\?$")
APPROVAL_SUBJECT = re.compile(r"(\w{26})")


def _timestamp(sent_at: str) -> float:
    return datetime.fromisoformat(sent_at.replace("Z", "+00:00")).timestamp()


def _place(shop: ShopProcess, count: int, threads: int) -> list[str]:
    import requests

    local = threading.local()

    def place(n: int) -> str:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        response = local.session.post(f"{shop.url}/orders", json=order_body(n), timeout=60)
        if response.status_code != 201:
            raise RuntimeError(f"order {n}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()["orderId"]

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(place, range(count)))


def _outbox(shop: ShopProcess) -> list[dict[str, Any]]:
    import requests

    return requests.get(f"{shop.url}/outbox.json", timeout=120).json()


def _approve_links(entries: list[dict[str, Any]], order_ids: set[str]) -> dict[str, str]:
    links = {}
    for entry in entries:
        if entry["channel"] != "sns":
            continue
        found = APPROVAL_SUBJECT.search(entry["subject"])
        if found and found.group(1) in order_ids:
            approve = re.search(r"^https?://\S+result=approve\S*$", entry["body"], flags=re.M)
            if approve:
                links[found.group(1)] = approve.group(0)
    return links


def _wait(what: str, probe, *, shop: ShopProcess, interval: float, stall_limit: float = STALL_LIMIT):
    """Call `probe` every `interval` s until it returns something truthy; progress every ~10 s.
    `probe` returns (found, how many got there so far, note). Stops the bench (BenchFailed) when
    an order FAILED, or nothing more got there for `stall_limit` seconds."""
    stalled, last_report = ProgressDeadline(what, stall_limit), time.monotonic()
    dynamodb = shop.client("dynamodb")
    while True:
        found, count, note = probe()
        if found:
            return found
        counts, failed = order_statuses(dynamodb, shop.orders_table)
        if failed:
            raise failed_orders(shop, failed, of=sum(counts.values()))
        stalled.check(count, note)
        if time.monotonic() - last_report >= 10:
            progress(f"waiting for {what}: {note}")
            last_report = time.monotonic()
        time.sleep(interval)


def completion(orders: int = 500, clients: int = 32, shop_env: dict[str, str] | None = None) -> dict[str, Any]:
    import requests

    with ShopProcess("workflow-completion", feedback_delay=1, extra_env=shop_env or {}) as shop, \
            Sampler(shop.pid) as sampler:
        rss_start = shop.status()["VmRSS"]
        progress(f"workflow: placing {orders} orders with {clients} clients (shop pid {shop.pid})")
        started = time.time()
        order_ids = _place(shop, orders, clients)
        placed = time.time()
        wanted = set(order_ids)

        def notifications():
            links = _approve_links(_outbox(shop), wanted)
            return ((links if len(links) == len(wanted) else None), len(links),
                    f"{len(links)}/{len(wanted)} owner notifications")

        links = _wait("the owner notifications", notifications, shop=shop, interval=2)
        progress(f"workflow: approving {orders} orders with {clients} clients")
        approving = time.time()
        local = threading.local()

        def approve(link: str) -> int:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            return local.session.post(link, timeout=60).status_code

        with ThreadPoolExecutor(max_workers=clients) as pool:
            statuses = list(pool.map(approve, links.values()))
        approved = time.time()
        failed_approvals = sum(1 for status in statuses if status != 200)
        sfn = shop.client("stepfunctions")

        def all_finished():
            finished = 0
            for page in sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=shop.state_machine_arn, statusFilter="SUCCEEDED"):
                finished += len(page["executions"])
            return finished >= orders, finished, f"{finished}/{orders} executions succeeded"

        _wait("every workflow to finish", all_finished, shop=shop, interval=1)
        entries = _outbox(shop)
        feedback = {FEEDBACK_SUBJECT.match(e["subject"]).group(1): _timestamp(e["sentAt"])
                    for e in entries if e["channel"] == "email" and FEEDBACK_SUBJECT.match(e["subject"])}
        feedback = {order_id: at for order_id, at in feedback.items() if order_id in wanted}
        last_feedback = max(feedback.values()) if feedback else float("nan")
        status = shop.status()
        result = {
            "orders": orders,
            "clients": clients,
            "feedback_delay_seconds": 1,
            "place_seconds": placed - started,
            "approve_seconds": approved - approving,
            "seconds_to_last_feedback_email": last_feedback - started,
            "seconds_from_first_approval_to_last_feedback_email": last_feedback - approving,
            "feedback_emails": len(feedback),
            "failed_approvals": failed_approvals,
            "peak_rss_mb": status["VmHWM"] / 1024,
            "rss_mb_at_start": rss_start / 1024,
            "peak_threads": sampler.peak_threads,
            "threads_at_end": status["Threads"],
            "shop_log_errors": shop.log_errors(),
        }
    progress(f"workflow: last feedback email {result['seconds_to_last_feedback_email']:.1f}s after the first order, "
             f"peak {result['peak_rss_mb']:.0f} MB, {result['peak_threads']} threads")
    return result


LISTING_RUNS = 3


def listing_times(shop: ShopProcess, runs: int = LISTING_RUNS) -> dict[str, float]:
    """What the owner waits for with every order pending: the console's approvals page (a full GET,
    as a tab opening it) and `shop approvals list` (a process of its own, as the owner runs it),
    each the median of `runs`, in seconds. The goal is < 0.5 s at 3,000 waiting orders."""
    import requests

    def console() -> None:
        response = requests.get(f"{shop.url}/console/approvals", timeout=300)
        if response.status_code != 200:
            raise BenchFailed(f"/console/approvals answered {response.status_code}: {response.text[:200]}")

    def cli() -> None:
        done = subprocess.run([sys.executable, "-c", "import sys; from shop.cli import main; sys.exit(main())",
                               "approvals", "list", "--local", shop.url],
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise BenchFailed(f"shop approvals list exited {done.returncode}: {done.stderr[-300:]}")

    def median_seconds(call: Any) -> float:
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            call()
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    progress("pending: timing /console/approvals and `shop approvals list`")
    return {"console_approvals_seconds": median_seconds(console), "cli_approvals_list_seconds": median_seconds(cli)}


def pending(orders: int = 3000, warmup: int = 20, clients: int = 16,
            shop_env: dict[str, str] | None = None) -> dict[str, Any]:
    with ShopProcess("workflow-pending", extra_env=shop_env or {}) as shop:
        progress(f"pending: {warmup} warm-up orders (shop pid {shop.pid})")

        def notified(expected: int):
            def probe():
                count = sum(1 for e in _outbox(shop) if e["channel"] == "sns")
                return count >= expected, count, f"{count}/{expected} owner notifications"
            return probe

        _place(shop, warmup, 4)
        _wait("the warm-up notifications", notified(warmup), shop=shop, interval=1)
        time.sleep(2)
        before = proc_status(shop.pid)
        progress(f"pending: placing {orders} orders left pending approval")
        _place(shop, orders, clients)
        _wait("the owner notifications", notified(warmup + orders), shop=shop, interval=3)
        time.sleep(3)  # let the last executions settle into their wait
        after = proc_status(shop.pid)
        listing = listing_times(shop)
        log_errors = shop.log_errors()
    result = {
        "orders": orders,
        "warmup_orders": warmup,
        "rss_mb_before": before["VmRSS"] / 1024,
        "rss_mb_after": after["VmRSS"] / 1024,
        "threads_before": before["Threads"],
        "threads_after": after["Threads"],
        "kb_per_pending_order": (after["VmRSS"] - before["VmRSS"]) / orders,
        "threads_per_pending_order": (after["Threads"] - before["Threads"]) / orders,
        **listing,
        "shop_log_errors": log_errors,
    }
    progress(f"pending: {result['kb_per_pending_order']:.0f} kB and "
             f"{result['threads_per_pending_order']:.2f} threads per pending order")
    return result
