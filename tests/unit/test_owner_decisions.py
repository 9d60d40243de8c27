"""The owner's console and CLI decide under the links' rules: once, only while the order awaits
approval and before its deadline; a resend replaces the links. In-memory tables, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shop.domain.approval import Decision
from shop.domain.errors import AlreadyDecided, LinkExpired, NotFound, NotReady
from shop.logic.approvals import decide_as_owner
from shop.logic.notifications import resend_approval_request
from tests.fakes import Decisions, Orders, Workflow

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DEADLINE = "2026-11-24T13:00:00Z"


def awaiting(**changes: Any) -> dict[str, Any]:
    return {"orderId": "01JORDER", "status": "AWAITING_APPROVAL", "customerEmail": "ada@example.com",
            "customerName": "Ada", "currency": "EUR", "total": "29.80", "items": [], "createdAt": "2026-11-24T11:00:00Z",
            "shippingAddress": {"streetAddress": "s", "city": "c", "county": "c", "country": "c"},
            "approvalTaskToken": "the-token", "approvalLinkId": "link-1", "approvalDeadline": DEADLINE, **changes}


def decide(orders, decisions, workflow, decision=Decision.APPROVE, now=NOW):
    return decide_as_owner("01JORDER", decision, orders=orders, decisions=decisions, workflow=workflow, now=now)


@pytest.mark.parametrize(("decision", "call", "status"), [
    (Decision.APPROVE, ("success", "the-token", "approve"), "APPROVED"),
    (Decision.REJECT, ("failure", "the-token", "OrderRejected"), "REJECTED"),
    (Decision.CANCEL, ("failure", "the-token", "OrderCancelled"), "CANCELLED"),
])
def test_the_owner_decides_with_the_stored_token(decision, call, status):
    orders, decisions, workflow = Orders(awaiting()), Decisions(), Workflow()

    decided = decide(orders, decisions, workflow, decision)

    assert workflow.calls == [call]
    assert decisions.get("01JORDER")["delivered"] is True
    assert decisions.get("01JORDER")["decision"] == decision.value
    assert decided["status"] == status and "approvalTaskToken" not in decided
    assert "approvalTaskToken" not in orders.items["01JORDER"]  # the token left with the decision


def test_a_second_decision_is_refused_and_resumes_nothing():
    orders, decisions, workflow = Orders(awaiting()), Decisions(), Workflow()
    decide(orders, decisions, workflow, Decision.CANCEL)

    with pytest.raises(AlreadyDecided, match="already cancelled at 2026-11-24 12:00:00 UTC"):
        decide(orders, decisions, workflow, Decision.APPROVE)
    assert len(workflow.calls) == 1


def test_a_decision_recorded_but_not_delivered_is_delivered_again():
    orders, decisions, workflow = Orders(awaiting()), Decisions(), Workflow()
    decisions.record("01JORDER", decision="approve", decided_at="2026-11-24T11:59:00Z", expires_at=0, claim="lost",
                     claimed_until=0)  # its request's claim has lapsed

    decide(orders, decisions, workflow, Decision.APPROVE)

    assert workflow.calls == [("success", "the-token", "approve")]
    with pytest.raises(AlreadyDecided):
        decide(orders, decisions, Workflow(), Decision.REJECT)


def test_after_the_deadline_nothing_is_recorded_or_resumed():
    orders, decisions, workflow = Orders(awaiting()), Decisions(), Workflow()

    with pytest.raises(LinkExpired):
        decide(orders, decisions, workflow, now=NOW + timedelta(hours=1))
    assert decisions.items == {} and workflow.calls == []


def test_a_task_that_timed_out_meanwhile_leaves_a_decision_that_says_it_came_too_late():
    orders, decisions = Orders(awaiting()), Decisions()

    with pytest.raises(LinkExpired, match="before its deadline"):
        decide(orders, decisions, Workflow(gone=True))
    assert decisions.get("01JORDER")["missed"] is True and not decisions.get("01JORDER")["delivered"]
    assert orders.get("01JORDER").status == "AWAITING_APPROVAL"  # the workflow is cancelling it
    with pytest.raises(LinkExpired, match="approved at 2026-11-24 12:00:00 UTC, but .* before its deadline"):
        decide(orders, decisions, Workflow(), Decision.REJECT)


def test_an_order_not_yet_awaiting_approval_takes_no_decision():
    received = awaiting(status="RECEIVED")
    del received["approvalTaskToken"]

    with pytest.raises(NotReady, match="still being received"):
        decide(Orders(received), Decisions(), Workflow())


def test_an_unknown_order_is_not_found_and_a_deleted_one_says_what_happened():
    with pytest.raises(NotFound):
        decide(Orders(), Decisions(), Workflow())
    decisions = Decisions()
    decisions.record("01JORDER", decision="reject", decided_at="2026-11-24T11:00:00Z", expires_at=0, claim="c",
                     claimed_until=0)
    decisions.mark_delivered("01JORDER")
    with pytest.raises(AlreadyDecided, match="already rejected"):
        decide(Orders(), decisions, Workflow())


# -- resend ----------------------------------------------------------------------------------------


def resend(orders, decisions, published, now=NOW):
    return resend_approval_request(
        "01JORDER", approval_url="https://cb.example/", topic_arn="arn:topic", key=b"k", orders=orders,
        decisions=decisions, workflow=Workflow(),
        publish=lambda **message: published.append(message) or "message-1", now=now)


def test_a_resend_makes_a_new_link_id_and_keeps_the_deadline():
    orders, published = Orders(awaiting()), []

    result = resend(orders, Decisions(), published)

    new_link = orders.get("01JORDER").approval.link_id
    assert new_link != "link-1"
    assert result == {"orderId": "01JORDER", "messageId": "message-1", "approvalDeadline": DEADLINE}
    (message,) = published
    assert f"link={new_link}" in message["message"] and "link=link-1" not in message["message"]
    assert "replace the ones sent before" in message["message"]
    assert message["topic_arn"] == "arn:topic"


@pytest.mark.parametrize(("order", "decided", "error"), [
    (awaiting(status="SHIPPED"), None, AlreadyDecided),
    (awaiting(), {"decision": "approve", "decidedAt": "2026-11-24T11:00:00Z"}, AlreadyDecided),
    (None, None, NotFound),
])
def test_a_resend_only_for_an_order_awaiting_approval(order, decided, error):
    decisions = Decisions()
    if decided:
        decisions.items["01JORDER"] = decided
    published: list = []

    with pytest.raises(error):
        resend(Orders(*([order] if order else [])), decisions, published)
    assert published == []


def test_no_resend_after_the_deadline():
    published: list = []

    with pytest.raises(LinkExpired):
        resend(Orders(awaiting()), Decisions(), published, now=NOW + timedelta(hours=2))
    assert published == []


def test_a_resend_racing_another_change_sends_nothing():
    orders, published = Orders(awaiting()), []
    orders.replace_link = lambda *args, **kwargs: False  # decided or resent in between

    with pytest.raises(AlreadyDecided, match="Nothing was sent"):
        resend(orders, Decisions(), published)
    assert published == []
