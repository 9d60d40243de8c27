"""Starts and stops the local shop: moto, the deployed template, the handlers, the HTTP front.

Everything runs in this one process. moto's in-process mock serves the handlers' and the state
machine's AWS calls; a moto server on a second port exposes the same backends to the AWS CLI.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shop.settings import (
    LOCAL_DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    LOCAL_DEFAULT_FEEDBACK_DELAY_SECONDS,
    LOCAL_DEFAULT_PORT,
    STACK_NAME,
    Env,
    runtime_settings,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "cdk.out" / f"{STACK_NAME}.template.json"
DEFAULT_CATALOG = ROOT / "data" / "demo-catalog.json"
HOST = "127.0.0.1"  # never another interface: the shop has no authentication locally

logger = logging.getLogger(__name__)


class _ShortStateErrors(logging.Filter):
    """moto logs every failure event inside a state machine (a rejection included) with a
    multi-kilobyte dump of the state's parse tree; keep the error and its details only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 2:
            record.msg, record.args = "state machine event: %s", (record.args[0],)
        return True


_MOTO_STATE_LOGGER = "moto.stepfunctions.parser.asl.component.eval_component"


@dataclass
class LocalConfig:
    port: int = LOCAL_DEFAULT_PORT  # 0: any free port
    aws_port: int | None = None  # moto server for the AWS CLI; default port + 1, 0: any free
    approval_timeout_seconds: int = LOCAL_DEFAULT_APPROVAL_TIMEOUT_SECONDS
    feedback_delay_seconds: int = LOCAL_DEFAULT_FEEDBACK_DELAY_SECONDS
    template_path: Path = DEFAULT_TEMPLATE
    catalog_path: Path | None = DEFAULT_CATALOG
    environment: dict[str, str] = field(default_factory=dict)  # extra overrides, for tests
    faults: dict[str, int] = field(default_factory=dict)  # e.g. {"ses.send_email": 3}

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> LocalConfig:
        """`PORT`, `AWS_PORT`, `APPROVAL_TIMEOUT`, `FEEDBACK_DELAY` (seconds), `CATALOG` (a catalog
        file to load instead of the demo one) and `SHOP_TEMPLATE` (another synthesized template,
        e.g. the one the test session built)."""
        environ = os.environ if environ is None else environ

        def number(name: str, default: int | None) -> int | None:
            value = environ.get(name, "").strip()
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
            template_path=Path(environ.get("SHOP_TEMPLATE") or DEFAULT_TEMPLATE),
            catalog_path=Path(environ.get("CATALOG") or DEFAULT_CATALOG),
        )
        from shop.local.lambda_hook import Faults

        try:
            config.faults = Faults.parse(environ.get("FAULTS", ""))
        except ValueError as error:
            raise SystemExit(f"FAULTS: {error}") from None
        if config.approval_timeout_seconds < 1:
            raise SystemExit("APPROVAL_TIMEOUT must be at least 1 second")
        return config


class LocalShop:
    # moto's backends and the handlers' environment are process-wide: one shop at a time.
    _running_lock = threading.Lock()

    def __init__(self, config: LocalConfig) -> None:
        from shop.local.outbox import Outbox

        self.config = config
        self.outbox = Outbox()
        self.stack = None
        self._stops: list[Any] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LocalShop:
        if not self.config.template_path.exists():
            raise SystemExit(f"{self.config.template_path} is missing: run `make synth` first")
        if not LocalShop._running_lock.acquire(blocking=False):
            raise RuntimeError("a local shop is already running in this process; stop it first")
        self._stops.append(LocalShop._running_lock.release)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        import boto3
        from moto import mock_aws
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server

        from shop.adapters.aws import client
        from shop.adapters.secrets import signing_key
        from shop.adapters.stack import ShopResources
        from shop.local import lambda_hook
        from shop.local.deployer import deploy
        from shop.local.http_adapter import HttpAdapter
        from shop.local.template import REGION, Template

        state_logger = logging.getLogger(_MOTO_STATE_LOGGER)
        if not any(isinstance(f, _ShortStateErrors) for f in state_logger.filters):
            state_logger.addFilter(_ShortStateErrors())

        # Credentials and region for every client in this process; moto accepts any.
        os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
        os.environ.pop("AWS_ENDPOINT_URL", None)  # moto intercepts in-process
        mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        mock.start()
        self._stops.append(mock.stop)
        self._stops.append(lambda_hook.install(self.outbox))
        self.faults = lambda_hook.Faults()
        self._stops.append(self.faults.uninstall)
        # Clients and the signing key are cached per "container": this process is a new one.
        client.cache_clear()
        signing_key.cache_clear()

        adapter = HttpAdapter(self.outbox)
        self.http = make_server(HOST, self.config.port, adapter, threaded=True)
        self._stops.append(self.http.server_close)
        self.base_url = f"http://{HOST}:{self.http.server_port}"

        aws_port = self.config.aws_port if self.config.aws_port is not None else self.http.server_port + 1
        self.aws = ThreadedMotoServer(ip_address=HOST, port=aws_port, verbose=False)
        self.aws.start()
        self._stops.append(self.aws.stop)
        self.aws_endpoint = "http://{}:{}".format(*self.aws.get_host_and_port())

        self.stack = deploy(
            Template.load(self.config.template_path),
            clients=lambda service: boto3.client(service, region_name=REGION),
            base_url=self.base_url,
            environment_overrides={
                Env.APPROVAL_TIMEOUT: str(self.config.approval_timeout_seconds),
                Env.FEEDBACK_DELAY: str(self.config.feedback_delay_seconds),
                **self.config.environment,
            },
        )
        os.environ.update(self.stack.environment)
        runtime_settings.cache_clear()
        self._stops.append(self._stop_running_executions)

        # What the README asks AWS users to do by hand: SES only sends from verified senders.
        boto3.client("ses", region_name=REGION).verify_email_identity(
            EmailAddress=self.stack.environment[Env.SENDER_EMAIL]
        )
        self.catalog_size = self._seed_catalog()

        for name, count in self.config.faults.items():
            self.faults.arm(name, count)
        adapter.stack, adapter.aws_endpoint, adapter.curl = self.stack, self.aws_endpoint, self.sample_curl()
        # The console calls AWS like the CLI does, through this process's (intercepted) clients.
        adapter.serve_console(ShopResources(self.stack.outputs, clients=client))
        thread = threading.Thread(target=self.http.serve_forever, name="local-http", daemon=True)
        thread.start()
        self._stops.append(self.http.shutdown)

    def _seed_catalog(self) -> int:
        if self.config.catalog_path is None:
            return 0
        from shop.adapters.tables import ProductsTable
        from shop.domain.catalog import parse_catalog

        products = parse_catalog(self.config.catalog_path.read_text())
        self._first_product = products[0] if products else None
        return ProductsTable(self.stack.environment[Env.PRODUCTS_TABLE]).put_all(products)

    def _stop_running_executions(self) -> None:
        """moto runs each execution in a thread that would outlive the emulator: end them."""
        import boto3

        from shop.local.lambda_hook import release_waiting_tasks

        sfn = boto3.client("stepfunctions")
        for machine in sfn.list_state_machines()["stateMachines"]:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING"
            )
            for page in pages:
                for execution in page["executions"]:
                    sfn.stop_execution(executionArn=execution["executionArn"], cause="local shop stopped")
        release_waiting_tasks()

    def stop(self) -> None:
        """Stop in reverse order of start; safe to call twice."""
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # keep stopping the rest
                logger.exception("while stopping the local shop")

    def __enter__(self) -> LocalShop:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- for people ------------------------------------------------------------------------
    def sample_curl(self) -> str:
        product = getattr(self, "_first_product", None)
        product_id = product.product_id if product else "PRODUCT_ID"
        body = {
            "customerEmail": "ada@example.com",
            "customerName": "Ada Lovelace",
            "shippingAddress": {
                "country": "United Kingdom", "city": "London", "county": "Greater London",
                "streetAddress": "12 St James Square",
            },
            "items": [{"productId": product_id, "quantity": 2}],
        }
        return (f"curl -s -X POST {self.base_url}/orders -H 'Content-Type: application/json' "
                f"-d '{json.dumps(body)}'")

    def cli_prefix(self) -> str:
        """The `shop` command finds this shop on the default port by itself; elsewhere it is told."""
        return "" if self.http.server_port == LOCAL_DEFAULT_PORT else f"SHOP_URL={self.base_url} "

    def banner(self) -> str:
        return "\n".join([
            "",
            f"  Order shop running locally (approval timeout {self.config.approval_timeout_seconds}s, "
            f"feedback delay {self.config.feedback_delay_seconds}s, {self.catalog_size} products)",
            "",
            f"  Shop:    {self.base_url}/",
            f"  Console: {self.base_url}/console/   (the owner's: orders, approvals, workflows)",
            f"  CLI:     {self.cli_prefix()}.venv/bin/shop approvals list   (shop --help for the rest)",
            f"  Outbox:  {self.base_url}/outbox   (scripts: {self.base_url}/outbox.json)",
            f"  AWS CLI: aws --endpoint-url {self.aws_endpoint} --region us-east-1 dynamodb scan "
            f"--table-name {self.stack.environment[Env.ORDERS_TABLE]}",
            "",
            "  Place an order:",
            f"  {self.sample_curl()}",
            "",
            *([f"  Injected faults: {self.config.faults}", ""] if self.config.faults else []),
            "  Ctrl-C stops everything.",
            "",
        ])
