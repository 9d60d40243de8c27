"""An approval link opened after its deadline says what actually became of the order: "being
cancelled" only while the timeout is still taking it down the cancellation path; "cancelled" once
the workflow deleted it; the decision itself when one was made before the deadline. A forged link
still learns nothing and costs no table call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from shop.domain.approval import TIME_RAN_OUT, Decision, approval_links, parse_callback
from shop.domain.errors import AlreadyDecided, LinkExpired, LinkForged
from shop.error_answers import answer_for
from shop.logic.approvals import decide, review
from tests.fakes import Decisions, Orders, Workflow
from tests.unit.test_owner_decisions import awaiting

KEY = b"k" * 32
DEADLINE = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LONG_AFTER = DEADLINE + timedelta(hours=5)
CANCELLED = "The time to decide on this order ran out at 2026-11-24 12:00:00 UTC, and the order was cancelled."


def link(decision: Decision = Decision.APPROVE, *, key: bytes = KEY):
    url = approval_links("https://cb.example/", "01JORDER", "the-token", key=key,
                         expires=int(DEADLINE.timestamp()), link_id="link-1-abcdefghijkl")[decision]
    return parse_callback(dict(parse_qsl(urlsplit(url).query)))


def opened(orders: Orders, decisions: Decisions, way: str, *, request=None):
    request = request or link()
    with pytest.raises(Exception) as caught:
        if way == "review":
            review(request, key=KEY, orders=orders, decisions=decisions, workflow=Workflow(), now=LONG_AFTER)
        else:
            decide(request, key=KEY, orders=orders, decisions=decisions, workflow=Workflow(), now=LONG_AFTER)
    return caught.value


@pytest.mark.parametrize("way", ["review", "click"])
def test_long_after_the_cancellation_finished_the_link_says_the_order_was_cancelled(way):
    refused = opened(Orders(), Decisions(), way)  # the cancellation path deleted the order

    assert type(refused) is LinkExpired and answer_for(refused).status == 410
    assert refused.message.startswith(CANCELLED)
    assert "being cancelled" not in refused.message


@pytest.mark.parametrize("way", ["review", "click"])
def test_while_the_order_still_awaits_its_timeout_the_link_says_it_is_being_cancelled(way):
    refused = opened(Orders(awaiting(approvalLinkId="link-1-abcdefghijkl")), Decisions(), way)

    assert type(refused) is LinkExpired and refused.message == TIME_RAN_OUT


@pytest.mark.parametrize("way", ["review", "click"])
def test_an_order_rejected_before_its_deadline_is_said_rejected_not_timed_out(way):
    decisions = Decisions()
    decisions.items["01JORDER"] = {"orderId": "01JORDER", "decision": "reject", "decidedAt": "2026-11-24T11:30:00Z",
                                   "delivered": True}

    refused = opened(Orders(), decisions, way)  # rejected, then deleted by its workflow

    assert type(refused) is AlreadyDecided
    assert refused.message == "This order was already rejected at 2026-11-24 11:30:00 UTC. Nothing was changed."


def test_an_order_approved_and_shipped_is_not_said_to_be_cancelled():
    decisions = Decisions()
    decisions.items["01JORDER"] = {"orderId": "01JORDER", "decision": "approve", "decidedAt": "2026-11-24T11:30:00Z",
                                   "delivered": True}
    shipped = awaiting(status="SHIPPED", approvalTaskToken="", approvalLinkId="")

    refused = opened(Orders(shipped), decisions, "review")

    assert "already approved at 2026-11-24 11:30:00 UTC" in refused.message and "cancel" not in refused.message


def test_a_forged_expired_link_is_refused_before_any_table_call():
    def no_io(operation):
        raise AssertionError(f"{operation} called for a forged link")

    refused = opened(Orders(before=no_io), Decisions(before=no_io), "review", request=link(key=b"another key"))

    assert type(refused) is LinkForged
