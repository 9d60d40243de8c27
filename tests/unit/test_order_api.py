"""The order API handler reads POST /orders' body in either encoding API Gateway sends: as text
(JSON) or base64-encoded (any other content type, or none). The event is the one local mode
builds; placing the order is stubbed, so only the handler's reading of the body is under test."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

from shop.handlers import order_api
from shop.local.events import http_api_event
from shop.local.functions import LocalLambdaContext
from tests.unit.samples import valid_body


@pytest.fixture
def placed(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The bodies the handler hands to `place_order`, which answers with a stand-in order."""
    bodies: list[Any] = []

    def place_order(body: Any, **_: Any) -> tuple[SimpleNamespace, bool]:
        bodies.append(body)
        order = SimpleNamespace(order_id="01JORDER", total="29.80", currency="EUR",
                                to_public=lambda: {"orderId": "01JORDER"})
        return order, True

    settings = SimpleNamespace(products_table="products", orders_table="orders", idempotency_table="keys",
                               state_machine_arn="machine", approval_timeout_seconds=60,
                               feedback_delay_seconds=60)
    monkeypatch.setattr(order_api, "runtime_settings", lambda: settings)
    for name in ("ProductsTable", "OrdersTable", "IdempotencyKeys", "Workflow"):
        monkeypatch.setattr(order_api, name, lambda _name: None)
    monkeypatch.setattr(order_api.logic, "place_order", place_order)
    return bodies


def order_post(data: bytes, content_type: str | None) -> dict[str, Any]:
    """The event local mode makes for a POST /orders."""
    request = EnvironBuilder(path="/orders", method="POST", data=data, content_type=content_type)
    return http_api_event(request.get_request(), raw_path="/orders", route_key="POST /orders")


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return order_api.lambda_handler(event, LocalLambdaContext(function_name="order-api"))


@pytest.mark.parametrize(("content_type", "encoded"), [
    ("application/json", False),
    (None, True),  # a client that sends no content type: base64 on AWS
    ("application/x-www-form-urlencoded", True),  # `curl -d '{...}'` without -H labels JSON a form
    ("text/plain; charset=utf-8", False),
])
def test_a_json_order_is_read_in_either_encoding(placed, content_type, encoded):
    body = valid_body()
    event = order_post(json.dumps(body).encode(), content_type)
    assert event["isBase64Encoded"] is encoded

    response = invoke(event)

    assert response["statusCode"] == 201, response["body"]
    assert placed == [body]


def test_a_form_post_is_refused_as_not_json(placed):
    form = b"customerEmail=ada%40example.com&items=1"

    response = invoke(order_post(form, "application/x-www-form-urlencoded"))

    assert response["statusCode"] == 400
    assert "not valid JSON" in json.loads(response["body"])["message"]
    assert placed == []


def test_a_body_that_is_not_utf8_is_the_clients_error(placed):
    response = invoke(order_post(b'{"customerName": "Zo\xeb"}', "application/json"))

    assert response["statusCode"] == 400  # not a 503: see why the handler does not use decoded_body
    assert json.loads(response["body"]) == {"message": "body: not valid UTF-8", "field": "body"}
    assert placed == []
