"""Physical names that must be new each time the stack is created.

A resource that outlives its stack (a retained log group), or whose name AWS keeps busy for a while
after the stack is gone (a state machine stays DELETING until its executions make their next
transition), must not have a name the next deployment of a stack of the same name reuses: that
deployment fails with "already exists" or `StateMachineDeleting` and rolls back.
"""

from __future__ import annotations

import aws_cdk as cdk

from shop.settings import STACK_INSTANCE_SUFFIX_LENGTH, WORKFLOW_NAME, check_stack_name

__all__ = ["STACK_INSTANCE_SUFFIX_LENGTH", "order_workflow_name", "stack_instance_suffix"]


def stack_instance_suffix() -> str:
    """The last group of the UUID in AWS::StackId (`arn:…:stack/NAME/xxxxxxxx-…-123456789abc`): 12
    hex digits, new each time CloudFormation creates the stack, and known before any resource is."""
    stack_uuid = cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID))
    return cdk.Fn.select(4, cdk.Fn.split("-", stack_uuid))


def order_workflow_name(stack_name: str) -> str:
    """`<stack name>-OrderWorkflow-<suffix>`: the state machine's name, known before it exists (the
    callback's grant names it), and free again at once for the next stack of the same name, while
    the executions of the deleted one still run out. A stack name too long for Step Functions'
    80 characters is refused here, at synthesis, not by CloudFormation halfway through a deploy."""
    return f"{check_stack_name(stack_name)}-{WORKFLOW_NAME}-" + stack_instance_suffix()
