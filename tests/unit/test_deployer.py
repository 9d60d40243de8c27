"""Route matching for local API Gateway routes (`METHOD /path/{param}`), and how the deployer reads
routes, Function URLs and resource types from a template: by what it means, not its exact shape."""

from __future__ import annotations

import pytest

from shop.local.deployer import (
    KNOWN_TYPES,
    Route,
    deploy,
    function_url_target,
    route_target,
    url_prefix,
)
from shop.local.template import Template, UnsupportedTemplate


def route(method: str, path: str) -> Route:
    return Route(method=method, path=path, function_name="OrderApi")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/orders/abc", {"orderId": "abc"}),
        ("/orders/01JORDER0000000000000000AB", {"orderId": "01JORDER0000000000000000AB"}),
        ("/orders/a.b-c_d%20e", {"orderId": "a.b-c_d%20e"}),
        ("/orders/abc/x", None),
        ("/orders/abc/", None),
        ("/orders/", None),
        ("/orders", None),
        ("/ordersabc", None),
        ("/x/orders/abc", None),
        ("orders/abc", None),
    ],
)
def test_path_parameter(path, expected):
    assert route("GET", "/orders/{orderId}").match("GET", path) == expected


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "get", "HEAD"])
def test_another_method_does_not_match(method):
    assert route("GET", "/orders/{orderId}").match(method, "/orders/abc") is None


def test_literal_path_matches_exactly_with_no_parameters():
    orders = route("POST", "/orders")

    assert orders.match("POST", "/orders") == {}
    assert orders.match("POST", "/orders/") is None
    assert orders.match("POST", "/orders/abc") is None


def test_regex_characters_in_a_path_are_literal():
    health = route("GET", "/health.json")

    assert health.match("GET", "/health.json") == {}
    assert health.match("GET", "/healthXjson") is None


def test_several_parameters():
    items = route("GET", "/orders/{orderId}/items/{itemId}")

    assert items.match("GET", "/orders/o1/items/i2") == {"orderId": "o1", "itemId": "i2"}
    assert items.match("GET", "/orders/o1/items") is None


FUNCTION = {"Type": "AWS::Lambda::Function", "Properties": {},
            "Metadata": {"aws:cdk:path": "OrderShop/OrderApi/Function/Resource"}}
ARN = {"Fn::GetAtt": ["Handler1A2B3C4D", "Arn"]}


def template(**resources) -> Template:
    return Template(stack_name="OrderShop", resources={"Handler1A2B3C4D": FUNCTION, **resources}, outputs={})


def api_route(target, uri) -> Template:
    return template(
        Integration9F8E7D6C={"Type": "AWS::ApiGatewayV2::Integration", "Properties": {"IntegrationUri": uri}},
        Route11112222={"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "GET /x", "Target": target}},
    )


@pytest.mark.parametrize(
    ("target", "uri"),
    [
        # What CDK synthesizes for an HTTP API today.
        ({"Fn::Join": ["", ["integrations/", {"Ref": "Integration9F8E7D6C"}]]}, ARN),
        # The same meaning in other shapes: a Sub, and the invocation URI of a REST-style integration.
        ({"Fn::Sub": "integrations/${Integration9F8E7D6C}"},
         {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":apigateway:", {"Ref": "AWS::Region"},
                            ":lambda:path/2015-03-31/functions/", ARN, "/invocations"]]}),
    ],
)
def test_a_route_calls_the_function_its_integration_refers_to(target, uri):
    shop = api_route(target, uri)

    assert route_target(shop, shop.resources["Route11112222"]["Properties"]) == "Handler1A2B3C4D"


def test_a_route_with_no_integration_is_refused():
    shop = api_route({"Fn::Join": ["", ["integrations/", "literal"]]}, ARN)

    with pytest.raises(UnsupportedTemplate, match="the integration of route GET /x"):
        route_target(shop, shop.resources["Route11112222"]["Properties"])


@pytest.mark.parametrize("target_arn", [ARN, {"Ref": "Handler1A2B3C4D"}, {"Fn::Sub": "${Handler1A2B3C4D.Arn}:live"}])
def test_a_function_url_serves_the_function_its_target_refers_to(target_arn):
    shop = template(Url={"Type": "AWS::Lambda::Url", "Properties": {"TargetFunctionArn": target_arn}})

    assert function_url_target(shop, shop.resources["Url"]["Properties"]) == "Handler1A2B3C4D"


@pytest.mark.parametrize(
    "path",
    ["OrderShop/ApprovalCallback/Function/Resource", "OrderShop/Approvals/ApprovalCallback/Resource"],
)
def test_a_function_url_is_served_under_the_function_s_name_however_deep_its_construct(path):
    shop = template()
    shop.resources["Handler1A2B3C4D"] = {**FUNCTION, "Metadata": {"aws:cdk:path": path}}

    assert url_prefix(shop, "Handler1A2B3C4D") == "approval-callback"


def test_a_resource_type_with_no_planner_is_refused_before_anything_is_created():
    shop = template(Queue={"Type": "AWS::SQS::Queue", "Properties": {}})

    def no_client(service):
        raise AssertionError(f"{service} was called")

    with pytest.raises(UnsupportedTemplate, match=r"cannot create \['AWS::SQS::Queue'\]"):
        deploy(shop, clients=no_client, base_url="http://127.0.0.1:1", principals=None)
    assert "AWS::Lambda::Function" in KNOWN_TYPES and "AWS::SQS::Queue" not in KNOWN_TYPES


def test_an_unnamed_resource_is_named_anew_for_each_deployment_as_cloudformation_does():
    import re

    from shop.local.deployer import physical_name, physical_name_prefix

    name = physical_name("OrderShop", "StorageOrders79EED263")
    assert re.fullmatch(r"OrderShop-StorageOrders79EED263-[A-Z0-9]{13}", name)
    assert physical_name("OrderShop", "StorageOrders79EED263") != name
    long_id = "ApprovalCallbackFunctionServiceRoleAAA16CC5"
    assert len(physical_name("OrderShop", long_id)) == 64
    assert physical_name("OrderShop", long_id).startswith(physical_name_prefix("OrderShop", long_id))
