"""The deploy itself: the pinned CDK CLI's `cdk deploy`, then the stack's outputs from CloudFormation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shop.deploy import CDK_CLI, Runner, context_arguments, region_env


class DeployFailed(RuntimeError):
    """The CDK CLI failed; its own output above says why."""


def cdk_command(
    verb: str,
    stack_name: str,
    *,
    context: Mapping[str, object] | None = None,
    outdir: str | None = None,
    yes: bool = False,
) -> list[str]:
    """`cdk deploy` or `cdk destroy` of one stack, with its context, as the project runs it."""
    command = [*CDK_CLI, verb, stack_name, *context_arguments(stack_name, context)]
    if outdir:  # a second stack synthesizes elsewhere, so cdk.out stays the main stack's
        command += ["--output", outdir]
    if verb == "deploy":
        # Without a terminal the CLI cannot ask about IAM changes and fails; `--yes` means "don't ask".
        command += ["--require-approval", "never" if yes else "broadening"]
    elif yes:
        command.append("--force")
    return command


def deploy(
    *,
    stack_name: str,
    region: str,
    runner: Runner,
    cloudformation: Any,
    context: Mapping[str, object] | None = None,
    outdir: str | None = None,
    yes: bool = False,
) -> dict[str, str]:
    """Deploy the stack and answer its outputs (raises DeployFailed)."""
    from shop.adapters.stack import outputs_from_cloudformation

    status = runner(cdk_command("deploy", stack_name, context=context, outdir=outdir, yes=yes), region_env(region))
    if status != 0:
        raise DeployFailed(f"`cdk deploy {stack_name}` failed (exit {status}): see its output above")
    return outputs_from_cloudformation(stack_name, cloudformation)
