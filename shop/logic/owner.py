"""What the shop owner sees and does, for the local console and the `shop` CLI alike.

Every order has exactly one execution, named after the order id, so the executions are the
spine of the order list: they include the orders the workflow has already deleted (rejected,
cancelled, timed out), whose details then come from the execution's input. Live orders add
their current status from the orders table.

Like the rest of shop/logic, each function takes its collaborators (tables, workflow, publish)
by keyword; the console and the CLI pass those of one deployed shop (shop/adapters/stack.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any

from shop.adapters.tables import DecisionsTable, OrdersTable
from shop.adapters.workflow import Workflow
from shop.domain.approval import Decision
from shop.domain.errors import InvalidRequest, LinkExpired, LinkRefused, NotFound
from shop.domain.executions import Execution, HistoryEvent, approval_timed_out
from shop.domain.ids import is_ulid
from shop.domain.orders import PENDING_PAGE, StoredOrder, without_private_fields
from shop.domain.status import EXECUTION_STATUS_OF, OrderStatus, status_of
from shop.domain.workflow_contract import ExecutionStatus, State
from shop.domain.workflow_graph import CURRENT, current_state, state_marks, workflow_graph
from shop.logic.approvals import TAKES_TO, decide_as_owner, deliver_as_owner, workflow_ended
from shop.logic.clock import iso, parse_iso
from shop.logic.notifications import resend_approval_request
from shop.rendering import format_utc

# In the order an order moves through them, for the console's filter and the CLI's error message.
STATUSES = tuple(EXECUTION_STATUS_OF)



def _known(order_id: str) -> None:
    # Order ids are ULIDs. Anything else names no order, and must not reach an execution ARN, which
    # AWS would refuse with a ValidationException rather than "not found".
    if not is_ulid(order_id):
        raise NotFound(f"There is no order {order_id[:64]!r}: order ids are 26 letters and digits.",
                       field="orderId")


def _time(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def _status(order: StoredOrder | None, execution: Execution | None) -> str:
    """A live order's status, unless its execution ended otherwise (its record could not be
    written: shop.domain.status.status_of), or the one a deleted order's execution ended with."""
    return status_of(order.status if order is not None else None, execution.status if execution else None,
                     execution.outcome if execution else None)


def _summary(order: Mapping[str, Any], status: str, execution: Execution, *, notified: bool) -> dict[str, Any]:
    """`order` as shown (StoredOrder.to_public, or a deleted one's from its execution's input);
    `notified`, whether its approval's notification went out."""
    awaiting = status == OrderStatus.AWAITING_APPROVAL
    return {
        "orderId": order.get("orderId") or execution.name,
        "status": status,
        "customerName": order.get("customerName", ""),
        "customerEmail": order.get("customerEmail", ""),
        "total": order.get("total", ""),
        "currency": order.get("currency", ""),
        "createdAt": order.get("createdAt") or _time(execution.start_date),
        "approvalDeadline": order.get("approvalDeadline") if awaiting else None,
        "notified": awaiting and notified,
        "execution": execution.status,
    }


def _awaiting_execution(order: StoredOrder) -> Execution:
    """What an awaiting order's record says of its execution: running, waiting for the decision."""
    return Execution(name=order.order_id, status=ExecutionStatus.RUNNING)


def _notified(order: StoredOrder | None) -> bool:
    """Its approval's notification went out: only then can it be decided (until then its links are pending)."""
    return order is not None and bool(order.approval.link_id)


def check_status(status: str | None) -> OrderStatus | None:
    if status is None or status == "":
        return None
    wanted = status.strip().upper()
    if wanted not in EXECUTION_STATUS_OF:
        raise InvalidRequest(f"unknown status {status!r}; one of {', '.join(STATUSES)}", field="status")
    return OrderStatus(wanted)


def _summaries(executions: Iterable[Execution], *, orders: OrdersTable,
               workflow: Workflow) -> Iterator[dict[str, Any]]:
    """A summary per execution, reading their orders 100 at a time (one BatchGetItem)."""
    executions = iter(executions)
    while page := list(islice(executions, 100)):
        live = orders.get_many(execution.name for execution in page)
        for execution in page:
            order = live.get(execution.name)
            snapshot: Mapping[str, Any]
            if order is None:  # deleted by its workflow: the details are in the execution's input
                execution = workflow.describe(execution.name) or execution
                snapshot = execution.order or {}
            else:
                snapshot = order.to_public()
            yield _summary(snapshot, _status(order, execution), execution, notified=_notified(order))


def list_orders(*, orders: OrdersTable, workflow: Workflow, status: str | None = None,
                limit: int | None = 50) -> list[dict[str, Any]]:
    """Orders, newest first, optionally only those in `status`; at most `limit` of them."""
    wanted = check_status(status)
    executions = workflow.executions(status=EXECUTION_STATUS_OF.get(wanted) if wanted else None)
    summaries = (s for s in _summaries(executions, orders=orders, workflow=workflow)
                 if wanted is None or s["status"] == wanted)
    return list(islice(summaries, limit))


def pending_approvals(*, orders: OrdersTable, decisions: DecisionsTable, workflow: Workflow,
                      now: datetime, limit: int = PENDING_PAGE) -> list[dict[str, Any]]:
    """The `limit` orders awaiting the owner's decision whose deadline comes first; those with a
    decision recorded and not yet delivered say which, since delivering it is what they await.
    Three calls whatever waits: one Query of the awaiting index, one BatchGetItem of the decisions,
    and one ListExecutions of the failed executions (a page per thousand of them): an order whose
    workflow failed while its record could not be written still carries the index's key, and no
    longer awaits anything."""
    awaiting = orders.awaiting(limit=limit)
    failed = {execution.name for execution in workflow.executions(status=ExecutionStatus.FAILED)} if awaiting else set()
    pending = [_summary(order.to_public(), order.status, _awaiting_execution(order), notified=_notified(order))
               for order in awaiting if order.order_id not in failed]
    decided = decisions.get_many(order["orderId"] for order in pending) if pending else {}
    for order in pending:
        deadline = order.get("approvalDeadline")
        order["secondsLeft"] = max(0, int((parse_iso(deadline) - now).total_seconds())) if deadline else None
        record = decided.get(order["orderId"])
        order["decision"] = _decision(record, _recorded_delivery(record)) if record else None
    return sorted(pending, key=lambda order: order.get("approvalDeadline") or "")


DELIVERED, NOT_YET_DELIVERED, MISSED = "delivered", "pending", "missed"


def delivery(record: dict[str, Any], marks: dict[str, str], execution_status: str, *,
             timed_out: bool = False) -> str:
    """Whether a recorded decision reached the workflow, from the execution's history (the truth)
    before the record's own bookkeeping: `delivered`; `pending`, the workflow still waiting for it
    (Deliver now delivers it); or `missed`, the workflow went on without it (its deadline passed).
    `timed_out`: the history shows the approval task timed out unanswered (`approval_timed_out`),
    which no record saying "delivered" overrides: an answer that found the task closed was not taken."""
    if TAKES_TO.get(Decision(record["decision"])) in marks:
        return DELIVERED
    if timed_out:
        return MISSED
    if record.get("delivered"):
        return DELIVERED
    if not record.get("missed") and execution_status == ExecutionStatus.RUNNING and marks.get(State.REQUEST_APPROVAL) == CURRENT:
        return NOT_YET_DELIVERED
    return MISSED


def _recorded_delivery(record: dict[str, Any]) -> str:
    """Where a decision stands by its record alone (no execution history at hand)."""
    return DELIVERED if record.get("delivered") else MISSED if record.get("missed") else NOT_YET_DELIVERED


def _decision(record: dict[str, Any], state: str) -> dict[str, Any]:
    return {"decision": record["decision"], "decidedAt": record["decidedAt"], "delivery": state}


def _event(event: HistoryEvent) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": event.id, "type": event.type, "timestamp": _time(event.timestamp)}
    shown.update({name: value for name, value in
                  (("state", event.state), ("error", event.error), ("cause", event.cause)) if value})
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
    snapshot = (order.to_public() if order else None) or (execution.order if execution else None) or {"orderId": order_id}
    status = _status(order, execution)
    execution_status = execution.status if execution else ""
    marks = state_marks(events, execution_status)
    record = decisions.get(order_id)
    decision = _decision(record, delivery(record, marks, execution_status, timed_out=approval_timed_out(events))
                         ) if record else None
    return {
        "order": without_private_fields(dict(snapshot)),
        "status": status,
        "live": order is not None,
        "decision": decision,
        # Decidable: awaiting approval, its notification sent, nothing recorded yet.
        "awaitingApproval": status == OrderStatus.AWAITING_APPROVAL and record is None
        and _notified(order),
        "execution": {
            "status": execution.status if execution else None,
            "startDate": _time(execution.start_date) if execution else None,
            "stopDate": _time(execution.stop_date) if execution else None,
            "outcome": execution.outcome if execution else None,
            "currentState": current_state(marks),
        },
        "marks": marks,
        "events": [_event(event) for event in events],
    }


def workflow_picture(*, workflow: Workflow) -> dict[str, list[dict[str, str]]]:
    """The state machine's graph, from the definition Step Functions runs."""
    return workflow_graph(workflow.definition())


def _ended(order_id: str, *, workflow: Workflow) -> LinkRefused | None:
    """Why an order the workflow deleted, with no decision on record, takes no decision: its
    deadline passed (or its workflow was stopped or failed). None if it never existed.

    A rejected or cancelled order keeps its decision's record and answers "already rejected at";
    a timed-out one has no record, so its execution's history says when the deadline passed."""
    execution = workflow.describe(order_id)
    if execution is None:
        return None
    timed_out = next((event for event in workflow.history(order_id)
                      if event.type == "TaskTimedOut" or (event.entered and event.state == State.TIMED_OUT)), None)
    if timed_out is not None:
        passed = format_utc(iso(timed_out.timestamp))
        if execution.running:
            return LinkExpired(f"This order was not decided in time: the deadline passed at {passed}, and the "
                               "order is being cancelled. Nothing was changed.")
        return LinkExpired(f"This order was not decided in time: the deadline passed at {passed}, and the "
                           "order was cancelled. Nothing was changed.")
    return workflow_ended(execution)


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
                                       workflow=workflow, publish=publish, now=now)
