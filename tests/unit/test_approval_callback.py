"""The approval callback handler behind its Function URL: the confirmation page's POST decides,
whether the form body arrives base64-encoded (as a Function URL sends every form post) or as
plain text. The event is the one local mode builds; tables and workflow are in memory, no AWS."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.test import EnvironBuilder

from shop.domain.approval import Decision, approval_links, new_link_id
from shop.handlers import approval_callback
from shop.local.events import function_url_event
from shop.local.functions import LocalLambdaContext

# The in-memory tables and workflow the owner's decisions are tested with: the same rules apply.
from tests.fakes import Decisions, Orders, Workflow
from tests.unit.test_owner_decisions import awaiting

KEY = b"k" * 32
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LINK = new_link_id()
# What a browser would send if the page's button had a name; the handler decides by the link
# alone, so the body only has to get through.
FORM = "confirm=yes&note=Zo%C3%AB"


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """One order awaiting approval, and the handler wired to in-memory stand-ins."""
    world = SimpleNamespace(orders=Orders(awaiting(approvalLinkId=LINK)), decisions=Decisions(),
                            workflow=Workflow())
    settings = SimpleNamespace(link_signing_secret="secret", orders_table="orders",
                               decisions_table="decisions", state_machine_arn="shop-state-machine")
    monkeypatch.setattr(approval_callback, "runtime_settings", lambda: settings)
    monkeypatch.setattr(approval_callback, "signing_key", lambda secret_id: KEY)
    monkeypatch.setattr(approval_callback, "OrdersTable", lambda name: world.orders)
    monkeypatch.setattr(approval_callback, "DecisionsTable", lambda name: world.decisions)
    monkeypatch.setattr(approval_callback, "Workflow", lambda arn: world.workflow)
    monkeypatch.setattr(approval_callback, "utc_now", lambda: NOW)
    return world


def approve_form_post() -> dict[str, Any]:
    """The event for the confirmation page's POST to the approve link, as local mode makes it."""
    link = approval_links("http://127.0.0.1:8765/approval-callback/", "01JORDER", "the-token", key=KEY,
                          expires=int(NOW.timestamp()) + 600, link_id=LINK)[Decision.APPROVE]
    request = EnvironBuilder(path="/", query_string=urlsplit(link).query, method="POST", data=FORM,
                             content_type="application/x-www-form-urlencoded").get_request()
    return function_url_event(request, raw_path="/", url_id="approval-callback")


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return approval_callback.lambda_handler(event, LocalLambdaContext(function_name="approval-callback"))


def assert_approved(response: dict[str, Any], shop: SimpleNamespace) -> None:
    assert response["statusCode"] == 200, response["body"]
    assert "<h1>Order approved</h1>" in response["body"]
    assert shop.workflow.calls == [("success", "the-token", "approve")]
    assert shop.decisions.get("01JORDER")["delivered"] is True
    assert shop.orders.get("01JORDER").status == "APPROVED"


def test_a_base64_encoded_form_post_decides(shop):
    event = approve_form_post()
    assert event["isBase64Encoded"] is True  # a Function URL's form post, as on AWS

    assert_approved(invoke(event), shop)


def test_a_plain_form_post_decides(shop):
    event = approve_form_post()
    # The same post with its body as text: how a front door that does not encode form posts
    # (local mode before, a proxy in front of the function) hands it over.
    event["body"] = base64.b64decode(event["body"]).decode()
    event["isBase64Encoded"] = False

    assert_approved(invoke(event), shop)


def test_a_decision_recorded_but_not_delivered_is_said_so_and_the_link_delivers_it(shop):
    from tests.unit.test_decision_delivery import FailingOnce

    shop.workflow = FailingOnce()  # Step Functions throttled past the SDK's retries, once
    event = approve_form_post()

    failed = invoke(event)

    assert failed["statusCode"] == 503 and failed["headers"]["Retry-After"] == "10"
    assert "recorded, not yet delivered" in failed["body"] and "approved at 2026-11-24 12:00:00 UTC" in failed["body"]
    assert "Nothing was decided" not in failed["body"]
    page = invoke({**event, "requestContext": {**event["requestContext"],
                                               "http": {**event["requestContext"]["http"], "method": "GET"}},
                   "body": None, "isBase64Encoded": False})
    assert page["statusCode"] == 200 and "Deliver approval" in page["body"]

    assert_approved(invoke(approve_form_post()), shop)


def test_a_fault_before_anything_was_recorded_says_this_click_changed_nothing(shop):
    def throttled(operation):
        raise RuntimeError("throttled")  # any AWS failure before the put

    shop.decisions.before = throttled
    answer = invoke(approve_form_post())

    assert answer["statusCode"] == 503 and "this click changed nothing" in answer["body"]
    assert shop.workflow.calls == []
