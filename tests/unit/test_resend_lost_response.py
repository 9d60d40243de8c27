"""A resend whose `replace_link` answer is lost (issue 18, item 4): the write took effect, so the
links sent before are dead, and an answer "Nothing was sent" left the owner with no working link.

The resend finishes what may have happened (the same write again holds for its own new link id),
then sends the new links; if it cannot, it says that the old links may be dead and that resending
again sends working ones. A plain refusal (a 4xx) certainly changed nothing: the old links still
work, nothing is sent, and the answer says so."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from shop.domain.approval import Decision, parse_callback
from shop.domain.errors import LinkForged, ResendUnfinished
from shop.error_answers import answer_for
from shop.logic import approvals
from shop.logic.notifications import resend_approval_request
from tests.fakes import Decisions, Orders, Throttled, Workflow
from tests.unit.test_approval_after_deadline import link as signed_link
from tests.unit.test_owner_decisions import NOW, awaiting

KEY = b"k" * 32
OLD_LINK = "link-1-abcdefghijkl"  # tests.unit.test_approval_after_deadline's link, valid until 12:00
EARLIER = NOW.replace(hour=11)


class LostResponse(Exception):
    """What botocore raises when the call took effect but its response did not come back: a 5xx."""

    def __init__(self, operation: str):
        super().__init__(f"{operation}: internal error (its response was lost)")
        self.response = {"Error": {"Code": "InternalServerError", "Message": "lost"},
                         "ResponseMetadata": {"HTTPStatusCode": 500}}


class LosingOrders(Orders):
    """`replace_link` takes effect, then its caller gets a 5xx, `lost` times; `refused` times it is
    throttled first (a 4xx: nothing done)."""

    def __init__(self, *, lost: int = 0, refused: int = 0):
        super().__init__(awaiting(approvalLinkId=OLD_LINK, approvalDeadline="2026-11-24T12:00:00Z"))
        self.lost, self.refused = lost, refused

    def replace_link(self, order_id: str, *, old_link_id: str, new_link_id: str) -> bool:
        if self.refused:
            self.refused -= 1
            raise Throttled("orders.replace_link")
        replaced = super().replace_link(order_id, old_link_id=old_link_id, new_link_id=new_link_id)
        if self.lost:
            self.lost -= 1
            raise LostResponse("orders.replace_link")
        return replaced


def resend(orders: Orders, published: list[dict[str, Any]], *, publish=None):
    return resend_approval_request(
        "01JORDER", approval_url="https://cb.example/", topic_arn="arn:topic", key=KEY, orders=orders,
        decisions=Decisions(), workflow=Workflow(),
        publish=publish or (lambda **message: published.append(message) or f"message-{len(published)}"),
        now=EARLIER)


def _links(message: dict[str, Any]) -> dict[str, Any]:
    urls = [word for word in message["message"].split() if word.startswith("https://cb.example/")]
    requests = [parse_callback(dict(parse_qsl(urlsplit(url).query))) for url in urls]
    return {request.decision: request for request in requests}


def _opens(orders: Orders, request) -> bool:
    """Whether the link's page offers its button (it decides), or refuses it as replaced."""
    try:
        approvals.review(request, key=KEY, orders=orders, decisions=Decisions(), workflow=Workflow(), now=EARLIER)
    except LinkForged:
        return False
    return True


def test_a_lost_answer_is_finished_and_the_new_links_are_sent():
    orders, published = LosingOrders(lost=1), []

    sent = resend(orders, published)

    assert sent["messageId"] == "message-1" and len(published) == 1
    new = _links(published[0])
    assert orders.items["01JORDER"]["approvalLinkId"] == new[Decision.APPROVE].link_id != OLD_LINK
    assert _opens(orders, new[Decision.APPROVE]) and _opens(orders, new[Decision.REJECT])
    assert not _opens(orders, signed_link(Decision.APPROVE, key=KEY))


def test_answers_lost_twice_say_the_old_links_may_be_dead_and_a_resend_again_sends_working_ones():
    orders, published = LosingOrders(lost=2), []

    with pytest.raises(ResendUnfinished) as caught:
        resend(orders, published)

    said = caught.value.message
    assert "may no longer work" in said and "Resend again" in said
    assert "Nothing was" not in said and "changed nothing" not in said
    assert answer_for(caught.value).status == 503 and answer_for(caught.value).retry_after
    assert published == []
    resend(orders, published)  # again: from whichever link id the order holds now
    assert len(published) == 1 and _opens(orders, _links(published[0])[Decision.APPROVE])


def test_a_refusal_changes_nothing_sends_nothing_and_the_old_links_still_work():
    orders, published = LosingOrders(refused=1), []

    with pytest.raises(Throttled):  # the console and the CLI say: nothing was changed
        resend(orders, published)

    assert published == []
    assert orders.items["01JORDER"]["approvalLinkId"] == OLD_LINK
    assert _opens(orders, signed_link(Decision.APPROVE, key=KEY))


def test_new_links_whose_email_failed_say_the_old_ones_no_longer_work():
    orders = LosingOrders()

    def publish(**message):
        raise LostResponse("sns.publish")

    with pytest.raises(ResendUnfinished, match="links sent before no longer work"):
        resend(orders, [], publish=publish)
    assert orders.items["01JORDER"]["approvalLinkId"] != OLD_LINK
