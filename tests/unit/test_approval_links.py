"""What an approval link proves and how each broken one is refused, pinned down exactly: the
signature's wire format (a known answer), the exact URL of each link, the refusal a bad parameter
gets (its type, the field it names, the sentence the owner's page shows), the link ids a
notification gets, and how pages say a decision in the past tense.

Written for mutation testing (`make mutation`, TESTING.md): each test here fails for some change of
shop/domain/approval.py that the other unit tests let through.
"""

from __future__ import annotations

import base64
import re

import pytest

from shop.domain.approval import (
    MAX_ORDER_ID_LENGTH,
    Decision,
    approval_links,
    new_link_id,
    parse_callback,
    past_tense,
    sign,
    verify,
)
from shop.domain.errors import InvalidRequest, LinkExpired, LinkForged

KEY = b"k" * 32
ORDER = "01JORDER"
EXPIRES = 1_795_000_000
TOKEN = "a+b/c="  # base64 like a Step Functions task token
LINK = "Zm9yIHRoZSB0ZXN0cw_-"

# HMAC-SHA256 under KEY of "approval-link/v2\n01JORDER\napprove\na+b/c=\n1795000000\nZm9yIHRoZSB0ZXN0cw_-",
# URL-safe base64 without its one `=` of padding; computed independently with hmac/hashlib/base64.
APPROVE_SIGNATURE = "h0F-xGlXLB-fcRTr3UztLLo3SOdKUshusSctbOt5zZk"
REJECT_SIGNATURE = "EGvAi-aeEIRUfpgsNVQk_GIYslAHbdWFecpoWJJtoRg"


def params(**changes: str) -> dict[str, str]:
    """A valid callback's query parameters (as the platform hands them over), with `changes`."""
    return {"orderId": ORDER, "token": TOKEN, "result": "approve", "expires": str(EXPIRES), "link": LINK,
            "sig": APPROVE_SIGNATURE} | changes


def without(name: str) -> dict[str, str]:
    return {key: value for key, value in params().items() if key != name}


# --- the signature ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "expected"), [(Decision.APPROVE, APPROVE_SIGNATURE), (Decision.REJECT, REJECT_SIGNATURE)]
)
def test_signature_matches_the_known_answer_of_the_v2_link_format(decision, expected):
    # Links already in the owner's inbox must stay valid across deployments: the message layout
    # (version tag, field order, newline separator) and the encoding are a wire format.
    assert sign(KEY, order_id=ORDER, decision=decision, task_token=TOKEN, expires=EXPIRES, link_id=LINK) == expected


def test_a_valid_link_verifies_until_just_before_its_deadline():
    request = parse_callback(params())

    verify(request, key=KEY, now=EXPIRES - 0.001)  # does not raise
    with pytest.raises(LinkExpired):
        verify(request, key=KEY, now=EXPIRES)


def test_a_forged_link_is_refused_with_the_sentence_the_owner_reads():
    with pytest.raises(LinkForged) as caught:
        verify(parse_callback(params(orderId="01JOTHER")), key=KEY, now=EXPIRES - 1)

    assert type(caught.value) is LinkForged
    assert caught.value.message == str(caught.value) == (
        "This link was not issued by the shop, or was changed. Use the link from the email."
    )


def test_an_expired_link_is_refused_with_the_sentence_the_owner_reads():
    with pytest.raises(LinkExpired) as caught:
        verify(parse_callback(params()), key=KEY, now=EXPIRES + 60)

    assert type(caught.value) is LinkExpired
    assert caught.value.message == str(caught.value) == (
        "The time to decide on this order ran out; it is being cancelled."
    )


# --- the links --------------------------------------------------------------------------------


def test_each_link_is_the_base_url_with_every_parameter_encoded_once_and_its_own_signature():
    links = approval_links("https://x.example/cb", ORDER, TOKEN, key=KEY, expires=EXPIRES, link_id=LINK)

    def link(decision: str, signature: str) -> str:
        return (f"https://x.example/cb?orderId={ORDER}&result={decision}&expires={EXPIRES}&link={LINK}"
                f"&token=a%2Bb%2Fc%3D&sig={signature}")

    assert links == {Decision.APPROVE: link("approve", APPROVE_SIGNATURE),
                     Decision.REJECT: link("reject", REJECT_SIGNATURE)}


# --- parse_callback ---------------------------------------------------------------------------

NO_ORDER_ID = "The link has no valid order id."
NO_TOKEN = "The link has no valid approval token."
NO_DECISION = "The link must say approve or reject."
NO_EXPIRY = "The link has no valid expiry."
NO_LINK_ID = "The link has no valid link id."
NO_SIGNATURE = "The link has no valid signature."


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (without("orderId"), "orderId", NO_ORDER_ID),
        (params(orderId=" "), "orderId", NO_ORDER_ID),
        (params(orderId="x" * (MAX_ORDER_ID_LENGTH + 1)), "orderId", NO_ORDER_ID),
        (without("token"), "token", NO_TOKEN),
        (params(token="x" * 8193), "token", NO_TOKEN),
        (without("result"), "result", NO_DECISION),
        (params(result="cancel"), "result", NO_DECISION),
        (without("expires"), "expires", NO_EXPIRY),
        (params(expires="tomorrow"), "expires", NO_EXPIRY),
        (without("link"), "link", NO_LINK_ID),
        (params(link="x" * 15), "link", NO_LINK_ID),
        (params(sig="s" * 129), "sig", NO_SIGNATURE),
    ],
    ids=["no orderId", "blank orderId", "long orderId", "no token", "long token", "no result",
         "result cancel", "no expires", "expires not digits", "no link", "short link", "long sig"],
)
def test_each_bad_parameter_is_refused_as_invalid_naming_the_field_and_saying_why(bad, field, message):
    with pytest.raises(InvalidRequest) as caught:
        parse_callback(bad)

    assert type(caught.value) is InvalidRequest  # a 400, not a forged or expired link
    assert caught.value.field == field
    assert caught.value.message == str(caught.value) == message


def test_a_signature_of_128_characters_is_parsed_and_kept():
    assert parse_callback(params(sig="s" * 128)).signature == "s" * 128


@pytest.mark.parametrize("bad", [without("sig"), params(sig=""), params(sig="  ")])
def test_a_link_without_a_signature_parses_to_an_empty_one_that_verify_refuses(bad):
    request = parse_callback(bad)

    assert request.signature == ""
    with pytest.raises(LinkForged):
        verify(request, key=KEY, now=EXPIRES - 1)


# --- link ids ---------------------------------------------------------------------------------


def test_a_link_id_is_16_random_bytes_in_url_safe_base64():
    link_id = new_link_id()

    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", link_id)
    assert len(base64.urlsafe_b64decode(link_id + "==")) == 16  # 128 bits: not guessable


def test_link_ids_do_not_repeat():
    assert len({new_link_id() for _ in range(1000)}) == 1000


# --- past tense -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "said"),
    [(Decision.APPROVE, "approved"), (Decision.REJECT, "rejected"), (Decision.CANCEL, "cancelled"),
     ("approve", "approved"), ("reject", "rejected"), ("cancel", "cancelled")],
)
def test_past_tense_of_each_decision(decision, said):
    assert past_tense(decision) == said


@pytest.mark.parametrize("decision", ["", "maybe", "APPROVE"])
def test_past_tense_of_anything_else_is_decided(decision):
    # An order record without a (known) decision still reads as a sentence on the page.
    assert past_tense(decision) == "decided"
