"""`make run`'s program as a user starts it: a separate process, its banner, Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import requests

from tests.support import order_body, poll


@dataclass
class ShopProcess:
    """`python -m shop.local` as `make run` starts it: its output so far, its URL, how it exited."""

    lines: list[str] = field(default_factory=list)
    url: str = ""
    exit_code: int | None = None

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextlib.contextmanager
def shop_process(env: dict[str, str], *, stop_within: float) -> Iterator[ShopProcess]:
    """Start the shop, wait for its banner, and on leaving press Ctrl-C (SIGINT) and wait for it."""
    process = subprocess.Popen([sys.executable, "-m", "shop.local"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    run = ShopProcess()
    reader = threading.Thread(target=lambda: run.lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        banner = poll(lambda: next((line for line in run.lines if "Shop:" in line), None), timeout=60,
                      what="the banner")
        run.url = re.search(r"http://127\.0\.0\.1:\d+", banner).group(0)
        yield run
    finally:
        process.send_signal(signal.SIGINT)
        try:
            run.exit_code = process.wait(timeout=stop_within)
        finally:
            if process.poll() is None:
                process.kill()
        reader.join(timeout=5)


def test_the_local_shop_starts_serves_and_stops_on_ctrl_c(synthesized):
    env = {**os.environ, "PORT": "0", "AWS_PORT": "0", "SHOP_TEMPLATE": str(synthesized.template_path),
           "APPROVAL_TIMEOUT": "30", "FEEDBACK_DELAY": "1", "PYTHONUNBUFFERED": "1"}
    with shop_process(env, stop_within=30) as run:
        url, output = run.url, run.output
        assert f"{url}/outbox" in output and "curl -s -X POST" in output and "--endpoint-url http://127.0.0.1:" in output
        assert "approval timeout 30s, feedback delay 1s, 8 products" in output

        response = requests.post(f"{url}/orders", json=order_body(), timeout=10)
        assert response.status_code == 201
        poll(lambda: len(requests.get(f"{url}/outbox.json", timeout=10).json()) == 2, what="two messages")

        # The printed AWS endpoint serves the same stack (what `aws --endpoint-url ...` talks to).
        endpoint = re.search(r"--endpoint-url (http://127\.0\.0\.1:\d+)", output).group(1)
        table = re.search(r"--table-name (\S+)", output).group(1)
        dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                                aws_access_key_id="local", aws_secret_access_key="local")
        items = dynamodb.scan(TableName=table)["Items"]
        assert [item["orderId"]["S"] for item in items] == [response.json()["orderId"]]

        # The printed CLI line, as a person would paste it: it finds this shop on its port.
        shop_url = re.search(r"CLI: +SHOP_URL=(\S+) \.venv/bin/shop approvals list", output).group(1)
        assert shop_url == url
        listed = poll(lambda: json.loads(subprocess.run(
            [str(Path(sys.executable).with_name("shop")), "approvals", "list", "--json"],
            env={**os.environ, "SHOP_URL": shop_url}, capture_output=True, text=True, timeout=60, check=True,
        ).stdout), what="the order awaiting approval")
        assert [order["orderId"] for order in listed] == [response.json()["orderId"]]
    assert run.exit_code == 0, run.output
    assert "stopping..." in run.output
    assert "Traceback" not in run.output


def _without_aws_configuration() -> dict[str, str]:
    """A newcomer's environment: no AWS variables at all."""
    return {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}


def test_ctrl_c_with_orders_waiting_says_what_was_discarded_and_prints_nothing_but_the_shops_own_lines(synthesized):
    """Start-up printed botocore's "Found credentials in environment variables.", and Ctrl-C with
    orders waiting dumped moto's internals (its Wait states' parse trees, each task's ShopStopped).
    Now: the banner (which says state lives in memory), the shop's own JSON log lines, `stopping...`,
    and how many orders in flight were discarded. Ctrl-C exits 0: it is the documented way to stop."""
    env = {**_without_aws_configuration(), "PORT": "0", "AWS_PORT": "0", "PYTHONUNBUFFERED": "1",
           "SHOP_TEMPLATE": str(synthesized.template_path), "APPROVAL_TIMEOUT": "600", "FEEDBACK_DELAY": "600"}
    with shop_process(env, stop_within=60) as run:
        url = run.url
        order_ids = [requests.post(f"{url}/orders", json=order_body(), timeout=10).json()["orderId"] for _ in range(2)]
        for order_id in order_ids:
            poll(lambda: requests.get(f"{url}/orders/{order_id}", timeout=10).json().get("status")  # noqa: B023
                 == "AWAITING_APPROVAL", what=f"{order_id} awaiting approval")
    output = run.output

    assert run.exit_code == 0, output
    assert "do not survive a restart" in output  # the banner says the state is in memory only
    for noise in ("Found credentials", "Wait function", "FailureEventException", "ShopStopped", "Traceback",
                  "state machine event", " HTTP/1.1"):
        assert noise not in output, output
    # Past the banner (its last line is the in-memory warning), every line is the shop's own.
    after_banner = output.split("do not survive a restart", 1)[1].splitlines()[1:]
    said = [line for line in after_banner if line.strip()]
    assert said[-1] == "2 orders in flight were discarded" and said.count("stopping...") == 1, output
    for line in said[:-1]:
        if line != "stopping...":  # a function may still log as the shop starts stopping
            assert "service" in json.loads(line), line  # a function's structured log line
