"""The customer-facing order API: API Gateway HTTP API in front of one Lambda."""

from __future__ import annotations

import json
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from shop.infra import nag
from shop.infra.lambda_bundle import ShopCode
from shop.infra.naming import instance_name, retained_log_group, vended_log_group_name
from shop.infra.storage import grant_items
from shop.settings import DeployParameters, Env

# One JSON line per request (HTTP API $context variables).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
}


class OrderApi(Construct):
    ROUTES = (
        (apigw.HttpMethod.POST, "/orders"),
        (apigw.HttpMethod.GET, "/orders/{orderId}"),
        (apigw.HttpMethod.GET, "/products"),
    )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: ShopCode,
        orders: dynamodb.ITable,
        products: dynamodb.ITable,
        idempotency: dynamodb.ITable,
        state_machine: sfn.IStateMachine,
        params: DeployParameters,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = code.function(
            self,
            "Function",
            handler="order_api",
            description="Order API: place orders, read orders and the catalog",
            environment={
                Env.ORDERS_TABLE: orders.table_name,
                Env.PRODUCTS_TABLE: products.table_name,
                Env.IDEMPOTENCY_TABLE: idempotency.table_name,
                Env.STATE_MACHINE_ARN: state_machine.state_machine_arn,
                Env.APPROVAL_TIMEOUT: str(params.approval_timeout_seconds),
                Env.FEEDBACK_DELAY: str(params.feedback_delay_seconds),
            },
        )
        grant_items(orders, self.function, "dynamodb:PutItem", "dynamodb:GetItem")
        products.grant(self.function, "dynamodb:BatchGetItem", "dynamodb:Scan")
        idempotency.grant(self.function, "dynamodb:GetItem", "dynamodb:PutItem")
        state_machine.grant_start_execution(self.function)
        # A retried order (same Idempotency-Key) asks whether its execution started: found by local
        # mode's IAM enforcement, which refused it (on AWS the retry got a 503).
        state_machine.grant_execution(self.function, "states:DescribeExecution")
        machine_id = cdk.Stack.of(self).get_logical_id(cast(cdk.CfnElement, state_machine.node.default_child))
        nag.acknowledge(
            self.function,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            f'{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Ref":"{machine_id}"}}]}}]}}:*]',
            "DescribeExecution on this state machine's executions only (an execution's ARN ends in its name, "
            "the order id, which the grant cannot know in advance)",
        )

        self.http_api = apigw.HttpApi(self, "HttpApi", description="Order shop API")
        # Access logs of the default stage. HttpApi has no option for its default stage's logging, so
        # it is set on the stage's CloudFormation resource. Route keys, not paths: no order ids.
        self.access_logs = retained_log_group(
            self, "AccessLogs", name=vended_log_group_name("apigateway", instance_name(cdk.Stack.of(self).stack_name)))
        if self.http_api.default_stage is None:  # HttpApi makes one unless told not to
            raise ValueError("the HTTP API needs its $default stage for the access logs")
        default_stage = cast(apigw.CfnStage, self.http_api.default_stage.node.default_child)
        default_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=json.dumps(ACCESS_LOG_FORMAT)
        )
        nag.acknowledge(
            self.http_api,  # its three routes
            "AwsSolutions-APIG4",
            "Public on purpose: the shop's customers are anonymous (no accounts); they place orders, read "
            "the catalog and read an order by its id, and the function validates every request",
        )
        integration = integrations.HttpLambdaIntegration("OrderApiIntegration", self.function)
        for method, path in self.ROUTES:
            self.http_api.add_routes(path=path, methods=[method], integration=integration)
