"""What the workflow's Lambda steps do: email the customer, ask the owner for a decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from shop.adapters.aws import refused
from shop.adapters.tables import DecisionsTable, OrdersTable
from shop.adapters.workflow import Workflow
from shop.domain.approval import Decision, approval_links, new_link_id
from shop.domain.email_address import for_sending
from shop.domain.errors import AlreadyDecided, ResendUnfinished
from shop.logic.approvals import open_for_owner, refusal
from shop.logic.clock import iso, parse_iso
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
    # SES takes a domain in ASCII only (IDNA A-labels); the order keeps the address as written.
    return send_email(
        sender=sender, to=for_sending(order["customerEmail"]), subject=rendered.subject, html=rendered.body
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
    waiting_since: datetime,
) -> str | None:
    """Mark the order as awaiting approval and send the owner signed approve and reject links,
    valid until the approval deadline: `timeout_seconds` after `waiting_since`, when the workflow's
    task began to wait, as its timeout counts. (Counted from when this step runs instead, the
    links outlived the task by the step's own latency, and a click in that gap found the order
    already cancelled.) Returns the notification's message id, or None when the
    order was decided already and nobody is asked.

    The step may run again after a fault (the state machine retries it), and the owner decides
    meanwhile: so the mark refuses an order past awaiting approval, and the order only becomes
    decidable once its notification went out (`confirm_links`), never between the two."""
    deadline_at = waiting_since + timedelta(seconds=timeout_seconds)
    link_id = new_link_id()
    if not orders.mark_awaiting_approval(order["orderId"], task_token=task_token, link_id=link_id,
                                         deadline=iso(deadline_at)):
        return None  # decided (or gone): links for it would only be refused
    message_id = _notify_owner(order, task_token, link_id=link_id, deadline_at=deadline_at,
                               approval_url=approval_url, topic_arn=topic_arn, key=key, publish=publish)
    orders.confirm_links(order["orderId"], link_id=link_id)
    return message_id


def resend_approval_request(
    order_id: str,
    *,
    approval_url: str,
    topic_arn: str,
    key: bytes,
    orders: OrdersTable,
    decisions: DecisionsTable,
    workflow: Workflow,
    publish: Callable[..., str],
    now: datetime,
) -> dict[str, Any]:
    """Send the owner a fresh pair of links for an order still awaiting approval. The links sent
    before stop working: only the newest link id decides. The deadline stays what it was."""
    order, decided = open_for_owner(order_id, orders=orders, decisions=decisions, workflow=workflow, now=now)
    if decided:  # even one not yet delivered: its links would change nothing
        raise refusal(decided, order, now=now)
    approval = order.approval
    # open_for_owner let through only an order awaiting approval whose notification went out.
    assert approval.deadline and approval.task_token and approval.link_id, "not an order awaiting approval"
    deadline_at = parse_iso(approval.deadline)
    link_id = new_link_id()
    if not _replace_link(orders, order_id, old_link_id=approval.link_id, new_link_id=link_id):
        raise AlreadyDecided("This order changed while the links were being made (decided, or resent "
                             "from elsewhere). Nothing was sent.")
    # From here on the links sent before are dead: no answer may say that nothing changed.
    try:
        message_id = _notify_owner(order.to_public(), approval.task_token, link_id=link_id,
                                   deadline_at=deadline_at, approval_url=approval_url, topic_arn=topic_arn,
                                   key=key, publish=publish, replaces_earlier=True)
    except Exception as error:
        raise ResendUnfinished("This order's links were replaced, but the email with the new ones may not "
                               "have gone out: the links sent before no longer work. Resend again in a minute "
                               "to get working links.") from error
    return {"orderId": order_id, "messageId": message_id, "approvalDeadline": approval.deadline}


def _replace_link(orders: OrdersTable, order_id: str, *, old_link_id: str, new_link_id: str) -> bool:
    """`OrdersTable.replace_link`, finishing a write whose answer was lost (a 5xx, a timeout: it may
    have taken effect) by making it again, which holds for its own new link id. A refusal (a 4xx)
    certainly changed nothing, and leaves as it came: the old links still work."""
    try:
        return orders.replace_link(order_id, old_link_id=old_link_id, new_link_id=new_link_id)
    except Exception as error:
        if refused(error):
            raise
    try:
        return orders.replace_link(order_id, old_link_id=old_link_id, new_link_id=new_link_id)
    except Exception as error:
        raise ResendUnfinished("The shop may have replaced this order's links but could not confirm it, and "
                               "sent no email: the links sent before may no longer work. Resend again in a "
                               "minute to get working links.") from error


def _notify_owner(order: dict[str, Any], task_token: str, *, link_id: str, deadline_at: datetime,
                  approval_url: str, topic_arn: str, key: bytes, publish: Callable[..., str],
                  replaces_earlier: bool = False) -> str:
    links = approval_links(approval_url, order["orderId"], task_token, key=key,
                           expires=int(deadline_at.timestamp()), link_id=link_id)
    rendered = render(
        "notifications/approval_request.txt",
        order=order,
        approve_url=links[Decision.APPROVE],
        reject_url=links[Decision.REJECT],
        deadline=iso(deadline_at),
        replaces_earlier=replaces_earlier,
    )
    return publish(topic_arn=topic_arn, subject=rendered.subject, message=rendered.body)
