"""A corpus of hostile inputs against the order API and the approval links.

Each refused input gets a clear answer (status, JSON `message`/`field` for the API, an HTML page
with a title for the links) and changes nothing: no order stored, no execution started, nothing
sent, and the orders awaiting approval are still waiting, undecided. A few hostile-looking
inputs are legitimate orders: those are accepted, stored verbatim and shown escaped.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import boto3
import pytest
import requests

from shop.settings import Env
from tests.support import DEMO_PRODUCT, DEMO_PRODUCT_2, order_body, running_shop

UNKNOWN_PRODUCT = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"  # a well-formed ULID no catalog has
OTHER_ORDER_ID = "01JDF00000000000000000000Z"
IDEMPOTENCY_KEY = "hostile-inputs-victim-a"


# --- the shop under attack, and what "nothing changed" means ----------------------------------


@dataclass
class Victim:
    order_id: str
    links: dict[str, str]

    def param(self, decision: str, name: str) -> str:
        """A query parameter of one of its links, raw (still URL-encoded)."""
        return dict(_pairs(self.links[decision]))[name]

    @property
    def token(self) -> str:
        return unquote(self.param("approve", "token"))


@dataclass
class World:
    shop: Any  # tests/e2e/conftest.py's ShopClient
    a: Victim  # awaiting approval, placed with IDEMPOTENCY_KEY
    b: Victim  # awaiting approval
    approved: Victim  # approved, its workflow finished
    rejected: Victim  # rejected, deleted, its workflow finished
    clients: dict[str, Any] = field(default_factory=dict)  # created once: a case stays cheap to check

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = boto3.client(service)
        return self.clients[service]

    @property
    def url(self) -> str:
        return self.shop.url

    @property
    def victims(self) -> tuple[Victim, ...]:
        return (self.a, self.b, self.approved, self.rejected)

    def executions(self) -> dict[str, str]:
        """Every execution of the state machine, by name (the order id), with its status."""
        pages = self.client("stepfunctions").get_paginator("list_executions").paginate(
            stateMachineArn=self.shop.shop.stack.outputs["StateMachineArn"]
        )
        return {e["name"]: e["status"] for page in pages for e in page["executions"]}

    def _count(self, table: str) -> int:
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=table, Select="COUNT")
        return sum(page["Count"] for page in pages)

    def _item(self, table: str, order_id: str) -> dict[str, Any] | None:
        return self.client("dynamodb").get_item(
            TableName=table, Key={"orderId": {"S": order_id}}, ConsistentRead=True
        ).get("Item")

    def snapshot(self) -> dict[str, Any]:
        """Everything a refused request must leave as it was."""
        orders_table = self.shop.shop.stack.outputs["OrdersTableName"]
        decisions_table = self.shop.shop.stack.environment[Env.DECISIONS_TABLE]
        return {
            "orders": self._count(orders_table),
            "idempotency keys": self._count(self.shop.shop.stack.environment[Env.IDEMPOTENCY_TABLE]),
            "outbox": len(self.shop.shop.outbox.entries()),
            "executions": self.executions(),
            "victims": {v.order_id: self._item(orders_table, v.order_id) for v in self.victims},
            "decisions": {v.order_id: self._item(decisions_table, v.order_id) for v in self.victims},
        }

    def assert_waiting(self, snapshot: dict[str, Any]) -> None:
        """Victims A and B still await the owner: status, execution, no decision."""
        for victim in (self.a, self.b):
            assert snapshot["victims"][victim.order_id]["status"] == {"S": "AWAITING_APPROVAL"}
            assert snapshot["executions"][victim.order_id] == "RUNNING"
            assert snapshot["decisions"][victim.order_id] is None

    def assert_unchanged_since(self, before: dict[str, Any]) -> None:
        after = self.snapshot()
        assert after == before
        self.assert_waiting(after)


@pytest.fixture(scope="module")
def shop(synthesized):
    """A shop whose victims wait for the owner all through this module: its two hundred requests
    take longer than the usual one-minute deadline on a busy machine, and a victim that timed out
    would look like one a hostile request changed."""
    with running_shop(synthesized, approval_timeout_seconds=3600, feedback_delay_seconds=1) as shop:
        yield shop


@pytest.fixture(scope="module")
def world(shop) -> World:
    response = requests.post(f"{shop.url}/orders", json=order_body(), headers={"Idempotency-Key": IDEMPOTENCY_KEY},
                             timeout=10)
    assert response.status_code == 201, response.text
    a = response.json()["orderId"]
    b = shop.place_ok(customerName="Grace Hopper")["orderId"]
    approved = shop.place_ok(customerName="Katherine Johnson")["orderId"]
    rejected = shop.place_ok(customerName="Margaret Hamilton")["orderId"]
    victims = [Victim(order_id, shop.links(order_id)) for order_id in (a, b, approved, rejected)]
    for victim in victims:
        shop.wait_for_status(victim.order_id, "AWAITING_APPROVAL")

    world = World(shop, *victims)
    assert requests.post(world.approved.links["approve"], timeout=10).status_code == 200
    assert requests.post(world.rejected.links["reject"], timeout=10).status_code == 200
    assert shop.finished_execution(approved)["output"]["outcome"] == "APPROVED"
    assert shop.finished_execution(rejected)["output"]["outcome"] == "REJECTED"
    shop.wait_for_status(approved, "FEEDBACK_REQUESTED")
    shop.wait_for_status(rejected, None)
    for victim in (world.a, world.b):  # the same facts as the snapshot, through the API
        assert shop.status(victim.order_id) == "AWAITING_APPROVAL"
        assert shop.execution(victim.order_id)["status"] == "RUNNING"
    world.assert_waiting(world.snapshot())
    return world


# --- the order API ----------------------------------------------------------------------------

_NO_JSON = object()


@dataclass(frozen=True)
class Api:
    """One hostile request to the order API and the refusal it must get."""

    status: int
    field: str | None
    message: str  # a regular expression the JSON `message` must contain
    json: Any = _NO_JSON
    data: str | bytes | None = None
    method: str = "POST"
    path: str = "/orders"
    headers: dict[str, str] = field(default_factory=dict)


def body_without(*path: str | int) -> dict[str, Any]:
    body: Any = order_body()
    root = body
    for step in path[:-1]:
        body = body[step]
    del body[path[-1]]
    return root


def address(**changes: Any) -> dict[str, Any]:
    return {**order_body()["shippingAddress"], **changes}


def items(*lines: dict[str, Any]) -> dict[str, Any]:
    return order_body(items=list(lines))


def line(product_id: str = DEMO_PRODUCT, quantity: Any = 1, **extra: Any) -> dict[str, Any]:
    return {"productId": product_id, "quantity": quantity, **extra}


def refused(status: int, field_name: str | None, message: str, case_id: str, *, bug: str | None = None, **request):
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {bug}")] if bug else []
    return pytest.param(Api(status, field_name, message, **request), id=case_id, marks=marks)


def bad_email(reason: str, case_id: str, email: str):
    return refused(400, "customerEmail", f"^customerEmail is not an email address we can send to: .*{reason}", case_id,
                   json=order_body(customerEmail=email))


def one_line(field_name: str, named: str, case_id: str, text: str):
    """A one-line field holding `text`, refused with the field and the character named, in words."""
    if field_name.startswith("shippingAddress."):
        body = order_body(shippingAddress=address(**{field_name.removeprefix("shippingAddress."): text}))
    else:
        body = order_body(**{field_name: text})
    return refused(400, field_name, "^" + re.escape(f"{field_name} must be one line of plain text, but it contains "
                                                    f"{named}") + "$", case_id, json=body)


def valid_json(**overrides: Any) -> str:
    return json.dumps(order_body(**overrides))


API_CASES = [
    # The body itself.
    refused(400, "body", "not valid JSON", "malformed-json", data="{not json"),
    refused(400, "body", "not valid JSON", "truncated-json", data=valid_json()[:-1]),
    refused(400, "body", "not valid JSON", "trailing-garbage", data=valid_json() + "x"),
    refused(400, "body", "not valid JSON", "utf8-bom", data="\ufeff" + valid_json()),
    refused(400, "body", "not valid JSON", "single-quotes", data=valid_json().replace('"', "'")),
    refused(400, "body", "a JSON object is required", "empty-body", data=""),
    refused(400, "body", "not valid JSON", "whitespace-body", data="  \n "),
    refused(400, "body", "not valid JSON", "form-encoded-body", data="customerEmail=ada%40example.com&items=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"}),
    refused(400, "body", "must be object", "json-array", data="[]"),
    refused(400, "body", "must be object", "json-array-of-order", data=json.dumps([order_body()])),
    refused(400, "body", "must be object", "json-string", data='"an order please"'),
    refused(400, "body", "must be object", "json-number", data="42"),
    refused(400, "body", "must be object", "json-true", data="true"),
    refused(400, "body", "a JSON object is required|must be object", "json-null", data="null"),
    refused(400, "body", "larger than 65536 bytes", "body-over-64KiB",
            data=json.dumps(order_body(customerName="x" * 70_000))),
    refused(400, "body", "larger than 65536 bytes", "body-over-64KiB-whitespace", data=valid_json() + " " * 65536),
    refused(400, "body", "not valid JSON|UTF-8", "invalid-utf8", data=b"\xff\xfe{\x00}"),
    refused(400, "body", "not valid JSON|nest|deep", "deeply-nested-json", data="[" * 30_000 + "]" * 30_000),
    refused(400, "body", "not valid JSON|digits", "integer-with-5000-digits",
            data=valid_json(items=[line(quantity=7)]).replace('"quantity": 7', '"quantity": 1' + "0" * 5000)),
    # Missing fields, each one.
    refused(400, "customerEmail", "customerEmail is required", "missing-customerEmail",
            json=body_without("customerEmail")),
    refused(400, "customerName", "customerName is required", "missing-customerName", json=body_without("customerName")),
    refused(400, "shippingAddress", "shippingAddress is required", "missing-shippingAddress",
            json=body_without("shippingAddress")),
    refused(400, "items", "items is required", "missing-items", json=body_without("items")),
    refused(400, "shippingAddress.country", "is required", "missing-country",
            json=body_without("shippingAddress", "country")),
    refused(400, "shippingAddress.streetAddress", "is required", "missing-streetAddress",
            json=body_without("shippingAddress", "streetAddress")),
    refused(400, "items[0].productId", "is required", "missing-productId", json=items({"quantity": 1})),
    refused(400, "items[0].quantity", "is required", "missing-quantity", json=items({"productId": DEMO_PRODUCT})),
    refused(400, "customerEmail", "customerEmail is required", "empty-object", json={}),
    # Extra fields.
    refused(400, "admin", "admin is not a known field", "extra-top-level-field", json=order_body(admin=True)),
    refused(400, "total", "total is not a known field", "extra-field-total", json=order_body(total="0.01")),
    refused(400, "__proto__", "is not a known field", "extra-field-__proto__",
            json=order_body(__proto__={"admin": True})),
    refused(400, "shippingAddress.postcode", "is not a known field", "extra-field-in-address",
            json=order_body(shippingAddress=address(postcode="SW1"))),
    refused(400, "items[0].unitPrice", "is not a known field", "extra-field-in-item",
            json=items(line(unitPrice="0.01"))),
    # Wrong types.
    refused(400, "customerEmail", "must be string", "email-as-number", json=order_body(customerEmail=42)),
    refused(400, "customerEmail", "must be string", "email-as-nosql-operator",
            json=order_body(customerEmail={"$ne": None})),
    refused(400, "customerName", "must be string", "name-as-list", json=order_body(customerName=["Ada"])),
    refused(400, "shippingAddress", "must be object", "address-as-string",
            json=order_body(shippingAddress="12 St James Square, London")),
    refused(400, "shippingAddress.city", "must be string", "city-as-null", json=order_body(shippingAddress=address(city=None))),
    refused(400, "items", "must be array", "items-as-object", json=order_body(items={"productId": DEMO_PRODUCT, "quantity": 1})),
    refused(400, "items", "must be array", "items-as-null", json=order_body(items=None)),
    refused(400, "items[0]", "must be object", "item-as-string", json=items(DEMO_PRODUCT)),
    refused(400, "items[0].quantity", "must be integer", "quantity-as-string", json=items(line(quantity="2"))),
    refused(400, "items[0].quantity", "must be integer", "quantity-1.5", json=items(line(quantity=1.5))),
    refused(400, "items[0].quantity", "must be integer", "quantity-2.0", json=items(line(quantity=2.0))),
    refused(400, "items[0].quantity", "must be integer", "quantity-true", json=items(line(quantity=True))),
    refused(400, "items[0].quantity", "must be integer", "quantity-null", json=items(line(quantity=None))),
    refused(400, "items[0].quantity", "must be integer", "quantity-NaN",
            data=valid_json(items=[line(quantity=7)]).replace('"quantity": 7', '"quantity": NaN')),
    refused(400, "items[0].quantity", "must be integer", "quantity-Infinity",
            data=valid_json(items=[line(quantity=7)]).replace('"quantity": 7', '"quantity": 1e999')),
    refused(400, "items[0].productId", "must be string", "productId-as-number", json=items(line(product_id=1))),
    refused(400, "items[0].productId", "must be string", "productId-as-nosql-operator",
            json=items(line(product_id={"$gt": ""}))),
    # Out of range.
    refused(400, "items[0].quantity", "bigger than or equal to 1", "quantity-0", json=items(line(quantity=0))),
    refused(400, "items[0].quantity", "bigger than or equal to 1", "quantity-minus-1", json=items(line(quantity=-1))),
    refused(400, "items[0].quantity", "smaller than or equal to 1000", "quantity-1001", json=items(line(quantity=1001))),
    refused(400, "items[0].quantity", "smaller than or equal to 1000", "quantity-10e30",
            json=items(line(quantity=10**30))),
    refused(400, "items[1].quantity", "smaller than or equal to 1000", "second-line-quantity-1001",
            json=items(line(), line(DEMO_PRODUCT_2, 1001))),
    # Products.
    refused(422, "items[0].productId", "no product with id", "unknown-product", json=items(line(UNKNOWN_PRODUCT))),
    refused(422, "items[1].productId", "no product with id", "unknown-second-product",
            json=items(line(), line(UNKNOWN_PRODUCT))),
    refused(400, "items[0].productId", "must be a product id", "productId-lowercase",
            json=items(line(DEMO_PRODUCT.lower()))),
    refused(400, "items[0].productId", "must be a product id", "productId-25-chars", json=items(line(DEMO_PRODUCT[:-1]))),
    refused(400, "items[0].productId", "must be a product id", "productId-27-chars", json=items(line(DEMO_PRODUCT + "0"))),
    refused(400, "items[0].productId", "must be a product id", "productId-with-U", json=items(line("U" * 26))),
    refused(400, "items[0].productId", "must be a product id", "productId-sql-injection",
            json=items(line("' OR '1'='1")), ),
    refused(400, "items[0].productId", "must be a product id", "productId-trailing-newline",
            json=items(line(DEMO_PRODUCT + "\n"))),
    refused(400, "items[1].productId", "listed twice", "duplicate-lines", json=items(line(), line(quantity=3))),
    refused(400, "items", "at least 1 items", "empty-items", json=order_body(items=[])),
    refused(400, "items", "less than or equal to 50 items", "51-items", json=order_body(items=[line() for _ in range(51)])),
    # Emails: refused as SES would refuse them, the reason in words, never a regular expression.
    bad_email("it must have exactly one @", "email-a", "a"),
    bad_email("its domain needs a dot", "email-a@b", "a@b"),
    bad_email("it must have exactly one @", "email-a@@b.c", "a@@b.c"),
    bad_email("it contains a space", "email-space-at", " @x.y"),
    bad_email("it must have exactly one @", "email-empty", ""),
    bad_email("it is longer than 254 characters", "email-300-chars", "x" * 300 + "@a.bc"),
    bad_email(r"it contains a line break \(U\+000D\)", "email-header-injection",
              "ada@example.com\r\nBcc: everyone@example.com"),
    bad_email("it must have exactly one @", "email-two-addresses", "ada@example.com,eve@example.com"),
    bad_email("the part before the @ may hold only letters", "email-comma", "ada,eve@example.com"),
    bad_email(r"it contains a control character \(U\+0000\)", "email-ending-in-nul", "ada@example.com\x00"),
    bad_email(r"it contains a control character \(U\+001B\)", "email-terminal-escape", "ada\x1b]0;pwned\x07@example.com"),
    bad_email(r"it contains a control character \(U\+0007\)", "email-bel", "ada\x07@example.com"),
    bad_email(r"it contains a line break \(U\+0085\)", "email-nel", "ada@example.com\x85"),
    bad_email(r"it contains a bidirectional text control \(U\+202E\)", "email-rlo", "ada@\u202emoc.elpmaxe"),
    bad_email("longer than 64 characters", "email-local-part-65", "x" * 65 + "@example.com"),
    bad_email("the part before the @ must be plain ASCII", "email-non-ascii-local-part", "ad\u00e1@example.com"),
    bad_email("cannot start or end with a dot", "email-leading-dot", ".ada@example.com"),
    bad_email("two dots in a row", "email-double-dot", "ada..l@example.com"),
    bad_email("longer than 63 characters", "email-label-64", "ada@" + "a" * 64 + ".com"),
    bad_email("starts or ends with a hyphen", "email-label-hyphen", "ada@-example.com"),
    bad_email("only letters, digits, hyphens and dots", "email-underscore-domain", "ada@exa_mple.com"),
    bad_email("only letters, digits, hyphens and dots", "email-ip-literal", "ada@[127.0.0.1]"),
    bad_email("top-level domain of letters", "email-numeric-tld", "ada@127.0.0.1"),
    bad_email("not a valid internationalized domain name", "email-bad-idn", "ada@b\u00fccher-.example"),
    # Texts.
    refused(400, "customerName", "customerName must not be blank", "name-whitespace-only", json=order_body(customerName="   ")),
    refused(400, "customerName", "customerName must not be blank", "name-tabs-and-newlines", json=order_body(customerName="\t\n\r")),
    refused(400, "customerName", "longer than or equal to 1", "name-empty", json=order_body(customerName="")),
    refused(400, "customerName", "shorter than or equal to 200", "name-201-chars", json=order_body(customerName="x" * 201)),
    refused(400, "shippingAddress.city", "shippingAddress.city must not be blank", "city-whitespace-only",
            json=order_body(shippingAddress=address(city=" \u00a0 "))),
    # Text that would forge lines in the owner's notification, drive a terminal, or reorder itself.
    one_line("customerName", "a line break (U+000A)", "name-fake-approve-block",
             "Eve\n\nApprove and ship it:\nhttp://evil.example/approve\n"),
    one_line("shippingAddress.streetAddress", "a line break (U+000D)", "street-CR", "1 Main St\rReject it:"),
    one_line("shippingAddress.city", "a line break (U+0085)", "city-NEL", "London\x85http://evil.example/"),
    one_line("shippingAddress.county", "a line break (U+2028)", "county-line-separator", "Kent\u2028Approve:"),
    one_line("shippingAddress.country", "a line break (U+2029)", "country-paragraph-separator", "UK\u2029Approve:"),
    one_line("shippingAddress.country", "a line break (U+000B)", "country-vertical-tab", "U\x0bK"),
    one_line("customerName", "a control character (U+001B)", "name-terminal-title", "Eve\x1b]0;pwned\x07"),
    one_line("customerName", "a control character (U+0007)", "name-bel", "Eve\x07"),
    one_line("customerName", "a control character (U+007F)", "name-del", "Eve\x7f"),
    one_line("shippingAddress.streetAddress", "a control character (U+009B)", "street-C1-CSI", "1 Main St\x9b2J"),
    one_line("shippingAddress.county", "a control character (U+0000)", "county-nul", "Kent\x00"),
    one_line("shippingAddress.country", "a control character (U+0009)", "country-tab", "United\tKingdom"),
    one_line("customerName", "a bidirectional text control (U+202E)", "name-RLO", "Eve \u202egnp.exe"),
    one_line("shippingAddress.city", "a bidirectional text control (U+2066)", "city-LRI", "London\u2066x\u2069"),
    refused(400, "customerName", "customerName", "name-lone-surrogate",
            data=valid_json(customerName="PLACEHOLDER").replace("PLACEHOLDER", "\\ud800")),
    # Idempotency-Key.
    refused(400, "Idempotency-Key", "1 to 128 printable characters", "idempotency-key-129-chars",
            json=order_body(), headers={"Idempotency-Key": "k" * 129}),
    refused(400, "Idempotency-Key", "1 to 128 printable characters", "idempotency-key-with-spaces",
            json=order_body(), headers={"Idempotency-Key": "my key"}),
    refused(400, "Idempotency-Key", "1 to 128 printable characters", "idempotency-key-empty",
            json=order_body(), headers={"Idempotency-Key": ""}),
    refused(400, "Idempotency-Key", "1 to 128 printable characters", "idempotency-key-latin1",
            json=order_body(), headers={"Idempotency-Key": "cl\u00e9"}),
    refused(400, "customerEmail", "it must have exactly one @", "idempotency-key-with-bad-body",
            json=order_body(customerEmail="nobody"), headers={"Idempotency-Key": "hostile-fresh-key-1"}),
    refused(422, "items[0].productId", "no product with id", "idempotency-key-with-unknown-product",
            json=items(line(UNKNOWN_PRODUCT)), headers={"Idempotency-Key": "hostile-fresh-key-2"}),
    refused(422, "Idempotency-Key", "already used for a different order", "idempotency-key-reused-other-body",
            json=order_body(customerName="Someone Else"), headers={"Idempotency-Key": IDEMPOTENCY_KEY}),
    # Methods and paths.
    refused(404, None, "Not Found", "PUT-orders", method="PUT", json=order_body()),
    refused(404, None, "Not Found", "DELETE-orders", method="DELETE"),
    refused(404, None, "Not Found", "PATCH-orders", method="PATCH", json=order_body()),
    refused(404, None, "Not Found", "GET-orders", method="GET"),
    refused(404, None, "Not Found", "unknown-path", path="/admin", json=order_body()),
    refused(404, None, "Not Found", "orders-trailing-slash", path="/orders/", json=order_body()),
    refused(404, None, "Not Found", "orders-uppercase", path="/ORDERS", json=order_body()),
    refused(404, None, "Not Found", "path-traversal-to-approval", path="/orders/../approval-callback/",
            json=order_body()),
    refused(404, None, "Not Found", "orders-id-sub-path", path="/orders/x/y", method="GET"),
    refused(404, "orderId", "no order with id", "GET-unknown-order", path=f"/orders/{UNKNOWN_PRODUCT}", method="GET"),
    refused(404, "orderId", "no order with id", "GET-order-sql-injection", path="/orders/'%20OR%201=1%20--",
            method="GET"),
    refused(404, "orderId", "no order with id", "GET-order-template-injection", path="/orders/%7B%7B7*7%7D%7D",
            method="GET"),
    refused(404, "orderId", "no order with id", "GET-order-script", path="/orders/%3Cscript%3E", method="GET"),
    refused(404, None, "no route for GET", "GET-order-nul", path="/orders/%00", method="GET"),
    refused(404, "orderId", "no order with id", "GET-order-id-3000-chars", path="/orders/" + "A" * 3000,
            method="GET"),
]


def _send_api(world: World, case: Api) -> requests.Response:
    headers = dict(case.headers)
    if case.json is not _NO_JSON:
        request = requests.Request(case.method, world.url, json=case.json, headers=headers)
    else:
        if case.data is not None:
            headers.setdefault("Content-Type", "application/json")
        data = case.data.encode() if isinstance(case.data, str) else case.data
        request = requests.Request(case.method, world.url, data=data, headers=headers)
    prepared = request.prepare()
    prepared.url = world.url + case.path  # as written: no dot-segment removal, no re-encoding
    with requests.Session() as session:
        return session.send(prepared, timeout=10)


@pytest.mark.parametrize("case", API_CASES)
def test_a_hostile_order_request_is_refused_and_changes_nothing(world, case: Api):
    before = world.snapshot()

    response = _send_api(world, case)

    assert response.status_code == case.status, response.text[:500]
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str) and re.search(case.message, body["message"]), body
    assert "pattern" not in body["message"] and "[^" not in body["message"], body  # words, never a regex
    assert body.get("field") == case.field, body
    world.assert_unchanged_since(before)


# --- the approval links -----------------------------------------------------------------------


def _pairs(url: str) -> list[tuple[str, str]]:
    query = urlsplit(url).query
    return [tuple(part.split("=", 1)) if "=" in part else (part, "") for part in query.split("&") if part]


def _base(url: str) -> str:
    return url.split("?", 1)[0]


def _build(url: str, pairs: list[tuple[str, str]]) -> str:
    return _base(url) + "?" + "&".join(f"{key}={value}" for key, value in pairs)


def with_param(url: str, name: str, raw: str) -> str:
    """`url` with parameter `name` set to the raw (already encoded) value."""
    return _build(url, [(key, raw if key == name else value) for key, value in _pairs(url)])


def without_param(url: str, name: str) -> str:
    return _build(url, [(key, value) for key, value in _pairs(url) if key != name])


def plus_param(url: str, name: str, raw: str) -> str:
    return _build(url, [*_pairs(url), (name, raw)])


def edit(name: str, change: Callable[[str], str], decision: str = "approve") -> Callable[[World], str]:
    """A case on victim A's link with one parameter's raw value changed."""
    def build(world: World) -> str:
        url = world.a.links[decision]
        return with_param(url, name, change(dict(_pairs(url))[name]))
    return build


def flip(text: str, index: int = 0) -> str:
    return text[:index] + ("B" if text[index] != "B" else "C") + text[index + 1:]


@dataclass(frozen=True)
class Page:
    status: int
    headers: dict[str, str]
    text: str


def send_raw(method: str, url: str) -> Page:
    """Exactly the bytes of `url` on the request line: no client re-encoding or normalising."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, target)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Page(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
    finally:
        connection.close()


@dataclass(frozen=True)
class Link:
    method: str
    url: Callable[[World], str]
    status: int
    title: str  # the page's <title>; `{a}` stands for victim A's order id
    message: str  # a regular expression the page's text must contain


INVALID = "This link is not valid"
FORGED = r"not issued by the shop, or was changed"
INCOMPLETE = "This link is incomplete"
DECIDED = "This order was already decided"
NOT_HERE = "Not here"


def link(method: str, url: Callable[[World], str], status: int, title: str, message: str, case_id: str,
         *, bug: str | None = None):
    marks = [pytest.mark.xfail(strict=True, reason=f"BUG: {bug}")] if bug else []
    return pytest.param(Link(method, url, status, title, message), id=case_id, marks=marks)


def a_link(decision: str = "approve") -> Callable[[World], str]:
    return lambda world: world.a.links[decision]


def approval_path(world: World, path: str) -> str:
    """Victim A's approve query on another path of the shop."""
    return world.url + path + "?" + urlsplit(world.a.links["approve"]).query


def _swapped(world: World) -> str:
    return with_param(world.a.links["approve"], "sig", world.a.param("reject", "sig"))


LINK_CASES = [
    # Opening a link shows a page and decides nothing.
    link("GET", a_link("approve"), 200, "Approve order {a}?", r'<form method="post">\s*<button[^>]*>Approve order<',
         "GET-approve-link"),
    link("GET", a_link("reject"), 200, "Reject order {a}?", r'<form method="post">\s*<button[^>]*>Reject order<',
         "GET-reject-link"),
    link("HEAD", a_link("approve"), 200, "", "", "HEAD-approve-link"),
    link("HEAD", a_link("reject"), 200, "", "", "HEAD-reject-link"),
    link("GET", lambda w: plus_param(w.a.links["approve"], "utm_source", quote("<script>", safe="")), 200,
         "Approve order {a}?", "Approve order", "GET-with-extra-tracking-param"),
    link("HEAD", lambda w: without_param(w.a.links["approve"], "token"), 400, "", "", "HEAD-token-missing"),
    link("HEAD", lambda w: w.approved.links["approve"], 409, "", "", "HEAD-replay"),
    # Signatures.
    link("POST", edit("sig", flip), 403, INVALID, FORGED, "sig-first-char-flipped"),
    link("POST", edit("sig", lambda s: flip(s, len(s) // 2)), 403, INVALID, FORGED, "sig-middle-char-flipped"),
    link("POST", edit("sig", lambda s: s[:-1]), 403, INVALID, FORGED, "sig-truncated"),
    link("POST", edit("sig", lambda s: s[:8]), 403, INVALID, FORGED, "sig-8-chars"),
    link("POST", edit("sig", lambda s: ""), 403, INVALID, FORGED, "sig-empty"),
    link("POST", lambda w: without_param(w.a.links["approve"], "sig"), 403, INVALID, FORGED, "sig-missing"),
    link("POST", edit("sig", lambda s: s + "%3D"), 403, INVALID, FORGED, "sig-with-padding"),
    link("POST", edit("sig", lambda s: s.swapcase()), 403, INVALID, FORGED, "sig-case-swapped"),
    link("POST", edit("sig", lambda s: quote("!!!!****$$$$^^^^", safe="")), 403, INVALID, FORGED, "sig-base64-garbage"),
    link("POST", edit("sig", lambda s: "A" * 128), 403, INVALID, FORGED, "sig-128-chars"),
    link("POST", edit("sig", lambda s: s * 20), 400, INCOMPLETE, "no valid signature", "sig-very-long"),
    link("POST", edit("sig", lambda s: s + "%00"), 403, INVALID, FORGED, "sig-with-nul"),
    link("GET", edit("sig", flip), 403, INVALID, FORGED, "GET-sig-flipped"),
    link("HEAD", edit("sig", flip), 403, "", "", "HEAD-sig-flipped"),
    # Changed links: another decision, order, token or deadline.
    link("POST", edit("result", lambda r: "reject"), 403, INVALID, FORGED, "result-swapped-keeping-sig"),
    link("POST", _swapped, 403, INVALID, FORGED, "approve-link-with-reject-sig"),
    link("POST", lambda w: with_param(w.a.links["reject"], "sig", w.a.param("approve", "sig")), 403, INVALID,
         FORGED, "reject-link-with-approve-sig"),
    link("POST", lambda w: with_param(w.a.links["approve"], "orderId", w.b.order_id), 403, INVALID, FORGED,
         "orderId-of-another-order"),
    link("POST", edit("orderId", lambda o: OTHER_ORDER_ID), 403, INVALID, FORGED, "orderId-unknown"),
    link("POST", edit("orderId", lambda o: o.lower()), 403, INVALID, FORGED, "orderId-lowercase"),
    link("POST", lambda w: with_param(w.a.links["approve"], "token", w.b.param("approve", "token")), 403, INVALID,
         FORGED, "token-from-another-order"),
    link("POST", lambda w: with_param(with_param(w.a.links["approve"], "token", w.b.param("approve", "token")),
                                      "sig", w.b.param("approve", "sig")), 403, INVALID, FORGED,
         "token-and-sig-from-another-order"),
    link("POST", lambda w: with_param(w.b.links["approve"], "orderId", w.a.order_id), 403, INVALID, FORGED,
         "other-orders-link-pointed-here"),
    link("POST", edit("token", lambda t: flip(t, 10)), 403, INVALID, FORGED, "token-one-char-changed"),
    link("POST", edit("token", lambda t: t[:-3]), 403, INVALID, FORGED, "token-truncated"),
    link("POST", edit("token", lambda t: "not-a-real-token%2B%2F%3D"), 403, INVALID, FORGED, "token-garbage"),
    link("POST", edit("token", lambda t: f"%25{ord(t[0]):02X}" + t[1:]), 403, INVALID, FORGED,
         "token-double-encoded"),
    link("POST", edit("token", lambda t: t + "%252B"), 403, INVALID, FORGED, "token-double-encoded-plus"),
    link("POST", edit("token", lambda t: t + "+"), 403, INVALID, FORGED, "token-unencoded-plus-becomes-space"),
    link("POST", edit("token", lambda t: t + "%00"), 403, INVALID, FORGED, "token-with-nul"),
    link("POST", edit("token", lambda t: t + quote("\u202e\U0001f600", safe="")), 403, INVALID, FORGED,
         "token-with-unicode"),
    link("POST", edit("expires", lambda e: str(int(e) + 1)), 403, INVALID, FORGED, "expires-extended-by-1s"),
    link("POST", edit("expires", lambda e: "999999999999"), 403, INVALID, FORGED, "expires-far-future"),
    link("POST", edit("expires", lambda e: "1"), 403, INVALID, FORGED, "expires-in-the-past"),
    link("POST", edit("expires", lambda e: str(int(e) - 3600)), 403, INVALID, FORGED, "expires-an-hour-earlier"),
    # Missing or malformed parameters.
    link("POST", lambda w: without_param(w.a.links["approve"], "orderId"), 400, INCOMPLETE, "no valid order id",
         "orderId-missing"),
    link("POST", lambda w: without_param(w.a.links["approve"], "token"), 400, INCOMPLETE, "no valid approval token",
         "token-missing"),
    link("POST", lambda w: without_param(w.a.links["approve"], "result"), 400, INCOMPLETE, "approve or reject",
         "result-missing"),
    link("POST", lambda w: without_param(w.a.links["approve"], "expires"), 400, INCOMPLETE, "no valid expiry",
         "expires-missing"),
    link("POST", lambda w: _base(w.a.links["approve"]), 400, INCOMPLETE, "no valid order id", "no-query-at-all"),
    link("GET", lambda w: _base(w.a.links["approve"]) + "?", 400, INCOMPLETE, "no valid order id", "GET-empty-query"),
    link("POST", lambda w: w.a.links["approve"].replace("orderId=", "OrderId="), 400, INCOMPLETE, "no valid order id",
         "orderId-wrong-case-name"),
    link("POST", edit("orderId", lambda o: ""), 400, INCOMPLETE, "no valid order id", "orderId-empty"),
    link("POST", edit("orderId", lambda o: "%20%20"), 400, INCOMPLETE, "no valid order id", "orderId-spaces"),
    link("POST", edit("orderId", lambda o: "A" * 65), 400, INCOMPLETE, "no valid order id", "orderId-65-chars"),
    link("POST", edit("token", lambda t: ""), 400, INCOMPLETE, "no valid approval token", "token-empty"),
    link("POST", edit("token", lambda t: "T" * 9000), 400, INCOMPLETE, "no valid approval token", "token-9000-chars"),
    link("POST", edit("token", lambda t: "T" * 60_000), 400, INCOMPLETE, "no valid approval token",
         "token-60KB"),
    # (A 100 KB link never reaches the shop: the HTTP front end refuses it; see the test below.)
    link("POST", edit("result", lambda r: "maybe"), 400, INCOMPLETE, "approve or reject", "result-maybe"),
    link("POST", edit("result", lambda r: "APPROVE"), 400, INCOMPLETE, "approve or reject", "result-uppercase"),
    link("POST", edit("result", lambda r: ""), 400, INCOMPLETE, "approve or reject", "result-empty"),
    link("POST", edit("result", lambda r: "approve%00"), 400, INCOMPLETE, "approve or reject", "result-with-nul"),
    link("POST", edit("expires", lambda e: "abc"), 400, INCOMPLETE, "no valid expiry", "expires-not-a-number"),
    link("POST", edit("expires", lambda e: "-1"), 400, INCOMPLETE, "no valid expiry", "expires-negative"),
    link("POST", edit("expires", lambda e: "1e10"), 400, INCOMPLETE, "no valid expiry", "expires-exponent"),
    link("POST", edit("expires", lambda e: e + "%C2%B2"), 400, INCOMPLETE, "no valid expiry", "expires-superscript-two"),
    link("POST", edit("expires", lambda e: "9" * 13), 400, INCOMPLETE, "no valid expiry", "expires-13-digits"),
    link("POST", edit("expires", lambda e: quote("\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660")),
         400, INCOMPLETE, "no valid expiry", "expires-arabic-indic-digits"),
    # Duplicated parameters: joined with commas, as AWS does.
    link("POST", lambda w: plus_param(w.a.links["approve"], "result", "reject"), 400, INCOMPLETE, "approve or reject",
         "duplicated-result"),
    link("POST", lambda w: plus_param(w.a.links["approve"], "result", "approve"), 400, INCOMPLETE,
         "approve or reject", "duplicated-same-result"),
    link("POST", lambda w: plus_param(w.a.links["approve"], "expires", w.a.param("approve", "expires")), 400,
         INCOMPLETE, "no valid expiry", "duplicated-expires"),
    link("POST", lambda w: plus_param(w.a.links["approve"], "orderId", w.a.order_id), 403, INVALID, FORGED,
         "duplicated-orderId"),
    link("POST", lambda w: plus_param(w.a.links["approve"], "sig", w.a.param("approve", "sig")), 403, INVALID, FORGED,
         "duplicated-sig"),
    link("POST", lambda w: plus_param(w.a.links["approve"], "token", w.b.param("approve", "token")), 403, INVALID,
         FORGED, "duplicated-token"),
    # Injection and encoding oddities in the order id: refused before any I/O, never echoed.
    link("POST", edit("orderId", lambda o: quote("{{7*7}}", safe="")), 403, INVALID, FORGED, "orderId-template"),
    link("POST", edit("orderId", lambda o: quote("' OR 1=1 --", safe="")), 403, INVALID, FORGED, "orderId-sql"),
    link("POST", edit("orderId", lambda o: quote('{"$ne": null}', safe="")), 403, INVALID, FORGED, "orderId-nosql"),
    link("POST", edit("orderId", lambda o: quote("<script>alert(1)</script>", safe="")), 403, INVALID, FORGED,
         "orderId-script"),
    link("POST", edit("orderId", lambda o: quote("../../etc/passwd", safe="")), 403, INVALID, FORGED,
         "orderId-path-traversal"),
    link("POST", edit("orderId", lambda o: o + "%00"), 403, INVALID, FORGED, "orderId-nul"),
    link("POST", edit("orderId", lambda o: o + "%zz"), 403, INVALID, FORGED, "orderId-bad-percent-escape"),
    link("POST", edit("orderId", lambda o: quote("\u00f6rd\u00e9r-\u8ba2\u5355-\U0001f4e6", safe="")), 403, INVALID,
         FORGED, "orderId-unicode"),
    link("POST", edit("orderId", lambda o: o.replace(o[5], "%25" + f"{ord(o[5]):02X}", 1)), 403, INVALID, FORGED,
         "orderId-double-encoded-char"),
    # Other methods and paths.
    link("PUT", a_link("approve"), 405, NOT_HERE, "approve or reject link", "PUT-approve-link"),
    link("DELETE", a_link("approve"), 405, NOT_HERE, "approve or reject link", "DELETE-approve-link"),
    link("PATCH", a_link("approve"), 405, NOT_HERE, "approve or reject link", "PATCH-approve-link"),
    link("OPTIONS", a_link("approve"), 405, NOT_HERE, "approve or reject link", "OPTIONS-approve-link"),
    link("POST", lambda w: approval_path(w, "/approval-callback/x"), 405, NOT_HERE, "approve or reject link",
         "POST-sub-path"),
    link("POST", lambda w: approval_path(w, "/approval-callback/../orders"), 405, NOT_HERE, "approve or reject link",
         "path-traversal"),
    link("POST", lambda w: approval_path(w, "/approval-callback/%2e%2e/%2e%2e/etc/passwd"), 405, NOT_HERE,
         "approve or reject link", "path-traversal-encoded"),
    link("POST", lambda w: approval_path(w, "/approval-callback/..%2f..%2forders"), 405, NOT_HERE,
         "approve or reject link", "path-traversal-encoded-slash"),
    link("POST", lambda w: approval_path(w, "/approval-callback//"), 405, NOT_HERE, "approve or reject link",
         "double-slash"),
    # Replays: a decision is made once, whichever link comes back.
    link("POST", lambda w: w.approved.links["approve"], 409, DECIDED, r"already approved at \d{4}-\d\d-\d\d "
         r"\d\d:\d\d:\d\d UTC\. Nothing was changed", "replay-approve"),
    link("POST", lambda w: w.approved.links["reject"], 409, DECIDED, "already approved at", "replay-other-link"),
    link("GET", lambda w: w.approved.links["approve"], 409, DECIDED, "already approved at", "GET-replay"),
    link("POST", lambda w: w.rejected.links["reject"], 409, DECIDED, r"already rejected at \d{4}-", "replay-rejected"),
    link("POST", lambda w: w.rejected.links["approve"], 409, DECIDED, "already rejected at",
         "approve-a-rejected-deleted-order"),
    link("POST", lambda w: with_param(w.approved.links["approve"], "orderId", w.a.order_id), 403, INVALID, FORGED,
         "decided-orders-link-pointed-here"),
]


@pytest.mark.parametrize("case", LINK_CASES)
def test_a_hostile_approval_request_decides_nothing(world, case: Link):
    before = world.snapshot()
    url = case.url(world)

    page = send_raw(case.method, url)

    assert page.status == case.status, page.text[:1000]
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    if case.method == "HEAD":
        assert page.text == ""
    else:
        title = case.title.format(a=world.a.order_id)
        assert f"<title>{title}</title>" in page.text
        if case.status != 200:
            assert f"<h1>{title}</h1>" in page.text
        assert re.search(case.message, page.text), page.text
        for victim in world.victims:  # a page never echoes a token
            assert victim.token not in page.text and victim.param("approve", "token") not in page.text
        for raw in ("<script>alert(1)</script>", "{{7*7}}", "' OR 1=1"):
            assert raw not in page.text
    world.assert_unchanged_since(before)


def test_a_huge_link_changes_nothing_whoever_refuses_it(world):
    """Whatever answers a link too long to be real (the shop or the HTTP server in front of it),
    it is refused, decides nothing and echoes nothing."""
    before = world.snapshot()

    page = send_raw("POST", with_param(world.a.links["approve"], "token", "T" * 100_000))

    assert page.status in (400, 414), page.text[:500]
    assert "T" * 100 not in page.text
    world.assert_unchanged_since(before)


# --- hostile-looking input that is a legitimate order -------------------------------------------

ACCEPTED_NAMES = [
    pytest.param("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", id="script-tag"),
    pytest.param("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;", id="img-onerror"),
    pytest.param('"><svg onload=alert(1)>', "&#34;&gt;&lt;svg onload=alert(1)&gt;", id="attribute-breakout"),
    pytest.param("Robert'); DROP TABLE orders;--", "Robert&#39;); DROP TABLE orders;--", id="sql-injection"),
    pytest.param("{{7*7}} {% raw %}${7*7}", "{{7*7}} {% raw %}${7*7}", id="template-injection"),
    pytest.param("Zo\u00eb \u674e \U0001f600", "Zo\u00eb \u674e \U0001f600", id="unicode"),
]


@pytest.mark.parametrize(("name", "escaped"), ACCEPTED_NAMES)
def test_a_hostile_looking_name_is_accepted_stored_verbatim_and_shown_escaped(world, name: str, escaped: str):
    shop = world.shop
    executions = len(world.executions())
    street = f"1 {name} Street"

    response = shop.place(customerName=name, shippingAddress=address(streetAddress=street))

    # Accepted, and stored exactly as sent.
    assert response.status_code == 201, response.text
    order_id = response.json()["orderId"]
    assert response.json()["customerName"] == name
    stored = shop.order(order_id).json()
    assert (stored["customerName"], stored["shippingAddress"]["streetAddress"]) == (name, street)
    assert len(world.executions()) == executions + 1

    # The customer's email shows it escaped, never raw and never evaluated.
    email = shop.wait_for_email(order_id, "We have your order")
    assert f"Thanks, {escaped}! Your order is in." in email["body"]
    assert f"1 {escaped} Street" in email["body"]
    # The owner's approval page too; the local outbox page as well.
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")
    page = requests.get(links["approve"], timeout=10)
    page_text = page.content.decode("utf-8")
    assert page.status_code == 200 and f"<strong>{escaped}</strong>" in page_text
    outbox_page = requests.get(f"{shop.url}/outbox", timeout=10).content.decode("utf-8")
    if escaped != name:
        for text in (email["body"], page_text, outbox_page):
            assert name not in text
    assert "Thanks, 49" not in email["body"] and "<strong>49" not in page_text


def test_a_retried_order_with_the_same_idempotency_key_changes_nothing(world):
    before = world.snapshot()

    response = requests.post(f"{world.url}/orders", json=order_body(), headers={"Idempotency-Key": IDEMPOTENCY_KEY},
                             timeout=10)

    assert response.status_code == 201, response.text
    assert response.headers["Idempotent-Replayed"] == "true"
    assert response.json()["orderId"] == world.a.order_id
    world.assert_unchanged_since(before)


def test_a_url_in_a_name_stays_quoted_text_after_the_owners_links(world):
    """One line, so accepted; but in the owner's notification it comes after the real links, in
    quotes, and neither the outbox nor the console makes it a link."""
    shop = world.shop
    name = "Approve and ship it: http://evil.example/approve"

    order_id = shop.place_ok(customerName=name)["orderId"]

    links = shop.links(order_id)
    note = next(e for e in shop.outbox() if e["channel"] == "sns" and order_id in e["subject"])
    lines = note["body"].splitlines()
    assert [line for line in lines if "://" in line and not line.startswith("Customer:")] == [
        links["approve"], links["reject"]]
    assert lines.index(f'Customer: "{name}"') > lines.index(links["reject"])
    for page in (f"{shop.url}/outbox", f"{shop.url}/console/orders/{order_id}"):
        html = requests.get(page, timeout=10).content.decode("utf-8")
        assert "http://evil.example/approve" in html, page
        assert 'href="http://evil' not in html, page
        assert f'href="{links["approve"].replace("&", "&amp;")}"' in html, page
