"""Werkzeug requests as API Gateway HTTP API (payload format 2.0) events, and handler results
back as HTTP responses."""

from __future__ import annotations

import base64
import json

import pytest
from werkzeug.test import EnvironBuilder

from shop.local.events import http_event, to_response
from shop.local.template import ACCOUNT_ID


def request(path: str = "/orders", **kwargs):
    return EnvironBuilder(path=path, **kwargs).get_request()


def test_event_shape_for_a_get():
    event = http_event(
        request("/orders/abc", query_string="x=1", headers={"User-Agent": "test/1.0"}),
        raw_path="/orders/abc",
        route_key="GET /orders/{orderId}",
        path_parameters={"orderId": "abc"},
    )

    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /orders/{orderId}"
    assert event["rawPath"] == "/orders/abc"
    assert event["rawQueryString"] == "x=1"
    assert event["pathParameters"] == {"orderId": "abc"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/orders/abc"
    assert context["http"]["userAgent"] == "test/1.0"
    assert context["routeKey"] == "GET /orders/{orderId}"
    assert context["accountId"] == ACCOUNT_ID
    assert context["stage"] == "$default"
    assert isinstance(context["timeEpoch"], int)
    assert context["requestId"]
    assert json.loads(json.dumps(event)) == event


def test_defaults_without_query_path_parameters_or_body():
    event = http_event(request("/"), raw_path="/")

    assert event["routeKey"] == "$default"
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "pathParameters" not in event
    assert "body" not in event
    assert "cookies" not in event


def test_query_parameters_are_decoded_once_and_repeated_keys_joined():
    raw = "orderId=abc&token=a%2Bb%2Fc%3D%3D%20d&x=1&x=2&empty=&pct=%252B&name=Zo%C3%AB"

    event = http_event(request("/cb", query_string=raw), raw_path="/cb")

    assert event["rawQueryString"] == raw
    assert event["queryStringParameters"] == {
        "orderId": "abc",
        "token": "a+b/c== d",
        "x": "1,2",
        "empty": "",
        "pct": "%2B",  # decoded once, not twice
        "name": "Zoë",
    }


def test_headers_are_lower_cased():
    event = http_event(
        request(headers={"X-Custom-Header": "Yes", "Idempotency-Key": "k-1"}, content_type="application/json",
                data=b"{}", method="POST"),
        raw_path="/orders",
    )

    headers = event["headers"]
    assert headers["x-custom-header"] == "Yes"
    assert headers["idempotency-key"] == "k-1"
    assert headers["content-type"] == "application/json"
    assert all(name == name.lower() for name in headers)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_method_and_utf8_body(method):
    payload = '{"customerName": "Zoë"}'

    event = http_event(request(method=method, data=payload.encode()), raw_path="/orders")

    assert event["requestContext"]["http"]["method"] == method
    assert event["body"] == payload
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize("data", [b"\xff\x00\x01", b'{"name": "Zo\xeb"}', bytes(range(256))])
def test_non_utf8_body_is_base64_encoded(data):
    event = http_event(request(method="POST", data=data), raw_path="/orders")

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


def test_cookies_are_listed():
    event = http_event(request(headers={"Cookie": "a=1; b=two"}), raw_path="/")

    assert event["cookies"] == ["a=1", "b=two"]


# --- to_response ------------------------------------------------------------------------------


def test_result_with_status_code_maps_every_field():
    response = to_response({
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "Location": "/orders/abc", "X-Count": 5},
        "body": '{"orderId": "abc"}',
        "cookies": ["a=1; Path=/", "b=2"],
    })

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Location"] == "/orders/abc"
    assert response.headers["X-Count"] == "5"
    assert response.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2"]
    assert response.get_data() == b'{"orderId": "abc"}'


def test_base64_body_is_decoded():
    data = bytes(range(256))

    response = to_response({"statusCode": 200, "body": base64.b64encode(data).decode(), "isBase64Encoded": True})

    assert response.get_data() == data


def test_utf8_body_is_encoded():
    response = to_response({"statusCode": "200", "body": "Zoë", "headers": {"Content-Type": "text/plain"}})

    assert response.status_code == 200
    assert response.get_data() == "Zoë".encode()


@pytest.mark.parametrize("body", [None, ""])
def test_no_body(body):
    response = to_response({"statusCode": 204, "body": body})

    assert response.status_code == 204
    assert response.get_data() == b""


def test_multi_value_headers_are_all_sent():
    response = to_response({"statusCode": 200, "multiValueHeaders": {"X-A": ["1", 2]}})

    assert response.headers.getlist("X-A") == ["1", "2"]


@pytest.mark.parametrize(
    "result",
    [{"orderId": "abc", "total": "1.00"}, [1, 2], "text", None, 3, {"body": "no status"}],
    ids=repr,
)
def test_result_without_status_code_is_200_json(result):
    response = to_response(result)

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data()) == result
