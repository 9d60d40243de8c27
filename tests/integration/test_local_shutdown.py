"""Stopping the local shop ends everything it started, including executions still waiting."""

from __future__ import annotations

import threading

import pytest
import requests

from shop.local.runtime import LocalConfig, LocalShop
from tests.support import order_body, poll


def _config(synthesized) -> LocalConfig:
    return LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path,
                       approval_timeout_seconds=600, feedback_delay_seconds=1)


def _execution_threads(excluding: set[threading.Thread] = frozenset()) -> set[threading.Thread]:
    return {thread for thread in threading.enumerate()
            if ("_execution_logic" in thread.name or "_exec_and_notify" in thread.name) and thread not in excluding}


def test_stopping_the_shop_ends_the_threads_of_waiting_executions(synthesized):
    # Only this shop's threads count: a shop of an earlier test in this process may still be
    # ending its own.
    earlier = _execution_threads()
    running = LocalShop(_config(synthesized))
    with running:
        order_id = requests.post(f"{running.base_url}/orders", json=order_body(), timeout=10).json()["orderId"]
        poll(lambda: any(order_id in e["subject"] and e["channel"] == "sns" for e in running.outbox.entries()),
             what="the owner's notification")
        assert _execution_threads(earlier)
    poll(lambda: not _execution_threads(earlier), timeout=5, what="execution threads to end")


def test_only_one_shop_runs_per_process(synthesized):
    with LocalShop(_config(synthesized)), pytest.raises(RuntimeError, match="already running"):
        LocalShop(_config(synthesized)).start()
    # and once stopped, a new one starts cleanly
    with LocalShop(_config(synthesized)) as again:
        assert requests.get(f"{again.base_url}/products", timeout=10).status_code == 200
