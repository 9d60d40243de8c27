"""The local shop as a separate process, started and stopped by the bench.

`python -m shop.local` runs in its own process so that the load generator's threads and memory
stay out of what items 1-3 measure: its RSS, peak RSS and thread count are read from
/proc/<pid>/status. Its stdout and stderr (the handlers' Powertools JSON log lines included) go
to a log file under bench/results/logs/, never to a pipe the bench would have to drain.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import RESULTS, ROOT, SHOP_ENV
from shop.adapters.workflow import execution_arn
from shop.local.template import REGION

LOGS = RESULTS / "logs"
# moto accepts any credentials; set explicitly so nothing from the machine is ever used.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION}


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in kB, and Threads, from /proc/<pid>/status."""
    wanted = {"VmRSS", "VmHWM", "Threads"}
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in wanted:
                values[name] = int(rest.split()[0])
    return values


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, all its threads (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class ShopProcess:
    """`python -m shop.local` on 127.0.0.1 with free ports, as a context manager."""

    name: str
    approval_timeout: int = 3600
    feedback_delay: int = 30
    template: Path = ROOT / "cdk.out" / "OrderShop.template.json"
    extra_env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 90.0

    def environment(self) -> dict[str, str]:
        """The shop process's environment: the bench's settings over this one's, no AWS ones."""
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            **FAKE_CREDENTIALS,
            "PORT": "0",
            "AWS_PORT": "0",
            "APPROVAL_TIMEOUT": str(self.approval_timeout),
            "FEEDBACK_DELAY": str(self.feedback_delay),
            "SHOP_TEMPLATE": str(self.template),
            "PYTHONUNBUFFERED": "1",
            **SHOP_ENV,
            **self.extra_env,
        }

    def start(self) -> ShopProcess:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{self.name}.log"
        env = self.environment()
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shop.local"], cwd=ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid
        deadline = time.monotonic() + self.startup_timeout
        while True:
            text = self.log_path.read_text(errors="replace")
            shop = re.search(r"Shop:\s+(http://127\.0\.0\.1:\d+)/", text)
            aws = re.search(r"--endpoint-url (http://127\.0\.0\.1:\d+) ", text)
            table = re.search(r"--table-name (\S+)", text)
            if shop and aws and table:
                self.url, self.aws_endpoint, self.orders_table = shop.group(1), aws.group(1), table.group(1)
                break
            if self.process.poll() is not None:
                raise RuntimeError(f"the shop exited with {self.process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the shop did not start within {self.startup_timeout}s; see {self.log_path}")
            time.sleep(0.2)
        self.state_machine_arn = self.client("stepfunctions").list_state_machines()["stateMachines"][0][
            "stateMachineArn"]
        return self

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client on the shop's moto server (the endpoint its banner prints)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            service, endpoint_url=self.aws_endpoint, region_name=REGION,
            aws_access_key_id="bench", aws_secret_access_key="bench",
            config=Config(retries={"mode": "standard", "max_attempts": 3}, **config),
        )

    def status(self) -> dict[str, int]:
        return proc_status(self.pid)

    def log_errors(self) -> int:
        """Handler errors (Powertools ERROR lines) and tracebacks in the shop's log so far."""
        text = self.log_path.read_text(errors="replace")
        return text.count('"level":"ERROR"') + text.count("Traceback (most recent call last)")

    def execution_arn(self, name: str) -> str:
        return execution_arn(self.state_machine_arn, name)

    def stop(self, timeout: float = 120.0) -> None:
        """SIGINT (what Ctrl-C sends: the shop stops its executions and servers), then SIGKILL."""
        if getattr(self, "process", None) is None or self.process.poll() is not None:
            self._close_log()
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._close_log()

    def _close_log(self) -> None:
        log = getattr(self, "_log", None)
        if log is not None and not log.closed:
            log.close()

    def __enter__(self) -> ShopProcess:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class Sampler:
    """Samples a process's Threads and VmRSS every `interval` seconds in a background thread;
    `peak_threads` and `peak_rss_kb` are the maxima seen (VmHWM is the kernel's own peak)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_threads = 0
        self.peak_rss_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = proc_status(self.pid)
            except OSError:
                return
            self.peak_threads = max(self.peak_threads, status.get("Threads", 0))
            self.peak_rss_kb = max(self.peak_rss_kb, status.get("VmRSS", 0))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
