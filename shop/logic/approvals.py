"""The owner's decision on an order: shown on GET, made on POST, made once.

Order of checks on POST, each refusing before anything changes:
1. the order exists (410 once it was rejected, timed out or cancelled and deleted);
2. the link's token is the one the owner was sent (403: garbage, or another order's token);
3. the approval deadline has not passed (410);
4. a conditional write records the decision; if someone decided first, 409 with what and when.
Only then is Step Functions told. If that call fails after the write, the order keeps its
decision and the same click again re-sends it: a crash never strands an order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shop.adapters.tables import DecisionConflict, OrdersTable
from shop.adapters.workflow import TaskGone, Workflow
from shop.domain.approval import CallbackRequest, Decision, token_fingerprint
from shop.domain.errors import AlreadyDecided, LinkExpired, LinkForged
from shop.logic.clock import iso, parse_iso
from shop.settings import (
    REJECTION_ERROR,
    STATUS_APPROVED,
    STATUS_AWAITING_APPROVAL,
    STATUS_REJECTED,
)

_STATUS_FOR = {Decision.APPROVE: STATUS_APPROVED, Decision.REJECT: STATUS_REJECTED}
_DECIDED_WORD = {Decision.APPROVE.value: "approved", Decision.REJECT.value: "rejected"}


@dataclass(frozen=True)
class Review:
    """What the confirmation page shows."""

    order: dict[str, Any]
    decision: Decision
    deadline: str


_CLOSED = "This order is closed: it was rejected, cancelled or not confirmed in time."


def _open_order(request: CallbackRequest, orders: OrdersTable) -> dict[str, Any]:
    order = orders.get(request.order_id)
    if order is None:
        raise LinkExpired(_CLOSED)
    expected = order.get("approvalTokenSha256")
    if not expected or expected != token_fingerprint(request.task_token):
        raise LinkForged("This link does not belong to this order. Use the link from the latest email.")
    return order


def _refuse_if_decided(order: dict[str, Any], now: datetime) -> None:
    status = order.get("status")
    if status != STATUS_AWAITING_APPROVAL:
        word = _DECIDED_WORD.get(order.get("decision", ""))
        when = order.get("decidedAt")
        if word and when:
            raise AlreadyDecided(f"This order was already {word} at {when}. Nothing was changed.")
        raise AlreadyDecided(f"This order was already decided; it is now {status}. Nothing was changed.")
    deadline = order.get("approvalDeadline")
    if deadline and now >= parse_iso(deadline):
        raise LinkExpired(f"The time to decide ran out at {deadline}; the order is being cancelled.")


def review(request: CallbackRequest, *, orders: OrdersTable, now: datetime) -> Review:
    """GET: the order and the decision the button will make. Changes nothing."""
    order = _open_order(request, orders)
    _refuse_if_decided(order, now)
    return Review(order=order, decision=request.decision, deadline=order.get("approvalDeadline", ""))


def decide(
    request: CallbackRequest, *, orders: OrdersTable, workflow: Workflow, now: datetime
) -> dict[str, Any]:
    """POST: record the decision once, then resume the workflow. Returns the order."""
    order = _open_order(request, orders)
    target = _STATUS_FOR[request.decision]
    # Same decision already recorded but maybe not delivered (a crash after the write):
    # deliver it again; Step Functions refuses a second answer, so this cannot act twice.
    redelivery = order.get("status") == target
    if not redelivery:
        _refuse_if_decided(order, now)
        try:
            orders.record_decision(
                request.order_id, decision=request.decision.value, status=target, decided_at=iso(now)
            )
        except DecisionConflict:
            latest = orders.get(request.order_id)
            if latest is None:
                raise LinkExpired(_CLOSED) from None
            _refuse_if_decided(latest, now)
            raise AlreadyDecided("Someone decided this order a moment ago.") from None
        order = {**order, "status": target, "decision": request.decision.value, "decidedAt": iso(now)}
    try:
        if request.decision is Decision.APPROVE:
            workflow.approve(request.task_token, {"decision": request.decision.value, "decidedAt": order["decidedAt"]})
        else:
            workflow.reject(request.task_token, error=REJECTION_ERROR, cause="Rejected by the shop owner")
    except TaskGone:
        if redelivery:
            raise AlreadyDecided(
                f"This order was already {_DECIDED_WORD[request.decision.value]} at {order.get('decidedAt')}. Nothing was changed."
            ) from None
        raise LinkExpired("The time to decide ran out; the order is being cancelled.") from None
    return order
