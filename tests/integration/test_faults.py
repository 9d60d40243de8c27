"""Injected faults prove each retry and recovery path: throttled emails, a lost SendTaskSuccess,
a throttled DynamoDB step, and retries that run out (the order is marked FAILED, not lost).

The SDK's own retries are turned off (AWS_MAX_ATTEMPTS=1) so every fault reaches the workflow.
"""

from __future__ import annotations

import json

import boto3
import pytest
import requests

from shop.adapters.workflow import execution_arn
from shop.local.runtime import LocalConfig, LocalShop
from tests.support import ShopClient, subjects


@pytest.fixture(scope="module")
def shop(synthesized):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_MAX_ATTEMPTS", "1")
        running = LocalShop(LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path,
                                        approval_timeout_seconds=120, feedback_delay_seconds=1)).start()
        yield ShopClient(running)
        running.stop()


@pytest.fixture(autouse=True)
def disarmed(shop):
    yield
    for name in list(shop.shop.faults.injected):
        shop.shop.faults.arm(name, 0)
    shop.shop.faults.injected.clear()


def _failed_attempts(shop: ShopClient, order_id: str, state: str) -> int:
    """How many times `state`'s task failed, from the execution's history."""
    arn = execution_arn(shop.shop.stack.outputs["StateMachineArn"], order_id)
    events = boto3.client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]
    failures, current = 0, None
    for event in events:
        if event["type"].endswith("StateEntered"):
            current = event["stateEnteredEventDetails"]["name"]
        elif current == state and event["type"] in ("TaskFailed", "LambdaFunctionFailed"):
            failures += 1
    return failures


def test_a_throttled_email_is_retried_by_the_workflow(shop):
    shop.shop.faults.arm("ses.send_email", 2)
    order_id = shop.place_ok()["orderId"]

    shop.wait_for_email(order_id, "We have your order", timeout=30)
    assert shop.shop.faults.injected["ses.send_email"] == 2
    assert _failed_attempts(shop, order_id, "OrderReceivedEmail") == 2
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")


def _console(shop: ShopClient, order_id: str, action: str) -> requests.Response:
    return requests.post(f"{shop.url}/console/orders/{order_id}/{action}", headers={"Origin": shop.url},
                         allow_redirects=False, timeout=10)


def test_a_lost_send_task_success_says_the_decision_is_recorded_and_the_next_click_delivers_it(shop):
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    shop.shop.faults.arm("stepfunctions.send_task_success", 1)
    first = requests.post(links["approve"], timeout=10)

    # The truth: recorded, not delivered yet, and the same link delivers it.
    assert first.status_code == 503 and first.headers["Retry-After"] == "10"
    assert "recorded, not yet delivered" in first.text and "open the same link again" in first.text
    assert "Nothing was decided" not in first.text
    assert shop.status(order_id) == "AWAITING_APPROVAL"
    assert shop.execution(order_id)["status"] == "RUNNING"
    other = requests.post(links["reject"], timeout=10)
    assert other.status_code == 409 and "has not reached the order&#39;s workflow yet" in other.text
    again = requests.get(links["approve"], timeout=10)
    assert again.status_code == 200 and "Deliver approval" in again.text
    console = requests.get(f"{shop.url}/console/orders/{order_id}", timeout=10).text
    assert "(not yet delivered)" in console and 'data-action="deliver"' in console
    assert 'data-action="approve"' not in console  # decided: no decision buttons

    second = requests.post(links["approve"], timeout=10)
    assert second.status_code == 200 and "Order approved" in second.text
    shop.wait_for_status(order_id, "FEEDBACK_REQUESTED")
    assert subjects(shop.outbox(), order_id).count(f"Your order {order_id} is on its way") == 1
    assert requests.post(links["approve"], timeout=10).status_code == 409
    assert "(not yet delivered)" not in requests.get(f"{shop.url}/console/orders/{order_id}", timeout=10).text


def test_the_console_delivers_a_decision_that_did_not_reach_the_workflow(shop):
    order_id = shop.place_ok()["orderId"]
    shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    # The console calls as the owner's tools, whose SDK retries on its own: fail every attempt.
    shop.shop.faults.arm("stepfunctions.send_task_failure", 100)
    failed = _console(shop, order_id, "reject")
    shop.shop.faults.arm("stepfunctions.send_task_failure", 0)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "10"
    assert "Your decision is recorded" in failed.text and "(not yet delivered)" in failed.text
    approvals = requests.get(f"{shop.url}/console/approvals", timeout=10).text
    pending = approvals[approvals.index(f'data-order="{order_id}"'):]
    assert "(not yet delivered)" in pending[:3000] and 'data-action="deliver"' in pending[:3000]

    assert _console(shop, order_id, "deliver").status_code == 303
    shop.wait_for_email(order_id, "was cancelled")
    assert shop.finished_execution(order_id)["output"]["outcome"] == "REJECTED"


def test_a_throttled_dynamodb_step_is_retried(shop):
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    shop.shop.faults.arm("dynamodb.delete_item", 2)
    assert requests.post(links["reject"], timeout=10).status_code == 200
    shop.wait_for_email(order_id, "was cancelled", timeout=30)
    assert shop.order(order_id).status_code == 404
    assert _failed_attempts(shop, order_id, "DeleteOrder") == 2
    assert shop.finished_execution(order_id)["output"]["outcome"] == "REJECTED"


def test_when_retries_run_out_the_order_is_marked_failed_not_lost(shop):
    shop.shop.faults.arm("ses.send_email", 1000)
    order_id = shop.place_ok()["orderId"]

    execution = shop.finished_execution(order_id, timeout=60)
    assert execution["status"] == "FAILED"
    assert shop.status(order_id) == "FAILED"
    assert _failed_attempts(shop, order_id, "OrderReceivedEmail") == 4  # first try + 3 retries
    last = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"], maxResults=1000
    )["events"][-1]
    assert last["type"] == "ExecutionFailed"
    assert last["executionFailedEventDetails"]["error"] == "OrderFailed"
    assert json.loads(requests.get(f"{shop.url}/orders/{order_id}", timeout=10).text)["status"] == "FAILED"


def test_a_failure_after_the_order_was_deleted_ends_as_order_failed(shop):
    """The cancellation email keeps failing after DeleteOrder: RecordFailure has no order left to
    mark, and the execution must still fail as OrderFailed (what the alarm and the owner's tools
    report), not with RecordFailure's failed condition."""
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    shop.shop.faults.arm("ses.send_email", 1000)
    assert requests.post(links["reject"], timeout=10).status_code == 200

    execution = shop.finished_execution(order_id, timeout=60)
    assert execution["status"] == "FAILED"
    assert _failed_attempts(shop, order_id, "CancellationEmail") == 4  # first try + 3 retries
    events = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"], maxResults=1000)["events"]
    assert events[-1]["executionFailedEventDetails"]["error"] == "OrderFailed"
    assert shop.order(order_id).status_code == 404  # and RecordFailure did not resurrect it


def test_nothing_decides_an_order_while_request_approval_is_retried_and_the_retry_undoes_nothing(shop):
    """The owner's notification fails (SNS throttled, twice): the state machine retries
    RequestApproval while the order already shows AWAITING_APPROVAL. A decision from the console in
    that window used to answer the dead attempt's token, then the retry moved the order back to
    AWAITING_APPROVAL and asked the owner about an order that counted as decided."""
    shop.shop.faults.arm("sns.publish", 2)
    order_id = shop.place_ok()["orderId"]
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")  # marked by the first attempt, not yet asked

    early = _console(shop, order_id, "approve")

    assert early.status_code == 409 and "still being sent" in early.text
    links = shop.links(order_id)  # the third attempt's notification
    assert _failed_attempts(shop, order_id, "RequestApproval") == 2
    notes = [e for e in shop.outbox() if e["channel"] == "sns" and order_id in e["subject"]]
    assert len(notes) == 1
    assert requests.post(links["approve"], timeout=10).status_code == 200
    shop.wait_for_status(order_id, "FEEDBACK_REQUESTED")
    assert shop.finished_execution(order_id)["output"]["outcome"] == "APPROVED"


def _cli(shop: ShopClient, *args: str) -> tuple[int, str]:
    """The `shop` CLI against this local shop, in process: its exit status and what it printed."""
    import contextlib
    import io

    from shop.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["--local", shop.url, *args])
    return status, out.getvalue() + err.getvalue()


def test_an_order_whose_failure_could_not_be_recorded_shows_failed_everywhere_and_its_token_is_dead(shop):
    """Issue 18, item 3: a DynamoDB throttling burst after the approval was delivered outlasts
    MarkShipped's retries, then RecordFailure's. The order's record still says AWAITING_APPROVAL,
    with its task token and link id; its execution has FAILED. The console, the CLI and both links
    must say that the order failed, and nothing may use the dead token or show it as waiting."""
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    shop.shop.faults.arm("dynamodb.update_item", 1000)  # every write of the order, all retries long
    approved = requests.post(links["approve"], timeout=10)
    execution = shop.finished_execution(order_id, timeout=90)
    shop.shop.faults.arm("dynamodb.update_item", 0)

    assert approved.status_code == 200  # delivered: the approval's bookkeeping failed quietly
    assert execution["status"] == "FAILED"
    events = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"], maxResults=1000)["events"]
    assert events[-1]["executionFailedEventDetails"]["error"] == "OrderFailed"
    assert "out of date" in events[-1]["executionFailedEventDetails"]["cause"]
    assert _failed_attempts(shop, order_id, "RecordFailure") == 5  # first try + 4 retries
    stale = shop.stored_order(order_id)  # what the burst left behind
    assert stale["status"] == "AWAITING_APPROVAL" and stale["approvalTaskToken"] and stale["approvalLinkId"]

    # The console: the order page, the list (and its FAILED filter), the approvals page.
    page = requests.get(f"{shop.url}/console/orders/{order_id}", timeout=10).text
    assert 'id="order-status">FAILED' in page and 'data-action="' not in page
    failed_list = requests.get(f"{shop.url}/console/orders?status=FAILED", timeout=10).text
    assert order_id in failed_list
    assert order_id not in requests.get(f"{shop.url}/console/approvals", timeout=10).text
    for action in ("approve", "cancel", "deliver", "resend"):
        refused = _console(shop, order_id, action)
        assert refused.status_code == 409 and "workflow ended" in refused.text, action

    # The CLI.
    status, shown = _cli(shop, "order", "show", order_id, "--json")
    assert status == 0 and json.loads(shown)["status"] == "FAILED"
    status, listed = _cli(shop, "approvals", "list", "--json")
    assert status == 0 and order_id not in listed
    status, said = _cli(shop, "approvals", "reject", order_id)
    assert status == 4 and "workflow ended" in said

    # Both links say the same, opened or clicked, and nothing reaches Step Functions.
    answers = [requests.get(links["approve"], timeout=10), requests.get(links["reject"], timeout=10),
               requests.post(links["approve"], timeout=10), requests.post(links["reject"], timeout=10)]
    assert {answer.status_code for answer in answers} == {409}
    assert all("already approved" in answer.text and "workflow ended" in answer.text and "(FAILED)" in answer.text
               for answer in answers)
    assert shop.stored_order(order_id)["approvalLinkId"] == stale["approvalLinkId"]  # the resend changed nothing
