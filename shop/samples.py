"""The sample order a person is shown (`make run`, `make deploy`) and the tests and benchmarks
place: one body, so the README's curl, the printed ones and the tests cannot drift apart."""

from __future__ import annotations

import json
from typing import Any

# The customer of local mode's sample order; local mode verifies it, so it receives mail in the
# SES sandbox.
SAMPLE_CUSTOMER_EMAIL = "ada@example.com"
# SES's mailbox simulator: accepted even in the sandbox, and it never reaches a real mailbox, so a
# sample order on AWS neither fails on an unverified address nor bounces (which hurts the sender).
SES_SIMULATOR_SUCCESS = "success@simulator.amazonses.com"


def sample_order_body(product_id: str, *, customer_email: str = SAMPLE_CUSTOMER_EMAIL, quantity: int = 2) -> dict[str, Any]:
    """A valid `POST /orders` body, like a customer's."""
    return {
        "customerEmail": customer_email,
        "customerName": "Ada Lovelace",
        "shippingAddress": {
            "country": "United Kingdom",
            "city": "London",
            "county": "Greater London",
            "streetAddress": "12 St James Square",
        },
        "items": [{"productId": product_id, "quantity": quantity}],
    }


def place_order_curl(base_url: str, body: dict[str, Any]) -> str:
    """The shell command that places `body` at `base_url` (the API's root, with or without `/`)."""
    return (f"curl -s -X POST {base_url.rstrip('/')}/orders -H 'Content-Type: application/json' "
            f"-d '{json.dumps(body)}'")
