"""The owner's decision on an order: shown on GET, made on POST, made once.

Checks, each refusing before anything changes:
1. the link's signature and expiry (403, 410), with no I/O at all;
2. a decision already recorded for the order (409, saying which and when), kept even after a
   rejected order is deleted;
3. the order exists (410 once it was cancelled) and the link carries the token it was sent;
4. a conditional put records the decision; if someone decided first, 409.
Only then is Step Functions told, and the record marked delivered. If that call fails after the
put, the same click again re-sends the same decision: a crash never strands an order, and Step
Functions refuses a second answer, so nothing can act twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shop.adapters.tables import DecisionConflict, DecisionsTable, OrdersTable
from shop.adapters.workflow import TaskGone, Workflow
from shop.domain.approval import CallbackRequest, Decision, token_fingerprint, verify
from shop.domain.errors import AlreadyDecided, LinkExpired, LinkForged
from shop.logic.clock import iso
from shop.rendering import format_utc
from shop.settings import REJECTION_ERROR, STATUS_APPROVED, STATUS_AWAITING_APPROVAL, STATUS_REJECTED

_STATUS_FOR = {Decision.APPROVE: STATUS_APPROVED, Decision.REJECT: STATUS_REJECTED}
_WORD = {Decision.APPROVE.value: "approved", Decision.REJECT.value: "rejected"}
_CLOSED = "This order is closed: it was rejected, cancelled or not confirmed in time."
# Decision records outlive the approval window by this much, then DynamoDB expires them.
DECISION_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class Review:
    """What the confirmation page shows."""

    order: dict[str, Any]
    decision: Decision
    deadline: str


def _already(record: dict[str, Any]) -> AlreadyDecided:
    word = _WORD.get(record.get("decision", ""), "decided")
    return AlreadyDecided(f"This order was already {word} at {format_utc(record.get('decidedAt', ''))}. "
                          "Nothing was changed.")


def _open_order(request: CallbackRequest, orders: OrdersTable, decisions: DecisionsTable):
    """The order and any decision on it, refusing links that cannot decide anything."""
    order = orders.get(request.order_id)
    decided = decisions.get(request.order_id)
    if order is None:
        raise _already(decided) if decided else LinkExpired(_CLOSED)
    if order.get("approvalTokenSha256") != token_fingerprint(request.task_token):
        raise LinkForged("This link is not the latest one sent for this order. Use the newest email.")
    return order, decided


def review(request: CallbackRequest, *, key: bytes, orders: OrdersTable, decisions: DecisionsTable,
           now: datetime) -> Review:
    """GET and HEAD: the order and the decision the button will make. Changes nothing."""
    verify(request, key=key, now=now.timestamp())
    order, decided = _open_order(request, orders, decisions)
    if decided:
        raise _already(decided)
    if order.get("status") != STATUS_AWAITING_APPROVAL:
        raise AlreadyDecided(f"This order is {order.get('status')} and takes no decision now.")
    return Review(order=order, decision=request.decision, deadline=order.get("approvalDeadline", ""))


def decide(request: CallbackRequest, *, key: bytes, orders: OrdersTable, decisions: DecisionsTable,
           workflow: Workflow, now: datetime) -> dict[str, Any]:
    """POST: record the decision once, then resume the workflow. Returns the order as decided."""
    verify(request, key=key, now=now.timestamp())
    order, decided = _open_order(request, orders, decisions)
    recorded_now = decided is None
    if decided:
        # The same decision, recorded but perhaps never delivered (a crash after the put):
        # deliver it again. Anything else was decided already.
        if decided["decision"] != request.decision.value or decided.get("delivered"):
            raise _already(decided)
    else:
        if order.get("status") != STATUS_AWAITING_APPROVAL:
            raise AlreadyDecided(f"This order is {order.get('status')} and takes no decision now.")
        decided = {"decision": request.decision.value, "decidedAt": iso(now)}
        expires_at = request.expires + int(DECISION_RETENTION.total_seconds())
        try:
            decisions.record(request.order_id, decision=decided["decision"], decided_at=decided["decidedAt"],
                             expires_at=expires_at)
        except DecisionConflict:
            raise _already(decisions.get(request.order_id) or decided) from None

    try:
        if request.decision is Decision.APPROVE:
            workflow.approve(request.task_token, {"decision": decided["decision"], "decidedAt": decided["decidedAt"]})
        else:
            workflow.reject(request.task_token, error=REJECTION_ERROR, cause="Rejected by the shop owner")
    except TaskGone:
        if recorded_now:
            # It never took effect: the approval task had timed out. Leave no false record.
            decisions.forget(request.order_id)
            raise LinkExpired("The time to decide on this order ran out; it is being cancelled.") from None
        decisions.mark_delivered(request.order_id)  # an earlier attempt did get through
        raise _already(decided) from None
    decisions.mark_delivered(request.order_id)
    orders.set_decided(request.order_id, status=_STATUS_FOR[request.decision], decided_at=decided["decidedAt"])
    return {**order, "status": _STATUS_FOR[request.decision], "decision": decided["decision"],
            "decidedAt": decided["decidedAt"]}
