"""Helpers shared by the test levels: polling with a deadline, sample orders, link extraction."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

DEMO_PRODUCT = "01JDF12740C1HB5QE4DT9TWB3R"  # "Stoneware mug", 14.90 EUR, in data/demo-catalog.json
DEMO_PRODUCT_2 = "01JDF12838RKB0TXYJAKACR44J"  # "Linen tea towel", 9.50 EUR


def poll(probe: Callable[[], T | None], *, timeout: float = 20.0, interval: float = 0.05, what: str = "") -> T:
    """Call `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or probe}")
        time.sleep(interval)


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customerEmail": "ada@example.com",
        "customerName": "Ada Lovelace",
        "shippingAddress": {
            "country": "United Kingdom",
            "city": "London",
            "county": "Greater London",
            "streetAddress": "12 St James Square",
        },
        "items": [{"productId": DEMO_PRODUCT, "quantity": 2}],
    }
    body.update(overrides)
    return body


def approval_links(outbox: list[dict[str, Any]], order_id: str) -> dict[str, str]:
    """The approve and reject links of the owner's notification for `order_id`."""
    for entry in outbox:
        if entry["channel"] == "sns" and order_id in entry["subject"]:
            links = re.findall(r"https?://\S+", entry["body"])
            return {re.search(r"result=(\w+)", link).group(1): link for link in links}
    return {}


def subjects(outbox: list[dict[str, Any]], order_id: str) -> list[str]:
    return [entry["subject"] for entry in outbox if order_id in entry["subject"]]
