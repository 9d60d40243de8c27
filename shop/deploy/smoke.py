"""`make smoke`: deploy a throwaway copy of the shop, run the mission's test plan against it
(shop/deploy/smoke_scenarios.py), then destroy it, also when a step fails or on Ctrl-C.

    python -m shop.deploy.smoke [--local] [--keep] [--stack-name NAME] [-c KEY=VALUE ...]

On AWS (the default) the stack is deployed by `make deploy`'s own steps (preflight, then the pinned
CDK CLI) into the account and region of your credentials, and destroyed by `make destroy`'s, with
what it keeps deleted after it. With `--local` the same scenarios run against local mode's own stack, in this
process, with no AWS account. Only deploying and destroying differ (a `Target`). Exit status 0
only when every scenario passed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from shop import stack_outputs
from shop.deploy import parse_context_overrides
from shop.deploy.smoke_scenarios import Context, NotificationCapture, Report, Shop, run_scenarios
from shop.settings import STACK_NAME, STACK_NAME_CONTEXT_KEY, DeployParameters, stack_name_from_context

ROOT = Path(__file__).resolve().parents[2]
SMOKE_STACK_NAME = f"{STACK_NAME}Smoke"
# Short enough to watch, long enough to click on AWS: each order's owner has this long to decide
# (the no-answer scenario waits it out, alongside the others), and feedback is asked this soon.
AWS_APPROVAL_TIMEOUT_SECONDS = 120
AWS_FEEDBACK_DELAY_SECONDS = 10
# How long any one step may take to show its result (a notification, a status, an execution's end).
AWS_STEP_TIMEOUT_SECONDS = 90
LOCAL_APPROVAL_TIMEOUT_SECONDS = 10
LOCAL_FEEDBACK_DELAY_SECONDS = 1
LOCAL_STEP_TIMEOUT_SECONDS = 30
# The owner's topic mails its subscriber a confirmation request on every deploy: the smoke stack's
# goes to SES's mailbox simulator instead of a person.
SMOKE_OWNER_EMAIL = "success@simulator.amazonses.com"
EXIT_INTERRUPTED = 130
# Each scenario's path through the state machine in local mode: `make smoke-local` writes it, and
# every other run compares its own with it. Tooling's data: the Lambda asset leaves shop/deploy out.
LOCAL_PATHS = Path(__file__).with_name("local_paths.json")
_LOCAL_PATHS_ABOUT = ("The states each smoke scenario's execution entered, in order, in local mode: written by "
                      "`make smoke-local`; `make smoke` fails when a scenario takes another path on AWS.")


def context_key(field: str) -> str:
    """The CDK context key of a DeployParameters field: the names local mode and the stack read."""
    return next(key for key, name in DeployParameters.CONTEXT_KEYS.items() if name == field)


class Target(Protocol):
    """Where the smoke stack lives. Only this differs between AWS and local mode."""

    @property
    def stack_name(self) -> str:
        """The stack's name (a throwaway one, never the shop's own)."""

    def deploy(self) -> dict[str, str]:
        """Create (or update) the stack; its outputs."""

    def destroy(self) -> None:
        """Remove the stack and everything it would leave behind."""

    def client(self, service: str) -> Any:
        """A boto3 client for the stack's account and region."""

    def leave(self, out: TextIO) -> None:
        """`--keep`: say where the stack is, and how to remove it."""


@dataclass
class Durations:
    approval_timeout: int
    feedback_delay: int
    step_timeout: float


@dataclass(frozen=True)
class RecordedPaths:
    """Where local mode's paths are; `record`: write this run's there (when every scenario passed)
    instead of comparing with them."""

    file: Path = LOCAL_PATHS
    record: bool = False

    def expected(self) -> dict[str, list[str]]:
        if self.record:
            return {}
        if not self.file.is_file():
            raise SmokeSetupFailed(f"no recorded paths of local mode in {self.file}: run `make smoke-local`")
        return json.loads(self.file.read_text())["paths"]

    def write(self, paths: dict[str, list[str]]) -> None:
        body = {"about": _LOCAL_PATHS_ABOUT, "paths": dict(sorted(paths.items()))}
        self.file.write_text(json.dumps(body, indent=2) + "\n")


# -- AWS ----------------------------------------------------------------------------------------------


class AwsTarget:
    """The stack deployed by `make deploy`'s own steps (shop/deploy/): preflight, then `cdk deploy`
    with the pinned CDK CLI into the caller's account and region; destroyed by `make destroy`'s,
    and then what a destroy keeps is deleted too: a throwaway stack leaves nothing behind."""

    def __init__(self, stack_name: str, durations: Durations, extra_context: dict[str, str] | None = None, *,
                 session: Any = None, runner: Callable[..., int] | None = None,
                 confirm: Callable[[str], bool] | None = None, out: Callable[[str], None] = print,
                 main_template: Path = ROOT / "cdk.out" / f"{STACK_NAME}.template.json") -> None:
        import boto3

        from shop.deploy import run_command

        self.stack_name = stack_name
        # `stackName` itself is added by shop.deploy, which names the stack from its argument.
        self.context = {
            **(extra_context or {}),
            context_key("owner_email"): SMOKE_OWNER_EMAIL,
            context_key("approval_timeout_seconds"): str(durations.approval_timeout),
            context_key("feedback_delay_seconds"): str(durations.feedback_delay),
        }
        self.session = session or boto3.Session()
        self.runner = runner or run_command
        self.destroy_runner = runner or _shielded_run
        self.confirm = confirm
        self.out = out
        self.main_template = main_template
        self.region = ""
        # The smoke stack synthesizes into a folder of its own: cdk.out stays the main stack's.
        self.outdir = tempfile.mkdtemp(prefix="smoke-cdk.out-")

    def deploy(self) -> dict[str, str]:
        from shop.deploy import deploy_context, deploy_parameters
        from shop.deploy.__main__ import make_confirm
        from shop.deploy.deploy import deploy
        from shop.deploy.preflight import preflight, required_bootstrap_version, template_resource_types

        params = deploy_parameters(deploy_context(self.context))
        # The bootstrap version the template needs depends on the CDK, and its resource types on the
        # app, not on the stack: the main stack's synthesized template (`make smoke` synthesizes it
        # first) tells.
        template = json.loads(self.main_template.read_text())
        result = preflight(self.session, owner_email=params.owner_email, sender_email=params.sender_email,
                           required_bootstrap=required_bootstrap_version(template),
                           resource_types=template_resource_types(template), runner=self.runner,
                           confirm=self.confirm or make_confirm(False, out=self.out), out=self.out)
        if not result.ok:
            raise SmokeSetupFailed("preflight failed (the FAIL lines above): nothing was deployed")
        self.region = result.region
        return deploy(stack_name=self.stack_name, region=self.region, runner=self.runner,
                      cloudformation=self.client("cloudformation"), context=self.context,
                      outdir=self.outdir, yes=True)

    def destroy(self) -> None:
        """`make destroy`'s destroy, shielded from a Ctrl-C at the terminal (which signals the whole
        foreground group) so the clean-up cannot stop halfway; then what the stack kept."""
        from shop.deploy.destroy import StackNotFound, destroy, what_stays

        self.region = self.region or self.session.region_name
        cloudformation = self.client("cloudformation")
        try:
            kept = [(k.resource_type, k.physical_id) for k in what_stays(cloudformation, self.stack_name)
                    if k.physical_id]
        except StackNotFound:
            kept = []
        # Asking nothing: the orders the scenarios left running are ended first, as `make destroy
        # YES=1` ends them, so that no execution outlives its state machine.
        status = destroy(stack_name=self.stack_name, region=self.region, runner=self.destroy_runner,
                         cloudformation=cloudformation, clients=self.client, context=self.context,
                         outdir=self.outdir, out=self.out)
        if status != 0:
            raise SmokeSetupFailed(f"`cdk destroy {self.stack_name}` failed (exit {status})")
        delete_retained(kept, self.client)
        if kept:
            self.out(f"  ok    deleted what the smoke stack kept: {', '.join(name for _, name in kept)}")
        shutil.rmtree(self.outdir, ignore_errors=True)

    def client(self, service: str) -> Any:
        return self.session.client(service)

    def leave(self, out: TextIO) -> None:
        print(f"kept stack {self.stack_name} (--keep). Remove the queue with `aws sqs delete-queue --queue-url "
              "QUEUE_URL` (above), and the stack with everything it retains (its Orders table, its log groups) "
              "by running `make smoke` once more; `make destroy ARGS='--stack "
              f"{self.stack_name}'` alone leaves those behind.", file=out)


class SmokeSetupFailed(RuntimeError):
    """Preflight, the deploy or the destroy failed; the lines above say why."""


def _shielded_run(command: Any, env: Any) -> int:
    """shop.deploy's runner, in a session of its own: a Ctrl-C at the terminal signals the whole
    foreground process group, and must not stop the clean-up's `cdk destroy` halfway."""
    import os

    return subprocess.run(list(command), cwd=ROOT, env={**os.environ, **env}, check=False,
                          start_new_session=True).returncode


def delete_retained(retained: list[tuple[str, str]], client: Callable[[str], Any]) -> None:
    """Delete (type, physical id) resources; one already gone is fine."""
    from shop.adapters.aws import error_code

    for kind, name in retained:
        try:
            if kind == "AWS::DynamoDB::Table":
                client("dynamodb").delete_table(TableName=name)
            elif kind == "AWS::Logs::LogGroup":
                client("logs").delete_log_group(logGroupName=name)
        except Exception as error:
            if error_code(error) != "ResourceNotFoundException":
                raise


# -- local mode ----------------------------------------------------------------------------------------


class LocalTarget:
    """Local mode's own stack, started in this process: moto, the template, the handlers."""

    def __init__(self, config: Any, scratch: Path | None = None) -> None:
        self.config = config  # a shop.local.runtime.LocalConfig
        self.scratch = scratch  # a folder of ours to remove with the stack (its synthesized template)
        self.shop: Any = None
        self.endpoint = ""
        self.region = ""

    @property
    def stack_name(self) -> str:
        return self.config.template_path.name.removesuffix(".template.json")

    def deploy(self) -> dict[str, str]:
        from shop.adapters.stack import outputs_from_local
        from shop.local.runtime import LocalShop

        self.shop = LocalShop(self.config).start()
        # As the `shop` CLI finds it: the outputs and the AWS endpoint the local shop describes.
        outputs, self.endpoint, _ = outputs_from_local(self.shop.base_url)
        self.region = outputs[stack_outputs.STATE_MACHINE_ARN].split(":")[3]
        return outputs

    def destroy(self) -> None:
        if self.shop is not None:
            self.shop.stop()
            self.shop = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def client(self, service: str) -> Any:
        import boto3

        # A key local mode did not issue is the developer's, who deployed the stack; never the
        # caller's real AWS credentials, which have no business with a local endpoint.
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="smoke-test", aws_secret_access_key="smoke-test")

    def leave(self, out: TextIO) -> None:
        import threading

        print(f"kept the local shop running at {self.shop.base_url} (--keep); Ctrl-C stops it", file=out, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
        self.destroy()


# -- the run -------------------------------------------------------------------------------------------


class Interrupted(BaseException):
    """SIGTERM, turned into an exception so the clean-up below still runs."""


def run(target: Target, durations: Durations, *, keep: bool = False, out: TextIO = sys.stdout,
        paths: RecordedPaths = RecordedPaths()) -> bool:
    """Deploy, run every scenario, clean up (unless `keep`); True only if everything passed."""
    report = Report(out)
    capture: NotificationCapture | None = None
    passed = False
    try:
        expected_paths = paths.expected()
        report("deploy", f"deploying stack {target.stack_name} (approval timeout {durations.approval_timeout}s, "
                         f"feedback delay {durations.feedback_delay}s)")
        outputs = target.deploy()
        report("deploy", f"deployed: API {outputs['ApiUrl']}")
        shop = Shop(outputs, target.client, timeout=durations.step_timeout)
        product_id = shop.load_catalog()
        report("deploy", "loaded the demo catalog")
        capture = NotificationCapture.create(sqs=target.client("sqs"), sns=target.client("sns"),
                                             topic_arn=outputs[stack_outputs.OWNER_TOPIC_ARN],
                                             name=f"smoke-{target.stack_name}-{secrets.token_hex(4)}")
        report("deploy", "subscribed a temporary SQS queue to the owner's topic")
        # Before any order: the first owner's notification must not be dropped by SNS while the
        # queue's policy is not in force yet.
        probes = capture.await_delivery(timeout=durations.step_timeout)
        report("deploy", f"the queue receives what the owner's topic sends ({probes} probe(s) published)")
        context = Context(shop, capture, product_id, report, durations.approval_timeout, expected_paths)
        results = run_scenarios(context)
        passed = all(results.values())
        failed = [name for name, ok in results.items() if not ok]
        report("result", "every scenario passed" if passed else f"FAILED: {', '.join(failed)}")
        if paths.record:
            if passed:
                paths.write(context.paths)
            report("result", f"wrote each scenario's path to {paths.file}" if passed
                   else f"left {paths.file} as it was: a scenario failed")
    except (KeyboardInterrupt, Interrupted):
        report("result", "interrupted")
        raise
    except Exception as error:  # a deploy or set-up step: the scenarios never ran
        report("result", f"FAILED: {type(error).__name__}: {error}")
    finally:
        if keep:
            if capture is not None:
                report("keep", f"kept the queue {capture.queue_url} and its subscription {capture.subscription_arn}")
            target.leave(out)
        else:
            passed = _clean_up(target, capture, report) and passed
    return passed


def _clean_up(target: Target, capture: NotificationCapture | None, report: Report) -> bool:
    """Delete the queue and destroy the stack, each attempted whatever happened to the other.
    A second Ctrl-C during it is refused: it would leave the stack behind."""
    previous = {sig: signal.signal(sig, lambda *_: report("cleanup", "still cleaning up; please wait"))
                for sig in (signal.SIGINT, signal.SIGTERM)} if _main_thread() else {}
    clean = True
    try:
        for what, step in (("queue", capture.delete if capture else None), ("stack", target.destroy)):
            if step is None:
                continue
            try:
                step()
                report("cleanup", f"deleted the {what}" if what == "queue" else f"destroyed stack {target.stack_name}")
            except Exception as error:
                clean = False
                report("cleanup", f"FAILED to delete the {what}: {type(error).__name__}: {error}")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return clean


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_interrupted(*_: object) -> None:
    raise Interrupted()


def _local_target(args: argparse.Namespace, durations: Durations) -> LocalTarget:
    """Local mode's stack, synthesized with the smoke's context like the AWS one."""
    import logging

    from shop.infra.stack import build_app
    from shop.local.runtime import LocalConfig

    # The steps are the output, as on AWS, where the functions' logs and the fronts' access logs
    # (whose request lines carry the links' tokens) stay in CloudWatch. Warnings still show.
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    outdir = Path(tempfile.mkdtemp(prefix="smoke-cdk.out-"))
    app, stack = build_app(str(outdir), context={
        **args.context, STACK_NAME_CONTEXT_KEY: args.stack_name,
        context_key("approval_timeout_seconds"): durations.approval_timeout,
        context_key("feedback_delay_seconds"): durations.feedback_delay,
    })
    app.synth()
    return LocalTarget(LocalConfig(
        port=0, aws_port=0, template_path=outdir / f"{stack.stack_name}.template.json",
        approval_timeout_seconds=durations.approval_timeout, feedback_delay_seconds=durations.feedback_delay,
        environment={"POWERTOOLS_LOG_LEVEL": "WARNING"},
    ), scratch=outdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shop.deploy.smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--local", action="store_true", help="against local mode instead of AWS (no account needed)")
    parser.add_argument("--keep", action="store_true", help="leave the stack and the queue for inspection")
    parser.add_argument("--record-paths", action="store_true",
                        help=f"with --local: write each scenario's path through the state machine to {LOCAL_PATHS.name}, "
                             "which the other runs compare theirs with (make smoke-local)")
    parser.add_argument("--stack-name", default=SMOKE_STACK_NAME, help=f"default {SMOKE_STACK_NAME}")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                        help="more CDK context, e.g. -c senderEmail=you@example.com")
    args = parser.parse_args(argv)
    try:
        args.stack_name = stack_name_from_context(args.stack_name)
        args.context = parse_context_overrides(args.context)
    except ValueError as error:
        parser.error(str(error))
    if args.stack_name == STACK_NAME:
        # The smoke destroys what it deployed, retained tables included: never the real shop.
        parser.error(f"{STACK_NAME} is the shop's own stack; the smoke test needs a throwaway one")
    if args.record_paths and not args.local:
        parser.error("--record-paths records local mode's paths: use it with --local")
    if args.local:
        durations = Durations(LOCAL_APPROVAL_TIMEOUT_SECONDS, LOCAL_FEEDBACK_DELAY_SECONDS, LOCAL_STEP_TIMEOUT_SECONDS)
        target: Target = _local_target(args, durations)
    else:
        durations = Durations(AWS_APPROVAL_TIMEOUT_SECONDS, AWS_FEEDBACK_DELAY_SECONDS, AWS_STEP_TIMEOUT_SECONDS)
        target = AwsTarget(args.stack_name, durations, args.context)
    # Ctrl-C is KeyboardInterrupt already; SIGTERM (a CI job cancelled) must clean up as well.
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        return 0 if run(target, durations, keep=args.keep, paths=RecordedPaths(record=args.record_paths)) else 1
    except (KeyboardInterrupt, Interrupted):
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    from shop.infra.node_runtime import use_project_node

    use_project_node()  # `npx cdk` and synthesis on the project's supported Node, as make gives them
    sys.exit(main())
