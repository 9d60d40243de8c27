"""Order requests: JSON-schema validation naming the bad field, pricing against the catalog, and
the public (JSON-safe) form of an order and back."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from shop.domain.errors import InvalidRequest, UnprocessableOrder
from shop.domain.orders import (
    MAX_ITEMS_PER_ORDER,
    MAX_QUANTITY_PER_ITEM,
    PRIVATE_ORDER_FIELDS,
    ApprovalState,
    Order,
    OrderRequest,
    StoredOrder,
    parse_order_request,
    price_order,
    without_private_fields,
)
from shop.domain.status import OrderStatus
from tests.unit.samples import MUG, P1, P2, P3, TOWEL, product

Mutation = Callable[[dict[str, Any]], None]
# The longest address SMTP carries: a 64-character local part and a domain of labels up to 63.
EMAIL_254 = "x" * 64 + "@" + "a" * 63 + "." + "b" * 63 + "." + "c" * 57 + ".com"
assert len(EMAIL_254) == 254
_DELETE = object()


def change(*path: str | int, to: Any = _DELETE) -> Mutation:
    """A mutation setting (or, without `to`, deleting) the value at `path` in a body."""

    def mutate(body: dict[str, Any]) -> None:
        *parents, last = path
        target: Any = body
        for key in parents:
            target = target[key]
        if to is _DELETE:
            del target[last]
        else:
            target[last] = to

    return mutate


def refused(body: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse_order_request(body)
    return caught.value


# --- parse_order_request: accepted -----------------------------------------------------------


def test_valid_request(body):
    request = parse_order_request(body)

    assert request == OrderRequest(
        customer_email="ada@example.com",
        customer_name="Ada Lovelace",
        shipping_address={
            "country": "United Kingdom",
            "city": "London",
            "county": "Greater London",
            "streetAddress": "12 St James Square",
        },
        items=[(MUG, 2)],
    )


def test_text_fields_are_stripped(body):
    body["customerName"] = "  Ada Lovelace\t"
    body["shippingAddress"]["city"] = " London "

    request = parse_order_request(body)

    assert request.customer_name == "Ada Lovelace"
    assert request.shipping_address["city"] == "London"


def test_items_keep_the_customers_order(body):
    body["items"] = [{"productId": TOWEL, "quantity": 3}, {"productId": MUG, "quantity": 1}]

    assert parse_order_request(body).items == [(TOWEL, 3), (MUG, 1)]


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(change("items", 0, "quantity", to=1), id="quantity 1"),
        pytest.param(change("items", 0, "quantity", to=MAX_QUANTITY_PER_ITEM), id="quantity max"),
        pytest.param(change("customerName", to="x" * 200), id="name 200 chars"),
        pytest.param(change("customerName", to="Zoë O'Brien-Łukasz"), id="name non-ascii"),
        pytest.param(change("customerEmail", to="a@b.co"), id="shortest email"),
        pytest.param(change("customerEmail", to="first.last+tag@mail.example.co.uk"), id="email with plus"),
        pytest.param(change("customerEmail", to=EMAIL_254), id="email 254 chars"),
        pytest.param(change("customerEmail", to="x" * 64 + "@example.com"), id="email local part 64 chars"),
        pytest.param(change("customerEmail", to="ada@bücher.example"), id="email IDNA domain"),
        pytest.param(change("customerName", to="דוד ‏(ישראל)"),
                     id="name right-to-left with a mark"),
        pytest.param(change("customerName", to="Zoë 👩‍💻"), id="name emoji with ZWJ"),
        pytest.param(
            change("items", to=[{"productId": f"01JDF1000000000000000000{i:02d}", "quantity": 1}
                                for i in range(MAX_ITEMS_PER_ORDER)]),
            id="max items",
        ),
    ],
)
def test_boundary_values_are_accepted(body, mutation):
    mutation(body)

    assert parse_order_request(body) == OrderRequest(
        customer_email=body["customerEmail"],
        customer_name=body["customerName"],
        shipping_address=body["shippingAddress"],
        items=[(item["productId"], item["quantity"]) for item in body["items"]],
    )


# --- parse_order_request: refused ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        # Quantity
        (change("items", 0, "quantity", to=0), "items[0].quantity"),
        (change("items", 0, "quantity", to=-1), "items[0].quantity"),
        (change("items", 0, "quantity", to=1.5), "items[0].quantity"),
        (change("items", 0, "quantity", to=True), "items[0].quantity"),
        (change("items", 0, "quantity", to="2"), "items[0].quantity"),
        (change("items", 0, "quantity", to=None), "items[0].quantity"),
        (change("items", 0, "quantity", to=MAX_QUANTITY_PER_ITEM + 1), "items[0].quantity"),
        (change("items", 0, "quantity"), "items[0].quantity"),
        # Product id
        (change("items", 0, "productId"), "items[0].productId"),
        (change("items", 0, "productId", to=MUG.lower()), "items[0].productId"),
        (change("items", 0, "productId", to=MUG + "\n"), "items[0].productId"),
        (change("items", 0, "productId", to=MUG[:-1]), "items[0].productId"),
        (change("items", 0, "productId", to=42), "items[0].productId"),
        # Items
        (change("items"), "items"),
        (change("items", to=[]), "items"),
        (change("items", to={"productId": MUG, "quantity": 1}), "items"),
        (change("items", to=[{"productId": f"01JDF1000000000000000000{i:02d}", "quantity": 1}
                             for i in range(MAX_ITEMS_PER_ORDER + 1)]), "items"),
        (change("items", to=[MUG]), "items[0]"),
        (change("items", to=[{"productId": MUG, "quantity": 1}, {"productId": TOWEL, "quantity": 0}]),
         "items[1].quantity"),
        # Email
        (change("customerEmail"), "customerEmail"),
        (change("customerEmail", to=""), "customerEmail"),
        (change("customerEmail", to="ada"), "customerEmail"),
        (change("customerEmail", to="ada@example"), "customerEmail"),
        (change("customerEmail", to="@example.com"), "customerEmail"),
        (change("customerEmail", to="ada@"), "customerEmail"),
        (change("customerEmail", to="ada@@example.com"), "customerEmail"),
        (change("customerEmail", to="ada lovelace@example.com"), "customerEmail"),
        (change("customerEmail", to=" ada@example.com"), "customerEmail"),
        (change("customerEmail", to="ada@example.com\n"), "customerEmail"),
        (change("customerEmail", to="x" * 243 + "@example.com"), "customerEmail"),
        (change("customerEmail", to=["ada@example.com"]), "customerEmail"),
        (change("customerEmail", to=EMAIL_254[:-3] + "comx"), "customerEmail"),  # 255 characters
        (change("customerEmail", to="x" * 65 + "@example.com"), "customerEmail"),
        # Name
        (change("customerName"), "customerName"),
        (change("customerName", to=""), "customerName"),
        (change("customerName", to="   "), "customerName"),
        (change("customerName", to="\n\t "), "customerName"),
        (change("customerName", to="x" * 201), "customerName"),
        (change("customerName", to=7), "customerName"),
        # Shipping address
        (change("shippingAddress"), "shippingAddress"),
        (change("shippingAddress", to="12 St James Square, London"), "shippingAddress"),
        (change("shippingAddress", "streetAddress"), "shippingAddress.streetAddress"),
        (change("shippingAddress", "streetAddress", to=" "), "shippingAddress.streetAddress"),
        (change("shippingAddress", "city", to=""), "shippingAddress.city"),
        (change("shippingAddress", "county"), "shippingAddress.county"),
        (change("shippingAddress", "country", to=None), "shippingAddress.country"),
    ],
)
def test_bad_field_is_refused_and_named(body, mutation, field):
    mutation(body)

    error = refused(body)

    assert error.field == field
    assert error.message.startswith(field)


@pytest.mark.parametrize(
    ("mutation", "field", "extra"),
    [
        (change("coupon", to="FREE"), "coupon", "coupon"),
        (change("shippingAddress", "zip", to="SW1Y 4LE"), "shippingAddress.zip", "zip"),
        (change("items", 0, "price", to="0.01"), "items[0].price", "price"),
    ],
)
def test_extra_fields_are_refused_by_name(body, mutation, field, extra):
    mutation(body)

    error = refused(body)

    assert error.field == field
    assert error.message == f"{field} is not a known field"


@pytest.mark.parametrize("top", [[], [{"items": []}], "order", "", None, 1, 1.5, True], ids=repr)
def test_a_body_that_is_not_an_object_is_refused(top):
    assert refused(top).field == "body"


def test_empty_object_names_the_first_missing_field():
    error = refused({})

    assert error.field == "customerEmail"
    assert error.message == "customerEmail is required"


def test_duplicate_product_lines_are_refused_at_the_repeat(body):
    body["items"] = [
        {"productId": MUG, "quantity": 1},
        {"productId": TOWEL, "quantity": 1},
        {"productId": MUG, "quantity": 4},
    ]

    error = refused(body)

    assert error.field == "items[2].productId"
    assert "twice" in error.message


# Characters that would let a customer's text act instead of being read: start lines of its own
# (a fake "Approve and ship it:" block in the owner's notification), drive a terminal, or reorder
# what follows it.
FORGING_CHARACTERS = [
    pytest.param("\n", "a line break (U+000A)", id="LF"),
    pytest.param("\r", "a line break (U+000D)", id="CR"),
    pytest.param("\r\n", "a line break (U+000D)", id="CRLF"),
    pytest.param("\x0b", "a line break (U+000B)", id="VT"),
    pytest.param("\x0c", "a line break (U+000C)", id="FF"),
    pytest.param("\x85", "a line break (U+0085)", id="NEL"),
    pytest.param("\u2028", "a line break (U+2028)", id="LINE-SEPARATOR"),
    pytest.param("\u2029", "a line break (U+2029)", id="PARAGRAPH-SEPARATOR"),
    pytest.param("\t", "a control character (U+0009)", id="TAB"),
    pytest.param("\x00", "a control character (U+0000)", id="NUL"),
    pytest.param("\x07", "a control character (U+0007)", id="BEL"),
    pytest.param("\x1b]0;pwned\x07", "a control character (U+001B)", id="ESC-window-title"),
    pytest.param("\x7f", "a control character (U+007F)", id="DEL"),
    pytest.param("\x9b2J", "a control character (U+009B)", id="C1-CSI"),
    pytest.param("\u202e", "a bidirectional text control (U+202E)", id="RLO"),
    pytest.param("\u202a", "a bidirectional text control (U+202A)", id="LRE"),
    pytest.param("\u2066", "a bidirectional text control (U+2066)", id="LRI"),
    pytest.param("\u2069", "a bidirectional text control (U+2069)", id="PDI"),
]
ONE_LINE_FIELDS = [
    pytest.param(("customerName",), "customerName", id="customerName"),
    *(pytest.param(("shippingAddress", key), f"shippingAddress.{key}", id=key)
      for key in ("streetAddress", "city", "county", "country")),
]


@pytest.mark.parametrize(("path", "field"), ONE_LINE_FIELDS)
@pytest.mark.parametrize(("characters", "named"), FORGING_CHARACTERS)
def test_a_one_line_field_refuses_what_would_forge_lines_or_drive_a_terminal(body, path, field, characters, named):
    change(*path, to=f"Eve{characters}Approve and ship it: http://evil.example/")(body)

    error = refused(body)

    assert error.field == field
    assert error.message == f"{field} must be one line of plain text, but it contains {named}"


@pytest.mark.parametrize(("path", "field"), ONE_LINE_FIELDS)
@pytest.mark.parametrize("blank", [
    pytest.param("\u200b", id="zero-width-space"), pytest.param("\u200b\u200c\u200d\u2060\ufeff", id="zero-widths"),
    pytest.param("\u3164", id="hangul-filler"), pytest.param("\u115f\u1160", id="hangul-jamo-fillers"),
    pytest.param("\uffa0", id="halfwidth-hangul-filler"), pytest.param(" \u3164 ", id="filler-in-spaces"),
    pytest.param("\U000e0041\U000e0064\U000e0061\U000e007f", id="tag-characters"),
    pytest.param("\u034f\u0301", id="combining-marks-alone"), pytest.param("\u2800", id="braille-blank"),
])
def test_a_field_of_only_invisible_characters_is_blank(body, path, field, blank):
    """"Not blank" was `\\S`, which these pass: the order showed a name, or an address, of nothing."""
    change(*path, to=blank)(body)

    error = refused(body)

    assert error.field == field
    assert error.message.startswith(f"{field} must not be blank: it holds only invisible characters (such as U+")


@pytest.mark.parametrize("name", ["Ada\u200bLovelace", "\u1100\u1161", "\u3164Ada", "Zo\u00eb", "\u0915\u094d\u0937"])
def test_a_field_with_any_visible_character_is_kept(body, name):
    body["customerName"] = name

    assert parse_order_request(body).customer_name == name


@pytest.mark.parametrize(("typed", "stored"), [
    ("ada@exa\u200bmple.com", "ada@example.com"),  # mailed to example.com: IDNA drops the invisible character
    ("ada@\uff45\uff58\uff41mple.com", "ada@example.com"),  # full-width letters
    ("ada@B\u00dcCHER.example", "ada@b\u00fccher.example"),  # readable, and what xn--bcher-kva.example is
    ("Ada@Example.COM", "Ada@Example.COM"),  # ASCII as typed: SES gets the same domain in lower case
])
def test_the_email_stored_is_the_one_mailed(body, typed, stored):
    from shop.domain.email_address import for_sending

    body["customerEmail"] = typed

    request = parse_order_request(body)

    assert request.customer_email == stored
    assert for_sending(request.customer_email) == for_sending(typed)


def test_the_fake_approve_block_of_the_report_is_refused(body):
    body["customerName"] = "Eve\n\nApprove and ship it:\nhttp://evil.example/approve\n"

    error = refused(body)

    assert (error.field, error.message) == ("customerName", "customerName must be one line of plain text, "
                                                            "but it contains a line break (U+000A)")


def test_a_pasted_trailing_newline_is_stripped_not_refused(body):
    body["customerName"] = "Ada Lovelace\r\n"

    assert parse_order_request(body).customer_name == "Ada Lovelace"


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("ada@example.com\x00", "it contains a control character (U+0000)"),
        ("ada@example.com\r\nBcc: eve@example.com", "it contains a line break (U+000D)"),
        ("ada\x1b[2J@example.com", "it contains a control character (U+001B)"),
        ("ada\x07@example.com", "it contains a control character (U+0007)"),
        ("ada@exam\u202eple.com", "it contains a bidirectional text control (U+202E)"),
        ("ada lovelace@example.com", "it contains a space"),
        ("ada@example.com\u00a0", "it contains a space"),
        ("ada", "it must have exactly one @"),
        ("ada@@example.com", "it must have exactly one @"),
        ('"ada@home"@example.com', "it must have exactly one @"),
        ("@example.com", "there is nothing before the @"),
        ("ada@", "there is nothing after the @"),
        ("ad\u00e1@example.com", "the part before the @ must be plain ASCII"),
        ("x" * 65 + "@example.com", "the part before the @ is longer than 64 characters"),
        (".ada@example.com", "cannot start or end with a dot"),
        ("ada.@example.com", "cannot start or end with a dot"),
        ("a..da@example.com", "two dots in a row"),
        ("ada(comment)@example.com", "may hold only letters, digits, dots and"),
        ("ada,eve@example.com", "may hold only letters, digits, dots and"),
        ("ada@example", "its domain needs a dot"),
        ("ada@example..com", "two dots in a row"),
        ("ada@example.com.", "cannot start or end with a dot"),
        ("ada@" + "a" * 64 + ".com", "longer than 63 characters"),
        ("ada@-example.com", "starts or ends with a hyphen"),
        ("ada@example-.com", "starts or ends with a hyphen"),
        ("ada@exa_mple.com", "may hold only letters, digits, hyphens and dots"),
        ("ada@[192.0.2.1]", "may hold only letters, digits, hyphens and dots"),
        ("ada@example.c0m", "must end in a top-level domain of letters"),
        ("ada@example.c", "must end in a top-level domain of letters"),
        ("ada@192.0.2.1", "must end in a top-level domain of letters"),
        ("ada@b\u00fccher-.example", "not a valid internationalized domain name"),
        # 238 characters as written, 261 once its Chinese label is written in ASCII (43 characters).
        ("x" * 64 + "@" + "".join(chr(0x4E00 + 7 * i) for i in range(20)) + "." + "a" * 63 + "." + "b" * 63
         + "." + "c" * 20 + ".com", "longer than 254 characters once its domain is in ASCII"),
    ],
)
def test_an_email_ses_cannot_send_to_is_refused_in_words(body, email, reason):
    body["customerEmail"] = email

    error = refused(body)

    assert error.field == "customerEmail"
    assert error.message.startswith("customerEmail is not an email address we can send to: ")
    assert reason in error.message
    assert "pattern" not in error.message and "[^" not in error.message


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (change("customerName", to="  "), "customerName must not be blank"),
        (change("shippingAddress", "city", to="\u00a0"), "shippingAddress.city must not be blank"),
        (change("items", 0, "productId", to="mug"),
         "items[0].productId must be a product id: 26 capital letters and digits (a ULID)"),
    ],
)
def test_a_pattern_is_explained_in_words_never_shown(body, mutation, message):
    mutation(body)

    assert refused(body).message == message


# --- price_order ------------------------------------------------------------------------------


def test_price_order_with_the_demo_catalog(body, demo_catalog):
    body["items"] = [{"productId": MUG, "quantity": 2}, {"productId": TOWEL, "quantity": 3}]

    order = price_order(
        parse_order_request(body), demo_catalog, order_id="01JORDER", created_at="2026-11-24T16:13:46Z"
    )

    assert (order.order_id, order.created_at, order.status) == ("01JORDER", "2026-11-24T16:13:46Z", OrderStatus.RECEIVED)
    assert (order.customer_name, order.customer_email) == ("Ada Lovelace", "ada@example.com")
    assert order.shipping_address["streetAddress"] == "12 St James Square"
    assert [(line.product_id, line.name, line.quantity) for line in order.lines] == [
        (MUG, "Stoneware mug", 2),
        (TOWEL, "Linen tea towel", 3),
    ]
    assert [str(line.unit_price) for line in order.lines] == ["14.90", "9.50"]
    assert [str(line.line_total) for line in order.lines] == ["29.80", "28.50"]
    assert order.currency == "EUR"
    assert str(order.total) == "58.30"


@pytest.mark.parametrize(
    ("price", "currency", "quantity", "line_total"),
    [
        ("0.125", "EUR", 1, "0.12"),  # half-even
        ("0.125", "EUR", 3, "0.38"),  # 0.375
        ("0.335", "EUR", 1, "0.34"),
        ("100", "JPY", 3, "300"),
        ("1.234", "KWD", 3, "3.702"),
        ("14.90", "EUR", MAX_QUANTITY_PER_ITEM, "14900.00"),
    ],
)
def test_line_totals_are_rounded_to_the_minor_unit(body, price, currency, quantity, line_total):
    body["items"] = [{"productId": P1, "quantity": quantity}]
    catalog = {P1: product(P1, "Thing", price, currency)}

    order = price_order(parse_order_request(body), catalog, order_id="o", created_at="t")

    assert str(order.lines[0].line_total) == line_total
    assert str(order.total) == line_total


def test_total_is_the_sum_of_rounded_line_totals(body):
    body["items"] = [{"productId": P1, "quantity": 1}, {"productId": P2, "quantity": 1},
                     {"productId": P3, "quantity": 1}]
    catalog = {p: product(p, p, "0.125") for p in (P1, P2, P3)}

    order = price_order(parse_order_request(body), catalog, order_id="o", created_at="t")

    # Each line rounds to 0.12; rounding the unrounded sum (0.375) would give 0.38.
    assert str(order.total) == "0.36"


def test_unknown_product_is_unprocessable_naming_its_line(body, demo_catalog):
    body["items"] = [{"productId": MUG, "quantity": 1}, {"productId": P1, "quantity": 1}]

    with pytest.raises(UnprocessableOrder) as caught:
        price_order(parse_order_request(body), demo_catalog, order_id="o", created_at="t")

    assert caught.value.field == "items[1].productId"
    assert P1 in caught.value.message


def test_mixed_currencies_are_unprocessable(body):
    body["items"] = [{"productId": P1, "quantity": 1}, {"productId": P2, "quantity": 1},
                     {"productId": P3, "quantity": 1}]
    catalog = {P1: product(P1, "a", "1.00", "EUR"), P2: product(P2, "b", "2.00", "EUR"),
               P3: product(P3, "c", "300", "JPY")}

    with pytest.raises(UnprocessableOrder) as caught:
        price_order(parse_order_request(body), catalog, order_id="o", created_at="t")

    assert caught.value.field == "items[2].productId"
    assert "JPY" in caught.value.message and "EUR" in caught.value.message


def test_quantity_written_as_2_point_0_is_refused_or_treated_as_2(body, demo_catalog):
    body = json.loads(json.dumps(body).replace('"quantity": 2', '"quantity": 2.0'))
    assert body["items"][0]["quantity"] == 2.0  # Given: the float a JSON parser really produces

    try:
        request = parse_order_request(body)
    except InvalidRequest as error:
        assert error.field == "items[0].quantity"
        return
    order = price_order(request, demo_catalog, order_id="o", created_at="t")

    assert order.lines[0].quantity == 2 and isinstance(order.lines[0].quantity, int)
    assert str(order.total) == "29.80"


# --- Order.to_public / from_public -----------------------------------------------------------


@pytest.fixture
def order(body, demo_catalog) -> Order:
    body["items"] = [{"productId": MUG, "quantity": 2}, {"productId": TOWEL, "quantity": 1}]
    return price_order(parse_order_request(body), demo_catalog, order_id="01JORDER", created_at="2026-11-24T16:13:46Z")


def test_to_public_is_json_safe_with_amounts_as_strings(order):
    public = order.to_public()

    assert json.loads(json.dumps(public)) == public  # no Decimal, no float
    assert public["total"] == "39.30"
    assert public["items"][0] == {
        "productId": MUG, "name": "Stoneware mug", "quantity": 2, "unitPrice": "14.90", "lineTotal": "29.80",
    }
    assert public["status"] == OrderStatus.RECEIVED
    assert public["currency"] == "EUR"


def test_public_round_trip_through_json(order):
    restored = Order.from_public(json.loads(json.dumps(order.to_public())))

    assert restored == order
    assert isinstance(restored.total, Decimal)


def test_round_trip_keeps_status(order):
    approved = order.with_status(OrderStatus.APPROVED)

    assert Order.from_public(approved.to_public()).status == OrderStatus.APPROVED
    assert order.status == OrderStatus.RECEIVED  # with_status returns a copy


def test_from_public_leaves_the_workflows_bookkeeping_out(order):
    public = order.to_public() | {"decision": "approve", "approvalDeadline": "2026-11-25T16:13:46Z"}

    restored = Order.from_public(public)

    assert restored == order
    assert restored.to_public() == order.to_public()


def test_from_public_without_status_is_received(order):
    public = order.to_public()
    del public["status"]

    assert Order.from_public(public).status == OrderStatus.RECEIVED


def test_from_public_accepts_numbers_as_a_table_returns_them(order):
    # Given: the order as DynamoDB gives it back, numbers as Decimal
    public = order.to_public()
    for item in public["items"]:
        item["quantity"] = Decimal(item["quantity"])
        item["unitPrice"] = Decimal(item["unitPrice"])
        item["lineTotal"] = Decimal(item["lineTotal"])
    public["total"] = Decimal(public["total"])

    restored = Order.from_public(public)

    assert restored == order
    assert all(type(line.quantity) is int for line in restored.lines)


def test_every_pattern_the_order_schema_checks_has_its_words():
    """A 400 says what a field must be in words (issue 12, item 9): a pattern added to the schema
    without them would answer "is not in the expected form" at best."""
    from shop.domain.orders import _PATTERN_MEANS, ORDER_REQUEST_SCHEMA

    def patterns(schema):
        if isinstance(schema, dict):
            if isinstance(schema.get("pattern"), str):
                yield schema["pattern"]
            for value in schema.values():
                yield from patterns(value)
        elif isinstance(schema, list):
            for value in schema:
                yield from patterns(value)

    found = set(patterns(ORDER_REQUEST_SCHEMA))
    assert found and found <= set(_PATTERN_MEANS)


@pytest.mark.parametrize(("mutation", "field"), [
    (change("customerEmail", to="ada"), "customerEmail"),
    (change("customerEmail", to="ada@@example.com"), "customerEmail"),
    (change("customerEmail", to="ada@example"), "customerEmail"),
    (change("customerName", to=" "), "customerName"),
    (change("shippingAddress", "county", to="\t"), "shippingAddress.county"),
    (change("items", 0, "productId", to="01jdf12740c1hb5qe4dt9twb3r"), "items[0].productId"),
])
def test_no_message_shows_a_regular_expression(body, mutation, field):
    mutation(body)

    error = refused(body)
    assert error.field == field
    assert not re.search(r"pattern|\^|\$|\\[sSdDwW]|\[\^|\][{+*]|\(\?|\.\*|\{\d+(,\d*)?\}", error.message), error.message


def test_a_stored_order_reads_every_field_the_table_holds_and_shows_what_the_api_always_showed(order):
    item = order.to_public() | {
        "status": "AWAITING_APPROVAL", "approvalTaskToken": "token", "approvalLinkId": "link", "pendingLinkId": "next",
        "approvalDeadline": "2026-11-25T16:13:46Z", "decidedAt": "2026-11-24T17:00:00Z",
        "updatedAt": "2026-11-24T16:14:00Z"}

    stored = StoredOrder.from_item(item)

    assert stored.order == order.with_status(OrderStatus.AWAITING_APPROVAL) and stored.status == "AWAITING_APPROVAL"
    assert stored.approval == ApprovalState(task_token="token", link_id="link", pending_link_id="next",
                                            deadline="2026-11-25T16:13:46Z", decided_at="2026-11-24T17:00:00Z")
    # Shown as before it was typed: the item without its private fields, which it never shows.
    assert stored.to_public() == without_private_fields(item)
    assert not PRIVATE_ORDER_FIELDS & set(stored.to_public())


def test_a_stored_order_without_approval_shows_no_approval_fields(order):
    stored = StoredOrder.from_item(order.to_public())

    assert stored.approval == ApprovalState() and stored.to_public() == order.to_public()
