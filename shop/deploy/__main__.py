"""`python -m shop.deploy preflight|deploy|destroy`: what `make deploy` and `make destroy` run."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shop.deploy import (
    ROOT,
    Out,
    Runner,
    deploy_context,
    deploy_parameters,
    line,
    parse_context_overrides,
    run_command,
)
from shop.deploy.drain import DRAIN_TIMEOUT_SECONDS
from shop.deploy.preflight import (
    Confirm,
    PreflightResult,
    check_credentials,
    preflight,
    required_bootstrap_version,
    template_resource_types,
)
from shop.settings import STACK_NAME

# Set to 1 (or `make deploy YES=1`) to answer yes to every question: start the sender's SES
# verification, accept the stack's IAM changes, destroy without asking.
YES_VARIABLE = "SHOP_DEPLOY_YES"


def make_confirm(yes: bool, *, stdin: Any = None, out: Out = print) -> Confirm:
    """Yes when told so; a question when a person is at the terminal; no otherwise (CI never hangs)."""
    stdin = stdin or sys.stdin
    if yes:
        return lambda question: True
    if not stdin.isatty():
        return lambda question: False

    def ask(question: str) -> bool:
        out(f"  ?     {question} [y/N] ")
        return stdin.readline().strip().lower() in {"y", "yes"}

    return ask


def _session(region: str | None = None) -> Any:
    import boto3

    return boto3.Session(region_name=region) if region else boto3.Session()


def _template_path(stack_name: str, outdir: str | None) -> Path:
    return ROOT / (outdir or "cdk.out") / f"{stack_name}.template.json"


def run_preflight(args: argparse.Namespace, session: Any, runner: Runner, confirm: Confirm, out: Out) -> PreflightResult | None:
    context = deploy_context(args.context)
    try:
        params = deploy_parameters(context)
    except ValueError as error:
        out(line("fail", str(error)))
        return None
    # The bootstrap version a template needs depends on the CDK, and its resource types on the app,
    # not on the stack's name: the synthesized main stack's tell, when a second stack has not been
    # synthesized yet.
    for path in (_template_path(args.stack, args.outdir), _template_path(STACK_NAME, args.outdir),
                 _template_path(STACK_NAME, None)):
        if path.exists():
            break
    try:
        template = json.loads(path.read_text())
        required = required_bootstrap_version(template)
    except (OSError, ValueError) as error:
        out(line("fail", f"{path}: {getattr(error, 'strerror', None) or error} (run `make synth` first)"))
        return None
    return preflight(session, owner_email=params.owner_email, sender_email=params.sender_email,
                     required_bootstrap=required, resource_types=template_resource_types(template),
                     runner=runner, confirm=confirm, out=out)


def command_preflight(args, session, runner, confirm, out) -> int:
    result = run_preflight(args, session, runner, confirm, out)
    if result is None or not result.ok:
        out("Preflight failed: nothing was deployed. Fix the FAIL lines above and run it again.")
        return 1
    out("Preflight passed.")
    return 0


def command_deploy(args, session, runner, confirm, out) -> int:
    from shop.adapters.stack import ShopUnreachable
    from shop.deploy.deploy import DeployFailed, deploy
    from shop.deploy.next_steps import next_steps

    result = run_preflight(args, session, runner, confirm, out)
    if result is None or not result.ok:
        out("Preflight failed: nothing was deployed. Fix the FAIL lines above and run `make deploy` again.")
        return 1
    out(f"Deploying stack {args.stack} to account {result.account}, region {result.region}:")
    try:
        outputs = deploy(stack_name=args.stack, region=result.region, runner=runner,
                         cloudformation=session.client("cloudformation"), context=args.context,
                         outdir=args.outdir, yes=args.yes)
    except (DeployFailed, ShopUnreachable) as error:
        out(line("fail", str(error)))
        return 1
    params = deploy_parameters(deploy_context(args.context))
    confirmed = next_steps(outputs, sns=session.client("sns"), dynamodb=session.client("dynamodb"),
                           owner_email=params.owner_email, sandbox=result.sandbox, out=out)
    out("")
    out("Deployed." + ("" if confirmed else " Confirm the owner's subscription (above) before the first order."))
    return 0


def command_destroy(args, session, runner, confirm, out) -> int:
    from shop.deploy.destroy import destroy

    result = PreflightResult()
    if not check_credentials(session, result, out):
        return 1
    # The question comes once the running orders are known: it says what ending them means.
    return destroy(stack_name=args.stack, region=result.region, runner=runner,
                   cloudformation=session.client("cloudformation"), clients=session.client,
                   context=args.context, outdir=args.outdir, out=out, confirm=None if args.yes else confirm,
                   account=result.account, drain_timeout=args.wait)


COMMANDS = {"preflight": command_preflight, "deploy": command_deploy, "destroy": command_destroy}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shop.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=COMMANDS, help="preflight: the checks only; deploy: checks, deploy, "
                        "next steps; destroy: delete the stack and say what stays")
    parser.add_argument("--stack", default=STACK_NAME, help=f"the stack's name (default {STACK_NAME})")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                        help="CDK context over cdk.json's, e.g. -c senderEmail=shop@yours.com (repeatable)")
    parser.add_argument("--outdir", help="the cloud assembly's folder (default cdk.out)")
    parser.add_argument("--yes", action="store_true", help=f"answer yes to every question (or {YES_VARIABLE}=1)")
    parser.add_argument("--region", help="the AWS region (default: AWS_REGION, or your profile's)")
    parser.add_argument("--wait", type=float, default=DRAIN_TIMEOUT_SECONDS, metavar="SECONDS",
                        help="destroy: how long to wait for the orders still running to end before giving up, "
                        f"deleting nothing (default {DRAIN_TIMEOUT_SECONDS})")
    return parser


def main(argv: Sequence[str] | None = None, *, runner: Runner = run_command, session: Any = None,
         stdin: Any = None, out: Out = print) -> int:
    args = parser().parse_args(argv)
    args.yes = args.yes or os.environ.get(YES_VARIABLE, "").lower() in {"1", "true", "yes"}
    try:
        args.context = parse_context_overrides(args.context)
    except ValueError as error:
        out(line("fail", str(error)))
        return 2
    from botocore.exceptions import BotoCoreError

    try:
        session = session or _session(args.region)
    except BotoCoreError as error:  # ProfileNotFound and kin: a setting to fix, not a bug to trace
        out(line("fail", f"AWS configuration: {error}"))
        return 1
    try:
        return COMMANDS[args.command](args, session, runner, make_confirm(args.yes, stdin=stdin, out=out), out)
    except KeyboardInterrupt:
        out("Interrupted: CloudFormation finishes (or rolls back) what it started; `make destroy` removes it.")
        return 130


if __name__ == "__main__":
    from shop.infra.node_runtime import use_project_node

    use_project_node()  # `npx cdk` and synthesis on the project's supported Node, as make gives them
    sys.exit(main())
