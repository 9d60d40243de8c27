"""Deploy parameters from the CDK context: every key required, durations whole positive seconds,
per-deploy `-c key=value` overrides (strings) winning over cdk.json's values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shop.settings import DeployParameters
from tests.support import ROOT

CONTEXT: dict[str, Any] = {
    "ownerEmail": "owner@shop.test",
    "senderEmail": "orders@shop.test",
    "approvalTimeoutSeconds": 86400,
    "feedbackDelaySeconds": 3600,
}
SECONDS_KEYS = ["approvalTimeoutSeconds", "feedbackDelaySeconds"]


def from_context(**overrides: Any) -> DeployParameters:
    context = {**CONTEXT, **overrides}
    return DeployParameters.from_context(context.get)


def test_reads_every_parameter():
    assert from_context() == DeployParameters(
        owner_email="owner@shop.test",
        sender_email="orders@shop.test",
        approval_timeout_seconds=86400,
        feedback_delay_seconds=3600,
    )


def test_cdk_json_context_is_a_valid_set_of_parameters():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]

    params = DeployParameters.from_context(context.get)

    assert params.owner_email == context["ownerEmail"].strip()
    assert params.approval_timeout_seconds == int(context["approvalTimeoutSeconds"])
    assert params.feedback_delay_seconds == int(context["feedbackDelaySeconds"])


def test_command_line_overrides_win_and_are_converted():
    # Given: `cdk deploy -c approvalTimeoutSeconds=300 -c ownerEmail=me@x.test` passes strings
    params = from_context(approvalTimeoutSeconds="300", ownerEmail=" me@x.test ")

    assert params.approval_timeout_seconds == 300
    assert isinstance(params.approval_timeout_seconds, int)
    assert params.owner_email == "me@x.test"
    assert params.feedback_delay_seconds == 3600  # not overridden


@pytest.mark.parametrize("key", SECONDS_KEYS)
@pytest.mark.parametrize(("value", "expected"), [("1", 1), (" 60 ", 60), (45, 45), ("604800", 604800)])
def test_seconds_are_whole_numbers(key, value, expected):
    params = from_context(**{key: value})

    assert getattr(params, DeployParameters.CONTEXT_KEYS[key]) == expected


@pytest.mark.parametrize("key", SECONDS_KEYS)
@pytest.mark.parametrize("value", [0, "0", -1, "-5", "-0"], ids=repr)
def test_seconds_must_be_positive(key, value):
    with pytest.raises(ValueError, match=f"{key} must be a positive"):
        from_context(**{key: value})


@pytest.mark.parametrize("key", SECONDS_KEYS)
@pytest.mark.parametrize("value", ["abc", "1.5", "1e3", "5m", [60]], ids=repr)
def test_seconds_must_be_a_number(key, value):
    with pytest.raises(ValueError, match=f"{key} must be a whole number"):
        from_context(**{key: value})


@pytest.mark.parametrize("value", [1.5, 86400.9, True], ids=repr)
def test_seconds_that_are_not_a_whole_number_are_refused_whatever_their_type(value):
    with pytest.raises(ValueError):
        from_context(approvalTimeoutSeconds=value)


@pytest.mark.parametrize("key", list(CONTEXT))
@pytest.mark.parametrize("value", [None, "", "   "], ids=repr)
def test_every_parameter_is_required(key, value):
    with pytest.raises(ValueError, match=f"{key} is missing"):
        from_context(**{key: value})


@pytest.mark.parametrize("key", list(CONTEXT))
def test_an_absent_key_is_missing(key):
    context = {k: v for k, v in CONTEXT.items() if k != key}

    with pytest.raises(ValueError, match=f"{key} is missing"):
        DeployParameters.from_context(context.get)


@pytest.mark.parametrize(("value", "name"), [(None, "OrderShop"), ("", "OrderShop"), (" Smoky-2 ", "Smoky-2")])
def test_the_stack_name_comes_from_the_context_or_defaults(value, name):
    from shop.settings import stack_name_from_context

    assert stack_name_from_context(value) == name


@pytest.mark.parametrize("value", ["2fast", "Order_Shop", "Order Shop", "x" * 65, "Shop;rm"])
def test_a_stack_name_cloudformation_would_refuse_is_refused_before_the_synthesis(value):
    from shop.settings import stack_name_from_context

    with pytest.raises(ValueError, match="stackName .* is not a stack name"):
        stack_name_from_context(value)


def test_a_stack_name_too_long_for_its_state_machines_name_is_refused_saying_why():
    from shop.settings import stack_name_from_context

    assert stack_name_from_context("S" * 53) == "S" * 53
    with pytest.raises(ValueError, match="too long: 54 characters, at most 53. The state machine is named"):
        stack_name_from_context("S" * 54)
