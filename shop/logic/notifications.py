"""What the workflow's Lambda steps do: email the customer, ask the owner for a decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from shop.adapters.tables import OrdersTable
from shop.domain.approval import Decision, approval_links, token_fingerprint
from shop.logic.clock import iso
from shop.rendering import render

CUSTOMER_EMAILS = frozenset(
    {"order_received", "shipment_confirmed", "shipment_cancelled", "feedback_request"}
)


def send_customer_email(
    template: str,
    order: dict[str, Any],
    *,
    sender: str,
    send_email: Callable[..., str],
    outcome: str | None = None,
) -> str:
    """Render `templates/emails/<template>.html` for this order and send it to the customer."""
    if template not in CUSTOMER_EMAILS:
        raise ValueError(f"unknown customer email template {template!r}")
    rendered = render(f"emails/{template}.html", order=order, outcome=outcome)
    return send_email(
        sender=sender, to=order["customerEmail"], subject=rendered.subject, html=rendered.body
    )


def request_approval(
    order: dict[str, Any],
    task_token: str,
    *,
    timeout_seconds: int,
    approval_url: str,
    topic_arn: str,
    key: bytes,
    orders: OrdersTable,
    publish: Callable[..., str],
    now: datetime,
) -> str:
    """Mark the order as awaiting approval and send the owner signed approve and reject links,
    valid until the approval deadline.

    Only the token's hash is stored: enough for the callback to know the latest link's token.
    """
    deadline_at = now + timedelta(seconds=timeout_seconds)
    deadline = iso(deadline_at)
    orders.mark_awaiting_approval(
        order["orderId"], token_fingerprint=token_fingerprint(task_token), deadline=deadline
    )
    links = approval_links(approval_url, order["orderId"], task_token, key=key,
                           expires=int(deadline_at.timestamp()))
    rendered = render(
        "notifications/approval_request.txt",
        order=order,
        approve_url=links[Decision.APPROVE],
        reject_url=links[Decision.REJECT],
        deadline=deadline,
    )
    return publish(topic_arn=topic_arn, subject=rendered.subject, message=rendered.body)
