"""An order whose workflow ended without updating its record (issue 18, item 3): a DynamoDB
throttling burst outlasted MarkShipped's retries and then RecordFailure's, so the order still says
AWAITING_APPROVAL, with its task token and link id, while its execution has FAILED.

Whatever reads the order must tell from the execution that it failed: the owner's list, order page
and approvals (shop/logic/owner.py), the link pages and the owner's actions (shop/logic/approvals.py).
The dead token is never used, and the order never shows as waiting for a decision."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from shop.domain.approval import Decision, approval_links, parse_callback
from shop.domain.errors import AlreadyDecided
from shop.domain.executions import Execution, HistoryEvent
from shop.domain.orders import AWAITING_KEY
from shop.domain.status import OrderStatus, status_of
from shop.domain.workflow_contract import ExecutionStatus
from shop.error_answers import link_answer_for
from shop.logic import approvals, owner
from shop.logic.notifications import resend_approval_request
from tests.fakes import Decisions, Orders, Workflow
from tests.unit.test_owner_decisions import DEADLINE, NOW, awaiting

KEY = b"k" * 32
LINK_ID = "link-1-abcdefghijkl"
ORDER_ID = "01JDF12740C1HB5QE4DT9TWB4A"  # a ULID: the owner's tools refuse other ids
STOPPED = datetime(2026, 11, 24, 10, 5, tzinfo=UTC)  # when tests.fakes.Workflow's execution ended
ENDED = ("This order's workflow ended at 2026-11-24 10:05:00 UTC (FAILED); it takes no decision now. "
         "Nothing was changed.")
APPROVED_THEN_ENDED = ("This order was already approved at 2026-11-24 11:30:00 UTC, and its workflow ended at "
                       "2026-11-24 10:05:00 UTC (FAILED); it takes no decision now. Nothing was changed.")


@pytest.mark.parametrize(("stored", "execution", "status"), [
    # The record wins while the execution runs, or ended as the record says it did.
    ("AWAITING_APPROVAL", "RUNNING", "AWAITING_APPROVAL"),
    ("FAILED", "RUNNING", "FAILED"),  # RecordFailure done, OrderFailed next
    ("FEEDBACK_REQUESTED", "SUCCEEDED", "FEEDBACK_REQUESTED"),
    ("FAILED", "FAILED", "FAILED"),
    # The execution ended otherwise: its record could not be written, and never will be.
    ("AWAITING_APPROVAL", "FAILED", "FAILED"),
    ("SHIPPED", "FAILED", "FAILED"),
    ("RECEIVED", "FAILED", "FAILED"),
    ("AWAITING_APPROVAL", "ABORTED", "ABORTED"),
    ("SHIPPED", "TIMED_OUT", "ABORTED"),
    # No record: what the execution ended with.
    (None, "FAILED", "FAILED"),
    (None, "RUNNING", "CLOSING"),
])
def test_the_status_is_the_records_unless_its_execution_ended_otherwise(stored, execution, status):
    assert status_of(stored, ExecutionStatus(execution)) == status


def test_a_stale_record_of_a_succeeded_execution_shows_its_outcome():
    assert status_of("AWAITING_APPROVAL", ExecutionStatus.SUCCEEDED, "REJECTED") == OrderStatus.REJECTED


# -- the owner's console and CLI -------------------------------------------------------------------


class FailedWorkflow(Workflow):
    """The stuck order's execution: approved (MarkShipped entered), then failed; as the adapter
    lists, describes and reads it."""

    def __init__(self) -> None:
        super().__init__(ended=ExecutionStatus.FAILED)

    def executions(self, *, status: ExecutionStatus | None = None) -> Iterator[Execution]:
        if status in (None, ExecutionStatus.FAILED):
            yield Execution(ORDER_ID, ExecutionStatus.FAILED)

    def history(self, name: str) -> list[HistoryEvent]:
        at = STOPPED - timedelta(seconds=30)
        return [HistoryEvent(1, "ExecutionStarted", at),
                HistoryEvent(2, "TaskStateEntered", at, state="RequestApproval"),
                HistoryEvent(3, "TaskStateExited", at, state="RequestApproval"),
                HistoryEvent(4, "TaskStateEntered", at, state="MarkShipped"),
                HistoryEvent(5, "TaskFailed", at, error="DynamoDB.ProvisionedThroughputExceededException"),
                HistoryEvent(6, "TaskStateEntered", at, state="RecordFailure"),
                HistoryEvent(7, "TaskFailed", at, error="DynamoDB.ProvisionedThroughputExceededException"),
                HistoryEvent(8, "FailStateEntered", STOPPED, state="OrderFailedUnrecorded"),
                HistoryEvent(9, "ExecutionFailed", STOPPED, error="OrderFailed")]


def stuck(*, decided: bool) -> tuple[Orders, Decisions]:
    """The order as the burst left it; `decided`, approved (delivered, its bookkeeping throttled)."""
    decisions = Decisions()
    if decided:
        decisions.record(ORDER_ID, decision="approve", decided_at="2026-11-24T11:30:00Z", expires_at=0,
                         claim="the-click", claimed_until=0)
    # As the real record: still carrying the awaiting index's key, which the approval's bookkeeping
    # would have removed.
    return Orders(awaiting(orderId=ORDER_ID, approvalLinkId=LINK_ID, **{AWAITING_KEY: "AWAITING_APPROVAL"})), decisions


@pytest.mark.parametrize("decided", [False, True])
def test_the_owner_sees_the_order_failed_and_nothing_waiting(decided):
    orders, decisions = stuck(decided=decided)
    workflow = FailedWorkflow()

    detail = owner.order_detail(ORDER_ID, orders=orders, decisions=decisions, workflow=workflow)
    listed = owner.list_orders(orders=orders, workflow=workflow)
    failed = owner.list_orders(orders=orders, workflow=workflow, status="FAILED")
    pending = owner.pending_approvals(orders=orders, decisions=decisions, workflow=workflow, now=NOW)

    assert detail["status"] == "FAILED" and detail["execution"]["status"] == "FAILED"
    assert detail["awaitingApproval"] is False
    assert [order["status"] for order in listed] == ["FAILED"] and listed[0]["notified"] is False
    assert listed[0]["approvalDeadline"] is None
    assert [order["orderId"] for order in failed] == [ORDER_ID]
    assert pending == []
    if decided:  # the history shows the approval arrived: nothing to deliver
        assert detail["decision"]["delivery"] == "delivered"


# -- the links and the owner's actions -------------------------------------------------------------


def link(decision: Decision):
    url = approval_links("https://cb.example/", ORDER_ID, "the-token", key=KEY,
                         expires=int(datetime.fromisoformat(DEADLINE).timestamp()), link_id=LINK_ID)[decision]
    return parse_callback(dict(parse_qsl(urlsplit(url).query)))


def _refused(call) -> AlreadyDecided:
    with pytest.raises(AlreadyDecided) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(("decided", "message"), [(False, ENDED), (True, APPROVED_THEN_ENDED)])
@pytest.mark.parametrize("decision", [Decision.APPROVE, Decision.REJECT])
def test_both_links_say_the_workflow_ended_and_use_no_token(decided, message, decision):
    orders, decisions = stuck(decided=decided)
    workflow = Workflow(ended=ExecutionStatus.FAILED)
    before = (dict(orders.items), dict(decisions.items))
    shop = {"key": KEY, "orders": orders, "decisions": decisions, "workflow": workflow}

    opened = _refused(lambda: approvals.review(link(decision), now=NOW, **shop))
    clicked = _refused(lambda: approvals.decide(link(decision), now=NOW, **shop))
    expired = _refused(lambda: approvals.review(link(decision), now=NOW + timedelta(hours=2), **shop))

    for refused in (opened, clicked, expired):
        assert refused.message.startswith(message) and "shows the step that failed" in refused.message
        assert link_answer_for(refused).status == 409
    assert workflow.calls == []  # the dead token was not used
    assert (orders.items, decisions.items) == before


@pytest.mark.parametrize("decided", [False, True])
def test_the_owners_actions_refuse_it_and_use_no_token(decided):
    orders, decisions = stuck(decided=decided)
    workflow, published = Workflow(ended=ExecutionStatus.FAILED), []
    shop = {"orders": orders, "decisions": decisions, "workflow": workflow, "now": NOW}

    refusals = [_refused(lambda: owner.decide(ORDER_ID, Decision.CANCEL, **shop)),
                _refused(lambda: owner.resend(ORDER_ID, approval_url="https://cb.example/", topic_arn="arn:topic",
                                              signing_key=lambda: KEY, publish=published.append, **shop))]
    if decided:
        refusals.append(_refused(lambda: owner.deliver(ORDER_ID, **shop)))

    assert all(refused.message.startswith(APPROVED_THEN_ENDED if decided else ENDED) for refused in refusals)
    assert workflow.calls == [] and published == []
    assert orders.items[ORDER_ID]["approvalLinkId"] == LINK_ID


def test_a_resend_of_an_order_whose_workflow_ended_sends_nothing():
    orders, decisions = stuck(decided=False)
    published: list[dict] = []

    with pytest.raises(AlreadyDecided, match="workflow ended"):
        resend_approval_request(ORDER_ID, approval_url="https://cb.example/", topic_arn="arn:topic", key=KEY,
                                orders=orders, decisions=decisions, workflow=Workflow(ended=ExecutionStatus.ABORTED),
                                publish=lambda **message: published.append(message) or "m", now=NOW)
    assert published == []
