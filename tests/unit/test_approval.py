"""The owner's approve/reject links: built with the task token URL-encoded exactly once, signed,
parsed back from the query string and verified; each carries the id of the notification it came
from, so that a resent notification can replace it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from shop.domain.approval import (
    LINK_DECISIONS,
    MAX_ORDER_ID_LENGTH,
    MAX_TOKEN_LENGTH,
    CallbackRequest,
    Decision,
    approval_links,
    new_link_id,
    parse_callback,
    sign,
    verify,
)
from shop.domain.errors import InvalidRequest, LinkExpired, LinkForged
from shop.error_answers import answer_for

BASE = "https://abc123.lambda-url.us-east-1.on.aws/"
KEY = b"k" * 32
EXPIRES = 1_795_000_000
# A Step Functions task token is base64: `+`, `/`, `=`; add spaces and `&`, `%` for good measure.
TOKEN = "AAAAKgAAAAIAAAAAAAAAA+b/Yz== x y&z=%2B"
LINK = "Zm9yIHRoZSB0ZXN0cw_-"


def query_of(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query, keep_blank_values=True)


def params_of(link: str) -> dict[str, str]:
    """What the platform hands the callback: each parameter URL-decoded once."""
    return {key: values[0] for key, values in query_of(link).items()}


@pytest.fixture
def links() -> dict[Decision, str]:
    return approval_links(BASE, "01JORDER", TOKEN, key=KEY, expires=EXPIRES, link_id=LINK)


def test_one_link_per_decision(links):
    assert set(links) == {Decision.APPROVE, Decision.REJECT}
    results = [query_of(link)["result"] for link in links.values()]
    assert sorted(results) == [["approve"], ["reject"]]  # exactly one of each, once per link
    assert query_of(links[Decision.APPROVE])["result"] == ["approve"]
    assert query_of(links[Decision.REJECT])["result"] == ["reject"]


@pytest.mark.parametrize(
    "token",
    [TOKEN, "a+b", "a/b", "a==", "a b", " leading and trailing ", "ü+€/=", "%2B", "+" * 1024],
)
def test_token_survives_the_query_string_unchanged(token):
    links = approval_links(BASE, "01JORDER", token, key=KEY, expires=EXPIRES, link_id=LINK)

    for link in links.values():
        query = query_of(link)
        assert query["token"] == [token]
        assert query["orderId"] == ["01JORDER"]
        assert query["expires"] == [str(EXPIRES)]
        assert query["link"] == [LINK]
        assert len(query["sig"]) == 1


def test_token_is_percent_encoded_exactly_once():
    links = approval_links(BASE, "01JORDER", "a+b/c= d", key=KEY, expires=EXPIRES, link_id=LINK)

    for link in links.values():
        raw = dict(pair.split("=", 1) for pair in urlsplit(link).query.split("&"))
        assert raw["token"] == "a%2Bb%2Fc%3D%20d"  # not `a+b/c= d` (raw), nor `a%252B...` (twice)


def test_links_start_with_the_base_url(links):
    assert all(link.startswith(BASE + "?") for link in links.values())


def test_base_url_that_has_a_query_gets_parameters_appended():
    links = approval_links(BASE + "?stage=1", "o1", TOKEN, key=KEY, expires=EXPIRES, link_id=LINK)

    for link in links.values():
        assert link.startswith(BASE + "?stage=1&")
        assert query_of(link)["stage"] == ["1"]
        assert query_of(link)["token"] == [TOKEN]


@pytest.mark.parametrize("decision", LINK_DECISIONS)
def test_link_round_trip_parses_and_verifies(links, decision):
    request = parse_callback(params_of(links[decision]))

    assert (request.order_id, request.task_token, request.decision, request.expires, request.link_id) == (
        "01JORDER", TOKEN, decision, EXPIRES, LINK,
    )
    verify(request, key=KEY, now=EXPIRES - 1)  # does not raise


def test_signature_is_url_safe_base64_without_padding():
    signature = sign(KEY, order_id="o", decision=Decision.APPROVE, task_token=TOKEN, expires=EXPIRES, link_id=LINK)

    assert len(signature) == 43  # 32 bytes of HMAC-SHA256
    assert not set(signature) & set("+/=")


@pytest.mark.parametrize(
    ("tamper", "value"),
    [("result", "reject"), ("orderId", "01JOTHER"), ("token", TOKEN + "x"), ("expires", str(EXPIRES + 3600)),
     ("link", new_link_id()), ("sig", ""), ("sig", "A" * 43)],
)
def test_a_changed_link_is_forged(links, tamper, value):
    params = params_of(links[Decision.APPROVE]) | {tamper: value}

    with pytest.raises(LinkForged) as caught:
        verify(parse_callback(params), key=KEY, now=EXPIRES - 1)

    assert answer_for(caught.value).status == 403


def test_a_link_signed_with_another_key_is_forged(links):
    with pytest.raises(LinkForged):
        verify(parse_callback(params_of(links[Decision.APPROVE])), key=b"other", now=EXPIRES - 1)


@pytest.mark.parametrize("now", [EXPIRES, EXPIRES + 0.5, EXPIRES + 86400])
def test_a_link_at_or_after_its_deadline_has_expired(links, now):
    with pytest.raises(LinkExpired) as caught:
        verify(parse_callback(params_of(links[Decision.REJECT])), key=KEY, now=now)

    assert answer_for(caught.value).status == 410


def test_a_forged_link_is_refused_as_forged_even_when_expired(links):
    params = params_of(links[Decision.APPROVE]) | {"result": "reject"}

    with pytest.raises(LinkForged):
        verify(parse_callback(params), key=KEY, now=EXPIRES + 1)


# --- parse_callback ---------------------------------------------------------------------------

GOOD = {"orderId": "01JORDER", "token": TOKEN, "result": "approve", "expires": str(EXPIRES), "link": LINK,
        "sig": "s"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (None, "orderId"),
        ({}, "orderId"),
        (GOOD | {"orderId": ""}, "orderId"),
        (GOOD | {"orderId": "   "}, "orderId"),
        (GOOD | {"orderId": "x" * (MAX_ORDER_ID_LENGTH + 1)}, "orderId"),
        ({k: v for k, v in GOOD.items() if k != "orderId"}, "orderId"),
        (GOOD | {"token": ""}, "token"),
        (GOOD | {"token": "x" * (MAX_TOKEN_LENGTH + 1)}, "token"),
        ({k: v for k, v in GOOD.items() if k != "token"}, "token"),
        (GOOD | {"result": ""}, "result"),
        (GOOD | {"result": "APPROVE"}, "result"),
        (GOOD | {"result": "yes"}, "result"),
        (GOOD | {"result": "approve,reject"}, "result"),  # a repeated key, comma-joined by the platform
        ({k: v for k, v in GOOD.items() if k != "result"}, "result"),
        (GOOD | {"expires": ""}, "expires"),
        (GOOD | {"expires": "-1"}, "expires"),
        (GOOD | {"expires": "1.5"}, "expires"),
        (GOOD | {"expires": "soon"}, "expires"),
        (GOOD | {"expires": "1" * 13}, "expires"),
        (GOOD | {"result": "cancel"}, "result"),  # only the owner's own tools cancel
        ({k: v for k, v in GOOD.items() if k != "link"}, "link"),
        (GOOD | {"link": "short"}, "link"),
        (GOOD | {"link": "x" * 65}, "link"),
        (GOOD | {"link": "has space in it ok"}, "link"),
        (GOOD | {"sig": "s" * 129}, "sig"),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, dict | None) else value,
)
def test_bad_callback_parameters_are_refused_naming_the_field(params, field):
    with pytest.raises(InvalidRequest) as caught:
        parse_callback(params)

    assert caught.value.field == field


@pytest.mark.parametrize(
    "params",
    [
        GOOD | {"orderId": "x" * MAX_ORDER_ID_LENGTH},
        GOOD | {"token": "x" * MAX_TOKEN_LENGTH},
        GOOD | {"result": " reject "},
        GOOD | {"expires": "1" * 12},
        GOOD | {"sig": ""},  # parsed; verify() refuses it as forged
    ],
    ids=["orderId max", "token max", "result padded", "expires 12 digits", "no sig"],
)
def test_callback_parameters_at_the_limits_are_accepted(params):
    assert parse_callback(params) == CallbackRequest(
        order_id=params["orderId"], task_token=params["token"], decision=Decision(params["result"].strip()),
        expires=int(params["expires"]), link_id=params["link"], signature=params["sig"],
    )


def test_callback_keeps_the_token_exactly_and_strips_the_rest():
    request = parse_callback(GOOD | {"orderId": " 01JORDER ", "token": " a+b= ", "result": "reject"})

    assert request.order_id == "01JORDER"
    assert request.task_token == " a+b= "  # the token is Step Functions', byte for byte
    assert request.decision is Decision.REJECT


def test_non_ascii_digits_in_expires_are_refused():
    with pytest.raises(InvalidRequest) as caught:
        parse_callback(GOOD | {"expires": "²"})

    assert caught.value.field == "expires"


# --- link ids ---------------------------------------------------------------------------------


def test_link_ids_are_fresh_and_url_safe():
    ids = {new_link_id() for _ in range(100)}

    assert len(ids) == 100
    for link_id in ids:
        assert parse_callback(GOOD | {"link": link_id}).link_id == link_id


def test_no_link_is_ever_made_for_cancelling(links):
    assert Decision.CANCEL not in links
    assert Decision.CANCEL not in LINK_DECISIONS
