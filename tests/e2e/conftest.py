"""End-to-end fixtures: a whole local shop on 127.0.0.1, driven over HTTP like a user would.

Each shop runs in this process (moto is process-global, so one at a time) and is stopped by the
fixture that started it. Durations are short through configuration, never by patching time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests

from shop.local.runtime import LocalConfig, LocalShop
from tests.support import approval_links, order_body, poll


@dataclass
class ShopClient:
    shop: LocalShop

    @property
    def url(self) -> str:
        return self.shop.base_url

    def place(self, **overrides: Any) -> requests.Response:
        return requests.post(f"{self.url}/orders", json=order_body(**overrides), timeout=10)

    def place_ok(self, **overrides: Any) -> dict[str, Any]:
        response = self.place(**overrides)
        assert response.status_code == 201, response.text
        return response.json()

    def order(self, order_id: str) -> requests.Response:
        return requests.get(f"{self.url}/orders/{order_id}", timeout=10)

    def status(self, order_id: str) -> str | None:
        response = self.order(order_id)
        return response.json()["status"] if response.status_code == 200 else None

    def outbox(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.url}/outbox.json", timeout=10).json()

    def links(self, order_id: str) -> dict[str, str]:
        return poll(lambda: approval_links(self.outbox(), order_id), what="the owner's approval links")

    def wait_for_status(self, order_id: str, status: str | None, timeout: float = 20) -> None:
        poll(lambda: self.status(order_id) == status, timeout=timeout, what=f"status {status}")

    def wait_for_email(self, order_id: str, subject_part: str, timeout: float = 20) -> dict[str, Any]:
        def find():
            return next((e for e in self.outbox() if order_id in e["subject"] and subject_part in e["subject"]), None)

        return poll(find, timeout=timeout, what=f"an email '{subject_part}'")

    def execution(self, order_id: str) -> dict[str, Any]:
        machine = self.shop.stack.outputs["StateMachineArn"]
        arn = machine.replace(":stateMachine:", ":execution:") + f":{order_id}"
        return boto3.client("stepfunctions").describe_execution(executionArn=arn)

    def finished_execution(self, order_id: str, timeout: float = 20) -> dict[str, Any]:
        execution = poll(
            lambda: (e := self.execution(order_id))["status"] != "RUNNING" and e,
            timeout=timeout, what="the execution to finish",
        )
        return {**execution, "output": json.loads(execution.get("output") or "null")}


def start_shop(synthesized, **durations: int) -> LocalShop:
    config = LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path, **durations)
    return LocalShop(config).start()


@pytest.fixture(scope="module")
def shop(synthesized):
    """A shop where the owner has a minute to decide and feedback is asked after one second."""
    running = start_shop(synthesized, approval_timeout_seconds=60, feedback_delay_seconds=1)
    yield ShopClient(running)
    running.stop()
