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


def test_stopping_the_shop_ends_the_threads_of_waiting_executions(synthesized):
    running = LocalShop(_config(synthesized))
    with running:
        order_id = requests.post(f"{running.base_url}/orders", json=order_body(), timeout=10).json()["orderId"]
        poll(lambda: any(order_id in e["subject"] and e["channel"] == "sns" for e in running.outbox.entries()),
             what="the owner's notification")
        assert any("_execution_logic" in t.name for t in threading.enumerate())
    poll(lambda: not any("_execution_logic" in t.name or "_exec_and_notify" in t.name
                         for t in threading.enumerate()),
         timeout=5, what="execution threads to end")


def test_only_one_shop_runs_per_process(synthesized):
    with LocalShop(_config(synthesized)), pytest.raises(RuntimeError, match="already running"):
        LocalShop(_config(synthesized)).start()
    # and once stopped, a new one starts cleanly
    with LocalShop(_config(synthesized)) as again:
        assert requests.get(f"{again.base_url}/products", timeout=10).status_code == 200
