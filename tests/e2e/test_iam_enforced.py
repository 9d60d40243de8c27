"""IAM over the wire: the owner's calls through the AWS endpoint, as the `shop` CLI makes them,
are evaluated against the owner's policy and refused with the error botocore raises on AWS."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from shop.adapters.stack import outputs_from_local


@pytest.fixture(scope="module")
def as_owner(shop):
    _, endpoint, credentials = outputs_from_local(shop.url)
    session = boto3.Session(**credentials, region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=endpoint)


def test_the_owner_may_read_orders_but_not_drop_a_table(shop, as_owner):
    table = shop.shop.stack.outputs["OrdersTableName"]
    as_owner("dynamodb").get_item(TableName=table, Key={"orderId": {"S": "01JNOSUCHORDER000000000000"}})
    with pytest.raises(ClientError) as refused:
        as_owner("dynamodb").delete_table(TableName=table)
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "shop-owner is not authorized to perform: dynamodb:DeleteTable" in error["Message"]
    assert boto3.client("dynamodb").describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"


def test_a_refused_publish_is_snss_authorization_error(shop, as_owner):
    other_topic = boto3.client("sns").create_topic(Name="not-the-owners-business")["TopicArn"]
    shop.shop.outbox.clear()
    with pytest.raises(ClientError) as refused:
        as_owner("sns").publish(TopicArn=other_topic, Message="hello")
    assert refused.value.response["Error"]["Code"] == "AuthorizationError"
    assert [entry for entry in shop.shop.outbox.entries() if entry["body"] == "hello"] == []


def test_a_call_local_mode_cannot_map_to_iam_is_refused_not_guessed(shop, as_owner):
    with pytest.raises(ClientError) as refused:
        as_owner("sns").create_topic(Name="whose-topic")
    assert refused.value.response["Error"]["Code"] == "AuthorizationError"
    assert "cannot tell which IAM permission" in refused.value.response["Error"]["Message"]


def test_a_key_nobody_issued_is_the_developers_own(shop):
    """The AWS CLI with your own (any) credentials: the administrator who deployed the stack."""
    client = boto3.client("dynamodb", endpoint_url=shop.shop.aws_endpoint, region_name="us-east-1",
                          aws_access_key_id="AKIAMYOWNKEY00000000", aws_secret_access_key="x")
    assert shop.shop.stack.outputs["OrdersTableName"] in client.list_tables()["TableNames"]
