"""`make destroy`: the orders still running brought to an end (shop/deploy/drain.py), the pinned
CDK CLI's `cdk destroy`, then what the stack leaves behind.

What stays is read from the deployed template, the one CloudFormation acts on: every resource whose
DeletionPolicy keeps it. A hand-written list would go stale the day a table's policy changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shop import stack_outputs as output
from shop.deploy import Out, Runner, line, region_env
from shop.deploy.deploy import cdk_command
from shop.deploy.drain import DRAIN_TIMEOUT_SECONDS, drain, report, running_orders, what_happens

# DeletionPolicy values that keep the resource when its stack is deleted.
KEEPING_POLICIES = ("Retain", "RetainExceptOnCreate")
# How to remove what stays, by resource type; `{id}` is its physical id.
REMOVAL_COMMANDS = {
    "AWS::DynamoDB::Table": "aws dynamodb delete-table --region {region} --table-name {id}",
    "AWS::Logs::LogGroup": "aws logs delete-log-group --region {region} --log-group-name {id}",
    "AWS::S3::Bucket": "aws s3 rb --region {region} s3://{id} --force",
}
KIND = {"AWS::DynamoDB::Table": "DynamoDB table", "AWS::Logs::LogGroup": "log group", "AWS::S3::Bucket": "S3 bucket"}


@dataclass(frozen=True)
class Kept:
    logical_id: str
    resource_type: str
    physical_id: str = ""

    def describe(self, region: str) -> str:
        kind = KIND.get(self.resource_type, self.resource_type)
        name = self.physical_id or "(never created)"
        removal = REMOVAL_COMMANDS.get(self.resource_type)
        how = f"; remove it with `{removal.format(id=self.physical_id, region=region)}`" if removal and self.physical_id else ""
        return f"{kind} {name} ({self.logical_id}){how}"


def retained_resources(template: Mapping[str, Any]) -> list[Kept]:
    """The template's resources that survive the stack's deletion, in template order."""
    return [
        Kept(logical_id, resource["Type"])
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("DeletionPolicy") in KEEPING_POLICIES
    ]


class StackNotFound(LookupError):
    pass


def _deployed_template(cloudformation: Any, stack_name: str) -> dict[str, Any]:
    try:
        body = cloudformation.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    except Exception as error:
        if getattr(error, "response", {}).get("Error", {}).get("Code") == "ValidationError":
            raise StackNotFound(stack_name) from None
        raise
    # boto3 decodes a JSON template into a dict itself; some endpoints hand back the text.
    return body if isinstance(body, dict) else json.loads(body)


def what_stays(cloudformation: Any, stack_name: str) -> list[Kept]:
    """The deployed stack's kept resources, with their physical ids (raises StackNotFound)."""
    kept = retained_resources(_deployed_template(cloudformation, stack_name))
    physical = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        physical.update({r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in page["StackResourceSummaries"]})
    return [Kept(k.logical_id, k.resource_type, physical.get(k.logical_id, "")) for k in kept]


def _shop(stack_name: str, cloudformation: Any, clients: Callable[[str], Any], out: Out) -> Any:
    """The deployed shop's adapters, or None for a stack without a workflow to drain (one deployed
    before the state machine's outputs existed, which the owner's tools cannot reach either)."""
    from shop.adapters.stack import ShopResources, read_stack_outputs

    outputs = read_stack_outputs(stack_name, cloudformation)
    needed = (output.STATE_MACHINE_ARN, output.ORDERS_TABLE, output.DECISIONS_TABLE)
    if not all(outputs.get(name) for name in needed):
        out(line("note", f"stack {stack_name} has no {', '.join(needed)} outputs: its running orders, if any, "
                         "are not ended first"))
        return None
    return ShopResources(outputs, clients)


def destroy(
    *,
    stack_name: str,
    region: str,
    runner: Runner,
    cloudformation: Any,
    clients: Callable[[str], Any],
    context: Mapping[str, object] | None = None,
    outdir: str | None = None,
    out: Out = print,
    confirm: Callable[[str], bool] | None = None,
    account: str = "",
    drain_timeout: float = DRAIN_TIMEOUT_SECONDS,
) -> int:
    """End the orders still running, delete the stack, say what stays. Answers an exit status.

    `confirm`, when given, is asked once, naming what ending the running orders means; without it
    nothing is asked (`--yes`, or the caller asked). `clients(service)` makes the boto3 clients that
    reach the stack's workflow and tables."""
    try:
        kept = what_stays(cloudformation, stack_name)
    except StackNotFound:
        out(line("ok", f"no stack {stack_name} in {region}: nothing to destroy"))
        return 0
    shop = _shop(stack_name, cloudformation, clients, out)
    running = running_orders(shop) if shop is not None else []
    if running:
        report(running, stack_name, out)
    where = f"from account {account}, region {region}" if account else f"from region {region}"
    if confirm is not None and not confirm(f"{what_happens(running)}Delete the stack {stack_name} {where}?"):
        out("Nothing deleted (`make destroy YES=1` deletes without asking).")
        return 1
    if running:
        still = drain(shop, stack_name=stack_name, out=out, timeout=drain_timeout)
        if still:
            out(line("fail", f"after {drain_timeout:.0f} s, orders still run: nothing was deleted. Run `make destroy` "
                             "again once they have ended (`shop --aws order show ID` says where each stands)"))
            report(still, stack_name, out)
            return 1
        out(line("ok", "every order's workflow has ended"))
    status = runner(cdk_command("destroy", stack_name, context=context, outdir=outdir, yes=True), region_env(region))
    if status != 0:
        out(line("fail", f"`cdk destroy {stack_name}` failed (exit {status}): see its output above"))
        return status
    out(line("ok", f"stack {stack_name} deleted from {region}"))
    if kept:
        out("  What stays (the template's DeletionPolicy keeps it, so a destroy never loses orders or logs):")
        for resource in kept:
            out(f"    - {resource.describe(region)}")
    out("  Also not part of the stack: the CDK bootstrap stack CDKToolkit (shared by every CDK app of this "
        "account and region) and the SES identities you verified.")
    return 0
