"""Issue 13, item 7: every handler logs a correlation id, so one request's or one order's lines
can be found together: API Gateway's and the Function URL's request id, and for the state
machine's steps the order id (which also names the execution). Events are the ones local mode
builds; every AWS call is stubbed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from shop.handlers import approval_callback, approval_request, customer_email, order_api
from shop.local.events import function_url_event, http_api_event
from shop.local.functions import LocalLambdaContext

ORDER = {"orderId": "01JDF12740C1HB5QE4DT9TWB3R", "customerEmail": "ada@example.com"}


def context(name: str) -> LocalLambdaContext:
    return LocalLambdaContext(function_name=name)


def test_the_order_api_logs_api_gateways_request_id():
    request = EnvironBuilder(path="/nowhere", method="GET").get_request()
    event = http_api_event(request, raw_path="/nowhere", route_key="$default")

    response = order_api.lambda_handler(event, context("order-api"))

    assert response["statusCode"] == 404
    assert order_api.logger.get_correlation_id() == event["requestContext"]["requestId"]


def test_the_approval_callback_logs_the_function_url_request_id():
    request = EnvironBuilder(path="/nowhere", method="GET").get_request()
    event = function_url_event(request, raw_path="/nowhere", url_id="approval-callback")

    approval_callback.lambda_handler(event, context("approval-callback"))

    assert approval_callback.logger.get_correlation_id() == event["requestContext"]["requestId"]


def test_the_approval_request_step_logs_the_order_id(monkeypatch: pytest.MonkeyPatch):
    settings = SimpleNamespace(approval_url="https://x", owner_topic_arn="topic", link_signing_secret="s",
                               orders_table="orders")
    monkeypatch.setattr(approval_request, "runtime_settings", lambda: settings)
    monkeypatch.setattr(approval_request, "signing_key", lambda secret_id: b"k" * 32)
    monkeypatch.setattr(approval_request, "OrdersTable", lambda name: None)
    monkeypatch.setattr(approval_request, "request_approval", lambda *args, **kwargs: "message-1")
    event: dict[str, Any] = {"order": ORDER, "taskToken": "token", "approvalTimeoutSeconds": 60,
                             "waitingSince": "2026-11-24T12:00:00Z"}

    approval_request.lambda_handler(event, context("approval-request"))

    assert approval_request.logger.get_correlation_id() == ORDER["orderId"]


def test_the_customer_email_step_logs_the_order_id(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(customer_email, "runtime_settings", lambda: SimpleNamespace(sender_email="shop@example.com"))
    monkeypatch.setattr(customer_email, "send_customer_email", lambda *args, **kwargs: "message-1")

    result = customer_email.lambda_handler({"template": "order_received", "order": ORDER}, context("customer-email"))

    assert result == {"messageId": "message-1"}
    assert customer_email.logger.get_correlation_id() == ORDER["orderId"]
