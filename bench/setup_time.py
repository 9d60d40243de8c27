"""Set-up time: a newcomer's first `make run` and first `make test`, the old set-up against the new.

For each set-up (OLD: a commit before the change to uv, `--setup-old`; NEW: this repository's
HEAD), each measurement starts from a fresh `git clone` in a temporary folder, with every download
and unpack cache empty: pip's, uv's, npm's and jsii's (where jsii unpacks aws-cdk-lib) point at
fresh temporary folders, so nothing earlier runs installed is reused. The clones run one after the
other, old and new alternately, on the same machine in the same run.

- `make run`: from starting the command until the shop answers `GET /` with 200 (polled every
  0.2 s, with a deadline), on free ports. The shop is then stopped by its process group, which
  this module started.
- `make test`: from starting the command until pytest prints its session header, i.e. everything
  the tests wait for (venv, installs, the console's npm packages); then stopped the same way. The
  suite itself is not timed (its session-wide synthesis is one of the tests' fixtures).

Each phase is read from the times make echoes each recipe line (see `phases`). Everything make
printed goes to bench/results/logs/setup-*.log, each line with its time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench import RESULTS, ROOT, progress
from bench.shop_process import LOGS

# main just before the set-up moved to uv (pip installed everything, the tests' tools included,
# before the first synthesis); everything else as in the new set-up (the project's Node among it).
OLD_COMMIT = "a2dab6f"
DEADLINE_SECONDS = 1200.0
# What make echoes when a phase starts, as regular expressions over its output lines.
RUN_MARKS = {"node": re.compile(r"^npm install --prefix \.node\b"), "synth": re.compile(r"\bapp\.py\b"),
             "shop_start": re.compile(r"-m shop\.local\b")}
TEST_STARTED = re.compile(r"test session starts")
# Variables of an outer make (`make bench`) that would leak its jobserver and level into ours.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clone(revision: str, into: Path) -> str:
    """A fresh clone of this repository at `revision`; answers the commit's short hash."""
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "--quiet", "--detach", revision], check=True)
    return subprocess.run(["git", "-C", str(into), "rev-parse", "--short", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


def fresh_environment(scratch: Path) -> dict[str, str]:
    """This process's environment with every package cache pointing at an empty folder."""
    env = {k: v for k, v in os.environ.items() if k not in MAKE_VARIABLES}
    for variable, folder in (("PIP_CACHE_DIR", "pip"), ("UV_CACHE_DIR", "uv"), ("npm_config_cache", "npm"),
                             ("JSII_RUNTIME_PACKAGE_CACHE_ROOT", "jsii")):
        env[variable] = str(scratch / "cache" / folder)
    return env


class Make:
    """`make TARGET` in its own process group, its output lines timestamped as they arrive."""

    def __init__(self, directory: Path, target: str, env: dict[str, str], log: Path) -> None:
        self.began = time.monotonic()
        self.lines: list[tuple[float, str]] = []
        self._log = log.open("w")
        self.process = subprocess.Popen(
            ["make", target], cwd=directory, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            at = time.monotonic() - self.began
            self.lines.append((at, line.rstrip("\n")))
            self._log.write(f"{at:7.1f}s {line}")
            self._log.flush()

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def first(self, pattern: re.Pattern[str]) -> float | None:
        return next((at for at, line in list(self.lines) if pattern.search(line)), None)

    def failed(self) -> int | None:
        return self.process.poll() or None

    def stop(self) -> None:
        """SIGINT to the group we started (the shop stops on it as on Ctrl-C; a shell that started
        us in the background may have left SIGINT ignored, hence SIGTERM), SIGKILL if it lingers."""
        for signum, grace in ((signal.SIGINT, 20.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                continue
        self._reader.join(timeout=10)
        self._log.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def first_run(directory: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    port, aws_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}/"
    make = Make(directory, "run", {**env, "PORT": str(port), "AWS_PORT": str(aws_port)}, log)
    try:
        while not _answers(url):
            if make.failed():
                raise RuntimeError(f"make run exited {make.process.returncode}: see {log}")
            if make.elapsed() > DEADLINE_SECONDS:
                raise RuntimeError(f"the shop did not answer within {DEADLINE_SECONDS:.0f} s: see {log}")
            time.sleep(0.2)  # polling the shop's URL, the event being measured, not synchronising
        answered = make.elapsed()
    finally:
        make.stop()
    return {"seconds_to_shop_answering": answered, **phases(make, answered)}


def phases(make: Make, answered: float) -> dict[str, float | None]:
    """Seconds in each phase, from when make echoed its first command to when the next began:
    `install_seconds` (venv, Python packages) until the first of `node_seconds` (the project's
    Node, installed where the machine's is not one the CDK supports), `synth_seconds` (with the
    console's npm packages, about 2 s, which make installs next) and `shop_start_seconds` (until
    the shop answered), in whatever order make ran them; None for one not run."""
    began = sorted((at, name) for name, pattern in RUN_MARKS.items() if (at := make.first(pattern)) is not None)
    bounds = [at for at, _ in began] + [answered]
    figures: dict[str, float | None] = {f"{name}_seconds": None for name in RUN_MARKS}
    figures["install_seconds"] = bounds[0]
    for (at, name), end in zip(began, bounds[1:], strict=True):
        figures[f"{name}_seconds"] = end - at
    return figures


def first_test(directory: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    make = Make(directory, "test", env, log)
    try:
        while (started := make.first(TEST_STARTED)) is None:
            if make.process.poll() is not None:
                raise RuntimeError(f"make test exited {make.process.returncode} before pytest started: see {log}")
            if make.elapsed() > DEADLINE_SECONDS:
                raise RuntimeError(f"pytest did not start within {DEADLINE_SECONDS:.0f} s: see {log}")
            time.sleep(0.2)  # polling make's output for pytest's header, the event being measured
    finally:
        make.stop()
    return {"seconds_to_pytest_start": started}


def run(old: str = OLD_COMMIT, new: str = "HEAD") -> dict[str, Any]:
    """Both set-ups, each from fresh clones with empty caches: `make run`, then `make test`."""
    LOGS.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True).stdout.strip():
        progress("setup: the working tree has uncommitted changes; the new set-up is measured at HEAD without them")
    results: dict[str, Any] = {"deadline_seconds": DEADLINE_SECONDS, "setups": {}}
    for measure, function in (("run", first_run), ("test", first_test)):
        for label, revision in (("old", old), ("new", new)):
            with tempfile.TemporaryDirectory(prefix=f"bench-setup-{label}-") as scratch:
                scratch_path = Path(scratch)
                commit = clone(revision, scratch_path / "shop")
                progress(f"setup: make {measure}, {label} set-up ({commit}), fresh clone, empty caches")
                log = LOGS / f"setup-{measure}-{label}.log"
                figures = function(scratch_path / "shop", fresh_environment(scratch_path), log)
                results["setups"].setdefault(label, {"revision": revision})[measure] = {"commit": commit, **figures}
                progress(f"setup: make {measure}, {label}: " + ", ".join(
                    f"{k} {v:.1f}" for k, v in figures.items() if v is not None))
    old_figures, new_figures = results["setups"]["old"], results["setups"]["new"]
    results["speedup"] = {
        "run": old_figures["run"]["seconds_to_shop_answering"] / new_figures["run"]["seconds_to_shop_answering"],
        "test": old_figures["test"]["seconds_to_pytest_start"] / new_figures["test"]["seconds_to_pytest_start"],
    }
    return results


RESULTS_FILE = RESULTS / "setup.json"
