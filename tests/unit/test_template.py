"""Local resolution of a synthesized CloudFormation template's intrinsic functions: the ones CDK
emits for this stack work, anything else fails loudly with UnsupportedTemplate."""

from __future__ import annotations

import json

import pytest

from shop.local.template import (
    ACCOUNT_ID,
    REGION,
    Resolver,
    Template,
    UnsupportedTemplate,
    construct_name,
    references,
)

TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/orders-local"
API_URL = "http://127.0.0.1:8000"


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(
        stack_name="OrderShop",
        refs={"OrdersTable": "orders-local", "OwnerTopic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:owner"},
        attributes={
            ("OrdersTable", "Arn"): TABLE_ARN,
            ("Api", "ApiEndpoint"): API_URL,
            ("Db", "Endpoint.Address"): "db.local",
        },
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("AWS::Partition", "aws"),
        ("AWS::Region", REGION),
        ("AWS::AccountId", ACCOUNT_ID),
        ("AWS::StackName", "OrderShop"),
        ("AWS::URLSuffix", "amazonaws.com"),
        ("OrdersTable", "orders-local"),
    ],
)
def test_ref(resolver, name, expected):
    assert resolver.resolve({"Ref": name}) == expected


def test_stack_name_comes_from_the_resolver():
    assert Resolver(stack_name="Other").resolve({"Ref": "AWS::StackName"}) == "Other"


@pytest.mark.parametrize(
    "getatt",
    [["OrdersTable", "Arn"], "OrdersTable.Arn"],
    ids=["list form", "dotted form"],
)
def test_getatt(resolver, getatt):
    assert resolver.resolve({"Fn::GetAtt": getatt}) == TABLE_ARN


def test_getatt_dotted_form_splits_at_the_first_dot(resolver):
    assert resolver.resolve({"Fn::GetAtt": "Db.Endpoint.Address"}) == "db.local"


def test_join(resolver):
    value = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "OrdersTable"}, "/*"]]}

    assert resolver.resolve(value) == "arn:aws:s3:::orders-local/*"


def test_join_of_a_resolved_list(resolver):
    value = {"Fn::Join": ["-", {"Fn::Split": [",", "a,b,c"]}]}

    assert resolver.resolve(value) == "a-b-c"


@pytest.mark.parametrize(("index", "expected"), [(0, "arn"), (2, "dynamodb"), ("3", REGION), (-1, "table/orders-local")])
def test_select_from_split(resolver, index, expected):
    value = {"Fn::Select": [index, {"Fn::Split": [":", {"Fn::GetAtt": ["OrdersTable", "Arn"]}]}]}

    assert resolver.resolve(value) == expected


def test_select_of_a_literal_list(resolver):
    assert resolver.resolve({"Fn::Select": [1, ["a", {"Ref": "OrdersTable"}, "c"]]}) == "orders-local"


def test_split(resolver):
    assert resolver.resolve({"Fn::Split": ["/", {"Ref": "OrdersTable"}]}) == ["orders-local"]
    assert resolver.resolve({"Fn::Split": ["://", API_URL]}) == ["http", "127.0.0.1:8000"]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:x",
         f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:x"),
        ("${OrdersTable.Arn}/index/*", f"{TABLE_ARN}/index/*"),
        ("table=${OrdersTable} stack=${AWS::StackName}", "table=orders-local stack=OrderShop"),
        ("${!Literal} and ${!AWS::Region}", "${Literal} and ${AWS::Region}"),
        ("no variables at all", "no variables at all"),
    ],
)
def test_sub_string_form(resolver, template, expected):
    assert resolver.resolve({"Fn::Sub": template}) == expected


def test_sub_with_variables(resolver):
    value = {
        "Fn::Sub": [
            "${Url}/orders in ${OrdersTable} (${Name}) ${!Name}",
            {"Url": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}, "OrdersTable": "shadowed", "Name": "literal"},
        ]
    }

    assert resolver.resolve(value) == f"{API_URL}/orders in shadowed (literal) ${{Name}}"


def test_intrinsics_nested_in_properties_and_lists(resolver):
    properties = {
        "FunctionName": "f",
        "Timeout": 30,
        "Enabled": True,
        "Environment": {"Variables": {"ORDERS_TABLE_NAME": {"Ref": "OrdersTable"},
                                      "URL": {"Fn::Join": ["", [{"Fn::GetAtt": "Api.ApiEndpoint"}, "/x"]]}}},
        "Policies": [{"Resource": [{"Fn::GetAtt": ["OrdersTable", "Arn"]},
                                   {"Fn::Sub": "${OrdersTable.Arn}/index/*"}]}],
        "Tags": {"Key": "a", "Value": "b"},  # two keys: data, not an intrinsic
    }

    assert resolver.resolve(properties) == {
        "FunctionName": "f",
        "Timeout": 30,
        "Enabled": True,
        "Environment": {"Variables": {"ORDERS_TABLE_NAME": "orders-local", "URL": f"{API_URL}/x"}},
        "Policies": [{"Resource": [TABLE_ARN, f"{TABLE_ARN}/index/*"]}],
        "Tags": {"Key": "a", "Value": "b"},
    }


@pytest.mark.parametrize("value", ["text", 7, None, True, [], {}])
def test_plain_values_are_unchanged(resolver, value):
    assert resolver.resolve(value) == value


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::If": ["IsProd", "a", "b"]},
        {"Fn::ImportValue": "Shared-Arn"},
        {"Fn::FindInMap": ["M", "k", "v"]},
        {"Fn::GetAZs": ""},
        {"Fn::Base64": "x"},
        {"Condition": "IsProd"},
        {"Ref": "Unknown"},
        {"Fn::GetAtt": ["OrdersTable", "StreamArn"]},
        {"Fn::GetAtt": "Unknown.Arn"},
        {"Fn::Sub": "${Unknown}"},
        {"Fn::Sub": "${Unknown.Arn}"},
        {"Fn::Join": ["", ["a", {"Fn::If": ["C", "b", "c"]}]]},
        {"Environment": {"Variables": {"X": {"Ref": "Unknown"}}}},
    ],
    ids=lambda value: json.dumps(value)[:50],
)
def test_what_cannot_be_resolved_locally_fails_loudly(resolver, value):
    with pytest.raises(UnsupportedTemplate):
        resolver.resolve(value)


def test_template_load(tmp_path):
    path = tmp_path / "OrderShop.template.json"
    path.write_text(json.dumps({
        "Resources": {
            "OrdersTable": {"Type": "AWS::DynamoDB::Table",
                            "Metadata": {"aws:cdk:path": "OrderShop/Storage/Orders/Resource"}},
            "ProductsTable": {"Type": "AWS::DynamoDB::Table"},
            "Topic": {"Type": "AWS::SNS::Topic"},
        },
        "Outputs": {"ApiUrl": {"Value": {"Ref": "Topic"}}},
    }))

    template = Template.load(path)

    assert template.stack_name == "OrderShop"
    assert set(template.of_type("AWS::DynamoDB::Table")) == {"OrdersTable", "ProductsTable"}
    assert template.of_type("AWS::Lambda::Function") == {}
    assert template.outputs == {"ApiUrl": {"Value": {"Ref": "Topic"}}}
    assert template.construct_path("OrdersTable") == "OrderShop/Storage/Orders/Resource"
    assert template.construct_path("Topic") == "Topic"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Ref": "Table"}, ["Table"]),
        ({"Ref": "AWS::Region"}, []),
        ({"Fn::GetAtt": ["Function", "Arn"]}, ["Function"]),
        ({"Fn::GetAtt": "Function.Arn"}, ["Function"]),
        ({"Fn::Join": ["", ["arn:", {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": "Machine"}]}]}]]}, ["Machine"]),
        ({"Fn::Sub": "${Table.Arn}/index/*:${AWS::Region}:${!Literal}"}, ["Table"]),
        ({"Fn::Sub": ["${Name}", {"Name": {"Ref": "Topic"}}]}, ["Name", "Topic"]),
    ],
)
def test_references_are_found_wherever_the_expression_holds_them(expression, expected):
    assert list(references(expression)) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("OrderShop/ApprovalCallback/Function/Resource", "ApprovalCallback"),
        ("OrderShop/Approvals/ApprovalCallback/Resource", "ApprovalCallback"),  # nested deeper
        ("OrderShop/Workflow/StateMachine/Resource", "Workflow"),
        ("OrderShop/Storage/Orders/Resource", "Orders"),
    ],
)
def test_a_construct_is_named_by_the_last_id_of_its_path_that_is_not_generic(path, expected):
    assert construct_name("Whatever0690F206", {"Metadata": {"aws:cdk:path": path}}) == expected


def test_without_cdk_metadata_a_construct_is_named_by_its_logical_id_without_the_hash():
    assert construct_name("ApprovalCallbackFunction0690F206", {}) == "ApprovalCallbackFunction"


def test_local_modes_account_is_motos_default_account():
    """Issue 13, item 5: the account is written once (shop/local/template.py); it must be the one
    moto files every resource under, or no local ARN would name a real moto resource."""
    from moto.core import DEFAULT_ACCOUNT_ID

    from shop.local.iam.policy import DEFAULT_ACCOUNT_ID as policy_default

    assert ACCOUNT_ID == DEFAULT_ACCOUNT_ID == policy_default


def test_the_stack_id_is_cloudformations_and_new_for_each_deployment():
    import re

    first, second = Resolver(stack_name="OrderShop"), Resolver(stack_name="OrderShop")
    stack_id = first.resolve({"Ref": "AWS::StackId"})
    assert re.fullmatch(rf"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/OrderShop/"
                        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", stack_id)
    assert first.resolve({"Ref": "AWS::StackId"}) == stack_id  # one deployment, one id
    assert second.resolve({"Ref": "AWS::StackId"}) != stack_id
