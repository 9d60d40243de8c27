"""The hooks into moto's internals (shop/local/lambda_hook.py). A moto upgrade that moves what
they patch must fail here first."""

from __future__ import annotations

import json

import boto3
import pytest

from shop.local import lambda_hook
from shop.local.outbox import Outbox
from shop.local.runtime import LocalConfig, LocalShop
from shop.settings import Env

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
                                    approval_timeout_seconds=60, feedback_delay_seconds=1)).start()
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
    [email] = shop.outbox.entries()
    assert email["channel"] == "email" and email["to"] == ["grace@example.com"]
    assert email["subject"] == f"We have your order {ORDER['orderId']}"
    assert "Grace Hopper" in email["body"]


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
    [entry] = shop.outbox.entries()
    assert (entry["channel"], entry["to"], entry["subject"], entry["body"]) == ("sns", ["owner@shop.test"], "Hi", "Body")


def test_uninstall_restores_moto():
    from moto.awslambda.models import LambdaFunction
    from moto.ses.models import SESBackend
    from moto.sns.models import Topic

    # Given the hooks as the running shop left them, installing and removing a second set
    before = (LambdaFunction._invoke_lambda, SESBackend.send_email, Topic.publish)
    uninstall = lambda_hook.install(Outbox())
    assert LambdaFunction._invoke_lambda is lambda_hook._invoke_in_process
    uninstall()
    assert (LambdaFunction._invoke_lambda, SESBackend.send_email, Topic.publish) == before


def test_only_the_shops_handlers_can_be_loaded():
    with pytest.raises(ValueError):
        lambda_hook.load_handler("os.system")


def _patched_by_the_runtime_hooks():
    from moto.dynamodb.responses import DynamoHandler
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb,
    )
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    return (ExecutionWorker._get_evaluation_entrypoint, Program.eval, lambda_eval_utils.boto_client_for,
            state_task_service_dynamodb.boto_client_for, json_path.parse, result_path.parse,
            DynamoHandler.call_action)


def test_uninstall_restores_the_speed_and_locking_hooks_too():
    before = _patched_by_the_runtime_hooks()
    uninstall = lambda_hook.install(Outbox())
    assert all(a is not b for a, b in zip(_patched_by_the_runtime_hooks(), before, strict=True))
    uninstall()
    assert _patched_by_the_runtime_hooks() == before


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


def test_the_state_machines_clients_are_reused(shop):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb,
    )

    first = lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda", state_credentials=None)
    assert lambda_eval_utils.boto_client_for(region="us-east-1", service="lambda") is first
    assert state_task_service_dynamodb.boto_client_for("us-east-1", "dynamodb") is \
        state_task_service_dynamodb.boto_client_for("us-east-1", "dynamodb")


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
