"""Who local mode answers (shop/local/guard.py) and where a console action may return to."""

from __future__ import annotations

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from shop.local.console.app import back_to
from shop.local.guard import (
    Guard,
    allowed_hosts,
    from_another_site,
    host_allowed,
    same_origin,
    signed_by_an_sdk,
)


def test_only_the_loopback_names_with_the_servers_port_are_allowed():
    assert allowed_hosts(8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LocalHost:8000", None):
        assert host_allowed(host, 8000), host
    for host in ("evil.example:8000", "evil.example", "127.0.0.1", "localhost", "127.0.0.1:8001",
                 "localhost.evil.example:8000", "127.0.0.2:8000", "0.0.0.0:8000", "[::1]", "", "127.0.0.1:8000 x"):
        assert not host_allowed(host, 8000), host
    assert not host_allowed("127.0.0.1:8000", None)  # not bound yet


def test_port_80_may_go_unnamed_as_browsers_leave_it_out():
    assert host_allowed("localhost", 80) and host_allowed("127.0.0.1:80", 80)


@pytest.mark.parametrize(("origin", "same"), [
    (None, True),
    ("http://127.0.0.1:8000", True),
    ("https://127.0.0.1:8000", False),
    ("http://127.0.0.1:8001", False),
    ("http://localhost:8000", False),
    ("http://127.0.0.1:8000.evil.example", False),
    ("null", False),
    ("", False),
])
def test_same_origin_is_scheme_host_and_port(origin, same):
    assert same_origin(origin, "127.0.0.1:8000") is same


@pytest.mark.parametrize(("headers", "foreign"), [
    ({}, False),  # curl, the CLI, the AWS CLI
    ({"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}, False),
    ({"Origin": "https://evil.example"}, True),  # a cross-origin fetch(), a form post, a CORS preflight
    ({"Sec-Fetch-Site": "cross-site"}, True),  # an <img> or a link of another site: a GET, refused too
    ({"Sec-Fetch-Site": "same-site"}, True),  # another port of 127.0.0.1
    ({"Sec-Fetch-Site": " Cross-Site "}, True),
    ({"Sec-Fetch-Site": "none"}, False),  # typed into the address bar, opened from the terminal
])
def test_from_another_site(headers, foreign):
    assert from_another_site(headers, "127.0.0.1:8000") is foreign


@pytest.mark.parametrize(("authorization", "signed"), [
    ("AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, "
     "Signature=ab", True),
    ("AWS4-ECDSA-P256-SHA256 Credential=local/20261201/s3/aws4_request, Signature=ab", True),
    ("AWS local:c2ln", True),  # S3's SigV2
    (None, False), ("", False), ("AWS4-HMAC-SHA256", False),
    ("Basic bG9jYWw6bG9jYWw=", False),  # what a browser could send from a URL's user:password
    ("Bearer x", False),
])
def test_a_signed_request_is_one_with_an_aws_authorization_header(authorization, signed):
    assert signed_by_an_sdk({} if authorization is None else {"Authorization": authorization}) is signed


SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/sts/aws4_request, Signature=ab"}


def _aws_port_answer(path: str, headers: dict[str, str]) -> tuple[int, bool]:
    """The guard of the AWS endpoint's port in front of an app that records whether it was reached."""
    reached = []

    def app(environ, start_response):
        reached.append(environ["PATH_INFO"])
        return Response("moto")(environ, start_response)

    response = Client(Guard(app, port=8001, aws_apis_only=True)).get(
        path, headers={"Host": "127.0.0.1:8001", **headers})
    return response.status_code, bool(reached)


@pytest.mark.parametrize("path", ["/moto-api/recorder/start-recording", "/moto-api/recorder/replay-recording",
                                  "/moto-api/data.json", "/moto-api/reset", "/moto-api/", "/moto-api",
                                  "/favicon.ico"])
def test_the_aws_port_never_serves_motos_own_pages_even_signed(path):
    assert _aws_port_answer(path, SIGNED) == (404, False)


def test_the_aws_port_serves_signed_requests_only_and_no_other_sites():
    assert _aws_port_answer("/", SIGNED) == (200, True)
    assert _aws_port_answer("/?Action=Publish", {}) == (403, False)  # an <img> of an old browser
    assert _aws_port_answer("/", {**SIGNED, "Sec-Fetch-Site": "cross-site"}) == (403, False)
    assert _aws_port_answer("/", {**SIGNED, "Sec-Fetch-Site": "same-site"}) == (403, False)


@pytest.mark.parametrize("value", ["/console/approvals", "/console/orders/01JDF12740C1HB5QE4DT9TWB3R",
                                   "/console/orders?status=AWAITING_APPROVAL", "/console/orders/"])
def test_an_action_returns_to_the_console_page_its_form_names(value):
    assert back_to(value, default="/console/orders/X") == value


@pytest.mark.parametrize("value", [
    None, "", "https://evil.example/", "//evil.example/console/", "/console", "/consolex/orders",
    "/console/approvals\r\nSet-Cookie: a=b", "/console/approvals\n", "/console/approvals\r",
    "/console/../outbox.json", "/console/%2e%2e/outbox.json", "/console/orders/\u20ac", "/console/a b",
    "/console/approvals#x", "/console\\\\evil.example",
])
def test_anything_else_returns_to_the_default(value):
    assert back_to(value, default="/console/orders/X") == "/console/orders/X"
