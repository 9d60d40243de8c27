"""A redeploy after a destroy while orders are in flight (issue 17).

On AWS, deleting a state machine leaves it DELETING until each of its executions makes its next
transition, and an order waits up to 24 hours for its owner: CreateStateMachine under the same
name fails with StateMachineDeleting meanwhile, and the redeploy rolls back. Local mode refuses
the same (shop/local/patches/stepfunctions_deletion.py); the stack's state machine has a name new
for each instance of the stack (shop/infra/naming.py), so the redeploy goes through.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from shop import stack_outputs
from shop.adapters.workflow import execution_arn
from shop.local.deployer import LocalStack, deploy, destroy
from shop.local.runtime import LocalConfig, LocalShop
from shop.local.template import REGION, Template
from shop.settings import STACK_NAME, Env
from tests.support import order_body, poll


def _clients(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _shop(template_path: Path) -> LocalShop:
    return LocalShop(LocalConfig(port=0, aws_port=0, template_path=template_path, approval_timeout_seconds=60,
                                 feedback_delay_seconds=1))


def _order_waiting_for_its_owner(shop: LocalShop) -> tuple[str, str]:
    """(order id, task token) of an order whose execution waits for the owner's decision."""
    order = requests.post(f"{shop.base_url}/orders", json=order_body(), timeout=10).json()
    token = poll(lambda: _clients("dynamodb").get_item(
        TableName=shop.stack.environment[Env.ORDERS_TABLE], Key={"orderId": {"S": order["orderId"]}},
    ).get("Item", {}).get("approvalTaskToken", {}).get("S"), what="the stored task token")
    return order["orderId"], token


def _redeploy(shop: LocalShop) -> LocalStack:
    return deploy(Template.load(shop.config.template_path), clients=_clients, base_url=shop.base_url,
                  principals=shop.principals)


def _order_status(shop: LocalShop, order_id: str) -> str:
    return _clients("dynamodb").get_item(TableName=shop.stack.environment[Env.ORDERS_TABLE],
                                         Key={"orderId": {"S": order_id}})["Item"]["status"]["S"]


def _machine_status(arn: str) -> str | None:
    try:
        return _clients("stepfunctions").describe_state_machine(stateMachineArn=arn)["status"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "StateMachineDoesNotExist"
        return None


def _without_the_suffix(value: Any, suffix: Any) -> Any:
    """`value` with every `<stack>-OrderWorkflow-` + suffix in a Fn::Join made `<stack>-OrderWorkflow`:
    the state machine's name wherever the template spells it (its own, the callback's grant and
    environment)."""
    if isinstance(value, list):
        return [_without_the_suffix(item, suffix) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        joined: list[Any] = []
        for part in parts:
            if part == suffix and joined and isinstance(joined[-1], str) and joined[-1].endswith("-OrderWorkflow-"):
                joined[-1] = joined[-1].removesuffix("-")
            else:
                joined.append(_without_the_suffix(part, suffix))
        return {"Fn::Join": [separator, joined]}
    return {key: _without_the_suffix(inner, suffix) for key, inner in value.items()}


@pytest.fixture
def fixed_name_template(synthesized, tmp_path) -> Path:
    """The template as it was before the fix: the state machine named `<stack>-OrderWorkflow`."""
    [machine] = [r for r in synthesized.template["Resources"].values()
                 if r["Type"] == "AWS::StepFunctions::StateMachine"]
    prefix, suffix = machine["Properties"]["StateMachineName"]["Fn::Join"][1]
    assert prefix == f"{STACK_NAME}-OrderWorkflow-"
    template = _without_the_suffix(copy.deepcopy(synthesized.template), suffix)
    # No spelling of the machine's name keeps the suffix (the log groups' names keep theirs).
    assert f'"{STACK_NAME}-OrderWorkflow-", {json.dumps(suffix)}' not in json.dumps(template["Resources"])
    [fixed] = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert fixed["Properties"]["StateMachineName"] == {"Fn::Join": ["", [f"{STACK_NAME}-OrderWorkflow"]]}
    path = tmp_path / synthesized.template_path.name
    path.write_text(json.dumps(template))
    return path


def test_a_redeploy_after_a_destroy_with_an_order_waiting_for_its_owner_succeeds(synthesized):
    with _shop(synthesized.template_path) as shop:
        order_id, _ = _order_waiting_for_its_owner(shop)
        first = shop.stack
        kept = destroy(Template.load(synthesized.template_path), first, clients=_clients)

        # As CloudFormation leaves it: the Orders table (DeletionPolicy Retain) with the order in it,
        # and the state machine DELETING, its execution still waiting for the owner.
        assert [logical_id for logical_id in kept if logical_id.startswith("StorageOrders")] == kept
        orders_table = first.environment[Env.ORDERS_TABLE]
        assert "Item" in _clients("dynamodb").get_item(TableName=orders_table, Key={"orderId": {"S": order_id}})
        old_machine = first.outputs[stack_outputs.STATE_MACHINE_ARN]
        assert _machine_status(old_machine) == "DELETING"
        assert _clients("stepfunctions").describe_execution(
            executionArn=execution_arn(old_machine, order_id))["status"] == "RUNNING"

        second = _redeploy(shop)

        new_machine = second.outputs[stack_outputs.STATE_MACHINE_ARN]
        assert new_machine != old_machine and _machine_status(new_machine) == "ACTIVE"
        assert second.stack_id != first.stack_id
        # The kept table is left alone; the new stack has its own, named anew as CloudFormation does.
        assert second.environment[Env.ORDERS_TABLE] != orders_table
        assert orders_table in _clients("dynamodb").list_tables()["TableNames"]


def test_the_same_redeploy_under_a_fixed_state_machine_name_fails_as_on_aws(fixed_name_template):
    with _shop(fixed_name_template) as shop:
        _order_waiting_for_its_owner(shop)
        destroy(Template.load(fixed_name_template), shop.stack, clients=_clients)

        with pytest.raises(ClientError) as refused:
            _redeploy(shop)
        assert refused.value.response["Error"]["Code"] == "StateMachineDeleting"


def test_a_deleted_machine_stays_deleting_until_its_executions_next_transition_ends_them(synthesized):
    """The seam's contract (shop/local/patches/stepfunctions_deletion.py), as the
    DeleteStateMachine API reference words it."""
    sfn = _clients("stepfunctions")
    with _shop(synthesized.template_path) as shop:
        order_id, token = _order_waiting_for_its_owner(shop)
        machine = shop.stack.outputs[stack_outputs.STATE_MACHINE_ARN]
        described = sfn.describe_state_machine(stateMachineArn=machine)
        assert described["status"] == "ACTIVE"

        sfn.delete_state_machine(stateMachineArn=machine)

        assert _machine_status(machine) == "DELETING"
        for refused_call in (
            lambda: sfn.create_state_machine(name=described["name"], definition=described["definition"],
                                             roleArn=described["roleArn"]),
            lambda: sfn.start_execution(stateMachineArn=machine, name="after-the-delete", input="{}"),
        ):
            with pytest.raises(sfn.exceptions.StateMachineDeleting):
                refused_call()
        assert sfn.describe_execution(executionArn=execution_arn(machine, order_id))["status"] == "RUNNING"
        waiting = _order_status(shop, order_id)

        # The owner approves: the task ends, and the next transition (MarkShipped) is not made.
        sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve"}))
        poll(lambda: _machine_status(machine) is None, what="the machine to be deleted once no execution runs")
        assert _order_status(shop, order_id) == waiting
        # ...and its name is free again.
        created = sfn.create_state_machine(name=described["name"], definition=described["definition"],
                                           roleArn=described["roleArn"])
        assert created["stateMachineArn"] == machine


def test_a_machine_with_no_execution_running_is_deleted_at_once(synthesized):
    sfn = _clients("stepfunctions")
    with _shop(synthesized.template_path) as shop:
        machine = shop.stack.outputs[stack_outputs.STATE_MACHINE_ARN]
        sfn.delete_state_machine(stateMachineArn=machine)
        assert _machine_status(machine) is None
