"""`make destroy` with orders still running: against a local shop's real executions, reached the way
AWS would be (a CloudFormation stack in moto whose outputs are the running shop's). The CDK CLI
never runs: a fake `cdk destroy` records what was still running when it was called.

Before the stack goes, an order awaiting approval is cancelled through the owner's cancel (its
customer told), a shipped one waiting for its feedback email is stopped, and the destroy waits,
with a deadline, until no execution runs.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
import pytest
import requests

from shop.adapters.stack import ShopResources
from shop.adapters.workflow import Workflow
from shop.deploy import CDK_CLI
from shop.deploy.__main__ import main
from shop.deploy.drain import STOP_ERROR
from shop.deploy.smoke import AwsTarget, Durations
from shop.domain.workflow_graph import current_state, state_marks
from shop.local.patches.stepfunctions_tasks import release_waiting_tasks
from shop.logic import owner
from tests.support import ShopClient, poll, running_shop

FEEDBACK_DELAY = 3600  # an approved order rests at WaitBeforeFeedback for the whole module


@pytest.fixture(scope="module")
def shop(synthesized):
    with running_shop(synthesized, approval_timeout_seconds=600, feedback_delay_seconds=FEEDBACK_DELAY) as shop:
        yield shop


def _running(shop: ShopClient) -> list[str]:
    return [e["name"] for e in boto3.client("stepfunctions").list_executions(
        stateMachineArn=shop.shop.stack.outputs["StateMachineArn"], statusFilter="RUNNING")["executions"]]


@pytest.fixture(autouse=True)
def nothing_left_running(shop):
    """Each test starts with no execution running and leaves none: the counts are its own."""
    yield
    shop.shop.faults.arm("ses.send_email", 0)
    workflow = Workflow(shop.shop.stack.outputs["StateMachineArn"], boto3.client("stepfunctions"))
    for name in _running(shop):
        workflow.stop(name, error="TestOver", cause="the test ended")
    release_waiting_tasks()  # a stopped task waiting for its token wakes only so, in moto
    poll(lambda: not _running(shop), what="the test's executions to end")


@pytest.fixture
def stack(shop) -> str:
    """A "deployed" stack whose outputs are the running shop's: what `cdk deploy` leaves on AWS."""
    name = f"Shop{secrets.token_hex(4)}"
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {key: {"Value": value} for key, value in shop.shop.stack.outputs.items()}}
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))
    return name


class FakeCdk:
    """`cdk destroy` deletes the stack; each call records which executions were running then."""

    def __init__(self, shop: ShopClient) -> None:
        self.shop, self.calls = shop, []

    def __call__(self, command: Sequence[str], env: Mapping[str, str]) -> int:
        verb, stack = command[len(CDK_CLI)], command[len(CDK_CLI) + 1]
        self.calls.append((verb, _running(self.shop)))
        if verb == "destroy":
            boto3.client("cloudformation").delete_stack(StackName=stack)
        return 0


class Terminal:
    """A person at the terminal who answers `answer`, or (None) must never be asked."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        assert self.answer is not None, "asked a question"
        return self.answer


def destroy(shop: ShopClient, stack: str, *args: str, answer: str | None = None) -> tuple[int, str, FakeCdk]:
    runner, lines = FakeCdk(shop), []
    status = main(["destroy", "--stack", stack, *args], runner=runner, session=boto3.Session(region_name="us-east-1"),
                  stdin=Terminal(answer), out=lines.append)
    return status, "\n".join(lines), runner


def resources(shop: ShopClient) -> ShopResources:
    return ShopResources(shop.shop.stack.outputs, boto3.client)


def awaiting_approval(shop: ShopClient) -> str:
    """An order whose owner was notified (its links confirmed sent): it can be decided."""
    order_id = shop.place_ok()["orderId"]
    poll(lambda: (shop.stored_order(order_id) or {}).get("approvalLinkId"), what="the links confirmed sent")
    return order_id


def current(shop: ShopClient, order_id: str) -> str | None:
    workflow = resources(shop).workflow
    return current_state(state_marks(workflow.history(order_id), "RUNNING"))


def waiting_for_feedback(shop: ShopClient) -> str:
    order_id = awaiting_approval(shop)
    assert requests.post(shop.links(order_id)["approve"], timeout=10).status_code == 200
    poll(lambda: current(shop, order_id) == "WaitBeforeFeedback", what="the order resting before its feedback email")
    return order_id


def status(shop: ShopClient, order_id: str) -> str:
    return shop.execution(order_id)["status"]


def test_destroy_cancels_the_waiting_order_stops_the_shipped_one_and_only_then_deletes_the_stack(shop, stack):
    waiting = awaiting_approval(shop)
    shipped = waiting_for_feedback(shop)

    code, out, runner = destroy(shop, stack, "--yes")  # a question would fail the test

    assert code == 0, out
    assert "  ?" not in out
    # Every execution had ended when `cdk destroy` ran, and it ran once.
    assert runner.calls == [("destroy", [])]
    assert f"{waiting} awaits approval" in out and f"{shipped} shipped, waits for its feedback email" in out
    assert f"cancelled {waiting}: its customer gets the cancellation email" in out
    assert f"stopped {shipped}: shipped, its feedback email will not go out" in out
    assert out.index("every order's workflow has ended") < out.index(f"stack {stack} deleted")

    # The waiting order went down the cancellation path: its customer told, its record saying so.
    email = shop.wait_for_email(waiting, "was cancelled")
    assert "The shop has cancelled your order." in email["body"]
    shown = owner.order_detail(waiting, **_tables(shop))
    assert (shown["status"], shown["execution"]["status"], shown["execution"]["outcome"]) == (
        "CANCELLED", "SUCCEEDED", "CANCELLED")
    assert shown["decision"]["decision"] == "cancel"
    # The shipped one was stopped, its history saying why.
    assert status(shop, shipped) == "ABORTED"
    aborted = [event for event in resources(shop).workflow.history(shipped) if event.type == "ExecutionAborted"]
    assert [event.error for event in aborted] == [STOP_ERROR]
    assert "feedback email" in (aborted[0].cause or "")
    assert shop.stored_order(shipped)["status"] == "SHIPPED"


def _tables(shop: ShopClient) -> dict[str, Any]:
    found = resources(shop)
    return {"orders": found.orders, "decisions": found.decisions, "workflow": found.workflow}


def test_the_question_names_the_counts_and_no_deletes_and_changes_nothing(shop, stack, monkeypatch):
    monkeypatch.delenv("SHOP_DEPLOY_YES", raising=False)
    waiting = awaiting_approval(shop)
    shipped = waiting_for_feedback(shop)

    code, out, runner = destroy(shop, stack, answer="n\n")

    assert code == 1
    [question] = [entry for entry in out.splitlines() if entry.startswith("  ?")]
    assert ("1 order awaits approval: it will be cancelled and its customer told. 1 shipped order waits for its "
            f"feedback email: it will not go out. Delete the stack {stack} from account") in question
    assert "Nothing deleted" in out
    assert runner.calls == []
    assert boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    assert (status(shop, waiting), status(shop, shipped)) == ("RUNNING", "RUNNING")
    assert shop.stored_order(waiting)["status"] == "AWAITING_APPROVAL"
    assert current(shop, shipped) == "WaitBeforeFeedback"
    assert not [e for e in shop.outbox() if waiting in e["subject"] and "was cancelled" in e["subject"]]


def test_with_nothing_running_the_question_is_the_one_destroy_always_asked(shop, stack, monkeypatch):
    monkeypatch.delenv("SHOP_DEPLOY_YES", raising=False)
    code, out, runner = destroy(shop, stack, answer="y\n")

    assert code == 0, out
    [question] = [entry for entry in out.splitlines() if entry.startswith("  ?")]
    assert question.startswith(f"  ?     Delete the stack {stack} from account ")
    assert runner.calls == [("destroy", [])]


def test_a_deadline_that_passes_deletes_nothing_and_names_the_orders_still_running(shop, stack):
    # Every email fails for now: the order stays in its first step, retrying, past the deadline.
    shop.shop.faults.arm("ses.send_email", 1000)
    stuck = shop.place_ok()["orderId"]

    code, out, runner = destroy(shop, stack, "--yes", "--wait", "1")

    assert code == 1
    assert runner.calls == []
    assert "orders still run: nothing was deleted" in out
    assert f"{stuck} is between two steps (OrderReceivedEmail)" in out.split("nothing was deleted")[1]
    assert boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    assert status(shop, stuck) == "RUNNING"


def test_the_smoke_clean_up_ends_the_running_orders_first(shop, stack):
    waiting = awaiting_approval(shop)
    runner, lines = FakeCdk(shop), []
    target = AwsTarget(stack, Durations(approval_timeout=600, feedback_delay=FEEDBACK_DELAY, step_timeout=30),
                       session=boto3.Session(region_name="us-east-1"), runner=runner, out=lines.append)

    target.destroy()

    assert runner.calls == [("destroy", [])], "\n".join(lines)
    assert f"cancelled {waiting}" in "\n".join(lines)
    shop.wait_for_email(waiting, "was cancelled")
