"""The IAM requests each AWS call of the shop makes: action, resource ARNs and the service's condition
keys, from AWS's service authorization reference plus the overrides where AWS does otherwise.
Anything that cannot be worked out raises UnknownOperation."""

from __future__ import annotations

from typing import Any

import pytest

from shop.local.iam.actions import Authorization, UnknownOperation, authorizations

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"
PRODUCTS = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/products"
STATE_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:OrderShop-OrderWorkflow"
EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:OrderShop-OrderWorkflow:order-42"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:owner-notifications"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:link-signing-key-AbCdEf"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:customer-email"


def identity(name: str) -> str:
    return f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/{name}"


def authorize(service: str, operation: str, params: dict[str, Any], **options: Any) -> list[Authorization]:
    return authorizations(service, operation, params, region=REGION, account_id=ACCOUNT, **options)


def only(service: str, operation: str, params: dict[str, Any], **options: Any) -> Authorization:
    [authorization] = authorize(service, operation, params, **options)
    return authorization


# --- DynamoDB ---------------------------------------------------------------------------------------

KEY = {"orderId": {"S": "order-42"}}


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("GetItem", {"TableName": "orders", "Key": KEY}, Authorization("dynamodb:GetItem", (TABLE,), {})),
        ("PutItem", {"TableName": "orders", "Item": KEY}, Authorization("dynamodb:PutItem", (TABLE,), {})),
        (
            "UpdateItem",
            {"TableName": "orders", "Key": KEY, "UpdateExpression": "SET #s = :s", "ReturnValues": "ALL_NEW"},
            Authorization("dynamodb:UpdateItem", (TABLE,), {"dynamodb:ReturnValues": "ALL_NEW"}),
        ),
        (
            "DeleteItem",
            {"TableName": "orders", "Key": KEY},
            Authorization("dynamodb:DeleteItem", (TABLE,), {}),
        ),
        ("DeleteItem", {"TableName": TABLE, "Key": KEY}, Authorization("dynamodb:DeleteItem", (TABLE,), {})),
        (
            "Query",
            {"TableName": "orders", "KeyConditionExpression": "orderId = :id", "Select": "COUNT"},
            Authorization("dynamodb:Query", (TABLE,), {"dynamodb:Select": "COUNT"}),
        ),
        (
            "Query",
            {"TableName": "orders", "IndexName": "byStatus", "KeyConditionExpression": "s = :s"},
            Authorization("dynamodb:Query", (f"{TABLE}/index/byStatus",), {}),
        ),
        ("Scan", {"TableName": "products"}, Authorization("dynamodb:Scan", (PRODUCTS,), {})),
        (
            "Scan",
            {"TableName": PRODUCTS, "IndexName": "byCategory"},
            Authorization("dynamodb:Scan", (f"{PRODUCTS}/index/byCategory",), {}),
        ),
    ],
)
def test_dynamodb_item_and_read_calls(operation, params, expected):
    assert authorize("dynamodb", operation, params) == [expected]


def test_batch_write_item_is_authorized_once_per_table():
    params = {
        "RequestItems": {
            "products": [{"PutRequest": {"Item": KEY}}],
            TABLE: [{"DeleteRequest": {"Key": KEY}}],
        },
        "ReturnConsumedCapacity": "TOTAL",
    }
    context = {"dynamodb:ReturnConsumedCapacity": "TOTAL"}
    assert authorize("dynamodb", "BatchWriteItem", params) == [
        Authorization("dynamodb:BatchWriteItem", (PRODUCTS,), context),
        Authorization("dynamodb:BatchWriteItem", (TABLE,), context),
    ]


def test_batch_get_item_is_authorized_once_per_table():
    params = {"RequestItems": {"products": {"Keys": [KEY]}}}
    assert authorize("dynamodb", "BatchGetItem", params) == [
        Authorization("dynamodb:BatchGetItem", (PRODUCTS,), {})
    ]


def test_transact_write_items_authorizes_each_item_as_its_own_action():
    params = {
        "TransactItems": [
            {
                "ConditionCheck": {
                    "TableName": "products",
                    "Key": KEY,
                    "ConditionExpression": "attribute_exists(p)",
                }
            },
            {"Put": {"TableName": "orders", "Item": KEY}},
            {"Update": {"TableName": "orders", "Key": KEY, "UpdateExpression": "SET n = :n"}},
            {"Put": {"TableName": "orders", "Item": {"orderId": {"S": "order-43"}}}},  # same request again
            {"Delete": {"TableName": "orders", "Key": KEY}},
        ]
    }
    enclosing = {"dynamodb:EnclosingOperation": "TransactWriteItems"}
    assert authorize("dynamodb", "TransactWriteItems", params) == [
        # The reference gives ConditionCheckItem no dynamodb:EnclosingOperation key.
        Authorization("dynamodb:ConditionCheckItem", (PRODUCTS,), {}),
        Authorization("dynamodb:PutItem", (TABLE,), enclosing),
        Authorization("dynamodb:UpdateItem", (TABLE,), enclosing),
        Authorization("dynamodb:DeleteItem", (TABLE,), enclosing),
    ]


def test_transact_get_items_authorizes_get_item():
    params = {"TransactItems": [{"Get": {"TableName": "orders", "Key": KEY}}]}
    assert authorize("dynamodb", "TransactGetItems", params) == [
        Authorization("dynamodb:GetItem", (TABLE,), {"dynamodb:EnclosingOperation": "TransactGetItems"})
    ]


# --- Step Functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "params", "action", "resource"),
    [
        (
            "StartExecution",
            {"stateMachineArn": STATE_MACHINE, "name": "order-42", "input": "{}"},
            "states:StartExecution",
            STATE_MACHINE,
        ),
        ("DescribeExecution", {"executionArn": EXECUTION}, "states:DescribeExecution", EXECUTION),
        (
            "GetExecutionHistory",
            {"executionArn": EXECUTION, "reverseOrder": True},
            "states:GetExecutionHistory",
            EXECUTION,
        ),
        (
            "StopExecution",
            {"executionArn": EXECUTION, "cause": "cancelled"},
            "states:StopExecution",
            EXECUTION,
        ),
        (
            "ListExecutions",
            {"stateMachineArn": STATE_MACHINE, "statusFilter": "RUNNING"},
            "states:ListExecutions",
            STATE_MACHINE,
        ),
        (
            "DescribeStateMachine",
            {"stateMachineArn": STATE_MACHINE},
            "states:DescribeStateMachine",
            STATE_MACHINE,
        ),
        ("ListStateMachines", {}, "states:ListStateMachines", "*"),
    ],
)
def test_step_functions_calls(operation, params, action, resource):
    assert only("stepfunctions", operation, params) == Authorization(action, (resource,), {})


@pytest.mark.parametrize("operation", ["SendTaskSuccess", "SendTaskFailure"])
def test_task_token_callbacks_are_authorized_on_the_tokens_state_machine(operation):
    tokens = []

    def owner(token: str) -> str | None:
        tokens.append(token)
        return STATE_MACHINE if token == "known-token" else None

    params = {"taskToken": "known-token", "output": "{}"}
    assert only("stepfunctions", operation, params, task_token_owner=owner) == Authorization(
        f"states:{operation}", (STATE_MACHINE,), {}
    )
    unknown = {"taskToken": "forged-token", "error": "Rejected"}
    assert only("stepfunctions", operation, unknown, task_token_owner=owner) == Authorization(
        f"states:{operation}", ("*",), {}
    )
    assert only("stepfunctions", operation, params) == Authorization(f"states:{operation}", ("*",), {})
    assert tokens == ["known-token", "forged-token"]


# --- SNS, SES ---------------------------------------------------------------------------------------


def test_sns_publish():
    params = {"TopicArn": TOPIC, "Subject": "Approve order-42", "Message": "..."}
    assert only("sns", "Publish", params) == Authorization("sns:Publish", (TOPIC,), {})


def test_sns_subscribe_carries_protocol_and_endpoint():
    params = {
        "TopicArn": TOPIC,
        "Protocol": "email",
        "Endpoint": "owner@example.com",
        "ReturnSubscriptionArn": True,
    }
    assert only("sns", "Subscribe", params) == Authorization(
        "sns:Subscribe", (TOPIC,), {"sns:Protocol": "email", "sns:Endpoint": "owner@example.com"}
    )


def test_an_arn_of_another_resource_type_is_not_taken_for_the_topic():
    # A push subscription's endpoint is an SNS ARN too, but of a platform endpoint, not a topic.
    endpoint = f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/shop-app/5a1f"
    params = {"Endpoint": endpoint, "Protocol": "application", "TopicArn": TOPIC}
    assert only("sns", "Subscribe", params) == Authorization(
        "sns:Subscribe", (TOPIC,), {"sns:Protocol": "application", "sns:Endpoint": endpoint}
    )


EMAIL = {
    "Source": "Order Shop <shop@example.com>",
    "Destination": {
        "ToAddresses": ["Ada <ada@example.org>"],
        "CcAddresses": ["bob@example.net"],
        "BccAddresses": ["archive@example.com"],
    },
    "Message": {"Subject": {"Data": "Your order"}, "Body": {"Html": {"Data": "<p>Thanks</p>"}}},
}
EMAIL_CONTEXT = {
    "ses:FromAddress": "shop@example.com",
    "ses:Recipients": ("ada@example.org", "bob@example.net", "archive@example.com"),
    "ses:FromDisplayName": "Order Shop",
}


def test_ses_send_email_in_the_sandbox_is_authorized_on_sender_and_every_recipient():
    assert only("ses", "SendEmail", EMAIL) == Authorization(
        "ses:SendEmail",
        (
            identity("shop@example.com"),
            identity("ada@example.org"),
            identity("bob@example.net"),
            identity("archive@example.com"),
        ),
        EMAIL_CONTEXT,
    )


def test_ses_send_email_in_production_is_authorized_on_the_sender_only():
    assert only("ses", "SendEmail", EMAIL, ses_sandbox=False) == Authorization(
        "ses:SendEmail", (identity("shop@example.com"),), EMAIL_CONTEXT
    )


def test_ses_identity_decides_which_identity_stands_for_an_address():
    def verified_domain_or_address(address: str) -> str:
        domain = address.rpartition("@")[2]
        return identity(domain if domain == "example.com" else address)

    authorization = only("ses", "SendEmail", EMAIL, ses_identity=verified_domain_or_address)
    # shop@ and archive@example.com both stand for the domain: it is authorized once.
    assert authorization.resources == (
        identity("example.com"),
        identity("ada@example.org"),
        identity("bob@example.net"),
    )


def test_ses_send_email_without_display_name_and_with_sending_authorization():
    params = {**EMAIL, "Source": "shop@example.com", "SourceArn": identity("example.com")}
    assert only("ses", "SendEmail", params, ses_sandbox=False) == Authorization(
        "ses:SendEmail",
        (identity("example.com"),),
        {"ses:FromAddress": "shop@example.com", "ses:Recipients": EMAIL_CONTEXT["ses:Recipients"]},
    )


def test_ses_send_raw_email_reads_the_message_headers():
    raw = (
        b"From: Order Shop <shop@example.com>\r\nTo: ada@example.org\r\nSubject: Your order\r\n\r\nThanks\r\n"
    )
    assert only("ses", "SendRawEmail", {"RawMessage": {"Data": raw}}) == Authorization(
        "ses:SendRawEmail",
        (identity("shop@example.com"), identity("ada@example.org")),
        {
            "ses:FromAddress": "shop@example.com",
            "ses:Recipients": ("ada@example.org",),
            "ses:FromDisplayName": "Order Shop",
        },
    )


def test_sesv2_send_email_is_ses_send_email():
    params = {
        "FromEmailAddress": "shop@example.com",
        "Destination": {"ToAddresses": ["ada@example.org"]},
        "Content": {"Simple": {"Subject": {"Data": "Your order"}, "Body": {"Text": {"Data": "Thanks"}}}},
    }
    assert only("sesv2", "SendEmail", params) == Authorization(
        "ses:SendEmail",
        (identity("shop@example.com"), identity("ada@example.org")),
        {"ses:FromAddress": "shop@example.com", "ses:Recipients": ("ada@example.org",)},
    )


def test_ses_verify_email_identity_has_no_resource_type():
    assert only("ses", "VerifyEmailIdentity", {"EmailAddress": "shop@example.com"}) == Authorization(
        "ses:VerifyEmailIdentity", ("*",), {}
    )


# --- Secrets Manager, Lambda, CloudFormation, SQS -------------------------------------------------


def test_get_secret_value_by_arn():
    assert only("secretsmanager", "GetSecretValue", {"SecretId": SECRET}) == Authorization(
        "secretsmanager:GetSecretValue", (SECRET,), {}
    )


def test_get_secret_value_by_name_resolves_the_full_arn():
    def secret_arn(secret_id: str) -> str | None:
        return SECRET if secret_id == "link-signing-key" else None

    params = {"SecretId": "link-signing-key", "VersionStage": "AWSCURRENT"}
    assert only("secretsmanager", "GetSecretValue", params, secret_arn=secret_arn) == Authorization(
        "secretsmanager:GetSecretValue", (SECRET,), {"secretsmanager:VersionStage": "AWSCURRENT"}
    )
    # Unresolved, a name is all the ARN can say; the suffix is missing.
    assert only("secretsmanager", "GetSecretValue", {"SecretId": "prod/other-key"}) == Authorization(
        "secretsmanager:GetSecretValue",
        (f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/other-key",),
        {},
    )


@pytest.mark.parametrize(
    ("params", "resource"),
    [
        ({"FunctionName": "customer-email", "Payload": b"{}"}, FUNCTION),
        ({"FunctionName": FUNCTION, "InvocationType": "Event"}, FUNCTION),
        ({"FunctionName": f"{ACCOUNT}:function:customer-email"}, FUNCTION),
        ({"FunctionName": "customer-email:live"}, f"{FUNCTION}:live"),
        ({"FunctionName": f"{FUNCTION}:3"}, f"{FUNCTION}:3"),
        ({"FunctionName": "customer-email", "Qualifier": "live"}, f"{FUNCTION}:live"),
    ],
)
def test_lambda_invoke_is_invoke_function_on_the_possibly_qualified_arn(params, resource):
    assert only("lambda", "Invoke", params) == Authorization("lambda:InvokeFunction", (resource,), {})


def test_cloudformation_describe_stacks():
    stack = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/OrderShop/0c3b9a40-aaaa-11ee-bbbb-0a1b2c3d4e5f"

    def stack_arn(name: str) -> str | None:
        return stack if name == "OrderShop" else None

    assert only("cloudformation", "DescribeStacks", {"StackName": "OrderShop"}, stack_arn=stack_arn) == (
        Authorization("cloudformation:DescribeStacks", (stack,), {})
    )
    # A stack that does not exist: what AWS's AccessDenied names.
    assert only("cloudformation", "DescribeStacks", {"StackName": "Missing"}, stack_arn=stack_arn) == (
        Authorization(
            "cloudformation:DescribeStacks",
            (f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/Missing/*",),
            {},
        )
    )
    assert only("cloudformation", "DescribeStacks", {}) == Authorization(
        "cloudformation:DescribeStacks", ("*",), {}
    )


@pytest.mark.parametrize(
    "queue_url",
    [
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/order-events",
        f"http://127.0.0.1:5001/{ACCOUNT}/order-events",
    ],
)
def test_sqs_receive_message_by_queue_url(queue_url):
    assert only("sqs", "ReceiveMessage", {"QueueUrl": queue_url, "WaitTimeSeconds": 1}) == Authorization(
        "sqs:ReceiveMessage", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:order-events",), {}
    )


def test_sqs_create_queue_by_name():
    assert only("sqs", "CreateQueue", {"QueueName": "order-events"}) == Authorization(
        "sqs:CreateQueue", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:order-events",), {}
    )


# --- what cannot be worked out fails loudly ---------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "params", "message"),
    [
        ("dynamodb", "Frobnicate", {}, "no operation 'Frobnicate'"),
        ("dynamodb", "getitem", {"TableName": "orders"}, "no operation 'getitem'"),  # botocore's exact name
        ("nosuchservice", "GetItem", {}, "no service"),
        # A botocore operation the reference has no action for (AWS authorizes it as sqs:SendMessage).
        (
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q", "Entries": []},
            "no action sqs:SendMessageBatch",
        ),
        # A required resource its parameters do not name in a form the reference's ARN can take.
        (
            "lambda",
            "GetFunction",
            {"FunctionName": f"{ACCOUNT}:function:customer-email"},
            "cannot tell its function",
        ),
        ("sqs", "ReceiveMessage", {"QueueUrl": "https://example.com/queue"}, "does not end in /ACCOUNT/NAME"),
        ("ses", "SendRawEmail", {"RawMessage": {"Data": b"Subject: no sender\r\n\r\n"}}, "names no sender"),
    ],
)
def test_unknown_operations_raise(service, operation, params, message):
    with pytest.raises(UnknownOperation, match=message):
        authorize(service, operation, params)
