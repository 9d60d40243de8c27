"""What the owner's tools make of orders and executions, without AWS: statuses of live and
deleted orders, which history details are shown, and the status filter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shop.domain.errors import InvalidRequest
from shop.domain.executions import Execution, HistoryEvent
from shop.domain.orders import StoredOrder
from shop.domain.workflow_contract import ExecutionStatus
from shop.logic import owner
from tests import fakes

ORDER = {"orderId": "01JORDER", "status": "SHIPPED", "customerEmail": "ada@example.com", "customerName": "Ada",
         "total": "29.80", "currency": "EUR", "createdAt": "2026-11-24T10:00:00Z",
         "approvalTaskToken": "secret-token", "approvalLinkId": "secret-link"}


@pytest.mark.parametrize(
    ("order", "execution", "status"),
    [
        (fakes.stored(**ORDER), Execution("o", ExecutionStatus.RUNNING), "SHIPPED"),  # a live order says where it is
        (None, Execution("o", ExecutionStatus.SUCCEEDED, output={"outcome": "REJECTED"}), "REJECTED"),
        (None, Execution("o", ExecutionStatus.SUCCEEDED, output={"outcome": "CANCELLED"}), "CANCELLED"),
        (None, Execution("o", ExecutionStatus.SUCCEEDED, output={"outcome": "TIMED_OUT"}), "TIMED_OUT"),
        (None, Execution("o", ExecutionStatus.RUNNING), "CLOSING"),  # deleted, cancellation email still to come
        (None, Execution("o", ExecutionStatus.FAILED), "FAILED"),
        (None, Execution("o", ExecutionStatus.ABORTED), "ABORTED"),
        (fakes.stored(orderId="o"), Execution("o", ExecutionStatus.RUNNING), "RECEIVED"),
    ],
)
def test_status_of_live_and_deleted_orders(order, execution, status):
    assert owner._status(order and StoredOrder.from_item(order), execution) == status


def test_every_status_has_the_execution_status_its_orders_have():
    assert set(owner.EXECUTION_STATUS_OF.values()) <= {"RUNNING", "SUCCEEDED", "FAILED", "ABORTED"}
    assert owner.EXECUTION_STATUS_OF["AWAITING_APPROVAL"] == "RUNNING"
    assert owner.EXECUTION_STATUS_OF["REJECTED"] == "SUCCEEDED"


@pytest.mark.parametrize(("given", "wanted"), [(None, None), ("", None), ("shipped", "SHIPPED"),
                                               (" awaiting_approval ", "AWAITING_APPROVAL")])
def test_status_filter_is_case_insensitive(given, wanted):
    assert owner.check_status(given) == wanted


def test_an_unknown_status_filter_names_the_known_ones():
    with pytest.raises(InvalidRequest) as caught:
        owner.check_status("lost")

    assert caught.value.field == "status" and "AWAITING_APPROVAL" in caught.value.message


def test_a_shown_order_never_has_the_token_or_the_link_id():
    from shop.domain.orders import without_private_fields

    shown = without_private_fields(ORDER)

    assert "approvalTaskToken" not in shown and "approvalLinkId" not in shown
    assert shown["orderId"] == "01JORDER"


def test_a_summary_has_the_deadline_only_while_awaiting_approval():
    shown = StoredOrder.from_item(fakes.stored(**ORDER, approvalDeadline="2026-11-25T10:00:00Z")).to_public()
    awaiting = owner._summary(shown, "AWAITING_APPROVAL", Execution("o", ExecutionStatus.RUNNING), notified=True)
    shipped = owner._summary(shown, "SHIPPED", Execution("o", ExecutionStatus.RUNNING), notified=True)

    assert awaiting["approvalDeadline"] == "2026-11-25T10:00:00Z"
    assert shipped["approvalDeadline"] is None
    assert "approvalTaskToken" not in awaiting


def test_history_events_show_names_and_errors_never_inputs_or_parameters():
    moment = datetime(2026, 11, 24, 10, 0, 1, 500_000, tzinfo=UTC)

    def shown(aws_event):  # as GetExecutionHistory gives it, through the adapter's reading of it
        event = HistoryEvent.from_aws(aws_event)
        assert "secret-token" not in repr(event)  # never even kept
        return owner._event(event)

    scheduled = shown({"id": 8, "type": "TaskScheduled", "timestamp": moment,
                       "taskScheduledEventDetails": {"parameters": '{"taskToken": "secret-token"}'}})
    entered = shown({"id": 7, "type": "TaskStateEntered", "timestamp": moment,
                     "stateEnteredEventDetails": {"name": "RequestApproval", "input": "secret-token"}})
    failed = shown({"id": 9, "type": "TaskFailed", "timestamp": moment,
                    "taskFailedEventDetails": {"error": "OrderRejected", "cause": "Rejected by the shop owner"}})

    assert scheduled == {"id": 8, "type": "TaskScheduled", "timestamp": "2026-11-24T10:00:01Z"}
    assert entered["state"] == "RequestApproval" and "secret-token" not in str(entered)
    assert (failed["error"], failed["cause"]) == ("OrderRejected", "Rejected by the shop owner")


@pytest.mark.parametrize("order_id", ["", "a b", "A" * 300, "01jdf12740c1hb5qe4dt9twb3r", "01JDF12740C1HB5QE4DT9TWB3U",
                                      "€" * 26, "01JDF12740C1HB5QE4DT9TWB3R\n"])
def test_what_is_no_order_id_is_not_found_before_any_aws_call(order_id):
    from shop.domain.approval import Decision
    from shop.domain.errors import NotFound

    nothing = object()  # any AWS call would fail on it
    tables = {"orders": nothing, "decisions": nothing, "workflow": nothing}
    for call in (lambda: owner.order_detail(order_id, **tables),
                 lambda: owner.decide(order_id, Decision.APPROVE, **tables, now=datetime.now(UTC)),
                 lambda: owner.deliver(order_id, **tables, now=datetime.now(UTC)),
                 lambda: owner.resend(order_id, approval_url="", topic_arn="", signing_key=nothing, publish=nothing,
                                      **tables, now=datetime.now(UTC))):
        with pytest.raises(NotFound):
            call()


def _events(*steps: tuple[str, str | None, str | None]) -> list[HistoryEvent]:
    """(type, state, error) -> HistoryEvents as the adapter makes them, one second apart."""
    return [HistoryEvent(id=n, type=type_, timestamp=datetime(2026, 11, 24, 10, 0, n, tzinfo=UTC), state=state,
                         error=error) for n, (type_, state, error) in enumerate(steps, start=1)]


_WAITING = (("ExecutionStarted", None, None), ("TaskStateEntered", "RequestApproval", None),
            ("TaskScheduled", None, None), ("TaskStarted", None, None), ("TaskSubmitted", None, None))
_TIMED_OUT = ("TaskTimedOut", None, "States.Timeout")


class _OneExecution:
    """The workflow as order_detail reads it: one execution and its history."""

    def __init__(self, status: ExecutionStatus, events: list[HistoryEvent]):
        self.execution, self.events = Execution("01JDF12740C1HB5QE4DT9TWB3R", status), events

    def describe(self, name: str) -> Execution:
        return self.execution

    def history(self, name: str) -> list[HistoryEvent]:
        return self.events


@pytest.mark.parametrize(("status", "events"), [
    # The task timed out; the execution has not entered its TimedOut state yet.
    (ExecutionStatus.RUNNING, _events(*_WAITING, _TIMED_OUT)),
    # ... and then went down its cancellation path to the end.
    (ExecutionStatus.SUCCEEDED, _events(*_WAITING, _TIMED_OUT, ("TaskStateExited", "RequestApproval", None),
                                        ("PassStateEntered", "TimedOut", None), ("PassStateExited", "TimedOut", None),
                                        ("ExecutionSucceeded", None, None))),
])
def test_a_decision_recorded_as_delivered_is_missed_when_the_history_shows_the_task_timed_out(status, events):
    """A late answer that the emulator took (or a record written on a lost response) said "delivered"
    of an order its workflow cancelled: the history is the truth."""
    decisions = fakes.Decisions()
    decisions.items["01JDF12740C1HB5QE4DT9TWB3R"] = {"decision": "approve", "decidedAt": "2026-11-24T10:00:02Z",
                                                      "delivered": True}
    shown = owner.order_detail("01JDF12740C1HB5QE4DT9TWB3R", orders=fakes.Orders(), decisions=decisions,
                               workflow=_OneExecution(status, events))
    assert shown["decision"]["delivery"] == owner.MISSED


@pytest.mark.parametrize(("events", "timed_out"), [
    (_events(*_WAITING), False),
    (_events(*_WAITING, _TIMED_OUT), True),
    (_events(*_WAITING, ("TaskSucceeded", None, None), ("TaskStateExited", "RequestApproval", None)), False),
    (_events(*_WAITING, ("TaskFailed", None, "OrderRejected")), False),
    # A fault of the step's Lambda is retried: the retry's wait is what timed out.
    (_events(*_WAITING[:4], ("TaskFailed", None, "TransientError"), *_WAITING[2:], _TIMED_OUT), True),
    # Another state's timeout is not the approval's.
    (_events(*_WAITING, ("TaskSucceeded", None, None), ("TaskStateEntered", "MarkShipped", None), _TIMED_OUT), False),
])
def test_the_approval_task_timed_out_only_when_its_own_wait_did_before_any_answer(events, timed_out):
    from shop.domain.executions import approval_timed_out

    assert approval_timed_out(events) is timed_out
