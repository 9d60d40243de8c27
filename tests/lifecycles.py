"""The order's lifecycles, driven over HTTP against a running local shop as its users drive them:
the customer through the API, the owner through the emailed links and the console.

Between them they make every AWS call the stack grants a permission for. The e2e suite runs them
under IAM enforcement, and tests/integration/test_grants.py runs them once per removed permission.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import requests

from tests.support import ShopClient, order_body, poll

UNVERIFIED_CUSTOMER = "nobody-verified-me@example.org"


def _links(client: ShopClient, order_id: str, newest: bool = False) -> dict[str, str]:
    """The approve and reject links of the owner's first (or newest) notification for the order."""

    def find() -> dict[str, str]:
        notes = [e for e in client.outbox() if e["channel"] == "sns" and order_id in e["subject"]]
        if not notes:
            return {}
        links = re.findall(r"^https?://\S+$", notes[-1 if newest else 0]["body"], flags=re.M)
        return {re.search(r"result=(\w+)", link).group(1): link for link in links}

    return poll(find, what="the owner's approval links")


def _console(client: ShopClient, order_id: str, action: str) -> None:
    response = requests.post(f"{client.url}/console/orders/{order_id}/{action}", headers={"Origin": client.url},
                             allow_redirects=False, timeout=10)
    assert response.status_code == 303, f"console {action}: {response.status_code} {response.text[:300]}"


def _awaiting(client: ShopClient) -> str:
    order_id = client.place_ok()["orderId"]
    client.wait_for_status(order_id, "AWAITING_APPROVAL")
    return order_id


def approve_by_link(client: ShopClient) -> None:
    order_id = _awaiting(client)
    link = _links(client, order_id)["approve"]
    assert requests.get(link, timeout=10).status_code == 200  # the confirmation page decides nothing
    assert requests.post(link, timeout=10).status_code == 200
    client.wait_for_email(order_id, "How was your order")
    client.wait_for_status(order_id, "FEEDBACK_REQUESTED")
    assert client.finished_execution(order_id)["output"]["outcome"] == "APPROVED"


def reject_by_link(client: ShopClient) -> None:
    order_id = _awaiting(client)
    assert requests.post(_links(client, order_id)["reject"], timeout=10).status_code == 200
    client.wait_for_email(order_id, "cancelled")
    assert client.finished_execution(order_id)["output"]["outcome"] == "REJECTED"
    assert client.order(order_id).status_code == 404


def no_answer_until_the_timeout(client: ShopClient) -> None:
    order_id = _awaiting(client)
    client.wait_for_email(order_id, "cancelled")
    assert client.finished_execution(order_id)["output"]["outcome"] == "TIMED_OUT"


def cancel_from_the_console(client: ShopClient) -> None:
    order_id = _awaiting(client)
    _console(client, order_id, "cancel")
    client.wait_for_email(order_id, "cancelled")
    assert client.finished_execution(order_id)["output"]["outcome"] == "CANCELLED"


def resend_then_approve_from_the_console(client: ShopClient) -> None:
    order_id = _awaiting(client)
    first = _links(client, order_id)
    _console(client, order_id, "resend")
    poll(lambda: _links(client, order_id, newest=True) != first, what="a second notification")
    _console(client, order_id, "approve")
    client.wait_for_status(order_id, "FEEDBACK_REQUESTED")


def replay_with_an_idempotency_key(client: ShopClient) -> None:
    key = {"Idempotency-Key": f"checkout-{uuid.uuid4()}"}
    first = requests.post(f"{client.url}/orders", json=order_body(), headers=key, timeout=10)
    again = requests.post(f"{client.url}/orders", json=order_body(), headers=key, timeout=10)
    assert (first.status_code, again.status_code) == (201, 201), (first.text, again.text)
    order_id = first.json()["orderId"]
    assert again.json()["orderId"] == order_id and again.headers["Idempotent-Replayed"] == "true"
    # Once the order is rejected and deleted, a replay asks whether its execution ran, and refuses.
    assert requests.post(_links(client, order_id)["reject"], timeout=10).status_code == 200
    client.wait_for_status(order_id, None)
    late = requests.post(f"{client.url}/orders", json=order_body(), headers=key, timeout=10)
    assert late.status_code == 422 and "cancelled" in late.json()["message"], late.text


def browse_the_catalog_and_an_order(client: ShopClient) -> None:
    products = requests.get(f"{client.url}/products", timeout=10)
    assert products.status_code == 200 and products.json()["products"], products.text
    order_id = client.place_ok()["orderId"]
    assert client.order(order_id).json()["orderId"] == order_id


def an_unverified_customer_in_the_sandbox(client: ShopClient) -> None:
    """SES refuses mail to an address nobody verified: the order fails at its first email, and the
    failure is recorded on the order (in production mode the mail goes out)."""
    order_id = client.place_ok(customerEmail=UNVERIFIED_CUSTOMER)["orderId"]
    if client.shop.ses.enabled:
        client.wait_for_status(order_id, "FAILED")
        assert client.finished_execution(order_id)["status"] == "FAILED"
    else:
        client.wait_for_status(order_id, "AWAITING_APPROVAL")


SCENARIOS: dict[str, Callable[[ShopClient], None]] = {
    scenario.__name__: scenario for scenario in (
        approve_by_link, reject_by_link, no_answer_until_the_timeout, cancel_from_the_console,
        resend_then_approve_from_the_console, replay_with_an_idempotency_key, browse_the_catalog_and_an_order,
        an_unverified_customer_in_the_sandbox,
    )
}
