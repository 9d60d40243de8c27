"""RequestApproval asks the owner, and may run again after a fault (the state machine retries it):
it never undoes a decision, never asks about a decided order, and the order becomes decidable only
once its notification went out. In-memory tables (tests/fakes.py), no AWS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shop.domain.approval import Decision
from shop.domain.errors import NotReady
from shop.logic import approvals
from shop.logic.notifications import request_approval
from tests import fakes
from tests.fakes import Decisions, Orders, Throttled, Workflow
from tests.unit.test_decision_delivery import KEY

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RECEIVED = {"orderId": "01JORDER", "status": "RECEIVED", "customerEmail": "ada@example.com",
            "customerName": "Ada", "currency": "EUR", "total": "29.80", "items": [],
            "createdAt": "2026-11-24T11:00:00Z",
            "shippingAddress": {"streetAddress": "s", "city": "c", "county": "c", "country": "c"}}


def ask(orders, publish, token="token-1"):
    return request_approval(RECEIVED, token, timeout_seconds=3600, approval_url="https://cb.example/",
                            topic_arn="arn:topic", key=KEY, orders=orders, publish=publish, waiting_since=NOW)


def approve_from_console(orders, decisions, workflow):
    return approvals.decide_as_owner("01JORDER", Decision.APPROVE, orders=orders, decisions=decisions,
                                     workflow=workflow, now=NOW)


def test_the_owner_is_asked_and_then_the_order_can_be_decided():
    orders, published = Orders(RECEIVED), []

    message_id = ask(orders, lambda **message: published.append(message) or "message-1")

    assert message_id == "message-1" and len(published) == 1
    stored = orders.get("01JORDER")
    assert stored.status == "AWAITING_APPROVAL" and stored.approval.task_token == "token-1"
    assert f"link={stored.approval.link_id}" in published[0]["message"] and stored.approval.pending_link_id is None
    assert approve_from_console(orders, Decisions(), Workflow())["status"] == "APPROVED"


@pytest.mark.parametrize("status", ["APPROVED", "REJECTED", "CANCELLED", "SHIPPED", "FEEDBACK_REQUESTED",
                                    "FAILED"])
def test_a_retried_request_never_moves_a_decided_order_back_nor_asks_about_it(status):
    orders, published = Orders({**RECEIVED, "status": status}), []

    assert ask(orders, lambda **message: published.append(message) or "m") is None

    assert orders.items["01JORDER"] == fakes.stored(**{**RECEIVED, "status": status})
    assert published == []


def test_a_deleted_order_is_not_asked_about():
    published = []
    assert ask(Orders(), lambda **message: published.append(message) or "m") is None
    assert published == []


def test_nothing_can_decide_the_order_while_its_notification_is_being_sent():
    """The console saw AWAITING_APPROVAL while SNS was being retried, and decided before the owner's
    notification went out: the notification then came after the decision, with links refused."""
    orders, decisions, workflow = Orders(RECEIVED), Decisions(), Workflow()
    refused = []

    def publish(**message):
        with pytest.raises(NotReady, match="still being sent") as caught:
            approve_from_console(orders, decisions, workflow)
        refused.append(caught.value)
        return "message-1"

    ask(orders, publish)

    assert len(refused) == 1 and decisions.items == {} and workflow.calls == []
    assert approve_from_console(orders, decisions, workflow)["status"] == "APPROVED"


def test_after_a_failed_attempt_only_the_retry_s_links_decide():
    orders, decisions, workflow = Orders(RECEIVED), Decisions(), Workflow()
    first_attempt = []

    def throttled(**message):
        first_attempt.append(message)
        raise Throttled("Publish")

    with pytest.raises(Throttled):
        ask(orders, throttled, token="token-1")
    with pytest.raises(NotReady):  # asked, but the notification never went out
        approve_from_console(orders, decisions, workflow)
    published = []
    ask(orders, lambda **message: published.append(message) or "m", token="token-2")

    stored = orders.get("01JORDER")
    assert stored.approval.task_token == "token-2"
    assert f"link={stored.approval.link_id}" in published[0]["message"]
    assert approve_from_console(orders, decisions, workflow)["status"] == "APPROVED"
    assert workflow.calls == [("success", "token-2", "approve")]


def test_a_link_opened_before_its_sending_was_confirmed_is_not_yet_usable():
    from urllib.parse import parse_qs, urlsplit

    from shop.domain.approval import parse_callback

    orders, decisions = Orders(RECEIVED), Decisions()
    seen = []

    def publish(**message):
        link = next(word for word in message["message"].split() if word.startswith("https://cb.example/"))
        request = parse_callback({k: v[0] for k, v in parse_qs(urlsplit(link).query).items()})
        with pytest.raises(NotReady, match="still being sent"):
            approvals.review(request, key=KEY, orders=orders, decisions=decisions, workflow=Workflow(), now=NOW)
        seen.append(request)
        return "m"

    ask(orders, publish)
    review = approvals.review(seen[0], key=KEY, orders=orders, decisions=decisions, workflow=Workflow(),
                              now=NOW)
    assert review.order["orderId"] == "01JORDER"


def test_a_resend_is_refused_while_the_notification_is_being_sent():
    from shop.logic.notifications import resend_approval_request

    orders = Orders({**RECEIVED, "status": "AWAITING_APPROVAL", "approvalTaskToken": "t",
                     "pendingLinkId": "p" * 22, "approvalDeadline": "2026-11-24T13:00:00Z"})
    with pytest.raises(NotReady):
        resend_approval_request("01JORDER", approval_url="https://cb.example/", topic_arn="arn:topic",
                                key=KEY, orders=orders, decisions=Decisions(), workflow=Workflow(),
                                publish=lambda **m: "m", now=NOW)
    with pytest.raises(NotReady):
        approve_from_console(orders, Decisions(), Workflow())
