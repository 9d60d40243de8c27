"""Physical names that must be new each time the stack is created, and the stack's log groups.

A resource that outlives its stack (a retained log group), or whose name AWS keeps busy for a while
after the stack is gone (a state machine stays DELETING until its executions make their next
transition), must not have a name the next deployment of a stack of the same name reuses: that
deployment fails with "already exists" or `StateMachineDeleting` and rolls back. Each such name
ends in the stack instance's suffix (`instance_name`).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct

from shop.settings import STACK_INSTANCE_SUFFIX_LENGTH, WORKFLOW_NAME, check_stack_name

__all__ = [
    "FUNCTION_LOGS_PREFIX", "LOG_RETENTION", "STACK_INSTANCE_SUFFIX_LENGTH", "VENDED_LOGS_PREFIX",
    "function_log_group_name", "instance_name", "order_workflow_name", "retained_log_group",
    "stack_instance_suffix", "vended_log_group_name",
]

# AWS advises this prefix for the log groups of vended logs (Step Functions' and API Gateway's
# among them): log delivery to a group under it is allowed by one wildcard entry of the account's
# CloudWatch Logs resource policy, instead of one entry per log group, which soon fill the
# policy's 5,120 characters; after that, no new stack's logging can be set up ("Policy document
# length breaking Cloudwatch Logs Constraints").
VENDED_LOGS_PREFIX = "/aws/vendedlogs/"
# Where Lambda and its console look for a function's logs.
FUNCTION_LOGS_PREFIX = "/aws/lambda/"
# How long every log group of the stack keeps its events.
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def stack_instance_suffix() -> str:
    """The last group of the UUID in AWS::StackId (`arn:…:stack/NAME/xxxxxxxx-…-123456789abc`): 12
    hex digits, new each time CloudFormation creates the stack, and known before any resource is."""
    stack_uuid = cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID))
    return cdk.Fn.select(4, cdk.Fn.split("-", stack_uuid))


def instance_name(base: str) -> str:
    """`<base>-<suffix>`: a name of this creation of the stack only."""
    return f"{base}-" + stack_instance_suffix()


def order_workflow_name(stack_name: str) -> str:
    """`<stack name>-OrderWorkflow-<suffix>`: the state machine's name, known before it exists (the
    callback's grant names it), and free again at once for the next stack of the same name, while
    the executions of the deleted one still run out. A stack name too long for Step Functions'
    80 characters is refused here, at synthesis, not by CloudFormation halfway through a deploy."""
    return instance_name(f"{check_stack_name(stack_name)}-{WORKFLOW_NAME}")


def vended_log_group_name(service: str, unique_name: str) -> str:
    """`/aws/vendedlogs/<service>/<unique_name>`: the log group of a service's vended logs (`states`,
    `apigateway`); `unique_name` must be an `instance_name`, since the group outlives the stack."""
    return f"{VENDED_LOGS_PREFIX}{service}/{unique_name}"


def function_log_group_name(scope: Construct, construct_id: str) -> str:
    """`/aws/lambda/<stack>-<construct path>-<12 hex digits>`, e.g. `/aws/lambda/OrderShop-OrderApi-
    Function-…`: the log group of the function `construct_id` under `scope`, new for each creation of
    the stack (the function's own name is CloudFormation's, and referring to it would be a cycle)."""
    stack = cdk.Stack.of(scope)
    scopes = scope.node.scopes
    path = [each.node.id for each in scopes[scopes.index(stack) + 1:]]
    return FUNCTION_LOGS_PREFIX + instance_name("-".join([stack.stack_name, *path, construct_id]))


def retained_log_group(scope: Construct, construct_id: str, *, name: str) -> logs.LogGroup:
    """A log group of the stack: named (`name` carries the stack instance's suffix), its events
    kept LOG_RETENTION, and itself kept when the stack is deleted (`make destroy` lists it, read
    from its DeletionPolicy), so a destroy never loses logs."""
    return logs.LogGroup(scope, construct_id, log_group_name=name, retention=LOG_RETENTION,
                         removal_policy=cdk.RemovalPolicy.RETAIN)
