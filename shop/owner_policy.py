"""The IAM policy of the shop's owner: what the `shop` CLI and the console call, on this stack's
resources only. Written once, from the stack's outputs: the README shows it, `shop --aws
owner-policy` prints it for a deployed stack, and local mode enforces it on the owner's calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shop import stack_outputs
from shop.domain.orders import AWAITING_INDEX
from shop.settings import STACK_NAME


def owner_policy(outputs: Mapping[str, str], stack_name: str = STACK_NAME) -> dict[str, Any]:
    machine = outputs[stack_outputs.STATE_MACHINE_ARN]  # arn:aws:states:REGION:ACCOUNT:stateMachine:NAME
    partition, region, account, name = machine.split(":")[1], machine.split(":")[3], machine.split(":")[4], \
        machine.split(":")[6]

    def table(output: str) -> str:
        return f"arn:{partition}:dynamodb:{region}:{account}:table/{outputs[output]}"

    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "FindTheStack", "Effect": "Allow", "Action": "cloudformation:DescribeStacks",
             "Resource": f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack_name}/*"},
            {"Sid": "ReadAndDecideOrders", "Effect": "Allow",
             "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"],
             "Resource": [table(stack_outputs.ORDERS_TABLE), table(stack_outputs.DECISIONS_TABLE)]},
            {"Sid": "ListTheAwaitingOrders", "Effect": "Allow", "Action": "dynamodb:Query",
             "Resource": f"{table(stack_outputs.ORDERS_TABLE)}/index/{AWAITING_INDEX}"},
            {"Sid": "LoadTheCatalog", "Effect": "Allow", "Action": "dynamodb:BatchWriteItem",
             "Resource": table(stack_outputs.PRODUCTS_TABLE)},
            {"Sid": "FollowTheWorkflows", "Effect": "Allow",
             "Action": ["states:ListExecutions", "states:DescribeStateMachine"], "Resource": machine},
            {"Sid": "ReadExecutions", "Effect": "Allow",
             "Action": ["states:DescribeExecution", "states:GetExecutionHistory"],
             "Resource": f"arn:{partition}:states:{region}:{account}:execution:{name}:*"},
            {"Sid": "DecideAndCancel", "Effect": "Allow",
             "Action": ["states:SendTaskSuccess", "states:SendTaskFailure"], "Resource": machine},
            {"Sid": "ResendApprovalLinks", "Effect": "Allow", "Action": "sns:Publish",
             "Resource": outputs[stack_outputs.OWNER_TOPIC_ARN]},
            {"Sid": "SignApprovalLinks", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
             "Resource": outputs[stack_outputs.LINK_SIGNING_SECRET_ARN]},
        ],
    }


# The outputs as the README shows them: the policy with a placeholder for each of your stack's values.
PLACEHOLDER_OUTPUTS = {
    # Its name is new for each instance of the stack (shop/infra/naming.py): the end of StateMachineArn.
    stack_outputs.STATE_MACHINE_ARN: "arn:aws:states:${Region}:${Account}:stateMachine:${StateMachineName}",
    stack_outputs.ORDERS_TABLE: "${OrdersTableName}",
    stack_outputs.DECISIONS_TABLE: "${DecisionsTableName}",
    stack_outputs.PRODUCTS_TABLE: "${ProductsTableName}",
    stack_outputs.OWNER_TOPIC_ARN: "${OwnerTopicArn}",
    stack_outputs.LINK_SIGNING_SECRET_ARN: "${LinkSigningSecretArn}",
}
