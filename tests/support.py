"""Helpers shared by the test levels: polling with a deadline, sample orders, link extraction."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
import requests

from shop.adapters.workflow import execution_arn
from shop.deploy.smoke_scenarios import StepFailed
from shop.deploy.smoke_scenarios import poll as smoke_poll
from shop.samples import sample_order_body

if TYPE_CHECKING:
    from shop.local.runtime import LocalShop

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
DEMO_CATALOG = ROOT / "data" / "demo-catalog.json"
# The course's shared catalog, beside the project when it is checked out with the course's files;
# the tests that read it are skipped without it.
COURSE_CATALOG = ROOT.parent / "shared" / "data" / "course-catalog" / "products.json"

# The deploy parameters the tests synthesize with (cdk.json's values, explicitly).
TEST_CONTEXT = {
    "ownerEmail": "owner@shop.test",
    "senderEmail": "orders@shop.test",
    "approvalTimeoutSeconds": 86400,
    "feedbackDelaySeconds": 86400,
}

DEMO_PRODUCT = "01JDF12740C1HB5QE4DT9TWB3R"  # "Stoneware mug", 14.90 EUR, in data/demo-catalog.json
DEMO_PRODUCT_2 = "01JDF12838RKB0TXYJAKACR44J"  # "Linen tea towel", 9.50 EUR


def poll(probe: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.05, what: str = "") -> T:
    """Call `probe` until it returns something truthy; fail the test after `timeout` seconds. The
    smoke test's own loop, whose failure is a test's assertion here."""
    try:
        return smoke_poll(probe, timeout=timeout, interval=interval, what=what or str(probe))
    except StepFailed:
        raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}") from None


def order_body(**overrides: Any) -> dict[str, Any]:
    body = sample_order_body(DEMO_PRODUCT)
    body.update(overrides)
    return body


def approval_links(outbox: list[dict[str, Any]], order_id: str) -> dict[str, str]:
    """The approve and reject links of the owner's notification for `order_id`."""
    for entry in outbox:
        if entry["channel"] == "sns" and order_id in entry["subject"]:
            links = re.findall(r"^https?://\S+$", entry["body"], flags=re.M)  # the shop's: a line each
            return {re.search(r"result=(\w+)", link).group(1): link for link in links}
    return {}


def subjects(outbox: list[dict[str, Any]], order_id: str) -> list[str]:
    return [entry["subject"] for entry in outbox if order_id in entry["subject"]]


@dataclass
class ShopClient:
    """A running local shop, driven over HTTP like its users drive it."""

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

    def stored_order(self, order_id: str) -> dict[str, Any] | None:
        """The order's item as the Orders table holds it, private fields included (the API hides them)."""
        from shop.adapters.tables import _plain, from_item

        item = boto3.client("dynamodb").get_item(
            TableName=self.shop.stack.outputs["OrdersTableName"], Key={"orderId": {"S": order_id}},
            ConsistentRead=True,
        ).get("Item")
        return _plain(from_item(item)) if item else None

    def execution(self, order_id: str) -> dict[str, Any]:
        arn = execution_arn(self.shop.stack.outputs["StateMachineArn"], order_id)
        return boto3.client("stepfunctions").describe_execution(executionArn=arn)

    def finished_execution(self, order_id: str, timeout: float = 20) -> dict[str, Any]:
        execution = poll(
            lambda: (e := self.execution(order_id))["status"] != "RUNNING" and e,
            timeout=timeout, what="the execution to finish",
        )
        return {**execution, "output": json.loads(execution.get("output") or "null")}


def start_shop(synthesized, **settings: Any) -> LocalShop:
    from shop.local.runtime import LocalConfig, LocalShop

    config = LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path, **settings)
    return LocalShop(config).start()


@contextlib.contextmanager
def running_shop(synthesized, **settings: Any) -> Iterator[ShopClient]:
    """A started shop for a fixture to yield, stopped when the block ends however it ends."""
    running = start_shop(synthesized, **settings)
    try:
        yield ShopClient(running)
    finally:
        running.stop()
