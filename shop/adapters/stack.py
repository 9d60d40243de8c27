"""The deployed shop as the owner's tools reach it: its stack outputs, and the adapters built
from them.

On AWS the outputs come from CloudFormation and the calls go out with the caller's own
credentials, which are the authorization. Against local mode they come from the running shop
(`/_local/stack.json`), and the calls go to its moto server. Either way, what follows is the same.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from shop.adapters.aws import configuration_problem, error_code
from shop.adapters.messaging import publish_notification
from shop.adapters.secrets import read_signing_key
from shop.adapters.tables import DecisionsTable, OrdersTable, ProductsTable
from shop.adapters.workflow import Workflow

# What the owner's tools need from the stack; `ShopStack` declares each as a CfnOutput.
REQUIRED_OUTPUTS = (
    "ApiUrl", "ApprovalUrl", "OrdersTableName", "DecisionsTableName", "ProductsTableName",
    "StateMachineArn", "OwnerTopicArn", "LinkSigningSecretArn",
)
LOCAL_STACK_PATH = "/_local/stack.json"


class ShopUnreachable(Exception):
    """No shop where we looked: no such stack, no local shop running, or no credentials."""


def _complete(outputs: dict[str, str], where: str) -> dict[str, str]:
    missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
    if missing:
        raise ShopUnreachable(f"{where} lacks the outputs {', '.join(missing)}: redeploy it with this version")
    return outputs


def outputs_from_cloudformation(stack_name: str, cloudformation: Any) -> dict[str, str]:
    """Every output the owner's tools need, from the deployed stack."""
    return _complete(read_stack_outputs(stack_name, cloudformation), f"stack {stack_name}")


def read_stack_outputs(stack_name: str, cloudformation: Any) -> dict[str, str]:
    """The stack's outputs, whichever it has."""
    from botocore.exceptions import BotoCoreError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except BotoCoreError as error:  # no credentials, no region, no network
        raise ShopUnreachable(configuration_problem(error)
                              or f"cannot reach AWS CloudFormation: {error}") from None
    except Exception as error:
        if configuration_problem(error):  # credentials AWS refused
            raise ShopUnreachable(configuration_problem(error)) from None
        if error_code(error) == "ValidationError":  # what CloudFormation says for an unknown stack
            raise ShopUnreachable(f"stack {stack_name} not found: deploy it with `make deploy`, "
                                  "or check the region and account of your credentials") from None
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def outputs_from_local(base_url: str, *, timeout: float = 5) -> tuple[dict[str, str], str, dict[str, str]]:
    """The running local shop's outputs, its AWS endpoint, and the owner's local credentials (boto3
    client arguments): local mode checks the owner's calls against the owner's policy."""
    url = base_url.rstrip("/") + LOCAL_STACK_PATH
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            described = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ShopUnreachable(f"no local shop at {base_url} ({getattr(error, 'reason', error)}): "
                              "start it with `make run`, or use --aws for the deployed stack") from None
    outputs = _complete(described.get("outputs", {}), f"the local shop at {base_url}")
    return outputs, described["awsEndpoint"], described["ownerCredentials"]


@dataclass
class ShopResources:
    """The adapters of one deployed shop; `clients(service)` makes its boto3 clients."""

    outputs: dict[str, str]
    clients: Callable[[str], Any]

    @cached_property
    def orders(self) -> OrdersTable:
        return OrdersTable(self.outputs["OrdersTableName"], dynamodb=self.clients("dynamodb"))

    @cached_property
    def decisions(self) -> DecisionsTable:
        return DecisionsTable(self.outputs["DecisionsTableName"], dynamodb=self.clients("dynamodb"))

    @cached_property
    def products(self) -> ProductsTable:
        return ProductsTable(self.outputs["ProductsTableName"], dynamodb=self.clients("dynamodb"))

    @cached_property
    def workflow(self) -> Workflow:
        return Workflow(self.outputs["StateMachineArn"], stepfunctions=self.clients("stepfunctions"))

    @property
    def approval_url(self) -> str:
        return self.outputs["ApprovalUrl"]

    @property
    def api_url(self) -> str:
        return self.outputs["ApiUrl"].rstrip("/")

    @property
    def topic_arn(self) -> str:
        return self.outputs["OwnerTopicArn"]

    def signing_key(self) -> bytes:
        return read_signing_key(self.outputs["LinkSigningSecretArn"], self.clients("secretsmanager"))

    def publish(self, **message: Any) -> str:
        return publish_notification(**message, sns=self.clients("sns"))
