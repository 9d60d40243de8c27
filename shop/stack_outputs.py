"""The stack's outputs, by name: what the owner's tools, the seed script and local mode find the
deployed shop by. shop/infra/stack.py declares one CfnOutput for each; shop/adapters/stack.py
requires them all (tests/infra/test_stack.py checks the template has exactly these)."""

from __future__ import annotations

API_URL = "ApiUrl"
APPROVAL_URL = "ApprovalUrl"
ORDERS_TABLE = "OrdersTableName"
DECISIONS_TABLE = "DecisionsTableName"
PRODUCTS_TABLE = "ProductsTableName"
LINK_SIGNING_SECRET_ARN = "LinkSigningSecretArn"
STATE_MACHINE_ARN = "StateMachineArn"
OWNER_TOPIC_ARN = "OwnerTopicArn"

ALL = (API_URL, APPROVAL_URL, ORDERS_TABLE, DECISIONS_TABLE, PRODUCTS_TABLE, STATE_MACHINE_ARN, OWNER_TOPIC_ARN,
       LINK_SIGNING_SECRET_ARN)
