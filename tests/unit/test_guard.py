"""Who local mode answers (shop/local/guard.py) and where a console action may return to."""

from __future__ import annotations

import pytest

from shop.local.console.app import back_to
from shop.local.guard import allowed_hosts, from_another_site, host_allowed, same_origin


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


@pytest.mark.parametrize(("method", "headers", "foreign"), [
    ("POST", {}, False),  # curl, the CLI, the AWS CLI
    ("POST", {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}, False),
    ("POST", {"Origin": "https://evil.example"}, True),
    ("POST", {"Sec-Fetch-Site": "cross-site"}, True),
    ("POST", {"Sec-Fetch-Site": "same-site"}, True),  # another port of 127.0.0.1
    ("POST", {"Sec-Fetch-Site": "none"}, False),  # typed into the address bar
    ("GET", {"Sec-Fetch-Site": "cross-site"}, False),  # a link from elsewhere: GET changes nothing
    ("GET", {"Origin": "https://evil.example"}, True),  # a cross-origin fetch()
    ("OPTIONS", {"Origin": "https://evil.example"}, True),  # a CORS preflight
])
def test_from_another_site(method, headers, foreign):
    assert from_another_site(method, headers, "127.0.0.1:8000") is foreign


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
