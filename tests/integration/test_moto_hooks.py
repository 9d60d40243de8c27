"""The hooks into moto's internals (shop/local/lambda_hook.py). A moto upgrade that moves what
they patch must fail here first."""

from __future__ import annotations

import json

import boto3
import pytest

from shop.local import lambda_hook
from shop.local.outbox import Outbox
from shop.local.runtime import LocalConfig, LocalShop
from shop.settings import Env

ORDER = {
    "orderId": "01JTESTORDER00000000000000",
    "createdAt": "2026-11-24T10:00:00Z",
    "customerName": "Grace Hopper",
    "customerEmail": "grace@example.com",
    "shippingAddress": {"country": "US", "city": "Arlington", "county": "VA", "streetAddress": "1 Navy Way"},
    "items": [{"productId": "01JDF12740C1HB5QE4DT9TWB3R", "name": "Stoneware mug", "quantity": 1,
               "unitPrice": "14.90", "lineTotal": "14.90"}],
    "currency": "EUR",
    "total": "14.90",
}


@pytest.fixture(scope="module")
def shop(synthesized):
    running = LocalShop(LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path,
                                    approval_timeout_seconds=60, feedback_delay_seconds=1)).start()
    yield running
    running.stop()


def _function(shop: LocalShop, handler: str) -> str:
    return next(name for name, path in shop.stack.handlers.items() if path == f"shop.handlers.{handler}.lambda_handler")


def test_lambda_invoke_runs_the_projects_handler_in_process(shop):
    shop.outbox.clear()
    response = boto3.client("lambda").invoke(
        FunctionName=_function(shop, "customer_email"),
        Payload=json.dumps({"template": "order_received", "order": ORDER}),
    )
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert set(json.loads(response["Payload"].read())) == {"messageId"}
    [email] = shop.outbox.entries()
    assert email["channel"] == "email" and email["to"] == ["grace@example.com"]
    assert email["subject"] == f"We have your order {ORDER['orderId']}"
    assert "Grace Hopper" in email["body"]


def test_a_failing_handler_is_reported_as_a_function_error(shop):
    response = boto3.client("lambda").invoke(
        FunctionName=_function(shop, "customer_email"),
        Payload=json.dumps({"template": "no_such_template", "order": ORDER}),
    )
    assert response["FunctionError"]
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ValueError" and "no_such_template" in payload["errorMessage"]


def test_sns_publishes_reach_the_outbox_with_the_subscribers(shop):
    shop.outbox.clear()
    boto3.client("sns").publish(TopicArn=shop.stack.environment[Env.OWNER_TOPIC_ARN], Subject="Hi", Message="Body")
    [entry] = shop.outbox.entries()
    assert (entry["channel"], entry["to"], entry["subject"], entry["body"]) == ("sns", ["owner@shop.test"], "Hi", "Body")


def test_uninstall_restores_moto():
    from moto.awslambda.models import LambdaFunction
    from moto.ses.models import SESBackend
    from moto.sns.models import Topic

    # Given the hooks as the running shop left them, installing and removing a second set
    before = (LambdaFunction._invoke_lambda, SESBackend.send_email, Topic.publish)
    uninstall = lambda_hook.install(Outbox())
    assert LambdaFunction._invoke_lambda is lambda_hook._invoke_in_process
    uninstall()
    assert (LambdaFunction._invoke_lambda, SESBackend.send_email, Topic.publish) == before


def test_only_the_shops_handlers_can_be_loaded():
    with pytest.raises(ValueError):
        lambda_hook.load_handler("os.system")
