"""The owner's decision on an order: made once, from an emailed link or from the owner's tools.

A link is checked before anything changes:
1. its signature (403), with no I/O at all, and its expiry (410): an expired link, which the shop
   signed, is told what became of the order (decided before, being cancelled, or cancelled);
2. a decision already recorded for the order (409, saying which, when, and whether the workflow
   has it yet), kept even after a rejected order is deleted;
3. the order exists (410 once it was cancelled), and the link is the newest one sent for it
   (403: a resent notification replaces the links of the one before).
The console and the CLI skip the link (their caller's AWS credentials are the authority) and
use the task token stored on the order; from there both paths are the same:
4. a conditional put records the decision; if someone decided first, 409.
Only then is Step Functions told (the decision is *delivered*), and the record marked delivered.
Delivering is claimed (the put holds the claim), so that of many clicks at once exactly one
delivers and answers "done"; the others get the 409. If delivering fails after the put, the
answer says so (503: recorded, not yet delivered), and the next click on the same link, or the
owner's "Deliver now", delivers the same decision; a different one is refused. A delivery that
certainly failed (Step Functions refused it) gives its claim back; one whose fate is unknown (a
5xx, a timeout, a crash) leaves it to lapse, so the next delivery knows it may have got through.
A write whose response was lost may have been made: the SDK's retry of the put or the claim then
finds the item its first attempt wrote, and a conditional failure whose stored claim is this
request's own means this request recorded (or claimed) it, and goes on to deliver.
If the workflow no longer takes the decision, only the execution's history says why: the decision
reached it (an earlier attempt, or the SDK's retry of this one, delivered it), or it timed out or
ended first, and the record says *missed*, and every later answer says so; anything else is "not
confirmed". Step Functions takes one answer per task, so nothing can act twice.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shop.adapters.tables import DecisionConflict, DecisionsTable, OrdersTable
from shop.adapters.workflow import NotTaken, TaskGone, Workflow
from shop.domain.approval import TIME_RAN_OUT, CallbackRequest, Decision, past_tense, verify
from shop.domain.errors import (
    AlreadyDecided,
    DecisionUnconfirmed,
    DeliveryUnknown,
    LinkExpired,
    LinkForged,
    LinkRefused,
    NotDelivered,
    NotFound,
    NotReady,
)
from shop.domain.executions import Execution
from shop.domain.orders import StoredOrder
from shop.domain.status import OrderStatus, status_of
from shop.domain.workflow_contract import CANCELLATION_ERROR, REJECTION_ERROR, ExecutionStatus, State
from shop.logic.clock import iso, parse_iso
from shop.rendering import format_utc

_STATUS_FOR = {Decision.APPROVE: OrderStatus.APPROVED, Decision.REJECT: OrderStatus.REJECTED,
               Decision.CANCEL: OrderStatus.CANCELLED}
# Where each decision takes the workflow: reaching it proves the decision was delivered.
TAKES_TO = {Decision.APPROVE: State.MARK_SHIPPED, Decision.REJECT: State.REJECTED, Decision.CANCEL: State.CANCELLED}
_CLOSED = "This order is closed: it was rejected, cancelled or not confirmed in time."


def ran_out_and_cancelled(deadline: str) -> str:
    """The order its workflow deleted after the deadline: the cancellation is done, not under way."""
    return (f"The time to decide on this order ran out at {format_utc(deadline)}, and the order was "
            "cancelled. Nothing was changed.")


# Decision records outlive the approval window by this much, then DynamoDB expires them.
DECISION_RETENTION = timedelta(days=30)
# How long a request may hold the claim to deliver a decision: longer than any one request takes
# (the callback's Lambda times out after 10 s), so a live claim means a delivery in flight, and one
# lost with its request lapses soon.
CLAIM_SECONDS = 30
logger = logging.getLogger(__name__)


def new_claim_id() -> str:
    return secrets.token_urlsafe(12)


@dataclass(frozen=True)
class Review:
    """What the confirmation page shows; `recorded` when this decision is recorded but not yet
    delivered, and the button delivers it."""

    order: dict[str, Any]
    decision: Decision
    deadline: str
    recorded: dict[str, Any] | None = None


def refusal(record: dict[str, Any], order: StoredOrder | None = None, *, gone: bool = False,
            now: datetime | None = None) -> LinkRefused:
    """The answer to a click on an order decided already: which decision, when, and where it stands.
    An order the workflow has moved past awaiting approval shows the decision took effect; one it
    deleted (`gone`) was rejected or cancelled, by this decision or by its deadline: an approval not
    delivered by then never was."""
    decision = record.get("decision", "")
    said = f"This order was already {past_tense(decision)} at {format_utc(record.get('decidedAt', ''))}"
    moved_on = gone or (order is not None
                        and order.status not in (OrderStatus.AWAITING_APPROVAL, OrderStatus.RECEIVED))
    if record.get("missed") or (gone and decision == Decision.APPROVE and not record.get("delivered")):
        return LinkExpired(f"{said}, but that decision did not reach the order's workflow before its "
                           "deadline: the order was not confirmed in time and is cancelled. Nothing was changed.")
    if record.get("delivered") or moved_on:
        return AlreadyDecided(f"{said}. Nothing was changed.")
    if now is not None and record.get("claimedUntil", 0) > now.timestamp():
        return AlreadyDecided(f"{said}; the decision is being passed to the order's workflow just now. "
                              "Nothing was changed.")
    return AlreadyDecided(f"{said}, but the decision has not reached the order's workflow yet: open the "
                          f"{decision} link again (or use Deliver now in the console) to deliver it. "
                          "Nothing was changed.")


def unknown_delivery(record: dict[str, Any]) -> AlreadyDecided:
    return AlreadyDecided(f"This order was already {past_tense(record['decision'])} at "
                          f"{format_utc(record['decidedAt'])}, and the order's workflow no longer waits "
                          "for a decision: either an earlier attempt delivered it, or the time to decide ran "
                          "out first. The order's status (or the console) shows which. Nothing was changed.")


def too_late_to_deliver(record: dict[str, Any], deadline: int) -> LinkExpired:
    """A decision recorded and not (known to be) delivered, asked to be delivered from its deadline on,
    when the shop passes no decision on. An earlier attempt may have delivered it (a lost response):
    the answer says so rather than that it came to nothing."""
    return LinkExpired(f"This order was already {past_tense(record['decision'])} at "
                       f"{format_utc(record['decidedAt'])}, and the time to decide ran out at "
                       f"{format_utc(iso(datetime.fromtimestamp(deadline, UTC)))}: the shop passes no decision "
                       "on to the order's workflow after it. Unless an earlier attempt delivered it, the order "
                       "was not confirmed in time and is cancelled; the order's status (or the console) shows "
                       "which. Nothing was changed.")


def not_delivered(record: dict[str, Any], *, certain: bool = True) -> NotDelivered:
    """Recorded, and certainly not delivered (refused) or, if not `certain`, perhaps delivered."""
    said = (f"Your decision is recorded: the order was {past_tense(record['decision'])} at "
            f"{format_utc(record['decidedAt'])}.")
    again = ("Try again in a minute (open the same link again, or use Deliver now in the console) to "
             "deliver it; nothing else can decide this order meanwhile.")
    if certain:
        return NotDelivered(f"{said} But the shop could not pass it on to the order's workflow just now. "
                            f"{again}")
    return DeliveryUnknown(f"{said} The shop passed it on to the order's workflow but could not confirm that "
                           f"it arrived. {again} If it did arrive, that says so.")


def delivered_perhaps_by_this_click(record: dict[str, Any]) -> AlreadyDecided:
    """The workflow has the decision, and both this click (its answer sent twice by the SDK) and an
    earlier one whose outcome was never known may be the one that delivered it."""
    return AlreadyDecided(f"This order was already {past_tense(record['decision'])} at "
                          f"{format_utc(record['decidedAt'])}, and the decision has reached the order's "
                          "workflow: this click or an earlier one delivered it.")


def unconfirmed_decision() -> DecisionUnconfirmed:
    return DecisionUnconfirmed("The shop could not confirm that your decision was recorded: it may have "
                               "been. Open the same link again in a minute (or see the order in the "
                               "console): it then shows the decision, or lets you make it.")


def not_pending(order: StoredOrder) -> LinkRefused:
    if order.status == OrderStatus.RECEIVED:
        return NotReady("This order is still being received; the owner is asked in a moment. "
                        "Nothing was changed.")
    return AlreadyDecided(f"This order is {order.status} and takes no decision now. Nothing was changed.")


def workflow_ended(execution: Execution, decided: dict[str, Any] | None = None) -> AlreadyDecided:
    """The answer about an order whose workflow has ended: it takes no decision, whatever its record
    says (one its workflow could not write still says AWAITING_APPROVAL, with a dead task token)."""
    status = status_of(None, execution.status, execution.outcome)
    when = f" at {format_utc(iso(execution.stop_date))}" if execution.stop_date else ""
    said = (f"This order was already {past_tense(decided.get('decision', ''))} at "
            f"{format_utc(decided.get('decidedAt', ''))}, and its" if decided else "This order's")
    failed = (" The order's console page (or `shop order show`) shows the step that failed."
              if status == OrderStatus.FAILED else "")
    return AlreadyDecided(f"{said} workflow ended{when} ({status}); it takes no decision now. "
                          f"Nothing was changed.{failed}")


# What the record says of an order waiting for the owner, or about to: only its execution can tell
# that its workflow ended without updating the record.
_WAITING = (OrderStatus.RECEIVED, OrderStatus.AWAITING_APPROVAL)


def _still_running(order: StoredOrder, decided: dict[str, Any] | None, workflow: Workflow) -> None:
    """Refuse an order whose record says it waits for the owner while its workflow has ended: the
    task token it holds is dead, and the record will never move on."""
    if order.status not in _WAITING:
        return
    execution = _quietly(workflow.describe, order.order_id)  # unreadable: cannot tell, go on as before
    if execution is not None and not execution.running:
        raise workflow_ended(execution, decided)


_NOT_SENT_YET = ("The owner's notification for this order is still being sent; it can be decided in a "
                 "moment. Nothing was changed.")


def _open_order(request: CallbackRequest, orders: OrdersTable, decisions: DecisionsTable,
                workflow: Workflow) -> tuple[StoredOrder, dict[str, Any] | None]:
    """The order and any decision on it, refusing links that cannot decide anything."""
    order = orders.get(request.order_id)
    decided = decisions.get(request.order_id)
    if order is None:
        raise refusal(decided, gone=True) if decided else LinkExpired(_CLOSED)
    approval = order.approval
    if decided is None and not (
        hmac.compare_digest((approval.task_token or "").encode(), request.task_token.encode())
        and hmac.compare_digest((approval.link_id or "").encode(), request.link_id.encode())
    ):
        if hmac.compare_digest((approval.pending_link_id or "").encode(), request.link_id.encode()):
            raise NotReady(_NOT_SENT_YET)  # a link opened before its sending was confirmed
        raise LinkForged("This link is not the latest one sent for this order. Use the newest email.")
    _still_running(order, decided, workflow)
    return order, decided


def _awaiting_delivery(order: StoredOrder, decided: dict[str, Any], decision: Decision) -> bool:
    """A recorded decision that this click may (re)deliver: the same one, not settled, and the
    workflow still waiting for it."""
    return (decided["decision"] == decision.value and not decided.get("delivered")
            and not decided.get("missed") and order.status == OrderStatus.AWAITING_APPROVAL)


def _verified(request: CallbackRequest, *, key: bytes, orders: OrdersTable, decisions: DecisionsTable,
              workflow: Workflow, now: datetime) -> None:
    """The link's signature and deadline. A forged link learns nothing and costs no I/O; a link the
    shop signed whose deadline passed is told what actually happened, which only the tables know:
    "being cancelled" stays true only while the order is still there awaiting its timeout."""
    try:
        verify(request, key=key, now=now.timestamp())
    except LinkExpired:
        raise _after_deadline(request, orders=orders, decisions=decisions, workflow=workflow, now=now) from None


def _after_deadline(request: CallbackRequest, *, orders: OrdersTable, decisions: DecisionsTable,
                    workflow: Workflow, now: datetime) -> LinkRefused:
    order = orders.get(request.order_id)
    decided = decisions.get(request.order_id)
    if order is not None:
        try:
            _still_running(order, decided, workflow)
        except LinkRefused as ended:
            return ended
    if decided:  # decided before its deadline: that is what happened, not a timeout
        if order is not None and _awaiting_delivery(order, decided, Decision(decided["decision"])):
            return too_late_to_deliver(decided, request.expires)
        return refusal(decided, order, gone=order is None, now=now)
    if order is None:  # the cancellation path deletes the order first: it has run
        return LinkExpired(ran_out_and_cancelled(iso(datetime.fromtimestamp(request.expires, UTC))))
    if order.status in (OrderStatus.AWAITING_APPROVAL, OrderStatus.RECEIVED):
        return LinkExpired(TIME_RAN_OUT)  # the timeout is taking it down the cancellation path now
    return not_pending(order)


def review(request: CallbackRequest, *, key: bytes, orders: OrdersTable, decisions: DecisionsTable,
           workflow: Workflow, now: datetime) -> Review:
    """GET and HEAD: the order and the decision the button will make (or deliver). Changes nothing."""
    _verified(request, key=key, orders=orders, decisions=decisions, workflow=workflow, now=now)
    order, decided = _open_order(request, orders, decisions, workflow)
    if decided:
        if not _awaiting_delivery(order, decided, request.decision):
            raise refusal(decided, order, now=now)
    elif order.status != OrderStatus.AWAITING_APPROVAL:
        raise not_pending(order)
    return Review(order=order.to_public(), decision=request.decision, deadline=order.approval.deadline or "",
                  recorded=decided)


def decide(request: CallbackRequest, *, key: bytes, orders: OrdersTable, decisions: DecisionsTable,
           workflow: Workflow, now: datetime) -> dict[str, Any]:
    """POST from a link: record the decision once, then resume the workflow. Returns the order
    as decided."""
    _verified(request, key=key, orders=orders, decisions=decisions, workflow=workflow, now=now)
    order, decided = _open_order(request, orders, decisions, workflow)
    return _decide_once(order, decided, request.decision, expires=request.expires, orders=orders,
                        decisions=decisions, workflow=workflow, now=now)


def open_for_owner(order_id: str, *, orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow,
                   now: datetime) -> tuple[StoredOrder, dict[str, Any] | None]:
    """The order and any decision on it, for the owner's console and CLI: refused unless it
    awaits approval with its task token (removed with the decision), its workflow still runs, its
    notification was sent and, while nothing is decided yet, its deadline has not passed. A
    decision recorded and not yet delivered is refused its delivery from the deadline on by
    `_decide_once`, like every path."""
    order = orders.get(order_id)
    decided = decisions.get(order_id)
    if order is None:
        if decided:
            raise refusal(decided, gone=True)
        raise NotFound(f"There is no open order {order_id}.", field="orderId")
    _still_running(order, decided, workflow)
    awaiting = order.status == OrderStatus.AWAITING_APPROVAL and bool(order.approval.task_token)
    if decided:
        if not awaiting:
            raise refusal(decided, order, now=now)
        return order, decided
    if not awaiting:
        raise not_pending(order)
    if not order.approval.link_id:
        raise NotReady(_NOT_SENT_YET)
    if now >= parse_iso(_deadline_of(order)):
        raise LinkExpired(TIME_RAN_OUT)
    return order, decided


def decide_as_owner(order_id: str, decision: Decision, *, orders: OrdersTable, decisions: DecisionsTable,
                    workflow: Workflow, now: datetime) -> dict[str, Any]:
    """The owner's console or CLI: approve, reject or cancel an order awaiting approval, under the
    same made-once rules as the links."""
    order, decided = open_for_owner(order_id, orders=orders, decisions=decisions, workflow=workflow, now=now)
    return _decide_once(order, decided, decision, expires=_deadline(order), orders=orders,
                        decisions=decisions, workflow=workflow, now=now)


def deliver_as_owner(order_id: str, *, orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow,
                     now: datetime) -> dict[str, Any]:
    """The owner's "Deliver now": pass a decision recorded earlier, and not yet delivered, to the
    workflow; exactly what a second click on its link does."""
    order, decided = open_for_owner(order_id, orders=orders, decisions=decisions, workflow=workflow, now=now)
    if decided is None:
        raise NotReady("This order has no decision to deliver: approve, reject or cancel it instead. "
                       "Nothing was changed.")
    return _decide_once(order, decided, Decision(decided["decision"]), expires=_deadline(order),
                        orders=orders, decisions=decisions, workflow=workflow, now=now)


def _deadline_of(order: StoredOrder) -> str:
    deadline = order.approval.deadline
    assert deadline is not None, "an order awaiting approval has its deadline, stored with its token"
    return deadline


def _deadline(order: StoredOrder) -> int:
    return int(parse_iso(_deadline_of(order)).timestamp())


def _decide_once(order: StoredOrder, decided: dict[str, Any] | None, decision: Decision, *, expires: int,
                 orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow,
                 now: datetime) -> dict[str, Any]:
    _refuse_from_the_deadline(order, decided, decision, deadline=expires, now=now)
    order_id = order.order_id
    claim, claimed_until = new_claim_id(), int(now.timestamp()) + CLAIM_SECONDS
    uncertain = False  # whether an earlier delivery of this decision may have reached the workflow
    if decided:
        # Recorded before and not delivered (a fault after the put): deliver that same decision,
        # if no other click is delivering it right now. Anything else was decided already.
        if not _awaiting_delivery(order, decided, decision):
            raise refusal(decided, order, now=now)
        try:
            lapsed = decisions.claim(order_id, decision=decision.value, claim=claim, now=int(now.timestamp()),
                                     claimed_until=claimed_until)
        except Exception as error:  # an AWS fault: the claim may have been taken all the same
            if not _holds(stored := _quietly(decisions.get, order_id), claim):
                raise not_delivered(decided) from error
            lapsed = None
        else:
            if lapsed is None and not _holds(stored := _quietly(decisions.get, order_id), claim):
                raise refusal(stored or decided, order, now=now)
        # Taken, by this request; a claim the SDK took on a retry, its first response lost, took
        # over one it never saw: as if lapsed.
        uncertain = lapsed is None or bool(lapsed)
    else:
        if order.status != OrderStatus.AWAITING_APPROVAL:
            raise not_pending(order)
        decided = {"decision": decision.value, "decidedAt": iso(now)}
        try:
            decisions.record(order_id, decision=decided["decision"], decided_at=decided["decidedAt"],
                             expires_at=expires + int(DECISION_RETENTION.total_seconds()), claim=claim,
                             claimed_until=claimed_until)
        except DecisionConflict:  # decided first by another request, or by this one on an SDK retry
            if not _holds(stored := _quietly(decisions.get, order_id), claim):
                raise refusal(stored or decided, order, now=now) from None
        except Exception as error:  # the put may have been made, its response lost
            stored = _quietly(decisions.get, order_id)
            if not _holds(stored, claim):
                raise (refusal(stored, order, now=now) if stored else unconfirmed_decision()) from error

    # From here on the decision is recorded: no answer may say that nothing was decided. It goes to
    # the task token the order holds now (a link's own is the same for a first decision, checked
    # above, but a link from a notification whose attempt failed carries a dead one).
    try:
        if order.approval.task_token is None:  # the workflow took it off meanwhile: it went on
            raise LookupError("the order holds no task token")
        _deliver(workflow, order.approval.task_token, decision, decided)
    except TaskGone as gone:
        # The task takes no answer now. Only the execution's history says why: the decision
        # reached it (delivered by an earlier attempt, or by the SDK's retry of this one, its first
        # response lost), or the workflow stopped waiting first (its deadline, or its end).
        fate = _fate(workflow, order_id, decision)
        if fate == "missed":
            _quietly(decisions.mark_missed, order_id)
            raise refusal({**decided, "missed": True}) from None
        if fate != "arrived":  # not confirmed either way: the doubt stays for whoever comes next
            _quietly(decisions.release, order_id, claim=claim, doubt=True)
            raise unknown_delivery(decided) from None
        if not gone.retried:  # this click's one attempt was refused: an earlier one delivered it
            _settle_delivered(order, decided, decision, orders=orders, decisions=decisions)
            raise refusal({**decided, "delivered": True}) from None
        if uncertain:
            _settle_delivered(order, decided, decision, orders=orders, decisions=decisions)
            raise delivered_perhaps_by_this_click(decided) from None
        # No earlier delivery can have arrived: the SDK's first attempt of this one did.
    except NotTaken as error:  # refused: Step Functions certainly did not take it
        _quietly(decisions.release, order_id, claim=claim, doubt=uncertain)
        raise not_delivered(decided) from error
    except Exception as error:  # it may have got through: the claim lapses, the next delivery finds out
        raise not_delivered(decided, certain=False) from error
    # Delivered: the order is decided whatever happens to the bookkeeping below. A failure there is
    # settled later: the workflow's next status update removes the token, and the next click on
    # the link finds the task answered and marks the decision delivered.
    _settle_delivered(order, decided, decision, orders=orders, decisions=decisions)
    return {**order.to_public(), "status": _STATUS_FOR[decision], "decision": decided["decision"],
            "decidedAt": decided["decidedAt"]}


def _refuse_from_the_deadline(order: StoredOrder, decided: dict[str, Any] | None, decision: Decision, *,
                              deadline: int, now: datetime) -> None:
    """From the stated deadline on (the links' `expires`, the order's `approvalDeadline`: the task's
    EnteredTime plus its timeout, to the second), nothing is delivered, by any path: a link, the
    console, the CLI, a retried delivery. Step Functions' own timer fires later (up to a second, more
    after a retried RequestApproval), and a decision it still took then would break what the deadline
    promised: the links, the README and the customer's "not confirmed in time"."""
    if now.timestamp() < deadline:
        return
    if decided is None:
        raise LinkExpired(TIME_RAN_OUT) if order.status == OrderStatus.AWAITING_APPROVAL else not_pending(order)
    if not _awaiting_delivery(order, decided, decision):
        raise refusal(decided, order, now=now)
    raise too_late_to_deliver(decided, deadline)


def _holds(stored: dict[str, Any] | None, claim: str) -> bool:
    """Whether the record holds this request's claim: its own write, whatever its response said."""
    return stored is not None and stored.get("deliveryClaim") == claim


def _settle_delivered(order: StoredOrder, decided: dict[str, Any], decision: Decision, *, orders: OrdersTable,
                      decisions: DecisionsTable) -> None:
    _quietly(decisions.mark_delivered, order.order_id)
    _quietly(orders.set_decided, order.order_id, status=_STATUS_FOR[decision], decided_at=decided["decidedAt"])


def _fate(workflow: Workflow, order_id: str, decision: Decision) -> str | None:
    """What the execution's history says of `decision`: "arrived" (the workflow went where it
    leads), "missed" (the approval task timed out, or the execution ended, without it), or None
    (it cannot tell: still waiting, or the history could not be read)."""
    progress = _quietly(workflow.progress, order_id)
    if progress is None:
        return None
    marks, status = progress
    if TAKES_TO[decision] in marks:
        return "arrived"
    if State.TIMED_OUT in marks or status != ExecutionStatus.RUNNING:
        return "missed"
    return None


def _quietly(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Bookkeeping whose failure must not change the answer already decided (logged, None)."""
    try:
        return call(*args, **kwargs)
    except Exception:
        logger.warning("approval bookkeeping failed: %s", getattr(call, "__name__", call), exc_info=True)
        return None


def _deliver(workflow: Workflow, task_token: str, decision: Decision, decided: dict[str, Any]) -> None:
    """Resume the waiting task: success moves on to shipping; a failure with a named error is
    caught by the state machine into the cancellation path."""
    if decision is Decision.APPROVE:
        workflow.approve(task_token, {"decision": decided["decision"], "decidedAt": decided["decidedAt"]})
    elif decision is Decision.REJECT:
        workflow.reject(task_token, error=REJECTION_ERROR, cause="Rejected by the shop owner")
    else:
        workflow.reject(task_token, error=CANCELLATION_ERROR, cause="Cancelled by the shop owner")
