"""Route matching for local API Gateway routes: `METHOD /path/{param}`."""

from __future__ import annotations

import pytest

from shop.local.deployer import Route


def route(method: str, path: str) -> Route:
    return Route(method=method, path=path, function_name="OrderApi")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/orders/abc", {"orderId": "abc"}),
        ("/orders/01JORDER0000000000000000AB", {"orderId": "01JORDER0000000000000000AB"}),
        ("/orders/a.b-c_d%20e", {"orderId": "a.b-c_d%20e"}),
        ("/orders/abc/x", None),
        ("/orders/abc/", None),
        ("/orders/", None),
        ("/orders", None),
        ("/ordersabc", None),
        ("/x/orders/abc", None),
        ("orders/abc", None),
    ],
)
def test_path_parameter(path, expected):
    assert route("GET", "/orders/{orderId}").match("GET", path) == expected


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "get", "HEAD"])
def test_another_method_does_not_match(method):
    assert route("GET", "/orders/{orderId}").match(method, "/orders/abc") is None


def test_literal_path_matches_exactly_with_no_parameters():
    orders = route("POST", "/orders")

    assert orders.match("POST", "/orders") == {}
    assert orders.match("POST", "/orders/") is None
    assert orders.match("POST", "/orders/abc") is None


def test_regex_characters_in_a_path_are_literal():
    health = route("GET", "/health.json")

    assert health.match("GET", "/health.json") == {}
    assert health.match("GET", "/healthXjson") is None


def test_several_parameters():
    items = route("GET", "/orders/{orderId}/items/{itemId}")

    assert items.match("GET", "/orders/o1/items/i2") == {"orderId": "o1", "itemId": "i2"}
    assert items.match("GET", "/orders/o1/items") is None
