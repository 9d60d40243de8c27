"""The `shop` command's own parts, without a shop: item parsing, exit codes, readable output."""

from __future__ import annotations

import argparse

import pytest

from shop.cli import EXIT, render
from shop.cli.api_client import ApiError
from shop.cli.main import CommandError, _exit_code, _item, _parser
from shop.domain.errors import AlreadyDecided, InvalidCatalog, InvalidRequest, LinkExpired, NotFound


@pytest.mark.parametrize(("text", "item"), [("01JDF12740C1HB5QE4DT9TWB3R:2", ("01JDF12740C1HB5QE4DT9TWB3R", 2)),
                                            ("a:b:3", ("a:b", 3)), ("X:0", ("X", 0))])
def test_items_are_product_and_quantity(text, item):
    parsed = _item(text)

    assert (parsed["productId"], parsed["quantity"]) == item


@pytest.mark.parametrize("text", ["", "X", ":2", "X:", "X:-1", "X:1.5", "X:two", "X:²"])
def test_bad_items_are_refused_before_any_request(text):
    with pytest.raises(CommandError) as caught:
        _item(text)

    assert caught.value.kind == "invalid" and "PRODUCT_ID:QUANTITY" in caught.value.message


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (NotFound("x"), "not_found"),
        (AlreadyDecided("x"), "conflict"),
        (LinkExpired("x"), "conflict"),
        (InvalidRequest("x"), "invalid"),
        (InvalidCatalog("x"), "invalid"),
        (ApiError("invalid", "x"), "invalid"),
        (CommandError("unreachable", "x"), "unreachable"),
    ],
)
def test_each_failure_has_its_exit_code(error, kind):
    assert _exit_code(error) == (kind, "x")
    assert EXIT[kind] >= 2  # 0 is success, 1 an AWS failure worth retrying


def test_exit_codes_are_distinct():
    assert len(set(EXIT.values())) == len(EXIT)


def test_a_bug_is_not_hidden_behind_an_exit_code():
    with pytest.raises(ZeroDivisionError):
        _exit_code(ZeroDivisionError())


def test_no_credentials_means_unreachable():
    from botocore.exceptions import NoCredentialsError

    kind, message = _exit_code(NoCredentialsError())
    assert kind == "unreachable" and "credentials" in message


@pytest.mark.parametrize("argv", [[], ["order"], ["order", "fly"], ["approvals", "approve"], ["order", "list", "--limit", "x"]])
def test_incomplete_commands_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as caught:
        _parser().parse_args(argv)

    assert caught.value.code == 2
    assert "usage: shop" in capsys.readouterr().err


def args(command: str) -> argparse.Namespace:
    group, name = command.split()
    return argparse.Namespace(group=group, command=name)


def test_order_list_is_a_table():
    text = render.text(args("order list"), [{"orderId": "01J", "status": "SHIPPED", "customerEmail": "a@b.c",
                                              "total": "9.50", "currency": "EUR", "createdAt": "2026-11-24T10:00:00Z"}])

    header, row = text.splitlines()
    assert header.split() == ["ORDER", "STATUS", "CUSTOMER", "TOTAL", "PLACED"]
    assert row.split()[:5] == ["01J", "SHIPPED", "a@b.c", "9.50", "EUR"]
    assert render.text(args("order list"), []) == "No orders."


def test_approvals_list_says_how_long_is_left():
    text = render.text(args("approvals list"), [{"orderId": "01J", "customerEmail": "a@b.c", "total": "1.00",
                                                  "currency": "EUR", "approvalDeadline": "2026-11-24T10:00:00Z",
                                                  "secondsLeft": 3725}])

    assert "2026-11-24 10:00:00 UTC" in text and "1h 02m" in text
    assert render.text(args("approvals list"), []) == "No orders are waiting for a decision."


@pytest.mark.parametrize(("status", "words"), [("APPROVED", "approved: it ships now"),
                                               ("REJECTED", "rejected: the customer is told"),
                                               ("CANCELLED", "cancelled: the customer is told")])
def test_a_decision_is_one_sentence(status, words):
    assert words in render.text(args("approvals approve"), {"orderId": "01J", "status": status})
