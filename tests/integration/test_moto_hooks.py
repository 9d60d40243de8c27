"""The seams into moto's internals (shop/local/patches/). A moto upgrade that moves what they
patch must fail here first; the targets are read from the same declarations the runtime applies."""

from __future__ import annotations

import json

import boto3
import pytest
import requests

from shop.adapters.workflow import execution_arn
from shop.local.functions import load_handler
from shop.local.outbox import Outbox
from shop.local.patches import MissingTarget, Patch, applied
from shop.local.patches.every_seam import every_patch
from shop.local.patches.faults import Faults
from shop.local.patches.ses_sandbox import SesSandbox
from shop.local.runtime import LocalConfig, LocalShop
from shop.settings import Env
from tests.support import order_body, poll

ORDER = {
    "orderId": "01JTESTORDER00000000000000",
    "createdAt": "2026-11-24T10:00:00Z",
    "customerName": "Grace Hopper",
    "customerEmail": "grace@example.com",
    "shippingAddress": {"country": "US", "city": "Arlington", "county": "VA", "streetAddress": "1 Navy Way"},
    "items": [{"productId": "01JDF12740C1HB5QE4DT9TWB3R", "name": "Stoneware mug", "quantity": 1,
               "unitPrice": "14.90", "lineTotal": "14.90"}],
    "currency": "EUR",
    "total": "14.90",
}


@pytest.fixture(scope="module")
def shop(synthesized):
    running = LocalShop(LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path,
                                    approval_timeout_seconds=60, feedback_delay_seconds=1,
                                    ses_verified=("grace@example.com",))).start()
    yield running
    running.stop()


def _function(shop: LocalShop, handler: str) -> str:
    return next(name for name, path in shop.stack.handlers.items() if path == f"shop.handlers.{handler}.lambda_handler")


def test_lambda_invoke_runs_the_projects_handler_in_process(shop):
    shop.outbox.clear()
    response = boto3.client("lambda").invoke(
        FunctionName=_function(shop, "customer_email"),
        Payload=json.dumps({"template": "order_received", "order": ORDER}),
    )
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert set(json.loads(response["Payload"].read())) == {"messageId"}
    # Only this order's: moto's backends are the process's, and a shop an earlier module stopped
    # can still have an execution between retries that sends mail meanwhile.
    [email] = [entry for entry in shop.outbox.entries() if ORDER["orderId"] in entry["subject"]]
    assert email["channel"] == "email" and email["to"] == ["grace@example.com"]
    assert email["subject"] == f"We have your order {ORDER['orderId']}"
    assert "Grace Hopper" in email["body"]


def test_each_function_is_told_the_log_group_its_template_gives_it(shop, synthesized):
    """As on AWS, where a function with a LoggingConfig writes to that group, not /aws/lambda/<name>."""
    by_path = {resource["Metadata"]["aws:cdk:path"].removesuffix("/Resource"): resource
               for resource in synthesized.template["Resources"].values() if resource["Type"] == "AWS::Logs::LogGroup"}
    for function in shop.stack.functions:
        name = function.environment["AWS_LAMBDA_LOG_GROUP_NAME"]
        assert function.log_group_name == name and name.startswith("/aws/lambda/OrderShop-"), name
        # The group's expression (its name ends in a part of the stack's id), resolved locally.
        construct = name.removeprefix("/aws/lambda/OrderShop-").rsplit("-", 1)[0].replace("-", "/")
        assert f"OrderShop/{construct}Logs" in by_path, (name, sorted(by_path))
    assert len(shop.stack.functions) == 4


def test_a_failing_handler_is_reported_as_a_function_error(shop):
    response = boto3.client("lambda").invoke(
        FunctionName=_function(shop, "customer_email"),
        Payload=json.dumps({"template": "no_such_template", "order": ORDER}),
    )
    assert response["FunctionError"]
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ValueError" and "no_such_template" in payload["errorMessage"]


def test_sns_publishes_reach_the_outbox_with_the_subscribers(shop):
    shop.outbox.clear()
    boto3.client("sns").publish(TopicArn=shop.stack.environment[Env.OWNER_TOPIC_ARN], Subject="Hi", Message="Body")
    [entry] = [entry for entry in shop.outbox.entries() if entry["subject"] == "Hi"]  # only this message
    assert (entry["channel"], entry["to"], entry["subject"], entry["body"]) == ("sns", ["owner@shop.test"], "Hi", "Body")


def _declared() -> list[Patch]:
    """Every patch the runtime applies, from the same declaration (shop/local/patches/every_seam.py)."""
    return every_patch(invoke=lambda name, event: None, outbox=Outbox(), ses=SesSandbox(enabled=True),
                       faults=Faults(), enforcer=None, credentials_for=lambda role: {})


def _current(patches: list[Patch]) -> list[object]:
    return [getattr(patch.resolve_owner(), patch.name) for patch in patches]


def test_every_declared_target_exists_in_the_pinned_moto():
    patches = _declared()
    assert {(p.owner, p.name) for p in patches} >= {
        ("moto.awslambda.models:LambdaFunction", "_invoke_lambda"),
        ("moto.ses.models:SESBackend", "send_email"),
        ("moto.sns.models:Topic", "publish"),
        ("moto.core.responses:BaseResponse", "_authenticate_and_authorize_normal_action"),
        ("moto.dynamodb.responses:DynamoHandler", "call_action"),
        ("moto.stepfunctions.models:StepFunctionBackend", "delete_state_machine"),
        ("moto.stepfunctions.parser.asl.component.state.state:CommonStateField", "eval"),
        ("moto.moto_server.werkzeug_app", "DISABLE_GLOBAL_CORS"),
    }
    for patch in patches:
        original = patch.original()
        # Methods, and one setting: moto's CORS switch, as the server module holds it.
        assert callable(original) or isinstance(original, bool), patch


def test_a_target_moto_no_longer_has_fails_at_start_not_silently():
    with pytest.raises(MissingTarget, match="no_such_method"), applied([
        Patch("moto.ses.models:SESBackend", "no_such_method", lambda original: original)
    ]):
        pass
    with pytest.raises(MissingTarget, match="moto.no_such_module"), applied([
        Patch("moto.no_such_module:Thing", "method", lambda original: original)
    ]):
        pass


def test_applying_a_second_set_and_undoing_it_restores_what_was_there(shop):
    # Given the patches as the running shop left them, a second set stacks on them and unwinds.
    patches = _declared()
    before = _current(patches)
    with applied(patches):
        changed = _current(patches)
        # Each method is wrapped again; a setting (moto's CORS switch) is set to the same value again.
        assert all(a is not b for a, b in zip(changed, before, strict=True) if callable(b))
    assert _current(patches) == before


def test_only_the_shops_handlers_can_be_loaded():
    with pytest.raises(ValueError):
        load_handler("os.system")


def test_executions_share_one_parsed_program_with_its_heap_keys_set(shop):
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    definition = boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=shop.stack.outputs["StateMachineArn"])["definition"]

    def worker():
        return SimpleNamespace(_evaluation_details=SimpleNamespace(
            state_machine_details=SimpleNamespace(definition=definition)))

    program = ExecutionWorker._get_evaluation_entrypoint(worker())
    assert ExecutionWorker._get_evaluation_entrypoint(worker()) is program
    # Every component of the shared program has its heap key before any execution races for it.
    seen, pending, components = set(), [program], 0
    while pending:
        value = pending.pop()
        if id(value) in seen or not hasattr(value, "__dict__"):
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            components += 1
            assert value._EvalComponent__heap_key is not None, type(value)
        for inner in vars(value).values():
            pending.extend(inner if isinstance(inner, (list, tuple)) else
                           inner.values() if isinstance(inner, dict) else [inner])
    assert components > 50


def test_the_state_machines_clients_are_reused_and_signed_as_its_role(shop):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb,
    )

    role = next(iter(shop.stack.state_machine_roles.values()))
    as_role = StateCredentials(role_arn=role)
    first = lambda_eval_utils.boto_client_for("us-east-1", "lambda", as_role)
    assert lambda_eval_utils.boto_client_for("us-east-1", "lambda", as_role) is first
    assert state_task_service_dynamodb.boto_client_for("us-east-1", "dynamodb", as_role) is \
        state_task_service_dynamodb.boto_client_for("us-east-1", "dynamodb", as_role)
    key = first._request_signer._credentials.access_key
    assert shop.principals.of_key(key) == role


def test_a_waiting_tasks_token_names_its_state_machine_and_is_released_at_stop(shop):
    from shop.local.patches.stepfunctions_tasks import release_waiting_tasks, task_token_owner

    order = requests.post(f"{shop.base_url}/orders", json=order_body(), timeout=10).json()
    token = poll(lambda: boto3.client("dynamodb").get_item(
        TableName=shop.stack.environment[Env.ORDERS_TABLE], Key={"orderId": {"S": order["orderId"]}},
    ).get("Item", {}).get("approvalTaskToken", {}).get("S"), what="the stored task token")
    assert task_token_owner(token) == shop.stack.outputs["StateMachineArn"]
    assert task_token_owner("not-a-token") is None
    assert release_waiting_tasks() >= 1
    execution = execution_arn(shop.stack.outputs["StateMachineArn"], order["orderId"])
    poll(lambda: boto3.client("stepfunctions").describe_execution(
        executionArn=execution)["status"] != "RUNNING", what="the released task to end")


def test_a_task_takes_one_answer_of_many_sent_at_once_and_refuses_the_rest_as_aws_does(shop):
    from concurrent.futures import ThreadPoolExecutor

    order = requests.post(f"{shop.base_url}/orders", json=order_body(), timeout=10).json()
    token = poll(lambda: boto3.client("dynamodb").get_item(
        TableName=shop.stack.environment[Env.ORDERS_TABLE], Key={"orderId": {"S": order["orderId"]}},
    ).get("Item", {}).get("approvalTaskToken", {}).get("S"), what="the stored task token")
    sfn = boto3.client("stepfunctions")  # the developer's: IAM allows every answer

    def answer(n: int) -> str:
        try:
            if n % 2:
                sfn.send_task_failure(taskToken=token, error="OrderRejected", cause=f"answer {n}")
            else:
                sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve", "n": n}))
        except sfn.exceptions.TaskTimedOut:
            return "refused"
        return "taken"

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(answer, range(6)))

    assert sorted(answers) == ["refused"] * 5 + ["taken"]
    assert answer(0) == "refused"  # and any later one


def test_concurrent_writes_to_one_item_do_not_break_moto(shop):
    """Without the DynamoDB lock, moto copies an item while another request resizes it: with a
    large item and frequent thread switches, this fails every time ("dictionary changed size
    during iteration")."""
    import sys
    import threading

    table = shop.stack.environment[Env.ORDERS_TABLE]
    dynamodb = boto3.client("dynamodb")
    big = {f"f{i}": {"S": "y" * 20} for i in range(200)}
    dynamodb.put_item(TableName=table, Item={"orderId": {"S": "01JTESTCONCURRENT0000000000"}, **big})
    errors: list[Exception] = []

    def writer(n: int) -> None:
        client = boto3.client("dynamodb")
        key = {"orderId": {"S": "01JTESTCONCURRENT0000000000"}}
        try:
            for i in range(30):
                if i % 2:
                    client.update_item(TableName=table, Key=key, UpdateExpression=f"REMOVE a{n}")
                else:
                    client.update_item(TableName=table, Key=key, UpdateExpression=f"SET a{n} = :v",
                                       ExpressionAttributeValues={":v": {"S": "x" * 50}})
                client.get_item(TableName=table, Key=key, ConsistentRead=True)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def _short_approval_task(shop: LocalShop, *, timeout_seconds: int = 2) -> tuple[str, str]:
    """An execution of the shop's state machine whose approval task times out after `timeout_seconds`
    (its order is not in the table, so nobody is asked): its ARN and the task's token, read from the
    RequestApproval invocation's parameters in its history."""
    from ulid import ULID

    sfn = boto3.client("stepfunctions")
    order = {**ORDER, "orderId": str(ULID())}
    arn = sfn.start_execution(stateMachineArn=shop.stack.outputs["StateMachineArn"], name=order["orderId"],
                              input=json.dumps({"order": order, "approvalTimeoutSeconds": timeout_seconds,
                                                "feedbackDelaySeconds": 1}))["executionArn"]

    def token() -> str | None:
        for event in sfn.get_execution_history(executionArn=arn)["events"]:
            if event["type"] == "TaskScheduled":
                payload = json.loads(event["taskScheduledEventDetails"]["parameters"])["Payload"]
                if "taskToken" in payload:
                    return payload["taskToken"]
        return None

    return arn, poll(token, what="the approval task's token")


def _history_types(arn: str) -> list[str]:
    return [event["type"] for event in boto3.client("stepfunctions").get_execution_history(executionArn=arn)["events"]]


def test_an_answer_after_the_tasks_timeout_is_refused_while_the_catch_path_runs(shop):
    """moto kept accepting the token (200) while the execution went down its timeout's Catch path:
    the owner's tools then said "delivered" of a cancelled order. AWS answers TaskTimedOut."""
    sfn = boto3.client("stepfunctions")
    arn, token = _short_approval_task(shop)
    shop.faults.arm("dynamodb.delete_item", 2)  # DeleteOrder retries (1 s, 2 s): the Catch path lasts
    try:
        poll(lambda: "TaskTimedOut" in _history_types(arn), what="the approval task to time out")
        with pytest.raises(sfn.exceptions.TaskTimedOut):
            sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve"}))
        with pytest.raises(sfn.exceptions.TaskTimedOut):
            sfn.send_task_failure(taskToken=token, error="OrderRejected", cause="too late")
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # still on its Catch path
    finally:
        shop.faults.arm("dynamodb.delete_item", 0)
    ended = poll(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
                 timeout=30, what="the execution to end")
    assert json.loads(ended["output"])["outcome"] == "TIMED_OUT"


def test_an_answer_after_the_execution_ended_is_task_timed_out_as_on_aws(shop):
    """AWS: TaskTimedOut, "the task token has either expired or the task associated with the token has
    already been closed". moto answered InvalidToken (a token it never issued) once the execution ended."""
    sfn = boto3.client("stepfunctions")
    arn, token = _short_approval_task(shop)
    poll(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout=30,
         what="the execution to end")
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve"}))
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_failure(taskToken=token, error="OrderRejected", cause="too late")
    with pytest.raises(sfn.exceptions.InvalidToken):  # a token no execution was ever given
        sfn.send_task_success(taskToken="AAAA" + token[4:][::-1], output="{}")


def test_what_the_stacks_calls_need_is_loaded_when_it_deploys(shop):
    from moto.backends import get_backend

    from shop.local.patches import iam_enforcement
    from shop.local.template import ACCOUNT_ID, REGION

    assert {"dynamodb", "stepfunctions", "lambda", "sns", "ses", "xray"} <= set(shop.enforcer.services)
    for service in shop.enforcer.services:
        assert (service,) in iam_enforcement._service_model
    # Nothing in the stack's deploy calls X-Ray; its functions' roles may: its backend exists already.
    xray = get_backend("xray")
    assert dict.__contains__(xray, ACCOUNT_ID) and dict.__contains__(dict.__getitem__(xray, ACCOUNT_ID), REGION)


def test_an_existing_backend_is_found_while_another_thread_holds_motos_global_lock(shop):
    import threading

    from moto.backends import get_backend
    from moto.core.base_backend import backend_lock

    from shop.local.template import ACCOUNT_ID, REGION

    held, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        with backend_lock:
            held.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=hold_the_lock, daemon=True)
    holder.start()
    found: list[object] = []
    looker = threading.Thread(target=lambda: found.append(get_backend("dynamodb")[ACCOUNT_ID][REGION]), daemon=True)
    try:
        assert held.wait(timeout=30)
        looker.start()
        poll(lambda: found, timeout=20, what="the DynamoDB backend, looked up while moto's lock is held")
    finally:
        release.set()
        holder.join(timeout=30)
        looker.join(timeout=30)
