"""shop/logic/orders.py, its pure parts: decoding a request body into JSON with errors a client
can act on, and the workflow's input."""

from __future__ import annotations

import json

import pytest

from shop.domain.errors import InvalidRequest
from shop.domain.orders import parse_order_request, price_order
from shop.logic.orders import MAX_BODY_BYTES, decode_json_body, workflow_input
from tests.unit.samples import valid_body


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        (b'{"a": 1}', {"a": 1}),
        ('{"name": "Zoë"}', {"name": "Zoë"}),
        ('{"name": "Zoë"}'.encode(), {"name": "Zoë"}),
        ("[1, 2]", [1, 2]),  # valid JSON; the schema refuses its shape later
        ('"x"', "x"),
    ],
)
def test_valid_json_is_decoded(raw, expected):
    assert decode_json_body(raw) == expected


@pytest.mark.parametrize("raw", [None, "", b""], ids=repr)
def test_empty_body_is_refused(raw):
    with pytest.raises(InvalidRequest, match="required") as caught:
        decode_json_body(raw)

    assert caught.value.field == "body"


@pytest.mark.parametrize("kind", [str, bytes])
def test_body_over_64_kib_is_refused(kind):
    raw = '"' + "a" * MAX_BODY_BYTES + '"'

    with pytest.raises(InvalidRequest, match="larger than") as caught:
        decode_json_body(raw if kind is str else raw.encode())

    assert caught.value.field == "body"


def test_body_of_exactly_64_kib_is_accepted():
    raw = '"' + "a" * (MAX_BODY_BYTES - 2) + '"'

    assert len(raw.encode()) == MAX_BODY_BYTES
    assert decode_json_body(raw) == "a" * (MAX_BODY_BYTES - 2)


def test_body_limit_counts_bytes_for_text_bodies():
    raw = '"' + "é" * 40_000 + '"'
    assert len(raw.encode("utf-8")) > MAX_BODY_BYTES

    with pytest.raises(InvalidRequest, match="larger than"):
        decode_json_body(raw)


@pytest.mark.parametrize(
    "raw",
    ["{", "{'a': 1}", "[1,]", "nope", '{"a": 1} trailing', "\x00", b"{", b"\xef\xbb\xbf{"],
    ids=repr,
)
def test_invalid_json_is_refused(raw):
    with pytest.raises(InvalidRequest, match="not valid JSON") as caught:
        decode_json_body(raw)

    assert caught.value.field == "body"


@pytest.mark.parametrize(
    "raw",
    [b'{"a": "\xff"}', b'{"a": "\xc3\x28"}', b"\x80", b'{"name": "Zo\xeb"}'],  # the last is latin-1
    ids=repr,
)
def test_invalid_utf8_bytes_are_refused(raw):
    with pytest.raises(InvalidRequest, match="not valid UTF-8") as caught:
        decode_json_body(raw)

    assert caught.value.field == "body"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[" * 30_000 + "]" * 30_000, "nested too deeply"),  # RecursionError inside json
        ('{"quantity": 1' + "0" * 5000 + "}", "not valid JSON"),  # over int()'s digit limit
    ],
    ids=["deep-nesting", "5000-digit-number"],
)
def test_what_the_parser_cannot_take_is_the_clients_error(raw, message):
    with pytest.raises(InvalidRequest, match=message) as caught:
        decode_json_body(raw)

    assert caught.value.field == "body"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"customerName": "\\ud800"}', "customerName"),
        ('{"shippingAddress": {"city": "x\\udfff"}}', "shippingAddress.city"),
        ('{"items": [{"productId": "a"}, {"productId": "\\ud83d"}]}', "items[1].productId"),
    ],
)
def test_a_lone_surrogate_is_refused_with_its_field(raw, field):
    with pytest.raises(InvalidRequest, match="not valid Unicode") as caught:
        decode_json_body(raw)

    assert caught.value.field == field


def test_workflow_input_carries_the_public_order_and_durations(demo_catalog):
    order = price_order(parse_order_request(valid_body()), demo_catalog, order_id="o1", created_at="t")

    payload = workflow_input(order, approval_timeout_seconds=300, feedback_delay_seconds=30)

    assert payload == {"order": order.to_public(), "approvalTimeoutSeconds": 300, "feedbackDelaySeconds": 30}
    assert json.loads(json.dumps(payload)) == payload
