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


def _execution_of(thread: threading.Thread) -> str:
    """The ARN of the execution a moto worker thread runs ("" for any other thread): moto starts
    one `_execution_logic` thread per execution, and one `_exec_and_notify` thread per task state
    with a timeout, whose closure holds the state's environment."""
    target = getattr(thread, "_target", None)
    environments = [getattr(getattr(target, "__self__", None), "env", None),
                    *(cell.cell_contents for cell in getattr(target, "__closure__", None) or ()
                      if hasattr(cell.cell_contents, "states"))]
    for env in environments:
        try:
            return env.states.context_object.context_object_data["Execution"]["Id"]
        except (AttributeError, KeyError):
            continue
    return ""


def _threads_of(order_id: str) -> list[threading.Thread]:
    """The live threads of the order's execution (named after the order), not of any other: a
    shop stopped by an earlier test may still have executions between states."""
    return [thread for thread in threading.enumerate() if _execution_of(thread).endswith(f":{order_id}")]


def test_stopping_the_shop_ends_the_threads_of_waiting_executions(synthesized):
    running = LocalShop(_config(synthesized))
    with running:
        order_id = requests.post(f"{running.base_url}/orders", json=order_body(), timeout=10).json()["orderId"]
        poll(lambda: any(order_id in e["subject"] and e["channel"] == "sns" for e in running.outbox.entries()),
             what="the owner's notification")
        assert _threads_of(order_id)
    poll(lambda: not _threads_of(order_id), timeout=5, what="the order's execution threads to end")


def test_only_one_shop_runs_per_process(synthesized):
    with LocalShop(_config(synthesized)), pytest.raises(RuntimeError, match="already running"):
        LocalShop(_config(synthesized)).start()
    # and once stopped, a new one starts cleanly
    with LocalShop(_config(synthesized)) as again:
        assert requests.get(f"{again.base_url}/products", timeout=10).status_code == 200
