"""Werkzeug requests as the events a Lambda Function URL and an API Gateway HTTP API (payload format
2.0) send, checked against AWS's documented sample events and Powertools' parser models; and handler
results back as HTTP responses."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, LambdaFunctionUrlEvent
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model, LambdaFunctionUrlModel
from werkzeug.test import EnvironBuilder

from shop.local.events import function_url_event, http_api_event, to_response
from shop.local.template import ACCOUNT_ID

AWS_EVENTS = Path(__file__).parent / "samples" / "aws_events"  # README.md there gives each one's source
HOST = "127.0.0.1:8765"  # the local server, as a browser names it in the Host header
URL_ID = "approval-callback"
FORM = "orderId=01JORDER&result=approve&note=Zo%C3%AB+%26+co"


def request(path: str = "/orders", **kwargs):
    kwargs.setdefault("base_url", f"http://{HOST}")
    return EnvironBuilder(path=path, **kwargs).get_request()


def url_event(req, raw_path: str = "/") -> dict[str, Any]:
    return function_url_event(req, raw_path=raw_path, url_id=URL_ID)


def api_event(req, raw_path: str = "/orders", route_key: str = "POST /orders", **kwargs) -> dict[str, Any]:
    return http_api_event(req, raw_path=raw_path, route_key=route_key, **kwargs)


SOURCES = [pytest.param(url_event, id="function-url"), pytest.param(api_event, id="http-api")]


def test_http_api_event_for_a_get():
    event = http_api_event(
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
    assert "stageVariables" not in event
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["http"]["path"] == "/orders/abc"
    assert context["http"]["userAgent"] == "test/1.0"
    assert context["routeKey"] == "GET /orders/{orderId}"
    assert context["accountId"] == ACCOUNT_ID  # an HTTP API names its owner, even with no authorizer
    assert context["stage"] == "$default"
    assert "authorizer" not in context  # the shop's routes have none
    assert isinstance(context["timeEpoch"], int)
    assert context["requestId"]
    assert json.loads(json.dumps(event)) == event


def test_http_api_route_without_parameters_has_no_path_parameters():
    event = http_api_event(request("/products"), raw_path="/products", route_key="GET /products",
                           path_parameters={})

    assert "pathParameters" not in event


def test_function_url_event_under_auth_none():
    event = url_event(request("/approval-callback/"))

    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"  # Lambda's placeholder: Function URLs have no routes
    assert event["rawPath"] == "/"
    assert event["rawQueryString"] == ""
    for absent in ("queryStringParameters", "pathParameters", "stageVariables", "body", "cookies"):
        assert absent not in event
    context = event["requestContext"]
    assert context["accountId"] == "anonymous"  # auth NONE: no caller, so no account
    assert context["apiId"] == URL_ID
    assert context["routeKey"] == "$default"
    assert context["stage"] == "$default"
    assert "authorizer" not in context and "authentication" not in context
    assert context["domainName"] == "127.0.0.1"  # the host the request named, without the port
    assert context["domainPrefix"] == "127"  # its first label, as `<url-id>` is on AWS


@pytest.mark.parametrize(("host", "domain", "prefix"), [
    ("localhost:8000", "localhost", "localhost"),
    ("shop.example.com", "shop.example.com", "shop"),
    ("abc123.lambda-url.eu-west-1.on.aws", "abc123.lambda-url.eu-west-1.on.aws", "abc123"),
])
def test_domain_name_and_prefix_follow_the_host(host, domain, prefix):
    event = url_event(request("/", headers={"Host": host}))

    assert event["requestContext"]["domainName"] == domain
    assert event["requestContext"]["domainPrefix"] == prefix


def test_query_parameters_are_decoded_once_and_repeated_keys_joined():
    raw = "orderId=abc&token=a%2Bb%2Fc%3D%3D%20d&x=1&x=2&empty=&pct=%252B&name=Zo%C3%AB"

    event = url_event(request("/cb", query_string=raw), raw_path="/cb")

    assert event["rawQueryString"] == raw  # as sent: no leading "?", nothing decoded
    assert event["queryStringParameters"] == {
        "orderId": "abc",
        "token": "a+b/c== d",
        "x": "1,2",
        "empty": "",
        "pct": "%2B",  # decoded once, not twice
        "name": "Zoë",
    }


@pytest.mark.parametrize("make_event", SOURCES)
def test_headers_are_lower_cased(make_event):
    event = make_event(
        request(headers={"X-Custom-Header": "Yes", "Idempotency-Key": "k-1"}, content_type="application/json",
                data=b"{}", method="POST"),
    )

    headers = event["headers"]
    assert headers["x-custom-header"] == "Yes"
    assert headers["idempotency-key"] == "k-1"
    assert headers["content-type"] == "application/json"
    assert headers["host"] == HOST
    assert all(name == name.lower() for name in headers)


@pytest.mark.parametrize("make_event", SOURCES)
def test_forwarded_headers_are_added_as_aws_does(make_event):
    event = make_event(request(environ_base={"REMOTE_ADDR": "127.0.0.1", "SERVER_PORT": "8765"}))

    headers = event["headers"]
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-port"] == "8765"
    assert headers["x-forwarded-proto"] == "http"  # what the local server speaks; AWS says https


def test_forwarded_for_appends_the_caller_to_what_the_client_sent():
    event = url_event(request(headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
                              environ_base={"REMOTE_ADDR": "127.0.0.1"}))

    assert event["headers"]["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert event["headers"]["x-forwarded-proto"] == "http"  # set by the front door, not the client


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_method_and_utf8_json_body(method):
    payload = '{"customerName": "Zoë"}'

    event = api_event(request(method=method, data=payload.encode(), content_type="application/json"))

    assert event["requestContext"]["http"]["method"] == method
    assert event["body"] == payload
    assert event["isBase64Encoded"] is False


# --- which bodies arrive base64-encoded (see _TEXT_MEDIA_TYPES in shop/local/events.py) -------------

TEXT_BODIES = [
    pytest.param("application/json", '{"a": "Zoë"}', id="json"),
    pytest.param("application/json; charset=utf-8", '{"a": 1}', id="json-with-charset"),
    pytest.param("text/plain", "Zoë & co", id="text-plain"),
    pytest.param("text/html; charset=UTF-8", "<p>hi</p>", id="text-html"),
    pytest.param("Application/XML", "<a/>", id="xml-any-case"),
    pytest.param("application/javascript", "var a = 1;", id="javascript"),
]
ENCODED_BODIES = [
    pytest.param("application/x-www-form-urlencoded", FORM.encode(), id="form"),
    pytest.param("multipart/form-data; boundary=x", b"--x\r\n\r\nvalue\r\n--x--\r\n", id="multipart"),
    pytest.param("application/octet-stream", bytes(range(256)), id="binary"),
    pytest.param("image/png", b"\x89PNG\r\n\x1a\n\x00", id="png"),
    pytest.param("application/problem+json", b'{"a": 1}', id="json-suffix-is-not-json"),
    pytest.param(None, b'{"a": 1}', id="no-content-type"),
]


@pytest.mark.parametrize("make_event", SOURCES)
@pytest.mark.parametrize(("content_type", "text"), TEXT_BODIES)
def test_a_text_body_arrives_as_text(make_event, content_type, text):
    event = make_event(request(method="POST", data=text.encode(), content_type=content_type))

    assert event["isBase64Encoded"] is False
    assert event["body"] == text


@pytest.mark.parametrize("make_event", SOURCES)
@pytest.mark.parametrize(("content_type", "data"), ENCODED_BODIES)
def test_any_other_body_arrives_base64_encoded(make_event, content_type, data):
    event = make_event(request(method="POST", data=data, content_type=content_type))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"], validate=True) == data


def test_a_form_post_to_a_function_url_arrives_base64_encoded():
    form_post = request("/", method="POST", data=FORM, content_type="application/x-www-form-urlencoded")

    event = url_event(form_post)

    assert event["isBase64Encoded"] is True
    assert event["body"] == base64.b64encode(FORM.encode()).decode()
    assert LambdaFunctionUrlEvent(event).decoded_body == FORM  # what a Powertools handler reads


def test_a_json_post_to_a_function_url_arrives_as_text():
    event = url_event(request("/", method="POST", data='{"a": 1}', content_type="application/json"))

    assert event["isBase64Encoded"] is False
    assert LambdaFunctionUrlEvent(event).decoded_body == '{"a": 1}'


def test_a_form_post_to_the_http_api_arrives_base64_encoded():
    event = api_event(request(method="POST", data=FORM, content_type="application/x-www-form-urlencoded"))

    assert event["isBase64Encoded"] is True
    assert APIGatewayProxyEventV2(event).decoded_body == FORM


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
@pytest.mark.parametrize("data", [b"\xff\x00\x01", b'{"name": "Zo\xeb"}', bytes(range(256))])
def test_a_body_that_is_not_utf8_is_base64_encoded_whatever_its_type(content_type, data):
    event = api_event(request(method="POST", data=data, content_type=content_type))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == data


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json", None])
def test_an_empty_body_is_left_out(content_type):
    event = url_event(request("/", method="POST", data=b"", content_type=content_type))

    assert "body" not in event
    assert event["isBase64Encoded"] is False


@pytest.mark.parametrize("make_event", SOURCES)
def test_cookies_are_listed_and_not_repeated_as_a_header(make_event):
    event = make_event(request(headers={"Cookie": 'a=1; b=two; c="quoted"'}))

    assert event["cookies"] == ["a=1", "b=two", 'c="quoted"']  # as sent, not unquoted
    assert "cookie" not in event["headers"]


# --- Powertools' parser models and AWS's sample events ------------------------------------------


def full_request(path: str):
    """A request that fills every optional part the sample events show: query, cookies, body."""
    return request(path, method="POST", query_string="parameter1=value1&parameter1=value2&parameter2=value",
                   headers={"Cookie": "cookie1=a; cookie2=b", "User-Agent": "agent"},
                   data=FORM, content_type="application/x-www-form-urlencoded")


def test_function_url_events_validate_against_powertools_model():
    for event in (url_event(full_request("/my/path"), "/my/path"), url_event(request("/"))):
        parsed = LambdaFunctionUrlModel.model_validate(event)

        assert parsed.requestContext.accountId == "anonymous"
        assert parsed.requestContext.authorizer is None
        assert parsed.pathParameters is None


def test_http_api_events_validate_against_powertools_model():
    for event in (api_event(full_request("/orders/abc"), "/orders/abc", "POST /orders/{orderId}",
                            path_parameters={"orderId": "abc"}),
                  api_event(request("/products"), "/products", "GET /products")):
        parsed = APIGatewayProxyEventV2Model.model_validate(event)

        assert parsed.requestContext.accountId == ACCOUNT_ID


# Maps whose keys are the request's own (header names, parameter names): compared as str -> str.
FREE_FORM = {"headers", "queryStringParameters", "pathParameters", "stageVariables"}


def shape(value: Any, key: str = "") -> Any:
    """The keys at every level and the type of every value, without the values."""
    if isinstance(value, dict) and key in FREE_FORM:
        return "dict[str, str]" if all(isinstance(v, str) for v in value.values()) else "dict[str, ?]"
    if isinstance(value, dict):
        return {name: shape(inner, name) for name, inner in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(shape(inner)) for inner in value})
    return type(value).__name__


def aws_sample(name: str, *, left_out: set[str]) -> Any:
    """AWS's documented sample, without the keys that AWS sends only in setups the shop has not;
    `left_out` names them as dotted paths."""
    sample = json.loads((AWS_EVENTS / name).read_text(encoding="utf-8"))
    for path in left_out:
        *parents, last = path.split(".")
        node = sample
        for parent in parents:
            node = node[parent]
        del node[last]
    return shape(sample)


def test_function_url_event_has_the_shape_of_aws_sample():
    expected = aws_sample("function_url_request.json", left_out={
        # The sample is for auth type AWS_IAM; under NONE the doc's table says authorizer is null,
        # and authentication, pathParameters and stageVariables are "null or excluded": left out.
        "requestContext.authorizer", "requestContext.authentication", "pathParameters", "stageVariables",
    })

    assert shape(url_event(full_request("/my/path"), "/my/path")) == expected


def test_http_api_event_has_the_shape_of_aws_sample():
    expected = aws_sample("http_api_v2_request.json", left_out={
        "requestContext.authentication",  # only with mutual TLS
        "requestContext.authorizer",  # only when the route has an authorizer; the shop's have none
        "stageVariables",  # only when the stage has some; the shop's $default stage has none
    })
    event = api_event(full_request("/orders/abc"), "/orders/abc", "POST /orders/{orderId}",
                      path_parameters={"orderId": "abc"})

    assert shape(event) == expected


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
