"""Who local mode answers (shop/local/guard.py)."""

from __future__ import annotations

import pytest

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

