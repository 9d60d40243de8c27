"""A decision is recorded once and delivered once, and every answer says where it stands: recorded
and not yet delivered after an AWS fault (and the next click delivers it), delivered by exactly one
of many clicks at once, or missed when the workflow stopped waiting first. Links and the owner's
tools alike, over the in-memory tables and workflow (tests/fakes.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shop.domain.approval import CallbackRequest, Decision, sign
from shop.domain.errors import AlreadyDecided, LinkExpired, NotDelivered
from shop.error_answers import answer_for
from shop.logic import approvals, owner
from tests.fakes import Decisions, Orders, Throttled, Workflow
from tests.unit.test_owner_decisions import NOW, awaiting

KEY = b"k" * 32
EXPIRES = int((NOW + timedelta(hours=1)).timestamp())  # the order's approvalDeadline


def link(decision: Decision = Decision.APPROVE) -> CallbackRequest:
    signature = sign(KEY, order_id="01JORDER", decision=decision, task_token="the-token", expires=EXPIRES,
                     link_id="link-1")
    return CallbackRequest(order_id="01JORDER", task_token="the-token", decision=decision, expires=EXPIRES,
                           link_id="link-1", signature=signature)


def click(orders, decisions, workflow, decision=Decision.APPROVE, now=NOW):
    return approvals.decide(link(decision), key=KEY, orders=orders, decisions=decisions, workflow=workflow,
                            now=now)


def deliver(orders, decisions, workflow, now=NOW):
    return approvals.deliver_as_owner("01JORDER", orders=orders, decisions=decisions, workflow=workflow,
                                      now=now)


def recorded(decisions, *, claim, claimed_until, decided_at="2026-11-24T12:00:00Z"):
    """A decision recorded earlier, not delivered, its claim as given."""
    decisions.record("01JORDER", decision="approve", decided_at=decided_at, expires_at=0, claim=claim,
                     claimed_until=claimed_until)


def opened(orders, decisions, decision=Decision.APPROVE, now=NOW):
    return approvals.review(link(decision), key=KEY, orders=orders, decisions=decisions, workflow=Workflow(),
                            now=now)


class FailingOnce(Workflow):
    """Step Functions throttles the first answer (the SDK's retries exhausted), then takes one."""

    def __init__(self):
        super().__init__(before=self._throttle_once)
        self.failures = 1

    def _throttle_once(self, operation):
        if self.failures and operation != "workflow.describe":
            self.failures -= 1
            raise Throttled(operation)


# -- item 3: recorded, not yet delivered ---------------------------------------------------------


def test_a_delivery_that_fails_after_the_decision_was_recorded_says_so_and_the_next_click_delivers_it():
    orders, decisions, workflow = Orders(awaiting()), Decisions(), FailingOnce()

    with pytest.raises(NotDelivered) as failed:
        click(orders, decisions, workflow)

    answer = failed.value
    assert (answer_for(answer).status, answer_for(answer).retry_after) == (503, 10)
    assert "recorded" in answer.message and "approved at 2026-11-24 12:00:00 UTC" in answer.message
    assert "Nothing was decided" not in answer.message and "nothing" not in answer.message.split(";")[0]
    record = decisions.get("01JORDER")
    assert record["delivered"] is False and "deliveryClaim" not in record  # the claim is given back
    assert orders.get("01JORDER").status == "AWAITING_APPROVAL" and workflow.calls == []

    # Opening the link again offers to deliver it; the other link says what is recorded.
    review = opened(orders, decisions)
    assert review.recorded["decision"] == "approve"
    with pytest.raises(AlreadyDecided, match="approved at .* has not reached the order's workflow yet"):
        opened(orders, decisions, Decision.REJECT)
    with pytest.raises(AlreadyDecided, match="has not reached"):
        click(orders, decisions, workflow, Decision.REJECT)

    done = click(orders, decisions, workflow)

    assert done["status"] == "APPROVED" and workflow.calls == [("success", "the-token", "approve")]
    assert decisions.get("01JORDER")["delivered"] is True
    assert "approvalTaskToken" not in orders.items["01JORDER"]
    with pytest.raises(AlreadyDecided, match=r"already approved at 2026-11-24 12:00:00 UTC\. Nothing"):
        click(orders, decisions, workflow)


def test_the_owner_delivers_a_decision_a_link_recorded():
    orders, decisions, workflow = Orders(awaiting()), Decisions(), FailingOnce()
    with pytest.raises(NotDelivered):
        click(orders, decisions, workflow)

    done = deliver(orders, decisions, workflow)

    assert done["status"] == "APPROVED" and workflow.calls == [("success", "the-token", "approve")]


def test_a_console_decision_that_could_not_be_delivered_is_not_yet_delivered_and_can_be_delivered():
    orders, decisions, workflow = Orders(awaiting()), Decisions(), FailingOnce()

    with pytest.raises(NotDelivered):
        approvals.decide_as_owner("01JORDER", Decision.CANCEL, orders=orders, decisions=decisions,
                                  workflow=workflow, now=NOW)
    with pytest.raises(AlreadyDecided, match="already cancelled"):  # approving it is another decision
        approvals.decide_as_owner("01JORDER", Decision.APPROVE, orders=orders, decisions=decisions,
                                  workflow=workflow, now=NOW)

    approvals.deliver_as_owner("01JORDER", orders=orders, decisions=decisions, workflow=workflow, now=NOW)
    assert workflow.calls == [("failure", "the-token", "OrderCancelled")]


def test_an_undelivered_decision_past_the_deadline_is_refused_never_delivered():
    orders, decisions = Orders(awaiting()), Decisions()
    with pytest.raises(NotDelivered):
        click(orders, decisions, FailingOnce())
    late = NOW + timedelta(hours=2)

    # Past the deadline the shop passes nothing on, even to a workflow that would still take it.
    workflow = Workflow()
    with pytest.raises(LinkExpired, match="approved at .*, and the time to decide ran out at .*: the shop passes no"):
        deliver(orders, decisions, workflow, now=late)
    assert workflow.calls == [] and decisions.get("01JORDER")["delivered"] is False


def test_a_task_gone_is_missed_only_when_the_history_shows_the_timeout_never_on_a_guess():
    """A redelivery finds the task gone. Whatever earlier deliveries did, only the execution's
    history says why: timed out, the decision is missed; not explained (a dead token), it is not
    guessed, and whoever comes next still knows of an earlier delivery."""
    for earlier in ({"claim": "died", "claimed_until": 0}, None):
        orders, decisions = Orders(awaiting()), Decisions()
        if earlier:
            recorded(decisions, **earlier)  # its request never came back: the claim lapsed
        else:
            with pytest.raises(NotDelivered):
                click(orders, decisions, FailingOnce())  # refused: its claim given back
        with pytest.raises(LinkExpired, match="before its deadline"):
            click(orders, decisions, Workflow(gone=True))
        assert decisions.get("01JORDER")["missed"] is True

    class DeadToken(Workflow):
        def progress(self, name):
            return {"RequestApproval": "current"}, "RUNNING"

    orders, decisions = Orders(awaiting()), Decisions()
    recorded(decisions, claim="died", claimed_until=0)
    with pytest.raises(AlreadyDecided, match="either an earlier attempt delivered it, or the time to decide"):
        click(orders, decisions, DeadToken(gone=True))
    record = decisions.get("01JORDER")
    assert record["delivered"] is False and "missed" not in record
    with pytest.raises(AlreadyDecided, match="either an earlier attempt delivered it"):
        click(orders, decisions, DeadToken(gone=True))
    assert "missed" not in decisions.get("01JORDER")


def test_a_delivery_whose_response_was_lost_keeps_its_claim_until_it_lapses():
    class ResponseLost(Workflow):
        def _call(self, *call):
            super()._call(*call)
            raise ConnectionError("read timeout")  # Step Functions took it; the caller never heard

    orders, decisions, workflow = Orders(awaiting()), Decisions(), ResponseLost()
    with pytest.raises(NotDelivered):
        click(orders, decisions, workflow)
    assert decisions.get("01JORDER")["deliveryClaim"]  # not given back: it may have got through

    later = NOW + timedelta(seconds=approvals.CLAIM_SECONDS)
    # The next click finds the task answered, and the history shows the decision arrived.
    with pytest.raises(AlreadyDecided, match=r"already approved at .*\. Nothing was changed\.$"):
        click(orders, decisions, workflow, now=later)
    assert workflow.calls == [("success", "the-token", "approve")]
    assert decisions.get("01JORDER")["delivered"] is True


@pytest.mark.parametrize(("record", "marks", "execution", "state"), [
    ({"delivered": True}, {"RequestApproval": "passed", "MarkShipped": "passed"}, "RUNNING", "delivered"),
    ({}, {"RequestApproval": "current"}, "RUNNING", "pending"),
    ({}, {"RequestApproval": "passed", "MarkShipped": "current"}, "RUNNING", "delivered"),  # bookkeeping lost
    ({}, {"RequestApproval": "passed", "TimedOut": "passed", "DeleteOrder": "current"}, "RUNNING", "missed"),
    ({}, {"RequestApproval": "passed", "TimedOut": "passed", "End": "passed"}, "SUCCEEDED", "missed"),
    ({"missed": True}, {"RequestApproval": "current"}, "RUNNING", "missed"),
])
def test_the_owner_sees_whether_a_decision_reached_the_workflow_from_its_history(record, marks, execution,
                                                                                  state):
    recorded = {"decision": "approve", "decidedAt": "2026-11-24T12:00:00Z", "delivered": False, **record}

    assert owner.delivery(recorded, marks, execution) == state


# -- item 5: many clicks at once --------------------------------------------------------------------


class ClickedAgainWhileDelivering(Workflow):
    """While Step Functions is being told, the owner clicks again (and again)."""

    def __init__(self, again):
        super().__init__()
        self.again, self.answers = again, []

    def _call(self, *call):
        while len(self.answers) < 2:
            try:
                self.answers.append(self.again())
            except AlreadyDecided as refused:
                self.answers.append(refused)
        super()._call(*call)


@pytest.mark.parametrize("second", ["link", "console"])
def test_of_clicks_at_once_exactly_one_delivers_and_answers_done_the_others_already_decided(second):
    orders, decisions = Orders(awaiting()), Decisions()
    if second == "link":
        workflow = ClickedAgainWhileDelivering(lambda: click(orders, decisions, workflow))
    else:
        workflow = ClickedAgainWhileDelivering(lambda: approvals.decide_as_owner(
            "01JORDER", Decision.APPROVE, orders=orders, decisions=decisions, workflow=workflow, now=NOW))

    done = click(orders, decisions, workflow)

    assert done["status"] == "APPROVED"
    assert workflow.calls == [("success", "the-token", "approve")]
    assert [type(answer) for answer in workflow.answers] == [AlreadyDecided, AlreadyDecided]
    assert all("already approved at 2026-11-24 12:00:00 UTC" in answer.message for answer in workflow.answers)


def test_a_redelivery_happens_at_most_once_at_a_time():
    orders, decisions = Orders(awaiting()), Decisions()
    with pytest.raises(NotDelivered):
        click(orders, decisions, FailingOnce())
    workflow = ClickedAgainWhileDelivering(lambda: click(orders, decisions, workflow))

    click(orders, decisions, workflow)

    assert workflow.calls == [("success", "the-token", "approve")]
    assert [type(answer) for answer in workflow.answers] == [AlreadyDecided, AlreadyDecided]
    assert "being passed to the order's workflow just now" in workflow.answers[0].message


def test_a_claim_lost_with_its_request_lapses():
    orders, decisions = Orders(awaiting()), Decisions()
    recorded(decisions, claim="crashed", claimed_until=int(NOW.timestamp()) + approvals.CLAIM_SECONDS)
    workflow = Workflow()

    with pytest.raises(AlreadyDecided, match="just now"):
        click(orders, decisions, workflow)
    click(orders, decisions, workflow, now=NOW + timedelta(seconds=approvals.CLAIM_SECONDS))

    assert workflow.calls == [("success", "the-token", "approve")]


def test_a_fault_while_claiming_says_the_decision_is_recorded():
    orders, decisions = Orders(awaiting()), Decisions()
    with pytest.raises(NotDelivered):
        click(orders, decisions, FailingOnce())

    def throttled(operation):
        if operation == "decisions.claim":
            raise Throttled(operation)

    decisions.before = throttled
    with pytest.raises(NotDelivered, match="Your decision is recorded"):
        click(orders, decisions, Workflow())


def test_an_order_checked_at_the_links_deadline_is_not_decided():
    orders, decisions, workflow = Orders(awaiting()), Decisions(), Workflow()

    with pytest.raises(LinkExpired):
        click(orders, decisions, workflow, now=datetime.fromtimestamp(EXPIRES, UTC))
    assert decisions.items == {} and workflow.calls == []


def test_a_recorded_decision_goes_to_the_token_the_order_holds_not_an_older_links():
    """RequestApproval failed once after its notification went out, and was retried with a new task
    token: a link of the first notification may still (re)deliver the decision recorded, and must
    deliver it to the live task, not to its own dead token (found by the protocol's model)."""
    orders, decisions = Orders(awaiting(approvalTaskToken="token-2", approvalLinkId="link-2")), Decisions()
    recorded(decisions, claim="c", claimed_until=0)
    decisions.release("01JORDER", claim="c")
    workflow = Workflow()

    click(orders, decisions, workflow)  # the first email's link: the-token, link-1

    assert workflow.calls == [("success", "token-2", "approve")]
