"""Physical names that must be new each time the stack is created.

A resource that outlives its stack (a retained log group), or whose name AWS keeps busy for a while
after the stack is gone (a state machine stays DELETING until its executions make their next
transition), must not have a name the next deployment of a stack of the same name reuses: that
deployment fails with "already exists" or `StateMachineDeleting` and rolls back.
"""

from __future__ import annotations

import aws_cdk as cdk

# The suffix's length, for the limits of the names that carry it (12 hex digits).
STACK_INSTANCE_SUFFIX_LENGTH = 12


def stack_instance_suffix() -> str:
    """The last group of the UUID in AWS::StackId (`arn:…:stack/NAME/xxxxxxxx-…-123456789abc`): 12
    hex digits, new each time CloudFormation creates the stack, and known before any resource is."""
    stack_uuid = cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID))
    return cdk.Fn.select(4, cdk.Fn.split("-", stack_uuid))
