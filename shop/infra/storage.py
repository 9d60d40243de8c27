"""Orders and the product catalog, in DynamoDB."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from shop.domain.orders import AWAITING_INDEX, AWAITING_KEY


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Orders are business records: keep them if the stack is deleted.
        self.orders = self._table("Orders", "orderId", removal=cdk.RemovalPolicy.RETAIN)
        # The orders awaiting approval, most urgent first: the owner's listing reads one page of it
        # with one Query, whatever the table holds (sparse: only awaiting orders carry the key).
        self.orders.add_global_secondary_index(
            index_name=AWAITING_INDEX,
            partition_key=dynamodb.Attribute(name=AWAITING_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="approvalDeadline", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # One item per decided order, kept after a rejected order is deleted, so a second click
        # can still say what was decided and when. Expires some time after the approval window.
        self.decisions = self._table("Decisions", "orderId", expires="expiresAt")
        # Idempotency-Key header -> the order it created, for a day.
        self.idempotency = self._table("IdempotencyKeys", "idempotencyKey", expires="expiresAt")
        # The catalog is reloaded from its file with the seed command.
        self.products = self._table("Products", "productId")

    def _table(
        self,
        construct_id: str,
        partition_key: str,
        *,
        expires: str | None = None,
        removal: cdk.RemovalPolicy = cdk.RemovalPolicy.DESTROY,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            construct_id,
            partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=expires,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=removal,
        )


def grant_items(table: dynamodb.ITable, grantee: iam.IGrantable, *actions: str) -> None:
    """`actions` on the table's items only: Table.grant adds `table/index/*` once the table has an
    index, which only the owner's listing reads (shop/owner_policy.py grants it that one index)."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(actions=list(actions), resources=[table.table_arn]))
