"""The shop's stack: creates each capability and wires grants and outputs between them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from shop import stack_outputs as output
from shop.infra import nag
from shop.infra.approval import ApprovalCallback
from shop.infra.lambda_bundle import ShopCode
from shop.infra.naming import order_workflow_name
from shop.infra.notifications import OwnerNotifications
from shop.infra.order_api import OrderApi
from shop.infra.regions import check_region
from shop.infra.storage import Storage
from shop.infra.workflow import OrderWorkflow
from shop.settings import DeployParameters

# CDK context key that turns cdk-nag on: `build_app(..., context={"nag": True})`, `cdk synth -c nag=true`.
NAG_CONTEXT_KEY = "nag"
# CDK context key naming the region to deploy to, checked at synthesis (`cdk synth -c region=...`).
# Without it, the region the CDK CLI resolved from the profile or AWS_REGION (CDK_DEFAULT_REGION,
# which the CLI passes to the app) is checked. The template itself stays region-agnostic.
REGION_CONTEXT_KEY = "region"


def _enabled(value: object) -> bool:
    """A context flag: a bool from code, a string from `-c key=value` on the CDK command line."""
    return value is True or str(value).lower() in {"true", "1", "yes"}


class ShopStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        params: DeployParameters,
        nag_checks: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Refuse a region without Function URLs now: there CloudFormation would refuse the template
        # only at `cdk deploy`, after the account may have been bootstrapped for nothing.
        for region in (self.region, self.node.try_get_context(REGION_CONTEXT_KEY),
                       os.environ.get("CDK_DEFAULT_REGION")):
            if region and not cdk.Token.is_unresolved(region):
                check_region(region)
                break
        # cdk-nag's AwsSolutions rules (see shop/infra/nag.py). The tests always run them, in their one
        # synthesis; `cdk deploy -c nag=true` can. Off by default, so `make run` and a deploy do not
        # depend on a dev-only tool whose rules change between releases: `make test` is the gate.
        if nag_checks:
            nag.add_checks(self)
        code = ShopCode(self, "Code")
        storage = Storage(self, "Storage")
        notifications = OwnerNotifications(self, "OwnerNotifications", owner_email=params.owner_email)

        # Named, so the callback can be granted SendTask* on its ARN before the machine exists;
        # unique to this instance of the stack (see shop/infra/naming.py).
        state_machine_name = order_workflow_name(self.stack_name)
        approval = ApprovalCallback(
            self,
            "ApprovalCallback",
            code=code,
            orders=storage.orders,
            decisions=storage.decisions,
            state_machine_arn=self.format_arn(
                service="states",
                resource="stateMachine",
                resource_name=state_machine_name,
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
            executions_arn=self.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{state_machine_name}:*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
        )
        workflow = OrderWorkflow(
            self,
            "Workflow",
            code=code,
            orders=storage.orders,
            owner_topic=notifications.topic,
            signing_key=approval.signing_key,
            sender_email=params.sender_email,
            approval_url=approval.url.url,
            state_machine_name=state_machine_name,
        )
        api = OrderApi(
            self,
            "OrderApi",
            code=code,
            orders=storage.orders,
            products=storage.products,
            idempotency=storage.idempotency,
            state_machine=workflow.state_machine,
            params=params,
        )

        for name, value in {
            output.API_URL: api.http_api.api_endpoint,
            output.APPROVAL_URL: approval.url.url,
            output.ORDERS_TABLE: storage.orders.table_name,
            output.DECISIONS_TABLE: storage.decisions.table_name,
            output.PRODUCTS_TABLE: storage.products.table_name,
            output.LINK_SIGNING_SECRET_ARN: approval.signing_key.secret_arn,
            output.STATE_MACHINE_ARN: workflow.state_machine.state_machine_arn,
            output.OWNER_TOPIC_ARN: notifications.topic.topic_arn,
        }.items():
            cdk.CfnOutput(self, name, value=value)


CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def build_app(outdir: str, context: dict | None = None) -> tuple[cdk.App, ShopStack]:
    """The CDK app, for `app.py`, the tests and local mode alike; `context` overrides cdk.json.

    `context={"nag": True}` also runs cdk-nag's AwsSolutions rules (see shop/infra/nag.py);
    `context={"stackName": ...}` names the stack (default `STACK_NAME`).
    """
    from shop.settings import STACK_NAME_CONTEXT_KEY, stack_name_from_context

    # The CDK CLI passes cdk.json's context itself (and its -c overrides win); a plain
    # `python app.py` must read it. Path metadata names each resource's construct (local mode
    # routes Function URLs by it); the CLI turns it on, a plain synth must ask for it.
    from_file = {} if "CDK_OUTDIR" in os.environ else json.loads(CDK_JSON.read_text())["context"]
    app = cdk.App(
        outdir=outdir,
        context={"aws:cdk:enable-path-metadata": True, **from_file, **(context or {})},
    )
    stack = ShopStack(
        app,
        stack_name_from_context(app.node.try_get_context(STACK_NAME_CONTEXT_KEY)),
        params=DeployParameters.from_context(app.node.try_get_context),
        nag_checks=_enabled(app.node.try_get_context(NAG_CONTEXT_KEY)),
    )
    return app, stack
