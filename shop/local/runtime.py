"""Starts and stops the local shop: moto, the deployed template, the handlers, the HTTP front.

Everything runs in this one process. moto's in-process mock serves the handlers' and the state
machine's AWS calls; a moto server on a second port exposes the same backends to the AWS CLI.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from shop.domain.workflow_contract import ExecutionStatus
from shop.local.patches.stepfunctions_open_executions import DEFAULT_MAX_OPEN_EXECUTIONS
from shop.local.template import ACCOUNT_ID, REGION
from shop.samples import SAMPLE_CUSTOMER_EMAIL, place_order_curl, sample_order_body
from shop.settings import (
    LOCAL_DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    LOCAL_DEFAULT_FEEDBACK_DELAY_SECONDS,
    LOCAL_DEFAULT_PORT,
    STACK_NAME,
    Env,
)

if TYPE_CHECKING:
    from shop.local.patches.faults import Fault

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "cdk.out" / f"{STACK_NAME}.template.json"
DEFAULT_CATALOG = ROOT / "data" / "demo-catalog.json"
HOST = "127.0.0.1"  # never another interface: the shop has no authentication locally
# The shop's owner in local mode, whose calls (console, CLI) are checked against the owner's policy.
OWNER = f"arn:aws:iam::{ACCOUNT_ID}:user/shop-owner"
# werkzeug's servers keep an idle or stalled connection, and its thread, for good: 400 idle
# connections held 400 threads (issue 18, item 9). Browsers and SDKs reconnect when a keep-alive
# connection has been closed.
IDLE_CONNECTION_TIMEOUT_SECONDS = 10.0
# The credentials the printed AWS CLI commands carry, so that they run as printed on a machine with
# no AWS configuration. Local mode did not issue them, so they are the developer's, the account's
# administrator (shop/local/iam/principals.py): what `cdk deploy` and your own scripts would be.
DEVELOPER_CREDENTIALS = "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local"


class StackRefused(RuntimeError):
    """The template deploys, but AWS would refuse what it sets up (an alarm that cannot notify)."""

logger = logging.getLogger(__name__)


class _ShortStateErrors(logging.Filter):
    """moto logs every failure event inside a state machine (a rejection included) with a
    multi-kilobyte dump of the state's parse tree; keep the error and its details only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 2:
            record.msg, record.args = "state machine event: %s", (record.args[0],)
        return True


_MOTO_STATE_LOGGER = "moto.stepfunctions.parser.asl.component.eval_component"


_Default = TypeVar("_Default", int, None)

def _switch(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"on", "1", "true", "yes"}:
        return True
    if value in {"off", "0", "false", "no"}:
        return False
    raise SystemExit(f"{name} must be on or off, got {value!r}")


@dataclass
class LocalConfig:
    port: int = LOCAL_DEFAULT_PORT  # 0: any free port
    aws_port: int | None = None  # moto server for the AWS CLI; default port + 1, 0: any free
    approval_timeout_seconds: int = LOCAL_DEFAULT_APPROVAL_TIMEOUT_SECONDS
    feedback_delay_seconds: int = LOCAL_DEFAULT_FEEDBACK_DELAY_SECONDS
    template_path: Path = DEFAULT_TEMPLATE
    catalog_path: Path | None = DEFAULT_CATALOG
    environment: dict[str, str] = field(default_factory=dict)  # extra overrides, for tests
    # e.g. {"ses.send_email": Fault.parse("lost:1")}; a whole number throttles that many calls
    faults: dict[str, Fault | int] = field(default_factory=dict)
    # SES's sandbox, as a new AWS account has it: mail only to verified addresses (see README).
    ses_sandbox: bool = True
    ses_verified: tuple[str, ...] = ()  # customer addresses (or domains) verified besides the sample's
    # Seconds a connection of either port may stay silent (idle between requests, or a request or
    # answer stalled) before it is closed: each one holds a thread until then.
    idle_timeout_seconds: float = IDLE_CONNECTION_TIMEOUT_SECONDS
    # Executions running at once, beyond which an order is refused as at Step Functions' quota
    # (shop/local/patches/stepfunctions_open_executions.py).
    max_open_executions: int = DEFAULT_MAX_OPEN_EXECUTIONS
    # Each invocation ends at its function's Timeout, as on AWS. Measured in wall time, which a
    # burst inflates far beyond what a function's own container would see (every function, the
    # engine and the emulator share this process): `LAMBDA_TIMEOUTS=off` for load tests (the bench).
    lambda_timeouts: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LocalConfig:
        """`PORT`, `AWS_PORT`, `APPROVAL_TIMEOUT`, `FEEDBACK_DELAY` (seconds), `CATALOG` (a catalog
        file to load instead of the demo one), `SHOP_TEMPLATE` (another synthesized template,
        e.g. the one the test session built), `SES_SANDBOX` (`off` for production access),
        `SES_VERIFIED` (addresses or domains to verify, comma-separated), `MAX_OPEN_EXECUTIONS`
        (orders open at once, beyond which new ones are refused) and `LAMBDA_TIMEOUTS` (`off`: no
        invocation ends at its function's Timeout)."""
        env: Mapping[str, str] = os.environ if environ is None else environ

        def number(name: str, default: _Default) -> int | _Default:
            value = env.get(name, "").strip()
            if not value:
                return default
            if not value.isdigit():
                raise SystemExit(f"{name} must be a whole number, got {value!r}")
            return int(value)

        config = cls(
            port=number("PORT", LOCAL_DEFAULT_PORT),
            aws_port=number("AWS_PORT", None),
            approval_timeout_seconds=number("APPROVAL_TIMEOUT", LOCAL_DEFAULT_APPROVAL_TIMEOUT_SECONDS),
            feedback_delay_seconds=number("FEEDBACK_DELAY", LOCAL_DEFAULT_FEEDBACK_DELAY_SECONDS),
            template_path=Path(env.get("SHOP_TEMPLATE") or DEFAULT_TEMPLATE),
            catalog_path=Path(env.get("CATALOG") or DEFAULT_CATALOG),
            ses_sandbox=_switch(env, "SES_SANDBOX", default=True),
            ses_verified=tuple(filter(None, (a.strip() for a in env.get("SES_VERIFIED", "").split(",")))),
            max_open_executions=number("MAX_OPEN_EXECUTIONS", DEFAULT_MAX_OPEN_EXECUTIONS),
            lambda_timeouts=_switch(env, "LAMBDA_TIMEOUTS", default=True),
        )
        from shop.local.patches.faults import Faults

        try:
            config.faults = dict(Faults.parse(env.get("FAULTS", "")))
        except ValueError as error:
            raise SystemExit(f"FAULTS: {error}") from None
        if config.max_open_executions < 1:
            raise SystemExit("MAX_OPEN_EXECUTIONS must be at least 1")
        if config.approval_timeout_seconds < 1:
            raise SystemExit("APPROVAL_TIMEOUT must be at least 1 second")
        return config


class LocalShop:
    # moto's backends are process-wide: one shop at a time.
    _running_lock = threading.Lock()

    def __init__(self, config: LocalConfig) -> None:
        from shop.local.functions import Functions
        from shop.local.iam.principals import Principals
        from shop.local.outbox import Outbox
        from shop.local.patches.faults import Faults
        from shop.local.patches.ses_sandbox import SesSandbox

        self.config = config
        self.outbox = Outbox()
        self.functions = Functions(timeouts=config.lambda_timeouts)
        self.principals = Principals()
        self.faults = Faults()
        self.ses = SesSandbox(enabled=config.ses_sandbox)
        self.owner_credentials = self.principals.issue(OWNER)
        self.stack: Any = None
        self.enforcer: Any = None
        self.adapter: Any = None  # the shop port's WSGI app (shop/local/http_adapter.py)
        self.http: Any = None
        self.aws: Any = None
        self.base_url = self.aws_endpoint = ""
        self.catalog_size = 0
        self.first_product: Any = None
        self.discarded = 0  # executions still running when the shop stopped: orders in flight, lost
        self._exit = contextlib.ExitStack()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LocalShop:
        if not self.config.template_path.exists():
            raise SystemExit(f"{self.config.template_path} is missing: run `make synth` first")
        if not LocalShop._running_lock.acquire(blocking=False):
            raise RuntimeError("a local shop is already running in this process; stop it first")
        self._exit.callback(LocalShop._running_lock.release)
        try:
            self._shorten_moto_logs()
            self._emulate_aws()
            self._open_ports()
            self._deploy()
            self._check_alarm_actions()
            self._verify_ses_identities()
            self._seed_catalog()
            self._arm_faults()
            self._serve()
        except BaseException:
            self.stop()
            raise
        return self

    def _shorten_moto_logs(self) -> None:
        state_logger = logging.getLogger(_MOTO_STATE_LOGGER)
        if not any(isinstance(f, _ShortStateErrors) for f in state_logger.filters):
            state_logger.addFilter(_ShortStateErrors())

    def _emulate_aws(self) -> None:
        """moto in this process, with every seam of local mode (shop/local/patches/) applied."""
        from moto import mock_aws

        from shop.local import environment
        from shop.local.iam.enforcer import Enforcer
        from shop.local.patches import applied, stepfunctions_tasks
        from shop.local.patches.every_seam import every_patch

        # Credentials and region of this process (the developer's); moto accepts any.
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        os.environ.pop("AWS_ENDPOINT_URL", None)  # moto intercepts in-process
        mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        mock.start()
        self._exit.callback(mock.stop)
        self.enforcer = Enforcer(self.principals, task_token_owner=stepfunctions_tasks.task_token_owner,
                                 ses_identity=self.ses.identity_arn, ses_sandbox=self.ses.enabled)
        self._exit.enter_context(applied(every_patch(
            invoke=self.functions.invoke, outbox=self.outbox, ses=self.ses, faults=self.faults,
            enforcer=self.enforcer, max_open_executions=self.config.max_open_executions,
            credentials_for=lambda role: self.principals.issue(role).as_client_arguments(),
        )))
        self._exit.enter_context(environment.per_function())
        self.functions.cold_start()  # this process is a new container for every function

    def _open_ports(self) -> None:
        """The shop's port and the AWS endpoint's, each behind the guard (shop/local/guard.py): both
        answer only requests addressed to this machine, and refuse pages of other sites."""
        from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        from shop.local.access_log import QuerylessRequestHandler
        from shop.local.guard import Guard
        from shop.local.http_adapter import HttpAdapter

        self.adapter = HttpAdapter(self.outbox)
        # The order API and the Function URLs are public on AWS; the rest of this port is local mode's.
        shop_guard = Guard(self.adapter, local_only=self.adapter.local_only)
        self.http = make_server(HOST, self.config.port, shop_guard, threaded=True,
                                request_handler=self._timing_out(QuerylessRequestHandler))
        shop_guard.port = self.http.server_port
        self._exit.callback(self.http.server_close)
        self.base_url = f"http://{HOST}:{self.http.server_port}"
        aws_port = self.config.aws_port if self.config.aws_port is not None else self.http.server_port + 1
        # What moto's ThreadedMotoServer builds, with the guard in front of moto's WSGI app.
        aws_guard = Guard(DomainDispatcherApplication(create_backend_app), aws_apis_only=True)
        self.aws = make_server(HOST, aws_port, aws_guard, threaded=True,
                               request_handler=self._timing_out(MotoRequestHandler))
        aws_guard.port = self.aws.server_port
        self._exit.callback(self.aws.server_close)
        thread = threading.Thread(target=self.aws.serve_forever, name="local-aws", daemon=True)
        thread.start()
        self._exit.callback(thread.join)
        self._exit.callback(self.aws.shutdown)
        self.aws_endpoint = f"http://{HOST}:{self.aws.server_port}"

    def _timing_out(self, handler: type[Any]) -> type[Any]:
        """`handler` with the socket timeout socketserver applies to each connection (None: none)."""
        return type(handler.__name__, (handler,), {"timeout": self.config.idle_timeout_seconds})

    def _deploy(self) -> None:
        import boto3

        from shop.local.deployer import deploy
        from shop.local.template import Template
        from shop.owner_policy import owner_policy

        self.stack = deploy(
            Template.load(self.config.template_path),
            clients=lambda service: boto3.client(service, region_name=REGION),
            base_url=self.base_url,
            principals=self.principals,
            environment_overrides={
                Env.APPROVAL_TIMEOUT: str(self.config.approval_timeout_seconds),
                Env.FEEDBACK_DELAY: str(self.config.feedback_delay_seconds),
                **self.config.environment,
            },
        )
        for function in self.stack.functions:
            self.functions.add(function)
        self.enforcer.load(self.stack.policies)
        self.enforcer.attach(OWNER, owner_policy(self.stack.outputs, self.stack_name))
        self._warm_enforcement()
        self._exit.callback(self._stop_running_executions)

    def _warm_enforcement(self) -> None:
        """What the first calls of the stack's principals would otherwise load, all at once, in
        every thread of a burst that needs it (issue 18, item 10): the request models of their
        services and moto's backends of them (the enforcer has resolved the rest as it loaded)."""
        from shop.local.patches import iam_enforcement, moto_backends

        iam_enforcement.warm(self.enforcer.services)
        moto_backends.warm(self.enforcer.services, account_id=ACCOUNT_ID, region=REGION)

    @property
    def stack_name(self) -> str:
        return self.config.template_path.name.removesuffix(".template.json")

    def _check_alarm_actions(self) -> None:
        """Local mode runs no alarms; whether CloudWatch may call each action is checked now."""
        from shop.local.iam.enforcer import AccessDenied

        for action in self.stack.alarm_actions:
            try:
                self.enforcer.authorize("cloudwatch.amazonaws.com", "sns:Publish", action.action_arn,
                                        {"aws:SourceArn": action.alarm_arn, "aws:SourceAccount": ACCOUNT_ID})
            except AccessDenied as denied:
                raise StackRefused(f"the alarm {action.alarm_arn} could never notify: {denied}") from None

    def _verify_ses_identities(self) -> None:
        """What the README asks AWS users to do by hand: verify the sender, and in the sandbox each
        recipient (the sample customer's address, and any the developer adds)."""
        import boto3

        ses = boto3.client("ses", region_name=REGION)
        for address in (self.stack.environment[Env.SENDER_EMAIL], *self.verified_customers):
            ses.verify_email_identity(EmailAddress=address)

    @property
    def verified_customers(self) -> tuple[str, ...]:
        return (SAMPLE_CUSTOMER_EMAIL, *self.config.ses_verified)

    def _seed_catalog(self) -> None:
        if self.config.catalog_path is None:
            return
        from shop.adapters.tables import ProductsTable
        from shop.domain.catalog import parse_catalog

        products = parse_catalog(self.config.catalog_path.read_text())
        self.first_product = products[0] if products else None
        self.catalog_size = ProductsTable(self.stack.environment[Env.PRODUCTS_TABLE]).put_all(products)

    def _arm_faults(self) -> None:
        self.faults.arm_all(self.config.faults)

    def _serve(self) -> None:
        from shop.adapters.aws import client
        from shop.adapters.stack import ShopResources

        adapter = self.adapter
        adapter.stack, adapter.aws_endpoint, adapter.hints = self.stack, self.aws_endpoint, self.hints()
        adapter.functions, adapter.enforcer, adapter.faults = self.functions, self.enforcer, self.faults
        adapter.owner_credentials = self.owner_credentials.as_client_arguments()
        # The console calls AWS as the CLI does: as the owner, through this process's clients.
        adapter.serve_console(ShopResources(self.stack.outputs, clients=client), as_owner=self.as_owner)
        thread = threading.Thread(target=self.http.serve_forever, name="local-http", daemon=True)
        thread.start()
        self._exit.callback(self.http.shutdown)

    @contextlib.contextmanager
    def as_owner(self):
        """Run the block as the owner's tools: the owner's credentials and clients of its own."""
        from shop import container
        from shop.local import environment
        from shop.local.functions import SDK_SETTINGS_FROM_PROCESS

        # The SDK's retry settings are the developer's, as the `shop` command's are (AWS_MAX_ATTEMPTS).
        sdk = {key: os.environ[key] for key in SDK_SETTINGS_FROM_PROCESS if key in os.environ}
        variables = {"AWS_DEFAULT_REGION": REGION, **sdk, **self.owner_credentials.as_environment()}
        with container.running_as("owner"), environment.of_function(variables):
            yield

    def _stop_running_executions(self) -> None:
        """moto runs each execution in a thread that would outlive the emulator: end them."""
        import boto3

        from shop.local.patches.stepfunctions_tasks import release_waiting_tasks

        sfn = boto3.client("stepfunctions", region_name=REGION)
        for machine in sfn.list_state_machines()["stateMachines"]:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter=ExecutionStatus.RUNNING
            )
            for page in pages:
                for execution in page["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"], cause="local shop stopped")
                    self.discarded += 1
        release_waiting_tasks()

    def discarded_summary(self) -> str:
        """What stopping lost, for the person who pressed Ctrl-C: local state lives in memory only."""
        count = self.discarded
        if not count:
            return "no order was in flight"
        return f"{count} order{'s' if count != 1 else ''} in flight {'were' if count != 1 else 'was'} discarded"

    def stop(self) -> None:
        """Stop in reverse order of start; safe to call twice."""
        try:
            self._exit.close()
        except Exception:  # what stops after a failing step still stopped: ExitStack runs them all
            logger.exception("while stopping the local shop")

    def __enter__(self) -> LocalShop:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- for people ------------------------------------------------------------------------
    def sample_curl(self) -> str:
        product_id = self.first_product.product_id if self.first_product else "PRODUCT_ID"
        return place_order_curl(self.base_url, sample_order_body(product_id))

    def ses_summary(self) -> str:
        if not self.ses.enabled:
            return "production access (SES_SANDBOX=off): any customer address receives mail"
        return (f"sandbox, as a new AWS account: mail only to {', '.join(self.verified_customers)} "
                "(add yours with SES_VERIFIED=...)")

    def cli_prefix(self) -> str:
        """The `shop` command finds this shop on the default port by itself; elsewhere it is told."""
        return "" if self.http.server_port == LOCAL_DEFAULT_PORT else f"SHOP_URL={self.base_url} "

    def shop_command(self, arguments: str) -> str:
        """A `shop` command as the banner and the start page print it: run from the repository, it
        works as printed, on whatever port this shop listens."""
        return f"{self.cli_prefix()}.venv/bin/shop {arguments}"

    def aws_command(self, arguments: str) -> str:
        """An AWS CLI command against this shop's AWS endpoint that works as printed on a machine
        without AWS configuration: credentials (any; see DEVELOPER_CREDENTIALS) and the region."""
        return f"{DEVELOPER_CREDENTIALS} aws --endpoint-url {self.aws_endpoint} --region {REGION} {arguments}"

    def hints(self) -> dict[str, Any]:
        """The commands the start page prints (the banner prints some of the same). `ID` stands for
        an order id."""
        return {
            "curl": self.sample_curl(),
            "cli": [self.shop_command(arguments) for arguments in (
                "approvals list", "approvals approve ID", "order show ID", "order cancel ID")],
            "cli_help": ".venv/bin/shop --help",
            "aws": self.aws_command("stepfunctions list-executions --state-machine-arn "
                                    f"{self.stack.outputs['StateMachineArn']}"),
        }

    def faults_summary(self) -> str:
        return ",".join(f"{name}={fault}" for name, fault in self.faults.pending().items()) or "none left"

    def banner(self) -> str:
        return "\n".join([
            "",
            f"  Order shop running locally (approval timeout {self.config.approval_timeout_seconds}s, "
            f"feedback delay {self.config.feedback_delay_seconds}s, {self.catalog_size} products)",
            "",
            f"  Shop:    {self.base_url}/",
            f"  Console: {self.base_url}/console/   (the owner's: orders, approvals, workflows)",
            f"  CLI:     {self.shop_command('approvals list')}   (all commands: .venv/bin/shop --help)",
            f"  Outbox:  {self.base_url}/outbox   (scripts: {self.base_url}/outbox.json)",
            f"  AWS CLI: {self.aws_command(f'dynamodb scan --table-name {self.stack.environment[Env.ORDERS_TABLE]}')}",
            "           (any key local mode did not issue is yours, the account's administrator)",
            "",
            "  Place an order:",
            f"  {self.sample_curl()}",
            "",
            f"  SES:     {self.ses_summary()}",
            "",
            *([f"  Injected faults: {self.faults_summary()}   (more: POST {self.base_url}/_local/faults)", ""]
              if self.config.faults else []),
            "  Ctrl-C stops everything. Everything lives in this process's memory: orders, emails and",
            "  approvals do not survive a restart, and orders still in flight are discarded.",
            "",
        ])
