"""What the shop owner sees and does, for the local console and the `shop` CLI alike.

Every order has exactly one execution, named after the order id, so the executions are the
spine of the order list: they include the orders the workflow has already deleted (rejected,
cancelled, timed out), whose details then come from the execution's input. Live orders add
their current status from the orders table.

Like the rest of shop/logic, each function takes its collaborators (tables, workflow, publish)
by keyword; the console and the CLI pass those of one deployed shop (shop/adapters/stack.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any

from shop.adapters.tables import DecisionsTable, OrdersTable
from shop.adapters.workflow import Workflow
from shop.domain.approval import Decision
from shop.domain.errors import AlreadyDecided, InvalidRequest, LinkExpired, LinkRefused, NotFound
from shop.domain.orders import without_private_fields
from shop.domain.workflow_graph import CURRENT, current_state, state_marks, workflow_graph
from shop.logic.approvals import decide_as_owner, deliver_as_owner
from shop.logic.clock import iso, parse_iso
from shop.logic.notifications import resend_approval_request
from shop.rendering import format_utc
from shop.settings import (
    STATUS_APPROVED,
    STATUS_AWAITING_APPROVAL,
    STATUS_CANCELLED,
    STATUS_FAILED,
    STATUS_FEEDBACK_REQUESTED,
    STATUS_RECEIVED,
    STATUS_REJECTED,
    STATUS_SHIPPED,
)

# A deleted order shows the outcome its execution ended with; these are those extra statuses.
STATUS_TIMED_OUT = "TIMED_OUT"
STATUS_CLOSING = "CLOSING"  # deleted, its cancellation email not yet sent
STATUS_ABORTED = "ABORTED"  # stopped by hand in the Step Functions console

# Each status, and the execution status every order in it has: the list asks Step Functions
# for those executions only.
EXECUTION_STATUS_OF = {
    STATUS_RECEIVED: "RUNNING",
    STATUS_AWAITING_APPROVAL: "RUNNING",
    STATUS_APPROVED: "RUNNING",
    STATUS_SHIPPED: "RUNNING",
    STATUS_CLOSING: "RUNNING",
    STATUS_FEEDBACK_REQUESTED: "SUCCEEDED",
    STATUS_REJECTED: "SUCCEEDED",
    STATUS_CANCELLED: "SUCCEEDED",
    STATUS_TIMED_OUT: "SUCCEEDED",
    STATUS_FAILED: "FAILED",
    STATUS_ABORTED: "ABORTED",
}
STATUSES = tuple(EXECUTION_STATUS_OF)

# History event details worth showing; the rest (inputs, outputs, parameters) can hold the token.
_SHOWN_DETAILS = ("error", "cause")


# Order ids are ULIDs. Anything else names no order, and must not reach an execution ARN, which
# AWS would refuse with a ValidationException rather than "not found".
_ORDER_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def _known(order_id: str) -> None:
    if not _ORDER_ID.fullmatch(order_id or ""):
        raise NotFound(f"There is no order {order_id[:64]!r}: order ids are 26 letters and digits.",
                       field="orderId")


def _time(value: Any) -> str | None:
    return iso(value) if isinstance(value, datetime) else value


def _status(order: dict[str, Any] | None, execution: dict[str, Any]) -> str:
    if order is not None:
        return order.get("status", STATUS_RECEIVED)
    state = execution.get("status")
    if state == "SUCCEEDED":
        return (execution.get("output") or {}).get("outcome") or STATUS_FEEDBACK_REQUESTED
    return {"RUNNING": STATUS_CLOSING, "FAILED": STATUS_FAILED}.get(state, STATUS_ABORTED)


def _summary(order: dict[str, Any], status: str, execution: dict[str, Any]) -> dict[str, Any]:
    awaiting = status == STATUS_AWAITING_APPROVAL
    return {
        "orderId": order.get("orderId") or execution.get("name"),
        "status": status,
        "customerName": order.get("customerName", ""),
        "customerEmail": order.get("customerEmail", ""),
        "total": order.get("total", ""),
        "currency": order.get("currency", ""),
        "createdAt": order.get("createdAt") or _time(execution.get("startDate")),
        "approvalDeadline": order.get("approvalDeadline") if awaiting else None,
        # Its notification went out: only then can it be decided (until then its links are pending).
        "notified": awaiting and bool(order.get("approvalLinkId")),
        "execution": execution.get("status"),
    }


def check_status(status: str | None) -> str | None:
    if status is None or status == "":
        return None
    wanted = status.strip().upper()
    if wanted not in EXECUTION_STATUS_OF:
        raise InvalidRequest(f"unknown status {status!r}; one of {', '.join(STATUSES)}", field="status")
    return wanted


def _summaries(executions: Iterable[dict[str, Any]], *, orders: OrdersTable,
               workflow: Workflow) -> Iterator[dict[str, Any]]:
    """A summary per execution, reading their orders 100 at a time (one BatchGetItem)."""
    executions = iter(executions)
    while page := list(islice(executions, 100)):
        live = orders.get_many(execution["name"] for execution in page)
        for execution in page:
            order = live.get(execution["name"])
            if order is None:  # deleted by its workflow: the details are in the execution's input
                execution = workflow.describe(execution["name"]) or execution
                snapshot = (execution.get("input") or {}).get("order") or {}
            else:
                snapshot = order
            yield _summary(snapshot, _status(order, execution), execution)


def list_orders(*, orders: OrdersTable, workflow: Workflow, status: str | None = None,
                limit: int | None = 50) -> list[dict[str, Any]]:
    """Orders, newest first, optionally only those in `status`; at most `limit` of them."""
    wanted = check_status(status)
    executions = workflow.executions(status=EXECUTION_STATUS_OF.get(wanted) if wanted else None)
    summaries = (s for s in _summaries(executions, orders=orders, workflow=workflow)
                 if wanted is None or s["status"] == wanted)
    return list(islice(summaries, limit))


def pending_approvals(*, orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow,
                      now: datetime) -> list[dict[str, Any]]:
    """Orders awaiting the owner's decision, the most urgent first; those with a decision recorded
    and not yet delivered say which, since delivering it is what they await."""
    pending = list_orders(orders=orders, workflow=workflow, status=STATUS_AWAITING_APPROVAL, limit=None)
    decided = decisions.get_many(order["orderId"] for order in pending) if pending else {}
    for order in pending:
        deadline = order.get("approvalDeadline")
        order["secondsLeft"] = max(0, int((parse_iso(deadline) - now).total_seconds())) if deadline else None
        record = decided.get(order["orderId"])
        order["decision"] = _decision(record, _recorded_delivery(record)) if record else None
    return sorted(pending, key=lambda order: order.get("approvalDeadline") or "")


# Where each decision takes the workflow: reaching it proves the decision was delivered.
_TAKES_TO = {Decision.APPROVE: "MarkShipped", Decision.REJECT: "Rejected", Decision.CANCEL: "Cancelled"}
DELIVERED, NOT_YET_DELIVERED, MISSED = "delivered", "pending", "missed"


def delivery(record: dict[str, Any], marks: dict[str, str], execution_status: str) -> str:
    """Whether a recorded decision reached the workflow, from the execution's history (the truth)
    before the record's own bookkeeping: `delivered`; `pending`, the workflow still waiting for it
    (Deliver now delivers it); or `missed`, the workflow went on without it (its deadline passed)."""
    if record.get("delivered") or _TAKES_TO.get(Decision(record["decision"])) in marks:
        return DELIVERED
    if not record.get("missed") and execution_status == "RUNNING" and marks.get("RequestApproval") == CURRENT:
        return NOT_YET_DELIVERED
    return MISSED


def _recorded_delivery(record: dict[str, Any]) -> str:
    """Where a decision stands by its record alone (no execution history at hand)."""
    return DELIVERED if record.get("delivered") else MISSED if record.get("missed") else NOT_YET_DELIVERED


def _decision(record: dict[str, Any], state: str) -> dict[str, Any]:
    return {"decision": record["decision"], "decidedAt": record["decidedAt"], "delivery": state}


def _event(event: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": event["id"], "type": event["type"], "timestamp": _time(event["timestamp"])}
    for key, details in event.items():
        if key.endswith("EventDetails") and isinstance(details, dict):
            if "name" in details:
                shown["state"] = details["name"]
            shown.update({name: details[name] for name in _SHOWN_DETAILS if details.get(name)})
    return shown


def order_detail(order_id: str, *, orders: OrdersTable, decisions: DecisionsTable,
                 workflow: Workflow) -> dict[str, Any]:
    """One order: its details, status, decision, and its execution with where it stands."""
    _known(order_id)
    order = orders.get(order_id)
    execution = workflow.describe(order_id)
    if order is None and execution is None:
        raise NotFound(f"There is no order {order_id}.", field="orderId")
    events = workflow.history(order_id) if execution else []
    execution = execution or {}
    snapshot = order or (execution.get("input") or {}).get("order") or {"orderId": order_id}
    status = _status(order, execution)
    marks = state_marks(events, execution.get("status", ""))
    record = decisions.get(order_id)
    decision = _decision(record, delivery(record, marks, execution.get("status", ""))) if record else None
    return {
        "order": without_private_fields(snapshot),
        "status": status,
        "live": order is not None,
        "decision": decision,
        # Decidable: awaiting approval, its notification sent, nothing recorded yet.
        "awaitingApproval": status == STATUS_AWAITING_APPROVAL and record is None
        and bool((order or {}).get("approvalLinkId")),
        "execution": {
            "status": execution.get("status"),
            "startDate": _time(execution.get("startDate")),
            "stopDate": _time(execution.get("stopDate")),
            "outcome": (execution.get("output") or {}).get("outcome"),
            "currentState": current_state(marks),
        },
        "marks": marks,
        "events": [_event(event) for event in events],
    }


def workflow_picture(*, workflow: Workflow) -> dict[str, list[dict[str, str]]]:
    """The state machine's graph, from the definition Step Functions runs."""
    return workflow_graph(workflow.definition())


# The state the workflow enters when the approval deadline passes (shop/infra/workflow.py).
_TIMED_OUT_STATE = "TimedOut"


def _ended(order_id: str, *, workflow: Workflow) -> LinkRefused | None:
    """Why an order the workflow deleted, with no decision on record, takes no decision: its
    deadline passed (or its workflow was stopped or failed). None if it never existed.

    A rejected or cancelled order keeps its decision's record and answers "already rejected at";
    a timed-out one has no record, so its execution's history says when the deadline passed."""
    execution = workflow.describe(order_id)
    if execution is None:
        return None
    status = _status(None, execution)
    timed_out = next((event for event in workflow.history(order_id)
                      if event.get("type") == "TaskTimedOut"
                      or (event.get("stateEnteredEventDetails") or {}).get("name") == _TIMED_OUT_STATE), None)
    if timed_out is not None:
        passed = format_utc(_time(timed_out["timestamp"]))
        if execution.get("status") == "RUNNING":
            return LinkExpired(f"This order was not decided in time: the deadline passed at {passed}, and the "
                               "order is being cancelled. Nothing was changed.")
        return LinkExpired(f"This order was not decided in time: the deadline passed at {passed}, and the "
                           "order was cancelled. Nothing was changed.")
    ended = execution.get("stopDate")
    when = f" at {format_utc(_time(ended))}" if ended else ""
    return AlreadyDecided(f"This order's workflow ended{when} ({status}); it takes no decision now. "
                          "Nothing was changed.")


@contextmanager
def _acting_on(order_id: str, *, workflow: Workflow) -> Iterator[None]:
    """An action on an order that may be gone: one its workflow deleted says why, as the console
    and the CLI show it (`order show`), never that there is no such order."""
    _known(order_id)
    try:
        yield
    except NotFound:
        ended = _ended(order_id, workflow=workflow)
        if ended is None:
            raise
        raise ended from None


def decide(order_id: str, decision: Decision, *, orders: OrdersTable, decisions: DecisionsTable,
           workflow: Workflow, now: datetime) -> dict[str, Any]:
    """Approve, reject or cancel an order awaiting approval, once."""
    with _acting_on(order_id, workflow=workflow):
        return decide_as_owner(order_id, decision, orders=orders, decisions=decisions, workflow=workflow, now=now)


def deliver(order_id: str, *, orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow,
            now: datetime) -> dict[str, Any]:
    """Deliver a decision recorded earlier whose delivery to the workflow failed."""
    with _acting_on(order_id, workflow=workflow):
        return deliver_as_owner(order_id, orders=orders, decisions=decisions, workflow=workflow, now=now)


def resend(order_id: str, *, approval_url: str, topic_arn: str, signing_key: Callable[[], bytes],
           orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow, publish: Callable[..., str],
           now: datetime) -> dict[str, Any]:
    """A fresh notification with new links; the links sent before stop working.

    `signing_key` reads the key (from Secrets Manager) when called: only for what names an order,
    so that an id that names none is refused before any AWS call."""
    with _acting_on(order_id, workflow=workflow):
        return resend_approval_request(order_id, approval_url=approval_url, topic_arn=topic_arn,
                                       key=signing_key(), orders=orders, decisions=decisions,
                                       publish=publish, now=now)
