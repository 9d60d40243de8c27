"""The approval callback: a Lambda behind a public Function URL that the owner's links open."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from shop.infra.lambda_bundle import ShopCode
from shop.settings import Env


class ApprovalCallback(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: ShopCode,
        orders: dynamodb.ITable,
        state_machine_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = code.function(
            self,
            "Function",
            handler="approval_callback",
            description="Shows the owner's approve/reject page and resumes the order workflow",
            environment={
                Env.ORDERS_TABLE: orders.table_name,
                Env.STATE_MACHINE_ARN: state_machine_arn,
            },
        )
        orders.grant_read_write_data(self.function)
        # Granted by ARN, not with `grant_task_response(state_machine)`: the workflow's
        # approval step needs this function's URL, and a reference back would be a cycle.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                resources=[state_machine_arn],
            )
        )
        # Public on purpose: the links are opened from an email client. The page decides
        # nothing on GET, and a POST needs the task token that only the owner's email carries.
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
