"""shop/logic/approvals.py path by path: what each click, page and owner's command answers (the
exact error, status and words the owner reads), what it records, what it tells Step Functions,
and which table calls it makes, and which it does not.

The tables are the in-memory fakes (tests/fakes.py), whose `before` hook logs every call here.
Step Functions is the real adapter (shop/adapters/workflow.py) over a stub client, so that the
SendTaskSuccess/SendTaskFailure calls are seen with every argument, and a task gone is the error
code AWS answers (TaskTimedOut, InvalidToken, TaskDoesNotExist)."""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shop.adapters.workflow import Workflow
from shop.domain.approval import CallbackRequest, Decision, sign
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
from shop.error_answers import answer_for
from shop.logic import approvals
from shop.logic.notifications import resend_approval_request
from tests.fakes import Decisions, Orders, Throttled
from tests.unit.test_owner_decisions import awaiting

KEY = b"k" * 32
ORDER_ID = "01JORDER"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
DEADLINE = "2026-11-24T13:00:00Z"  # awaiting()'s approvalDeadline
EXPIRES = NOW_S + 3600  # the same deadline in epoch seconds, as the links carry it
RETENTION = 30 * 24 * 3600  # a decision record outlives the deadline by 30 days
CLAIM = 30  # seconds a delivery holds its claim
CLAIM_ID = re.compile(r"[A-Za-z0-9_-]{16}")  # secrets.token_urlsafe(12)
GETS = ["orders.get", "decisions.get"]

ALREADY_APPROVED = "This order was already approved at 2026-11-24 12:00:00 UTC. Nothing was changed."
ALREADY_REJECTED = "This order was already rejected at 2026-11-24 12:00:00 UTC. Nothing was changed."
APPROVED_TOO_LATE = ("This order was already approved at 2026-11-24 12:00:00 UTC, but that decision did not reach "
                     "the order's workflow before its deadline: the order was not confirmed in time and is "
                     "cancelled. Nothing was changed.")
REJECTED_TOO_LATE = APPROVED_TOO_LATE.replace("approved", "rejected")
APPROVED_NOT_REACHED = ("This order was already approved at 2026-11-24 12:00:00 UTC, but the decision has not "
                        "reached the order's workflow yet: open the approve link again (or use Deliver now in the "
                        "console) to deliver it. Nothing was changed.")
APPROVED_BEING_PASSED = ("This order was already approved at 2026-11-24 12:00:00 UTC; the decision is being "
                         "passed to the order's workflow just now. Nothing was changed.")
NOT_DELIVERED = ("Your decision is recorded: the order was approved at 2026-11-24 12:00:00 UTC. But the shop "
                 "could not pass it on to the order's workflow just now. Try again in a minute (open the same "
                 "link again, or use Deliver now in the console) to deliver it; nothing else can decide this "
                 "order meanwhile.")
DELIVERY_UNKNOWN = ("Your decision is recorded: the order was approved at 2026-11-24 12:00:00 UTC. The shop "
                    "passed it on to the order's workflow but could not confirm that it arrived. Try again in a "
                    "minute (open the same link again, or use Deliver now in the console) to deliver it; nothing "
                    "else can decide this order meanwhile. If it did arrive, that says so.")
APPROVED_EARLIER_OR_TOO_LATE = ("This order was already approved at 2026-11-24 12:00:00 UTC, and the order's workflow "
                                "no longer waits for a decision: either an earlier attempt delivered it, or the time "
                                "to decide ran out first. The order's status (or the console) shows which. Nothing "
                                "was changed.")
APPROVED_PAST_DEADLINE = ("This order was already approved at 2026-11-24 12:00:00 UTC, and the time to decide ran "
                          "out at 2026-11-24 13:00:00 UTC: the shop passes no decision on to the order's workflow "
                          "after it. Unless an earlier attempt delivered it, the order was not confirmed in time and "
                          "is cancelled; the order's status (or the console) shows which. Nothing was changed.")
APPROVED_AND_ARRIVED = ("This order was already approved at 2026-11-24 12:00:00 UTC, and the decision has reached "
                        "the order's workflow: this click or an earlier one delivered it.")
DECISION_UNCONFIRMED = ("The shop could not confirm that your decision was recorded: it may have been. Open the "
                        "same link again in a minute (or see the order in the console): it then shows the "
                        "decision, or lets you make it.")
CLOSED = "This order is closed: it was rejected, cancelled or not confirmed in time."
NOT_SENT_YET = ("The owner's notification for this order is still being sent; it can be decided in a moment. "
                "Nothing was changed.")
STALE_LINK = "This link is not the latest one sent for this order. Use the newest email."
STILL_RECEIVED = "This order is still being received; the owner is asked in a moment. Nothing was changed."
TIME_RAN_OUT = "The time to decide on this order ran out; it is being cancelled."

APPROVE_CALL = ("SendTaskSuccess", "the-token", {"decision": "approve", "decidedAt": "2026-11-24T12:00:00Z"})
REJECT_CALL = ("SendTaskFailure", "the-token", "OrderRejected", "Rejected by the shop owner")
CANCEL_CALL = ("SendTaskFailure", "the-token", "OrderCancelled", "Cancelled by the shop owner")


class AwsError(Exception):
    """A botocore ClientError as the adapter reads it: its error code, and its HTTP status, which
    tells a refusal (4xx: Step Functions certainly did not take the answer) from a fault whose
    outcome is unknown (5xx: it may have)."""

    def __init__(self, code: str, status: int = 400, *, retries: int = 0):
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code},
                         "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": retries}}


class StepFunctions:
    """A stub Step Functions client for one approval task: logs each answer with all its arguments,
    or raises `error`; after one answer it refuses any other, as AWS does. `seen` is the decision
    record as it stood when Step Functions was told. Its execution's history has RequestApproval
    entered, then the state the answer it took leads to, then the states in `history`; `status` is
    the execution's (None: there is none)."""

    def __init__(self, world: World):
        self.world, self.calls, self.error, self.seen = world, [], None, None
        self.history: list[str] = []
        self.status: str | None = "RUNNING"
        self.lost = False
        self.status_on_answer: str | None = None
        self.ended: tuple[str, datetime] | None = None  # the execution's status and stop date, once it ended

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        """A read, not logged (the links' and the console's check that the workflow still runs makes
        one on every open): the protocol's writes, and the history it reads after TaskGone, are
        what the log follows."""
        assert executionArn.endswith(f":execution:shop:{ORDER_ID}")
        if self.status is None:
            raise AwsError("ExecutionDoesNotExist")
        if self.ended is not None:
            return {"status": self.ended[0], "startDate": NOW, "stopDate": self.ended[1]}
        return {"status": self.status, "startDate": NOW}

    def get_execution_history(self, *, executionArn: str, maxResults: int) -> dict[str, Any]:
        self.world.log.append("GetExecutionHistory")
        reached = {"SendTaskSuccess": "MarkShipped", "OrderRejected": "Rejected", "OrderCancelled": "Cancelled"}
        states = ["RequestApproval", *(reached[call[0] if call[0] == "SendTaskSuccess" else call[2]]
                                       for call in self.calls), *self.history]
        return {"events": [{"id": i, "type": "TaskStateEntered", "timestamp": NOW,
                            "stateEnteredEventDetails": {"name": name}} for i, name in enumerate(states, 1)]}

    def send_task_success(self, *, taskToken: str, output: str) -> None:
        self._call("SendTaskSuccess", taskToken, json.loads(output))

    def send_task_failure(self, *, taskToken: str, error: str, cause: str) -> None:
        self._call("SendTaskFailure", taskToken, error, cause)

    def _call(self, *call: Any) -> None:
        self.world.log.append(call[0])
        self.seen = copy.deepcopy(self.world.decisions.items.get(ORDER_ID))
        if self.status_on_answer is not None:  # the execution ended as the answer was sent
            self.status = self.status_on_answer
        if self.error is not None:
            raise self.error
        if self.calls:  # a task takes one answer; AWS refuses any after it
            raise AwsError("TaskTimedOut")
        self.calls.append(call)
        if self.lost:  # the answer arrived, its response did not; the SDK's retry then hears:
            raise AwsError("TaskTimedOut", retries=1)


class World:
    """One order (or none), its decision record (or none), Step Functions, and the log of calls.
    An operation named in `failing` raises Throttled, after being logged."""

    def __init__(self, order: dict[str, Any] | None = None, record: dict[str, Any] | None = None):
        self.log: list[str] = []
        self.failing: set[str] = set()
        self.orders = Orders(*([order] if order else []), before=self._before)
        self.decisions = Decisions(before=self._before)
        if record is not None:
            self.decisions.items[ORDER_ID] = {"orderId": ORDER_ID, "decision": "approve",
                                              "decidedAt": "2026-11-24T12:00:00Z", "delivered": False,
                                              "expiresAt": EXPIRES + RETENTION, **record}
        self.sfn = StepFunctions(self)
        self.workflow = Workflow("arn:aws:states:eu-west-1:123456789012:stateMachine:shop", stepfunctions=self.sfn)

    def _before(self, operation: str) -> None:
        self.log.append(operation)
        if operation in self.failing:
            raise Throttled(operation)

    def record(self) -> dict[str, Any] | None:
        return self.decisions.items.get(ORDER_ID)

    def order(self) -> dict[str, Any] | None:
        return self.orders.items.get(ORDER_ID)

    # -- the four ways in -------------------------------------------------------------------------
    def review(self, decision: Decision = Decision.APPROVE, now: datetime = NOW, **link_args: Any):
        return approvals.review(link(decision, **link_args), key=KEY, orders=self.orders, decisions=self.decisions,
                                workflow=self.workflow, now=now)

    def click(self, decision: Decision = Decision.APPROVE, now: datetime = NOW, **link_args: Any):
        return approvals.decide(link(decision, **link_args), key=KEY, orders=self.orders, decisions=self.decisions,
                                workflow=self.workflow, now=now)

    def owner_decides(self, decision: Decision = Decision.APPROVE, now: datetime = NOW):
        return approvals.decide_as_owner(ORDER_ID, decision, orders=self.orders, decisions=self.decisions,
                                         workflow=self.workflow, now=now)

    def deliver_now(self, now: datetime = NOW):
        return approvals.deliver_as_owner(ORDER_ID, orders=self.orders, decisions=self.decisions,
                                          workflow=self.workflow, now=now)


def link(decision: Decision = Decision.APPROVE, *, token: str = "the-token", link_id: str = "link-1",
         key: bytes = KEY) -> CallbackRequest:
    signature = sign(key, order_id=ORDER_ID, decision=decision, task_token=token, expires=EXPIRES, link_id=link_id)
    return CallbackRequest(order_id=ORDER_ID, task_token=token, decision=decision, expires=EXPIRES,
                           link_id=link_id, signature=signature)


def refused(call, kind: type[LinkRefused], status: int, message: str) -> LinkRefused:
    """`call` is refused with exactly this error type, HTTP status and message."""
    with pytest.raises(LinkRefused) as caught:
        call()
    assert type(caught.value) is kind
    assert (answer_for(caught.value).status, caught.value.message) == (status, message)
    return caught.value


def public(order: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """An order as an answer shows it: without its task token and link ids."""
    hidden = {"approvalTaskToken", "approvalLinkId", "pendingLinkId"}
    return {key: value for key, value in order.items() if key not in hidden} | changes


def at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


# -- the confirmation page (GET): review --------------------------------------------------------------


def test_the_page_shows_the_order_its_decision_and_deadline_and_changes_nothing():
    world = World(awaiting())

    page = world.review(Decision.REJECT)

    # The page is given the order as shown: never its task token or link ids.
    assert page == approvals.Review(order=public(awaiting()), decision=Decision.REJECT, deadline=DEADLINE,
                                    recorded=None)
    assert world.log == GETS
    assert world.order() == awaiting() and world.record() is None and world.sfn.calls == []


def test_the_page_of_a_decision_recorded_not_delivered_offers_to_deliver_that_same_decision():
    world = World(awaiting(), record={})

    page = world.review(Decision.APPROVE)

    assert page.recorded == world.record() and page.recorded["decision"] == "approve"
    assert (page.decision, page.deadline, page.order) == (Decision.APPROVE, DEADLINE, public(awaiting()))
    assert world.log == GETS


@pytest.mark.parametrize("way", ["review", "click"])
def test_a_link_not_signed_by_the_shop_is_refused_before_any_table_call_one_past_its_deadline_only_reads(way):
    """An expired link the shop signed is told what became of the order (test_approval_after_deadline.py),
    which only the tables know: it reads them and writes nothing."""
    world = World(awaiting())
    use = getattr(world, way)

    refused(lambda: use(key=b"another key"), LinkForged, 403,
            "This link was not issued by the shop, or was changed. Use the link from the email.")
    assert world.log == []
    refused(lambda: use(now=datetime.fromtimestamp(EXPIRES, UTC)), LinkExpired, 410, TIME_RAN_OUT)
    assert world.log == GETS  # the order still awaits its timeout: it is being cancelled
    use(now=datetime.fromtimestamp(EXPIRES - 1, UTC))  # a second before its deadline it still works

    assert world.log[:4] == GETS + GETS


@pytest.mark.parametrize(("record", "decision", "kind", "status", "message"), [
    ({}, Decision.REJECT, AlreadyDecided, 409, APPROVED_NOT_REACHED),  # the other decision
    ({"claimedUntil": NOW_S + 1}, Decision.REJECT, AlreadyDecided, 409, APPROVED_BEING_PASSED),
    ({"claimedUntil": NOW_S}, Decision.REJECT, AlreadyDecided, 409, APPROVED_NOT_REACHED),  # the claim lapsed
    ({"delivered": True}, Decision.APPROVE, AlreadyDecided, 409, ALREADY_APPROVED),
    ({"delivered": True}, Decision.REJECT, AlreadyDecided, 409, ALREADY_APPROVED),
    ({"missed": True}, Decision.APPROVE, LinkExpired, 410, APPROVED_TOO_LATE),
    ({"decision": "reject", "missed": True}, Decision.REJECT, LinkExpired, 410, REJECTED_TOO_LATE),
])
def test_the_page_of_a_decided_order_says_which_decision_when_and_where_it_stands(record, decision, kind, status,
                                                                                   message):
    world = World(awaiting(), record=record)
    before = copy.deepcopy(world.record())

    refused(lambda: world.review(decision), kind, status, message)
    assert world.log == GETS and world.record() == before


def test_the_page_of_a_decision_the_workflow_already_acted_on_says_nothing_is_left_to_deliver():
    world = World(awaiting(status="APPROVED"), record={})  # moved on, though the record is not marked

    refused(lambda: world.review(Decision.APPROVE), AlreadyDecided, 409, ALREADY_APPROVED)


@pytest.mark.parametrize(("status", "kind", "message"), [
    ("RECEIVED", NotReady, STILL_RECEIVED),
    ("SHIPPED", AlreadyDecided, "This order is SHIPPED and takes no decision now. Nothing was changed."),
])
@pytest.mark.parametrize("way", ["review", "click"])
def test_a_link_to_an_order_not_awaiting_approval_is_refused_and_records_nothing(way, status, kind, message):
    world = World(awaiting(status=status))

    refused(getattr(world, way), kind, 409, message)
    assert world.log == GETS and world.record() is None and world.sfn.calls == []


# -- refusals before anything is decided: deleted orders, stale links ------------------------------------


@pytest.mark.parametrize("way", ["review", "click"])
def test_a_link_to_a_deleted_order_with_no_decision_says_the_order_is_closed(way):
    world = World()

    refused(getattr(world, way), LinkExpired, 410, CLOSED)
    assert world.log == GETS


@pytest.mark.parametrize(("record", "kind", "status", "message"), [
    ({"delivered": True}, AlreadyDecided, 409, ALREADY_APPROVED),
    ({"decision": "reject", "delivered": True}, AlreadyDecided, 409, ALREADY_REJECTED),
    # deleted, so rejected or cancelled: by this rejection, delivered or not ...
    ({"decision": "reject"}, AlreadyDecided, 409, ALREADY_REJECTED),
    # ... or by its deadline, which an approval not delivered by then never reached
    ({}, LinkExpired, 410, APPROVED_TOO_LATE),
    ({"missed": True, "delivered": True}, LinkExpired, 410, APPROVED_TOO_LATE),
])
@pytest.mark.parametrize("way", ["review", "click"])
def test_a_link_to_a_deleted_order_says_what_was_decided(way, record, kind, status, message):
    world = World(record=record)

    refused(getattr(world, way), kind, status, message)
    assert world.log == GETS


@pytest.mark.parametrize("order", [awaiting(approvalLinkId="link-2"), awaiting(approvalTaskToken="other-token")],
                         ids=["resent", "another task"])
@pytest.mark.parametrize("way", ["review", "click"])
def test_a_link_that_is_not_the_newest_one_is_refused_as_forged(way, order):
    world = World(order)

    refused(getattr(world, way), LinkForged, 403, STALE_LINK)
    assert world.log == GETS and world.record() is None and world.sfn.calls == []


@pytest.mark.parametrize("way", ["review", "click"])
def test_a_link_to_an_order_that_holds_no_task_token_is_refused_as_forged(way):
    failed = awaiting(status="FAILED")  # RequestApproval kept failing; the links of a try before stay out
    for name in ("approvalTaskToken", "approvalLinkId"):
        del failed[name]
    world = World(failed)

    refused(getattr(world, way), LinkForged, 403, STALE_LINK)
    assert world.log == GETS and world.record() is None and world.sfn.calls == []


@pytest.mark.parametrize("way", ["review", "click"])
def test_a_link_opened_before_its_sending_was_confirmed_is_not_yet_usable(way):
    order = awaiting(pendingLinkId="link-1")
    del order["approvalLinkId"]
    world = World(order)

    refused(getattr(world, way), NotReady, 409, NOT_SENT_YET)
    refused(lambda: getattr(world, way)(link_id="link-0"), LinkForged, 403, STALE_LINK)
    assert world.record() is None and world.sfn.calls == []


def test_once_decided_an_old_link_hears_the_decision_rather_than_that_it_is_stale():
    world = World(awaiting(approvalLinkId="link-2"), record={"delivered": True})

    refused(world.click, AlreadyDecided, 409, ALREADY_APPROVED)
    assert world.log == GETS


# -- a click (POST): recorded now and delivered ---------------------------------------------------------


@pytest.mark.parametrize(("decision", "call", "status"), [
    (Decision.APPROVE, APPROVE_CALL, "APPROVED"),
    (Decision.REJECT, REJECT_CALL, "REJECTED"),
])
def test_a_click_records_the_decision_then_tells_step_functions_and_answers_the_order_as_decided(
        decision, call, status):
    world = World(awaiting())

    done = world.click(decision)

    assert done == public(awaiting(), status=status, decision=decision.value, decidedAt="2026-11-24T12:00:00Z")
    assert world.sfn.calls == [call]
    assert world.log == [*GETS, "decisions.record", call[0], "decisions.mark_delivered", "orders.set_decided"]
    # Recorded before Step Functions was told, claimed for 30 s, kept 30 days past the deadline:
    claimed = world.sfn.seen
    assert CLAIM_ID.fullmatch(claimed.pop("deliveryClaim"))
    assert claimed == {"orderId": ORDER_ID, "decision": decision.value, "decidedAt": "2026-11-24T12:00:00Z",
                       "delivered": False, "expiresAt": EXPIRES + RETENTION, "claimedUntil": NOW_S + CLAIM}
    assert world.record() == {"orderId": ORDER_ID, "decision": decision.value, "decidedAt": "2026-11-24T12:00:00Z",
                              "delivered": True, "expiresAt": EXPIRES + RETENTION}
    assert world.order() == public(awaiting(), status=status, decidedAt="2026-11-24T12:00:00Z")


def test_each_delivery_claims_with_a_fresh_id():
    claims = set()
    for _ in range(3):
        world = World(awaiting())
        world.click()
        claims.add(world.sfn.seen["deliveryClaim"])

    assert len(claims) == 3 and all(CLAIM_ID.fullmatch(claim) for claim in claims)


@pytest.mark.parametrize("again", [Decision.APPROVE, Decision.REJECT])
def test_a_second_click_is_refused_saying_which_decision_and_when_and_tells_step_functions_nothing(again):
    world = World(awaiting())
    world.click(Decision.APPROVE)
    world.log.clear()

    refused(lambda: world.click(again), AlreadyDecided, 409, ALREADY_APPROVED)
    assert world.log == GETS and world.sfn.calls == [APPROVE_CALL]


def test_a_click_that_loses_the_race_to_record_hears_the_decision_that_won():
    world = World(awaiting())

    def the_other_click_records_first(operation):
        world.log.append(operation)
        if operation == "decisions.record" and ORDER_ID not in world.decisions.items:
            world.decisions.items[ORDER_ID] = {"orderId": ORDER_ID, "decision": "reject", "delivered": False,
                                               "decidedAt": "2026-11-24T11:59:59Z", "claimedUntil": NOW_S + 29}

    world.orders.before = world.decisions.before = the_other_click_records_first

    answer = refused(world.click, AlreadyDecided, 409,
                     "This order was already rejected at 2026-11-24 11:59:59 UTC; the decision is being passed to "
                     "the order's workflow just now. Nothing was changed.")
    assert answer.__cause__ is None and answer.__suppress_context__
    assert world.log == [*GETS, "decisions.record", "decisions.get"] and world.sfn.calls == []


def test_a_click_that_loses_the_race_and_cannot_read_the_winner_is_still_refused():
    world = World(awaiting())

    def the_other_click_records_first(operation):
        world.log.append(operation)
        if operation == "decisions.record":
            world.decisions.items[ORDER_ID] = {"decision": "reject", "decidedAt": "2026-11-24T11:59:59Z"}
            world.failing.add("decisions.get")

    world.decisions.before = the_other_click_records_first

    with pytest.raises(AlreadyDecided) as caught:
        world.click()
    assert answer_for(caught.value).status == 409 and caught.value.message.endswith("Nothing was changed.")
    assert world.sfn.calls == [] and world.record() == {"decision": "reject", "decidedAt": "2026-11-24T11:59:59Z"}


# -- recorded, not delivered: the answer, and the redelivery -------------------------------------------


def test_a_click_whose_delivery_fails_says_the_decision_is_recorded_and_gives_its_claim_back():
    world = World(awaiting())
    world.sfn.error = fault = AwsError("ThrottlingException")

    answer = refused(world.click, NotDelivered, 503, NOT_DELIVERED)

    assert answer.__cause__.__cause__ is fault and answer_for(answer).retry_after == 10
    assert world.log == [*GETS, "decisions.record", "SendTaskSuccess", "decisions.release"]
    assert world.record() == {"orderId": ORDER_ID, "decision": "approve", "decidedAt": "2026-11-24T12:00:00Z",
                              "delivered": False, "expiresAt": EXPIRES + RETENTION}
    assert world.order() == awaiting()  # the order waits for the decision still


def test_a_refused_delivery_whose_claim_cannot_be_given_back_answers_the_same():
    world = World(awaiting())
    world.sfn.error = AwsError("ThrottlingException")
    world.failing.add("decisions.release")

    refused(world.click, NotDelivered, 503, NOT_DELIVERED)
    assert world.log[-1] == "decisions.release" and world.record()["claimedUntil"] == NOW_S + CLAIM


@pytest.mark.parametrize("fault", [AwsError("ServiceUnavailable", 503), AwsError("InternalFailure", 500),
                                   TimeoutError("read timed out")], ids=["503", "500", "timeout"])
def test_a_delivery_whose_outcome_is_unknown_says_so_and_leaves_its_claim_to_lapse(fault):
    world = World(awaiting())
    world.sfn.error = fault

    answer = refused(world.click, DeliveryUnknown, 503, DELIVERY_UNKNOWN)

    assert answer.__cause__ is fault and answer_for(answer).retry_after == 10
    assert world.log == [*GETS, "decisions.record", "SendTaskSuccess"]  # no release: it may have arrived
    assert CLAIM_ID.fullmatch(world.record()["deliveryClaim"])
    assert world.record()["claimedUntil"] == NOW_S + CLAIM and world.record()["delivered"] is False
    refused(world.click, AlreadyDecided, 409, APPROVED_BEING_PASSED)  # until the claim lapses


def test_after_an_unknown_outcome_the_next_click_delivers_if_the_task_still_waits():
    world = World(awaiting())
    world.sfn.error = AwsError("ServiceUnavailable", 503)
    refused(world.click, DeliveryUnknown, 503, DELIVERY_UNKNOWN)
    world.sfn.error = None
    world.log.clear()

    done = world.click(now=at(CLAIM))

    assert done["status"] == "APPROVED" and world.sfn.calls == [APPROVE_CALL]
    assert world.log == [*GETS, "decisions.claim", "SendTaskSuccess", "decisions.mark_delivered",
                         "orders.set_decided"]
    assert world.record()["delivered"] is True and "deliveryClaim" not in world.record()


def test_the_next_click_on_the_same_link_delivers_the_recorded_decision_as_recorded():
    world = World(awaiting())
    world.sfn.error = AwsError("ThrottlingException")
    refused(world.click, NotDelivered, 503, NOT_DELIVERED)
    world.sfn.error, later = None, at(5)
    world.log.clear()

    done = world.click(now=later)

    assert done == public(awaiting(), status="APPROVED", decision="approve", decidedAt="2026-11-24T12:00:00Z")
    assert world.sfn.calls == [APPROVE_CALL]  # decided at the first click, not the second
    assert world.log == [*GETS, "decisions.claim", "SendTaskSuccess", "decisions.mark_delivered",
                         "orders.set_decided"]
    claimed = world.sfn.seen
    assert CLAIM_ID.fullmatch(claimed["deliveryClaim"]) and claimed["claimedUntil"] == NOW_S + 5 + CLAIM
    assert world.record()["delivered"] is True
    assert world.order() == public(awaiting(), status="APPROVED", decidedAt="2026-11-24T12:00:00Z")


def test_a_click_on_a_decision_the_workflow_already_acted_on_says_nothing_is_left_to_deliver():
    world = World(awaiting(status="APPROVED"), record={})  # delivered; its bookkeeping was lost

    refused(world.click, AlreadyDecided, 409, ALREADY_APPROVED)
    assert world.log == GETS and world.sfn.calls == []


def test_the_other_link_while_a_decision_is_being_delivered_says_it_is_on_its_way():
    world = World(awaiting(), record={"claimedUntil": NOW_S + 1})

    refused(lambda: world.click(Decision.REJECT), AlreadyDecided, 409, APPROVED_BEING_PASSED)
    assert world.log == GETS and world.sfn.calls == []


def test_the_other_link_of_a_recorded_decision_is_refused_and_delivers_nothing():
    world = World(awaiting(), record={})

    refused(lambda: world.click(Decision.REJECT), AlreadyDecided, 409, APPROVED_NOT_REACHED)
    assert world.log == GETS and world.sfn.calls == []


def test_while_another_click_delivers_a_recorded_decision_the_answer_says_so_and_delivers_nothing():
    world = World(awaiting(), record={"deliveryClaim": "theirs", "claimedUntil": NOW_S + CLAIM})

    refused(world.click, AlreadyDecided, 409, APPROVED_BEING_PASSED)
    assert world.log == [*GETS, "decisions.claim", "decisions.get"] and world.sfn.calls == []

    world.click(now=at(CLAIM))  # the claim lapses with its request
    assert world.sfn.calls == [APPROVE_CALL]


def test_a_click_whose_claim_another_click_took_first_answers_from_the_record_as_it_is_now():
    world = World(awaiting(), record={})  # read with no claim on it ...

    def the_other_click_claims_first(operation):
        world.log.append(operation)
        if operation == "decisions.claim":
            world.record().update(deliveryClaim="theirs", claimedUntil=NOW_S + CLAIM)

    world.decisions.before = the_other_click_claims_first

    refused(world.click, AlreadyDecided, 409, APPROVED_BEING_PASSED)  # ... read again: being delivered
    assert world.log == [*GETS, "decisions.claim", "decisions.get"] and world.sfn.calls == []


def test_a_claim_refused_when_the_record_cannot_be_read_again_answers_from_the_record_read_before():
    world = World(awaiting(), record={"claimedUntil": NOW_S + 10})
    reads = []

    def second_read_fails(operation):
        world.log.append(operation)
        if operation == "decisions.get":
            reads.append(operation)
            if len(reads) == 2:
                raise Throttled(operation)

    world.decisions.before = second_read_fails

    refused(world.click, AlreadyDecided, 409, APPROVED_BEING_PASSED)
    assert world.log == [*GETS, "decisions.claim", "decisions.get"] and world.sfn.calls == []


def test_a_fault_while_claiming_says_the_decision_is_recorded_not_delivered():
    world = World(awaiting(), record={})
    world.failing.add("decisions.claim")

    answer = refused(world.click, NotDelivered, 503, NOT_DELIVERED)
    assert isinstance(answer.__cause__, Throttled)
    # The claim may have been taken all the same: the record shows it was not.
    assert world.log == [*GETS, "decisions.claim", "decisions.get"] and world.sfn.calls == []


# -- a write whose response was lost (issue 18, item 2) ----------------------------------------------------

class LostResponse(Exception):
    """What botocore raises when the call's response was lost: a 500, its outcome unknown."""

    def __init__(self) -> None:
        super().__init__("InternalServerError")
        self.response = {"Error": {"Code": "InternalServerError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}


def lost(operation: str, *, retried: bool, landed: bool = True):
    """The fakes' SDK seam: `operation` takes effect (unless not `landed`) and its response is lost;
    then the SDK's retry makes it again and answers that, or (not `retried`) the caller gets the 500."""
    def sdk(called: str, effect):
        if called != operation:
            return effect()
        if landed:
            effect()
        if retried:
            return effect()
        raise LostResponse()
    return sdk


@pytest.mark.parametrize("retried", [True, False], ids=["the SDK retried", "AWS_MAX_ATTEMPTS=1"])
def test_a_put_whose_response_was_lost_is_this_clicks_own_and_it_delivers(retried):
    world = World(awaiting())
    world.decisions.sdk = lost("decisions.record", retried=retried)

    done = world.click()

    assert done == public(awaiting(), status="APPROVED", decision="approve", decidedAt="2026-11-24T12:00:00Z")
    assert world.log == [*GETS, "decisions.record", "decisions.get", "SendTaskSuccess", "decisions.mark_delivered",
                         "orders.set_decided"]
    assert world.sfn.calls == [APPROVE_CALL] and world.record()["delivered"] is True


def test_a_put_whose_outcome_is_unknown_and_not_found_never_says_nothing_changed():
    world = World(awaiting())
    world.decisions.sdk = lost("decisions.record", retried=False, landed=False)

    answer = refused(world.click, DecisionUnconfirmed, 503, DECISION_UNCONFIRMED)

    assert isinstance(answer.__cause__, LostResponse) and world.sfn.calls == []
    assert answer_for(answer).retry_after == 10
    assert world.log == [*GETS, "decisions.record", "decisions.get"]


def test_a_put_whose_outcome_is_unknown_finding_anothers_decision_answers_with_it():
    world = World(awaiting())

    def sdk(called, effect):
        if called == "decisions.record":
            world.decisions.items[ORDER_ID] = {"orderId": ORDER_ID, "decision": "reject", "delivered": True,
                                               "decidedAt": "2026-11-24T12:00:00Z"}
            raise LostResponse()
        return effect()
    world.decisions.sdk = sdk

    refused(world.click, AlreadyDecided, 409, ALREADY_REJECTED)
    assert world.sfn.calls == []


@pytest.mark.parametrize("retried", [True, False], ids=["the SDK retried", "AWS_MAX_ATTEMPTS=1"])
def test_a_claim_whose_response_was_lost_is_this_clicks_own_and_it_delivers(retried):
    world = World(awaiting(), record={})
    world.decisions.sdk = lost("decisions.claim", retried=retried)

    done = world.click()

    assert done["status"] == "APPROVED" and world.sfn.calls == [APPROVE_CALL]
    assert world.log == [*GETS, "decisions.claim", "decisions.get", "SendTaskSuccess", "decisions.mark_delivered",
                         "orders.set_decided"]


def test_a_claim_taken_on_a_retry_took_over_one_it_never_saw_so_a_task_gone_is_not_called_missed_unseen():
    # The first attempt's answer (the lapsed claim it took over) was lost: an earlier delivery
    # may have arrived, and only the history tells; here it cannot tell yet.
    world = World(awaiting(), record={"deliveryClaim": "earlier", "claimedUntil": NOW_S})
    world.decisions.sdk = lost("decisions.claim", retried=True)
    world.sfn.error = AwsError("TaskTimedOut")

    refused(world.click, AlreadyDecided, 409, APPROVED_EARLIER_OR_TOO_LATE)
    assert "missed" not in world.record() and world.record()["claimedUntil"] == 0


# -- the task gone: the execution's history says why (issue 18, item 1) -------------------------------------

TASK_GONE = ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"]
HISTORY = ["GetExecutionHistory"]  # with a DescribeExecution, a read the log leaves out


@pytest.mark.parametrize("code", TASK_GONE)
@pytest.mark.parametrize(("decision", "message"), [(Decision.APPROVE, APPROVED_TOO_LATE),
                                                   (Decision.REJECT, REJECTED_TOO_LATE)])
def test_a_decision_for_a_task_whose_history_shows_its_timeout_is_marked_missed(code, decision, message):
    world = World(awaiting())
    world.sfn.error, world.sfn.history = AwsError(code), ["TimedOut"]

    answer = refused(lambda: world.click(decision), LinkExpired, 410, message)

    assert answer.__cause__ is None and answer.__suppress_context__
    told = "SendTaskSuccess" if decision is Decision.APPROVE else "SendTaskFailure"
    assert world.log == [*GETS, "decisions.record", told, *HISTORY, "decisions.mark_missed"]
    assert world.record() == {"orderId": ORDER_ID, "decision": decision.value, "decidedAt": "2026-11-24T12:00:00Z",
                              "delivered": False, "expiresAt": EXPIRES + RETENTION, "missed": True}
    assert world.order() == awaiting()  # the workflow, cancelling it, changes the order; not this click
    world.sfn.error = None
    refused(lambda: world.click(decision), LinkExpired, 410, message)  # and every later answer says so


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"])
def test_a_decision_for_an_execution_that_ended_without_it_is_marked_missed(status):
    # The execution ends while the click delivers (opened while it still ran: an order whose
    # execution had already ended is refused on opening, test_workflow_ended).
    world = World(awaiting(), record={})
    world.sfn.error, world.sfn.status_on_answer = AwsError("TaskTimedOut"), status

    refused(world.click, LinkExpired, 410, APPROVED_TOO_LATE)

    assert world.log == [*GETS, "decisions.claim", "SendTaskSuccess", *HISTORY, "decisions.mark_missed"]
    assert world.record()["missed"] is True and world.record()["delivered"] is False


@pytest.mark.parametrize("status", ["RUNNING", None], ids=["still waiting (a dead token)", "no execution"])
@pytest.mark.parametrize("record", [None, {}, {"deliveryClaim": "earlier", "claimedUntil": NOW_S}],
                         ids=["recorded now", "earlier deliveries refused", "an earlier delivery's outcome unknown"])
def test_a_task_gone_that_the_history_does_not_explain_is_not_confirmed_and_never_called_missed(status, record):
    world = World(awaiting(), record=record)
    world.sfn.error, world.sfn.status = AwsError("InvalidToken"), status

    refused(world.click, AlreadyDecided, 409, APPROVED_EARLIER_OR_TOO_LATE)

    told = "decisions.record" if record is None else "decisions.claim"
    assert world.log == [*GETS, told, "SendTaskSuccess", *(HISTORY if status else []), "decisions.release"]
    stored = world.record()
    assert "missed" not in stored and stored["delivered"] is False
    # The doubt stays with the record: the claim is ours, lapsed at once, so the next delivery
    # knows an earlier one may have arrived.
    assert CLAIM_ID.fullmatch(stored["deliveryClaim"]) and stored["claimedUntil"] == 0
    refused(world.click, AlreadyDecided, 409, APPROVED_EARLIER_OR_TOO_LATE)
    assert "missed" not in world.record()


def test_a_delivery_whose_response_was_lost_and_whose_retry_finds_the_task_answered_is_done():
    # Issue 18, item 1: botocore retried the lost 500; the retry got TaskTimedOut, as the task had
    # taken the first attempt's answer. That is this click's delivery, not a missed decision.
    world = World(awaiting())
    world.sfn.lost = True

    done = world.click()

    assert done == public(awaiting(), status="APPROVED", decision="approve", decidedAt="2026-11-24T12:00:00Z")
    assert world.log == [*GETS, "decisions.record", "SendTaskSuccess", *HISTORY, "decisions.mark_delivered",
                         "orders.set_decided"]
    assert world.record()["delivered"] is True and "missed" not in world.record()
    assert world.order()["status"] == "APPROVED"


def test_a_retried_delivery_after_one_of_unknown_outcome_says_the_decision_arrived_not_that_nothing_changed():
    world = World(awaiting(), record={"deliveryClaim": "earlier", "claimedUntil": NOW_S})
    world.sfn.lost = True

    refused(world.click, AlreadyDecided, 409, APPROVED_AND_ARRIVED)

    assert world.record()["delivered"] is True and world.order()["status"] == "APPROVED"


@pytest.mark.parametrize("record", [{}, {"deliveryClaim": "earlier", "claimedUntil": NOW_S}])
def test_a_late_click_finding_its_decision_delivered_by_another_marks_it_delivered_never_missed(record):
    # A slow first click's answer lands after a second click delivered: TaskTimedOut at its one
    # attempt. The history shows the decision arrived.
    world = World(awaiting(), record=record)
    world.sfn.calls.append(APPROVE_CALL)

    refused(world.click, AlreadyDecided, 409, ALREADY_APPROVED)

    assert world.log == [*GETS, "decisions.claim", "SendTaskSuccess", *HISTORY, "decisions.mark_delivered",
                         "orders.set_decided"]
    assert world.record()["delivered"] is True and "missed" not in world.record()


def test_a_refusal_of_the_sdks_retry_of_an_answer_is_not_a_certain_refusal():
    # The first attempt's response may have been lost: a throttle on the retry says nothing of it.
    world = World(awaiting())
    world.sfn.error = AwsError("ThrottlingException", 400, retries=2)

    refused(world.click, DeliveryUnknown, 503, DELIVERY_UNKNOWN)

    assert world.log == [*GETS, "decisions.record", "SendTaskSuccess"]  # the claim is left to lapse
    assert world.record()["claimedUntil"] == NOW_S + CLAIM


@pytest.mark.parametrize("seconds", [-60, -1])  # from the deadline on, no delivery is tried at all (below)
@pytest.mark.parametrize(("record", "history", "kind", "status", "message", "last"), [
    ({}, ["TimedOut"], LinkExpired, 410, APPROVED_TOO_LATE, "decisions.mark_missed"),
    ({"deliveryClaim": "earlier", "claimedUntil": NOW_S}, ["TimedOut"], LinkExpired, 410, APPROVED_TOO_LATE,
     "decisions.mark_missed"),
    ({}, [], AlreadyDecided, 409, APPROVED_EARLIER_OR_TOO_LATE, "decisions.release"),
], ids=["timed out", "timed out after an unknown outcome", "not explained"])
def test_deliver_now_finding_the_task_gone_goes_by_the_history_not_the_clock(
        seconds, record, history, kind, status, message, last):
    world = World(awaiting(), record=record)
    world.sfn.error, world.sfn.history = AwsError("TaskTimedOut"), history

    refused(lambda: world.deliver_now(now=at(3600 + seconds)), kind, status, message)

    assert world.log == [*GETS, "decisions.claim", "SendTaskSuccess", *HISTORY, last]
    assert world.record().get("missed", False) is (kind is LinkExpired) and world.record()["delivered"] is False


def test_when_marking_a_decision_missed_fails_the_answer_still_says_it_came_too_late(caplog):
    world = World(awaiting())
    world.sfn.error, world.sfn.history = AwsError("TaskTimedOut"), ["TimedOut"]
    world.failing.add("decisions.mark_missed")

    with caplog.at_level(logging.WARNING, logger="shop.logic.approvals"):
        refused(world.click, LinkExpired, 410, APPROVED_TOO_LATE)

    assert [record.getMessage() for record in caplog.records] == ["approval bookkeeping failed: mark_missed"]
    assert "missed" not in world.record()


def test_when_the_history_cannot_be_read_a_task_gone_is_not_confirmed(caplog):
    world = World(awaiting(), record={})
    world.sfn.error, world.sfn.history = AwsError("TaskTimedOut"), ["TimedOut"]
    world.sfn.describe_execution = lambda **_: (_ for _ in ()).throw(AwsError("ThrottlingException"))

    with caplog.at_level(logging.WARNING, logger="shop.logic.approvals"):
        refused(world.click, AlreadyDecided, 409, APPROVED_EARLIER_OR_TOO_LATE)

    # The opening's check that the workflow runs could not tell either, and let the click go on.
    assert [record.getMessage() for record in caplog.records] == ["approval bookkeeping failed: describe",
                                                                  "approval bookkeeping failed: progress"]
    assert "missed" not in world.record()


def test_when_keeping_the_doubt_fails_the_answer_still_says_it_cannot_tell():
    world = World(awaiting(), record={"deliveryClaim": "earlier", "claimedUntil": NOW_S})
    world.sfn.error = AwsError("InvalidToken")
    world.failing.add("decisions.release")

    refused(world.click, AlreadyDecided, 409, APPROVED_EARLIER_OR_TOO_LATE)
    # The claim then lapses by itself, so the doubt is kept all the same.
    assert world.record()["claimedUntil"] == NOW_S + CLAIM and "missed" not in world.record()


def test_a_delivered_decision_stands_when_its_bookkeeping_fails_and_the_failure_is_logged(caplog):
    world = World(awaiting())
    world.failing |= {"decisions.mark_delivered", "orders.set_decided"}

    with caplog.at_level(logging.WARNING, logger="shop.logic.approvals"):
        done = world.click()

    assert done == public(awaiting(), status="APPROVED", decision="approve", decidedAt="2026-11-24T12:00:00Z")
    assert world.sfn.calls == [APPROVE_CALL]
    assert [(record.name, record.levelno, record.getMessage()) for record in caplog.records] == [
        ("shop.logic.approvals", logging.WARNING, "approval bookkeeping failed: mark_delivered"),
        ("shop.logic.approvals", logging.WARNING, "approval bookkeeping failed: set_decided"),
    ]
    assert all(isinstance(record.exc_info[1], Throttled) for record in caplog.records)
    # The record still holds the claim: a click meanwhile hears the decision is on its way; one
    # after the claim lapsed finds the task gone, and the history shows the decision arrived: it
    # settles the bookkeeping and never calls the decision missed.
    world.failing.clear()
    refused(world.click, AlreadyDecided, 409, APPROVED_BEING_PASSED)
    refused(lambda: world.click(now=at(CLAIM)), AlreadyDecided, 409, ALREADY_APPROVED)
    assert world.record()["delivered"] is True and world.sfn.calls == [APPROVE_CALL]
    assert world.order()["status"] == "APPROVED"


# -- the owner's console and CLI -------------------------------------------------------------------------


@pytest.mark.parametrize(("decision", "call", "status"), [
    (Decision.APPROVE, ("SendTaskSuccess", "the-token", {"decision": "approve", "decidedAt": "2026-11-24T12:59:59Z"}),
     "APPROVED"),
    (Decision.REJECT, REJECT_CALL, "REJECTED"),
    (Decision.CANCEL, CANCEL_CALL, "CANCELLED"),
])
def test_the_owner_decides_with_the_stored_token_until_the_deadline(decision, call, status):
    world = World(awaiting())

    done = world.owner_decides(decision, now=at(3599))

    assert done == public(awaiting(), status=status, decision=decision.value, decidedAt="2026-11-24T12:59:59Z")
    assert world.sfn.calls == [call]
    assert world.log == [*GETS, "decisions.record", call[0], "decisions.mark_delivered", "orders.set_decided"]
    assert world.sfn.seen["expiresAt"] == EXPIRES + RETENTION  # the order's deadline, plus 30 days
    assert world.sfn.seen["claimedUntil"] == NOW_S + 3599 + CLAIM


@pytest.mark.parametrize(("order", "record", "kind", "status", "message"), [
    (None, None, NotFound, None, "There is no open order 01JORDER."),
    (None, {"decision": "cancel", "delivered": True}, AlreadyDecided, 409,
     "This order was already cancelled at 2026-11-24 12:00:00 UTC. Nothing was changed."),
    (None, {}, LinkExpired, 410, APPROVED_TOO_LATE),
    (awaiting(status="RECEIVED"), None, NotReady, 409, STILL_RECEIVED),
    (awaiting(status="SHIPPED"), None, AlreadyDecided, 409,
     "This order is SHIPPED and takes no decision now. Nothing was changed."),
    (awaiting(approvalTaskToken=""), None, AlreadyDecided, 409,
     "This order is AWAITING_APPROVAL and takes no decision now. Nothing was changed."),
    (awaiting(approvalLinkId=""), None, NotReady, 409, NOT_SENT_YET),
    (awaiting(status="APPROVED"), {}, AlreadyDecided, 409, ALREADY_APPROVED),
    (awaiting(approvalTaskToken=""), {}, AlreadyDecided, 409, APPROVED_NOT_REACHED),
    (awaiting(approvalTaskToken=""), {"claimedUntil": NOW_S + 1}, AlreadyDecided, 409, APPROVED_BEING_PASSED),
    (awaiting(), {"delivered": True}, AlreadyDecided, 409, ALREADY_APPROVED),
    (awaiting(), {"decision": "reject", "delivered": True}, AlreadyDecided, 409, ALREADY_REJECTED),
], ids=["unknown", "deleted after cancel", "deleted, approval undelivered", "received", "shipped", "no token",
        "notification being sent", "moved on", "token gone", "token gone, being delivered", "decided", "rejected"])
def test_the_owner_is_refused_what_cannot_be_decided_and_nothing_is_written(order, record, kind, status, message):
    world = World(order, record=record)
    before = copy.deepcopy(world.decisions.items)

    with pytest.raises((LinkRefused, NotFound)) as caught:
        world.owner_decides(Decision.CANCEL)

    assert type(caught.value) is kind and caught.value.message == message
    if kind is NotFound:
        assert caught.value.field == "orderId"
    else:
        assert answer_for(caught.value).status == status
    assert world.log == GETS and world.decisions.items == before and world.sfn.calls == []


def test_the_owner_cannot_decide_at_or_after_the_deadline():
    for seconds in (3600, 7200):
        world = World(awaiting())
        refused(lambda: world.owner_decides(now=at(seconds)), LinkExpired, 410, TIME_RAN_OUT)  # noqa: B023
        assert world.log == GETS and world.record() is None


def test_the_owner_delivers_a_recorded_decision_until_the_stated_deadline_and_never_from_it():
    """The stated deadline is the task's EnteredTime plus its timeout, to the second; Step Functions'
    timer fires later (up to a second, more after a retried RequestApproval). A Deliver now 0.23 s
    past the stated deadline still shipped the order: from the deadline on, nothing is delivered."""
    world = World(awaiting(), record={"decision": "reject"})
    done = world.deliver_now(now=at(3599))  # a second before the deadline
    assert done["status"] == "REJECTED" and world.sfn.calls == [REJECT_CALL]

    for late in (at(3600), at(3600) + timedelta(seconds=0.23), at(3601)):
        world = World(awaiting(), record={})
        before = copy.deepcopy(world.decisions.items)
        refused(lambda: world.deliver_now(now=late), LinkExpired, 410, APPROVED_PAST_DEADLINE)  # noqa: B023
        assert world.log == GETS and world.sfn.calls == [] and world.decisions.items == before


@pytest.mark.parametrize("way", ["click", "owner_decides"])
def test_a_recorded_decision_is_redelivered_until_the_stated_deadline_and_never_from_it(way):
    """Every path that delivers: the link's second click, and the console's or CLI's same decision."""
    world = World(awaiting(), record={})
    getattr(world, way)(now=at(3599))
    assert world.sfn.calls == [APPROVE_CALL]

    for late in (at(3600), at(3600) + timedelta(seconds=0.23)):
        world = World(awaiting(), record={})
        before = copy.deepcopy(world.decisions.items)
        refused(lambda: getattr(world, way)(now=late), LinkExpired, 410, APPROVED_PAST_DEADLINE)  # noqa: B023
        assert world.log == GETS and world.sfn.calls == [] and world.decisions.items == before


@pytest.mark.parametrize(("recorded", "call"), [("approve", APPROVE_CALL), ("reject", REJECT_CALL),
                                                ("cancel", CANCEL_CALL)])
def test_deliver_now_delivers_the_decision_recorded_and_no_other(recorded, call):
    world = World(awaiting(), record={"decision": recorded})

    world.deliver_now()

    assert world.sfn.calls == [call] and world.record()["decision"] == recorded


def test_deliver_now_without_a_recorded_decision_is_refused():
    world = World(awaiting())

    refused(world.deliver_now, NotReady, 409,
            "This order has no decision to deliver: approve, reject or cancel it instead. Nothing was changed.")
    assert world.log == GETS and world.record() is None and world.sfn.calls == []


def test_the_owner_deciding_another_way_than_a_recorded_decision_is_refused():
    world = World(awaiting(), record={})

    refused(lambda: world.owner_decides(Decision.CANCEL), AlreadyDecided, 409, APPROVED_NOT_REACHED)
    assert world.log == GETS and world.sfn.calls == []


# -- a resend: a new link id, the old links refused --------------------------------------------------------


def test_after_a_resend_the_old_links_are_refused_and_only_the_new_ones_decide():
    world = World(awaiting())
    published: list[dict[str, Any]] = []

    resend_approval_request(ORDER_ID, approval_url="https://cb.example/", topic_arn="arn:topic", key=KEY,
                            orders=world.orders, decisions=world.decisions, workflow=world.workflow,
                            publish=lambda **message: published.append(message) or "message-1", now=NOW)

    new_link = world.order()["approvalLinkId"]
    assert new_link != "link-1" and f"link={new_link}" in published[0]["message"]
    for decision in (Decision.APPROVE, Decision.REJECT):
        refused(lambda: world.click(decision), LinkForged, 403, STALE_LINK)  # noqa: B023
        refused(lambda: world.review(decision), LinkForged, 403, STALE_LINK)  # noqa: B023
    assert world.record() is None and world.sfn.calls == []

    done = world.click(Decision.REJECT, link_id=new_link)

    assert done["status"] == "REJECTED" and world.sfn.calls == [REJECT_CALL]
