"""The `shop` command's own parts, without a shop: item parsing, exit codes, readable output."""

from __future__ import annotations

import argparse
import importlib
import json

import pytest

from shop.cli import EXIT, render
from shop.cli.api_client import ApiError
from shop.cli.main import CommandError, _exit_code, _item, _parser
from shop.domain.errors import AlreadyDecided, InvalidCatalog, InvalidRequest, LinkExpired, NotFound
from tests.support import ROOT


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


# --- stored text reaches a terminal: never its control characters ------------------------------

# What an order placed before the API refused them may hold: set the window title (OSC 0), clear
# the screen (CSI 2J, and its one-byte C1 form), write the clipboard (OSC 52), ring the bell, and
# reverse what follows (RLO).
HOSTILE = "Eve\x1b]0;pwned\x07\x1b[2J\x9b2J\x1b]52;c;cm0gLXJmIH4=\x07\u202eevil\r\nFAKE LINE"
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\r", "\nFAKE"]


def hostile_detail() -> dict:
    order = {"orderId": "01J", "customerName": HOSTILE, "customerEmail": f"{HOSTILE}@example.com",
             "createdAt": "2026-11-24T10:00:00Z", "currency": "EUR", "total": "1.00",
             "items": [{"quantity": 1, "name": HOSTILE, "lineTotal": "1.00"}]}
    return {"order": order, "status": "SHIPPED", "live": True, "awaitingApproval": False, "decision": None,
            "execution": {"status": "SUCCEEDED", "currentState": None, "outcome": "APPROVED"},
            "events": [{"timestamp": "2026-11-24T10:00:00Z", "type": "ExecutionFailed", "error": HOSTILE}]}


@pytest.mark.parametrize(("command", "result"), [
    ("order show", hostile_detail()),
    ("order list", [{"orderId": "01J", "status": "SHIPPED", "customerEmail": HOSTILE, "total": "1.00",
                     "currency": "EUR", "createdAt": "2026-11-24T10:00:00Z"}]),
    ("approvals list", [{"orderId": "01J", "customerEmail": HOSTILE, "total": "1.00", "currency": "EUR",
                         "approvalDeadline": "2026-11-24T10:00:00Z", "secondsLeft": 60}]),
])
def test_stored_control_characters_are_printed_as_visible_escapes(command, result):
    text = render.text(args(command), result)

    for raw in RAW:
        assert raw not in text
    assert "Eve\\x1b]0;pwned\\x07\\x1b[2J\\x9b2J" in text and "\\u202eevil\\x0d\\x0aFAKE LINE" in text


@pytest.mark.parametrize("as_json", [False, True])
def test_the_shop_command_prints_no_raw_control_character_in_either_form(monkeypatch, capsys, as_json):
    cli = importlib.import_module("shop.cli.main")  # `shop.cli.main` is also the function it exports

    monkeypatch.setattr(cli, "order_show", lambda _args: hostile_detail())

    assert cli.main(["order", "show", "01J", *(["--json"] if as_json else [])]) == 0

    out = capsys.readouterr().out
    for raw in RAW:
        assert raw not in out
    if as_json:  # json.dumps escapes them, and the data survives intact for scripts
        assert "\\u001b]0;pwned\\u0007" in out and "\\u202e" in out
        assert json.loads(out)["order"]["customerName"] == HOSTILE


def test_an_error_message_quoting_stored_text_is_printed_escaped(monkeypatch, capsys):
    cli = importlib.import_module("shop.cli.main")  # `shop.cli.main` is also the function it exports

    def refuse(_args):
        raise NotFound(f"no order with id {HOSTILE}")

    monkeypatch.setattr(cli, "order_show", refuse)

    assert cli.main(["order", "show", "x"]) == EXIT["not_found"]

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\\x1b]0;pwned" in err


# --- AWS not configured: exit 5, saying what to set (issue 12, item 6) ----------------------------

def test_no_region_is_a_configuration_problem_saying_what_to_set():
    from botocore.exceptions import NoRegionError

    kind, message = _exit_code(NoRegionError())
    assert kind == "unreachable"
    assert "--region" in message and "AWS_REGION" in message


@pytest.mark.parametrize("error", ["NoCredentialsError", "PartialCredentialsError"])
def test_missing_credentials_say_what_to_set(error):
    import botocore.exceptions

    kind, message = _exit_code(getattr(botocore.exceptions, error)(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"))
    assert kind == "unreachable"
    assert "AWS_PROFILE" in message and "AWS_ACCESS_KEY_ID" in message


def test_credentials_aws_refuses_are_a_configuration_problem_not_worth_retrying():
    from botocore.exceptions import ClientError

    refused = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "DescribeStacks")
    assert _exit_code(refused)[0] == "unreachable"
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "DescribeStacks")
    assert _exit_code(throttled)[0] == "failed"


# --- `shop --help` is written for the owner (item 8) ----------------------------------------------

def test_help_tells_the_owner_what_it_does_where_it_points_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as caught:
        _parser().parse_args(["--help"])

    assert caught.value.code == 0
    shown = capsys.readouterr().out
    assert "approve, reject or" in shown and "cancel" in shown
    assert "$SHOP_URL" in shown and "http://127.0.0.1:8000" in shown and "--aws" in shown
    for name, code in EXIT.items():
        assert f"\n  {code}  " in shown, name
    # Not the module's docstring, written for developers.
    assert "`EXIT`" not in shown and "shop order place --email" not in shown


# --- a reader that stops reading (`shop order list | head`, item 7) --------------------------------

@pytest.mark.parametrize("argv", [["order", "list"], ["order", "list", "--json"], ["--help"]])
def test_a_closed_pipe_ends_quietly_with_sigpipes_status(argv):
    """The reader is gone before the first byte: Python raises BrokenPipeError on the write, and
    at exit once more on the flush of what was buffered. Neither may show as a traceback."""
    import os
    import subprocess
    import sys

    from shop.cli.main import EXIT_BROKEN_PIPE

    # Enough orders to outgrow any buffer between the command and the pipe.
    program = ("import importlib, sys; cli = importlib.import_module('shop.cli.main'); "
               "cli.order_list = lambda args: [{'orderId': f'01J{i:023d}', 'status': 'SHIPPED', "
               "'customerEmail': 'a@b.c', 'total': '9.50', 'currency': 'EUR', 'createdAt': '2026-11-24T10:00:00Z'} "
               "for i in range(2000)]; sys.exit(cli.main(sys.argv[1:]))")
    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run([sys.executable, "-c", program, *argv], stdout=write, stderr=subprocess.PIPE,
                                text=True, timeout=60, cwd=ROOT)
    finally:
        os.close(write)

    assert result.stderr == ""
    # argparse itself ignores a failed write of its help, and exits 0 as usual.
    assert result.returncode == (0 if argv == ["--help"] else EXIT_BROKEN_PIPE) and EXIT_BROKEN_PIPE == 141


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/a b", "http://127.0.0.1:8000/\x01", "http://127.0.0.1:80 00",
                                 "http://127.0.0.1:8000\n", "http://127.0.0.1:8000\x1b[2J", "http://[::1",
                                 "http://127.0.0.1:99999", "127.0.0.1:8000", "ftp://127.0.0.1"])
@pytest.mark.parametrize("given", ["option", "environment"])
def test_a_local_url_that_is_not_one_is_a_usage_error_not_a_traceback(monkeypatch, capsys, url, given):
    """http.client raised InvalidURL for a space or a control character, out of `main`."""
    from shop.cli import main

    monkeypatch.setenv("SHOP_URL", url if given == "environment" else "http://127.0.0.1:8000")
    argv = ["--local", url] if given == "option" else []

    assert main([*argv, "order", "list"]) == EXIT["invalid"]
    error = capsys.readouterr().err
    assert error.startswith(f"shop: {'--local' if given == 'option' else '$SHOP_URL'} ")
    assert "is not a URL" in error and "\x01" not in error and "\x1b" not in error and error.count("\n") == 1


def test_the_clis_clients_retry_as_the_shops_own(monkeypatch):
    """Standard mode and AWS_MAX_ATTEMPTS attempts, as the functions' clients (shop.adapters.aws)."""
    from shop.cli.main import _resources

    monkeypatch.setattr("shop.adapters.stack.outputs_from_local", lambda url: (
        {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:M"}, "http://127.0.0.1:1",
        {"aws_access_key_id": "a", "aws_secret_access_key": "b"}))
    for attempts in ("1", None):
        if attempts is None:
            monkeypatch.delenv("AWS_MAX_ATTEMPTS")
        else:
            monkeypatch.setenv("AWS_MAX_ATTEMPTS", attempts)
        args = argparse.Namespace(aws=False, local="http://127.0.0.1:8000", local_given=True)
        retries = _resources(args).clients("dynamodb").meta.config.retries
        assert retries["mode"] == "standard" and retries.get("total_max_attempts", 3) == int(attempts or 3)
