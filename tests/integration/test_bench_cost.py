"""The cost model of `make bench` (bench/cost.py) on the real synthesized state machine, so that
the issue's cost targets are checked by `make test` too: at most 12 state transitions per approved
order, and cheaper per 1,000 orders than the same workflow built with one Lambda per step."""

from __future__ import annotations

import pytest

from bench import cost


@pytest.fixture(scope="module")
def definition(synthesized):
    definition, _ = cost.state_machine(synthesized.template)
    return definition


@pytest.fixture(scope="module")
def handlers(synthesized):
    return {lid: r["Properties"]["Handler"] for lid, r in synthesized.template["Resources"].items()
            if r["Type"] == "AWS::Lambda::Function"}


def test_an_approved_order_takes_at_most_12_state_transitions(definition, handlers):
    approved = cost.count_path(definition, handlers, None)
    assert approved.transitions <= 12, approved.states
    assert approved.states[0] == definition["StartAt"]
    assert definition["States"][approved.states[-1]].get("End")


@pytest.mark.parametrize("error", ["OrderRejected", "States.Timeout"])
def test_rejected_and_timed_out_orders_end_cancelled(definition, handlers, error):
    path = cost.count_path(definition, handlers, error)
    assert definition["States"][path.states[-1]].get("End")
    assert path.ses_emails >= 2  # "order received", then the cancellation
    assert path.sns_publishes == 1  # the owner was asked


def test_every_state_of_every_path_is_priced(definition, handlers):
    """Each task is a known Lambda or a DynamoDB integration: nothing is silently free."""
    for error in cost.PATHS.values():
        path = cost.count_path(definition, handlers, error)
        tasks = [s for s in path.states if definition["States"][s]["Type"] == "Task"]
        assert len(tasks) == path.lambda_invocations + path.dynamodb_integrations


def test_as_built_is_cheaper_than_one_lambda_per_step(synthesized):
    designs = cost.analyse(synthesized.template_path)["designs"]
    for outcome, as_built in designs["as_built"].items():
        per_step = designs["one_lambda_per_step"][outcome]
        assert as_built["transitions"] == per_step["transitions"]
        assert as_built["cost"]["total_usd"] < per_step["cost"]["total_usd"], outcome


def test_transitions_are_priced_at_the_standard_list_price(definition, handlers):
    approved = cost.count_path(definition, handlers, None)
    priced = cost.price_orders(approved, outcome="approved", memory_mb=256, architecture="arm64", orders=1000)
    assert priced["lines_usd"]["step_functions_transitions"] == pytest.approx(approved.transitions * 0.025)
