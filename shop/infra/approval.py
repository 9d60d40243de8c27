"""The approval callback: a Lambda behind a public Function URL that the owner's links open."""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from shop.infra import nag
from shop.infra.lambda_bundle import ShopCode
from shop.infra.storage import grant_items
from shop.settings import Env


class ApprovalCallback(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: ShopCode,
        orders: dynamodb.ITable,
        decisions: dynamodb.ITable,
        state_machine_arn: str,
        executions_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        # The HMAC key approval links are signed with: the workflow signs, this function checks.
        self.signing_key = secretsmanager.Secret(
            self,
            "LinkSigningKey",
            description="HMAC key that signs the owner's approve/reject links",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        nag.acknowledge(
            self.signing_key,
            "AwsSolutions-SMG4",
            "No automatic rotation: the links already emailed to the owner are signed with this key and "
            "stay valid until the approval timeout; rotating it would invalidate every pending link",
        )
        self.function = code.function(
            self,
            "Function",
            handler="approval_callback",
            description="Shows the owner's approve/reject page and resumes the order workflow",
            environment={
                Env.ORDERS_TABLE: orders.table_name,
                Env.DECISIONS_TABLE: decisions.table_name,
                Env.STATE_MACHINE_ARN: state_machine_arn,
                Env.LINK_SIGNING_SECRET: self.signing_key.secret_arn,
            },
        )
        grant_items(orders, self.function, "dynamodb:GetItem", "dynamodb:UpdateItem")
        # Decisions are recorded (put), claimed and settled (update), never deleted: one that came too
        # late says so rather than disappearing (DynamoDB's TTL removes records in time).
        decisions.grant(self.function, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
        self.function.add_to_role_policy(  # read only: grant_read adds DescribeSecret, which nothing calls
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[self.signing_key.secret_arn]))
        # Granted by ARN, not with `grant_task_response(state_machine)`: the workflow's
        # approval step needs this function's URL, and a reference back would be a cycle.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                resources=[state_machine_arn],
            )
        )
        # A link page tells from the order's execution when its workflow ended without updating the
        # order (its record still says AWAITING_APPROVAL, with a dead token): see shop/logic/approvals.py.
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions_arn]))
        nag.acknowledge(
            self.function,
            f"AwsSolutions-IAM5[Resource::{nag.finding_resource(self, executions_arn)}]",
            "DescribeExecution on this state machine's executions only (an execution's ARN ends in its name, "
            "the order id, which the grant cannot know in advance)",
        )
        # Public on purpose: the links are opened from an email client. The page decides
        # nothing on GET, and a POST needs a link signed with the key above.
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
