"""Injected faults prove each retry and recovery path: throttled emails, a lost SendTaskSuccess,
a throttled DynamoDB step, and retries that run out (the order is marked FAILED, not lost).

Every test runs twice: with the SDK's own retries turned off (AWS_MAX_ATTEMPTS=1), so every fault
reaches the workflow, and with the SDK's default retry configuration, as on AWS, where botocore
retries a throttle or a 500 on its own before the shop's code sees it.
"""

from __future__ import annotations

import json
import threading

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from shop.adapters.workflow import execution_arn
from shop.local.patches.faults import TARGETS, Fault
from shop.local.runtime import LocalConfig, LocalShop
from shop.settings import Env
from tests.support import DEMO_PRODUCT, ShopClient, poll, subjects

NO_SDK_RETRIES, SDK_RETRIES = "AWS_MAX_ATTEMPTS=1", "default SDK retries"


@pytest.fixture(scope="module", params=[NO_SDK_RETRIES, SDK_RETRIES])
def sdk_retries(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def shop(synthesized, sdk_retries):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_RETRY_MODE", raising=False)
        if sdk_retries == NO_SDK_RETRIES:
            patch.setenv("AWS_MAX_ATTEMPTS", "1")
        else:
            patch.delenv("AWS_MAX_ATTEMPTS", raising=False)
        running = LocalShop(LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path,
                                        approval_timeout_seconds=120, feedback_delay_seconds=1)).start()
        yield ShopClient(running)
        running.stop()


@pytest.fixture(autouse=True)
def disarmed(shop):
    yield
    shop.shop.faults.arm_all(dict.fromkeys(TARGETS, 0))
    shop.shop.faults.injected.clear()


def _sdk_attempts(sdk_retries: str) -> int:
    """How many times the handlers' SDK makes a call (shop/adapters/aws.py: standard mode, 3 by default)."""
    return 1 if sdk_retries == NO_SDK_RETRIES else 3


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


def test_a_throttled_email_is_retried_by_the_workflow(shop, sdk_retries):
    # Each of the workflow's two failed attempts is a call that failed every one of the SDK's.
    shop.shop.faults.arm("ses.send_email", 2 * _sdk_attempts(sdk_retries))
    order_id = shop.place_ok()["orderId"]

    shop.wait_for_email(order_id, "We have your order", timeout=30)
    assert shop.shop.faults.injected["ses.send_email"] == 2 * _sdk_attempts(sdk_retries)
    assert _failed_attempts(shop, order_id, "OrderReceivedEmail") == 2
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")


def _console(shop: ShopClient, order_id: str, action: str) -> requests.Response:
    return requests.post(f"{shop.url}/console/orders/{order_id}/{action}", headers={"Origin": shop.url},
                         allow_redirects=False, timeout=10)


def test_a_throttled_send_task_success_says_the_decision_is_recorded_and_the_next_click_delivers_it(
        shop, sdk_retries):
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    shop.shop.faults.arm("stepfunctions.send_task_success", _sdk_attempts(sdk_retries))
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


def test_nothing_decides_an_order_while_request_approval_is_retried_and_the_retry_undoes_nothing(
        shop, sdk_retries):
    """The owner's notification fails (SNS throttled, twice): the state machine retries
    RequestApproval while the order already shows AWAITING_APPROVAL. A decision from the console in
    that window used to answer the dead attempt's token, then the retry moved the order back to
    AWAITING_APPROVAL and asked the owner about an order that counted as decided."""
    shop.shop.faults.arm("sns.publish", 2 * _sdk_attempts(sdk_retries))
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


# -- lost responses, slow calls, and arming faults while the shop runs --------------------------------

def _faults_page(shop: ShopClient, body: object = None, **headers: str) -> requests.Response:
    url = f"{shop.url}/_local/faults"
    if body is None:
        return requests.get(url, headers=headers, timeout=10)
    return requests.post(url, data=body if isinstance(body, str) else json.dumps(body), headers=headers, timeout=10)


def test_a_lost_put_takes_effect_and_its_caller_hears_a_500_or_the_sdks_retry_meets_the_effect(shop, sdk_retries):
    table = shop.shop.stack.environment[Env.PRODUCTS_TABLE]
    dynamodb = boto3.client("dynamodb")
    key = {"productId": {"S": "lost-put-probe"}}
    shop.shop.faults.arm("dynamodb.put_item", Fault.parse("lost:1"))
    try:
        with pytest.raises(ClientError) as raised:
            dynamodb.put_item(TableName=table, Item=key, ConditionExpression="attribute_not_exists(productId)")

        if sdk_retries == NO_SDK_RETRIES:  # the caller hears a server error, and cannot tell what happened
            assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
            assert raised.value.response["Error"]["Code"] == "InternalServerError"
        else:  # botocore retried the 500 on its own, and its retry met the first attempt's effect
            assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
        assert "Item" in dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)  # it took effect
        assert shop.shop.faults.injected["dynamodb.put_item"] == 1 and shop.shop.faults.pending() == {}
    finally:
        dynamodb.delete_item(TableName=table, Key=key)


def test_a_slow_call_waits_while_other_calls_of_the_same_service_go_on(shop):
    """Observed by order, not by a clock: a get started first, and slowed, ends after a later one."""
    table = shop.shop.stack.environment[Env.PRODUCTS_TABLE]
    dynamodb = boto3.client("dynamodb")
    key = {"productId": {"S": DEMO_PRODUCT}}
    shop.shop.faults.arm("dynamodb.get_item", Fault.parse("slow:5"))
    slow_one_done, answers = threading.Event(), []

    def slow_get() -> None:
        answers.append(dynamodb.get_item(TableName=table, Key=key))
        slow_one_done.set()

    first = threading.Thread(target=slow_get)
    first.start()
    poll(lambda: shop.shop.faults.pending() == {}, what="the first get to meet the slow fault")

    assert "Item" in dynamodb.get_item(TableName=table, Key=key)  # not held behind the slow one
    assert not slow_one_done.is_set()
    first.join()
    assert "Item" in answers[0]  # the slow call did run, late
    assert shop.shop.faults.injected["dynamodb.get_item"] == 1


def test_faults_armed_while_the_shop_runs_start_in_the_middle_of_an_order(shop, sdk_retries):
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    throttles = str(_sdk_attempts(sdk_retries))
    armed = _faults_page(shop, {"stepfunctions.send_task_success": throttles, "sns.publish": "slow:0.5"})
    assert armed.status_code == 200
    assert armed.json() == {"sns.publish": "slow:0.5", "stepfunctions.send_task_success": throttles}
    assert _faults_page(shop).json() == armed.json()  # GET lists them

    first = requests.post(links["approve"], timeout=10)
    assert first.status_code == 503 and "recorded, not yet delivered" in first.text
    assert _faults_page(shop).json() == {"sns.publish": "slow:0.5"}  # the throttles are spent
    assert _faults_page(shop, {"sns.publish": "0"}).json() == {}  # 0 disarms
    assert requests.post(links["approve"], timeout=10).status_code == 200
    shop.wait_for_status(order_id, "FEEDBACK_REQUESTED")


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null"}], ids=["foreign-origin", "cross-site", "null-origin"])
def test_another_sites_page_cannot_arm_faults(shop, headers):
    refused = _faults_page(shop, {"dynamodb.update_item": "12"}, **headers)

    assert refused.status_code == 403
    assert shop.shop.faults.pending() == {}


def test_a_get_of_the_faults_page_arms_nothing(shop):
    assert requests.get(f"{shop.url}/_local/faults?dynamodb.update_item=12", timeout=10).json() == {}
    assert requests.put(f"{shop.url}/_local/faults", json={"dynamodb.update_item": "12"},
                        timeout=10).status_code == 405
    assert shop.shop.faults.pending() == {}


@pytest.mark.parametrize(("body", "named"), [
    ("not json", "Nothing was armed"),
    (["dynamodb.update_item", "12"], "a JSON object"),
    ({"dynamodb.scan": "1"}, "dynamodb.scan=1"),
    ({"sns.publish": "slow:1", "dynamodb.update_item": "lost:x"}, "dynamodb.update_item=lost:x"),
    ({"dynamodb.update_item": "slow:-1"}, "dynamodb.update_item=slow:-1"),
    ({"dynamodb.update_item": "slow:nan"}, "dynamodb.update_item=slow:nan"),
    ({"dynamodb.update_item": 12}, "dynamodb.update_item=12"),
    ({"dynamodb.update_item": "twelve"}, "dynamodb.update_item=twelve"),
])
def test_a_bad_schedule_is_refused_and_arms_nothing(shop, body, named):
    shop.shop.faults.arm("ses.send_email", 5)

    refused = _faults_page(shop, body)

    assert refused.status_code == 400 and named in refused.json()["message"], refused.text
    assert shop.shop.faults.pending() == {"ses.send_email": "5"}  # neither the good entry nor the bad


def test_a_lost_response_to_the_state_machines_own_task_is_retried_by_the_workflow(shop):
    """The state machine's DynamoDB tasks meet lost responses too: DeleteOrder deletes, hears a
    500, and its retry finds nothing left to delete."""
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    shop.shop.faults.arm("dynamodb.delete_item", Fault.parse("lost:1"))
    assert requests.post(links["reject"], timeout=10).status_code == 200
    shop.wait_for_email(order_id, "was cancelled", timeout=30)
    assert shop.finished_execution(order_id)["output"]["outcome"] == "REJECTED"
    assert _failed_attempts(shop, order_id, "DeleteOrder") == 1
    assert shop.order(order_id).status_code == 404


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


def test_a_resend_whose_link_write_lost_its_answer_is_finished_and_its_new_links_decide(shop):
    """Issue 18, item 4, in local mode: the write that makes the new link the only one takes effect
    and its caller hears a 500 (the old links are dead from then on). The resend must not answer
    "nothing was sent": it finishes (the SDK's retry, or the shop's own, meets its own write) and
    the owner gets links that work."""
    order_id = shop.place_ok()["orderId"]
    old = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    shop.shop.faults.arm("dynamodb.update_item", Fault.parse("lost:1"))
    status, printed = _cli(shop, "approvals", "resend", order_id)

    assert shop.shop.faults.injected["dynamodb.update_item"] == 1  # the lost answer was the link's write
    assert status == 0, printed
    assert "Nothing was sent" not in printed
    notifications = poll(lambda: [e for e in shop.outbox() if e["channel"] == "sns" and order_id in e["subject"]][1:],
                         what="the resent notification")
    new_approve = next(line for line in notifications[0]["body"].split() if "result=approve" in line)
    assert new_approve != old["approve"]
    assert requests.post(old["approve"], timeout=10).status_code == 403  # replaced, as a resend does
    assert requests.post(new_approve, timeout=10).status_code == 200
    shop.wait_for_email(order_id, "is on its way")
