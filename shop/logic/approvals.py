"""The owner's decision on an order: made once, from an emailed link or from the owner's tools.

A link is checked before anything changes:
1. its signature and expiry (403, 410), with no I/O at all;
2. a decision already recorded for the order (409, saying which and when), kept even after a
   rejected order is deleted;
3. the order exists (410 once it was cancelled), and the link is the newest one sent for it
   (403: a resent notification replaces the links of the one before).
The console and the CLI skip the link (their caller's AWS credentials are the authority) and
use the task token stored on the order; from there both paths are the same:
4. a conditional put records the decision; if someone decided first, 409.
Only then is Step Functions told, and the record marked delivered. If that call fails after the
put, the same request again re-sends the same decision: a crash never strands an order, and Step
Functions refuses a second answer, so nothing can act twice.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shop.adapters.tables import DecisionConflict, DecisionsTable, OrdersTable
from shop.adapters.workflow import TaskGone, Workflow
from shop.domain.approval import CallbackRequest, Decision, past_tense, verify
from shop.domain.errors import AlreadyDecided, LinkExpired, LinkForged, NotFound
from shop.domain.orders import without_private_fields
from shop.logic.clock import iso, parse_iso
from shop.rendering import format_utc
from shop.settings import (
    CANCELLATION_ERROR,
    REJECTION_ERROR,
    STATUS_APPROVED,
    STATUS_AWAITING_APPROVAL,
    STATUS_CANCELLED,
    STATUS_RECEIVED,
    STATUS_REJECTED,
)

_STATUS_FOR = {Decision.APPROVE: STATUS_APPROVED, Decision.REJECT: STATUS_REJECTED,
               Decision.CANCEL: STATUS_CANCELLED}
_CLOSED = "This order is closed: it was rejected, cancelled or not confirmed in time."
TIME_RAN_OUT = "The time to decide on this order ran out; it is being cancelled."
# Decision records outlive the approval window by this much, then DynamoDB expires them.
DECISION_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class Review:
    """What the confirmation page shows."""

    order: dict[str, Any]
    decision: Decision
    deadline: str


def already_decided(record: dict[str, Any]) -> AlreadyDecided:
    word = past_tense(record.get("decision", ""))
    return AlreadyDecided(f"This order was already {word} at {format_utc(record.get('decidedAt', ''))}. "
                          "Nothing was changed.")


def not_pending(order: dict[str, Any]) -> AlreadyDecided:
    if order.get("status") == STATUS_RECEIVED:
        return AlreadyDecided("This order is still being received; the owner is asked in a moment. "
                              "Nothing was changed.")
    return AlreadyDecided(f"This order is {order.get('status')} and takes no decision now. Nothing was changed.")


def _open_order(request: CallbackRequest, orders: OrdersTable, decisions: DecisionsTable):
    """The order and any decision on it, refusing links that cannot decide anything."""
    order = orders.get(request.order_id)
    decided = decisions.get(request.order_id)
    if order is None:
        raise already_decided(decided) if decided else LinkExpired(_CLOSED)
    if decided is None and not (
        hmac.compare_digest(order.get("approvalTaskToken", "").encode(), request.task_token.encode())
        and hmac.compare_digest(order.get("approvalLinkId", "").encode(), request.link_id.encode())
    ):
        raise LinkForged("This link is not the latest one sent for this order. Use the newest email.")
    return order, decided


def review(request: CallbackRequest, *, key: bytes, orders: OrdersTable, decisions: DecisionsTable,
           now: datetime) -> Review:
    """GET and HEAD: the order and the decision the button will make. Changes nothing."""
    verify(request, key=key, now=now.timestamp())
    order, decided = _open_order(request, orders, decisions)
    if decided:
        raise already_decided(decided)
    if order.get("status") != STATUS_AWAITING_APPROVAL:
        raise not_pending(order)
    return Review(order=order, decision=request.decision, deadline=order.get("approvalDeadline", ""))


def decide(request: CallbackRequest, *, key: bytes, orders: OrdersTable, decisions: DecisionsTable,
           workflow: Workflow, now: datetime) -> dict[str, Any]:
    """POST from a link: record the decision once, then resume the workflow. Returns the order
    as decided."""
    verify(request, key=key, now=now.timestamp())
    order, decided = _open_order(request, orders, decisions)
    return _decide_once(order, decided, request.decision, task_token=request.task_token,
                        expires=request.expires, orders=orders, decisions=decisions, workflow=workflow, now=now)


def open_for_owner(order_id: str, *, orders: OrdersTable, decisions: DecisionsTable,
                   now: datetime) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The order and any decision on it, for the owner's console and CLI: refused unless it
    awaits approval with its task token (removed with the decision) and, while nothing is
    decided yet, its deadline has not passed."""
    order = orders.get(order_id)
    decided = decisions.get(order_id)
    if order is None or order.get("status") != STATUS_AWAITING_APPROVAL or not order.get("approvalTaskToken"):
        if decided:
            raise already_decided(decided)
        if order is None:
            raise NotFound(f"There is no open order {order_id}.", field="orderId")
        raise not_pending(order)
    if decided is None and now >= parse_iso(order["approvalDeadline"]):
        raise LinkExpired(TIME_RAN_OUT)
    return order, decided


def decide_as_owner(order_id: str, decision: Decision, *, orders: OrdersTable, decisions: DecisionsTable,
                    workflow: Workflow, now: datetime) -> dict[str, Any]:
    """The owner's console or CLI: approve, reject or cancel an order awaiting approval, under the
    same made-once rules as the links."""
    order, decided = open_for_owner(order_id, orders=orders, decisions=decisions, now=now)
    expires = int(parse_iso(order["approvalDeadline"]).timestamp())  # stored with the token
    return _decide_once(order, decided, decision, task_token=order["approvalTaskToken"], expires=expires,
                        orders=orders, decisions=decisions, workflow=workflow, now=now)


def _decide_once(order: dict[str, Any], decided: dict[str, Any] | None, decision: Decision, *, task_token: str,
                 expires: int, orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow,
                 now: datetime) -> dict[str, Any]:
    order_id = order["orderId"]
    recorded_now = decided is None
    if decided:
        # The same decision, recorded but perhaps never delivered (a crash after the put):
        # deliver it again. Anything else was decided already.
        if decided["decision"] != decision.value or decided.get("delivered"):
            raise already_decided(decided)
    else:
        if order.get("status") != STATUS_AWAITING_APPROVAL:
            raise not_pending(order)
        decided = {"decision": decision.value, "decidedAt": iso(now)}
        try:
            decisions.record(order_id, decision=decided["decision"], decided_at=decided["decidedAt"],
                             expires_at=expires + int(DECISION_RETENTION.total_seconds()))
        except DecisionConflict:
            raise already_decided(decisions.get(order_id) or decided) from None

    try:
        _deliver(workflow, task_token, decision, decided)
    except TaskGone:
        if recorded_now:
            # It never took effect: the approval task had timed out. Leave no false record.
            decisions.forget(order_id)
            raise LinkExpired(TIME_RAN_OUT) from None
        decisions.mark_delivered(order_id)  # an earlier attempt did get through
        raise already_decided(decided) from None
    decisions.mark_delivered(order_id)
    orders.set_decided(order_id, status=_STATUS_FOR[decision], decided_at=decided["decidedAt"])
    return {**without_private_fields(order), "status": _STATUS_FOR[decision], "decision": decided["decision"],
            "decidedAt": decided["decidedAt"]}


def _deliver(workflow: Workflow, task_token: str, decision: Decision, decided: dict[str, Any]) -> None:
    """Resume the waiting task: success moves on to shipping; a failure with a named error is
    caught by the state machine into the cancellation path."""
    if decision is Decision.APPROVE:
        workflow.approve(task_token, {"decision": decided["decision"], "decidedAt": decided["decidedAt"]})
    elif decision is Decision.REJECT:
        workflow.reject(task_token, error=REJECTION_ERROR, cause="Rejected by the shop owner")
    else:
        workflow.reject(task_token, error=CANCELLATION_ERROR, cause="Cancelled by the shop owner")
