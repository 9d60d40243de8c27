"""`make deploy` and `make destroy`: the whole path to a working shop on AWS, and back.

One module per step: `preflight` (what must hold before anything is created), `deploy` (the
pinned CDK CLI's `cdk deploy`, then the stack's outputs), `next_steps` (the owner's subscription,
the catalog, a curl that places an order) and `destroy` (`cdk destroy`, and what the stack keeps).
Each step is a plain function taking its AWS clients (or a boto3 session) and the command runner,
so the tests run them against moto without the CDK CLI, and `make smoke` reuses them for its own
throwaway stack (a stack name and CDK context of its own).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from shop.settings import STACK_NAME_CONTEXT_KEY, DeployParameters

ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = ROOT / "cdk.json"
# The project's pinned CDK CLI (package.json's devDependency), never a global one nor a download:
# `--no-install` makes npx fail instead of fetching whatever version is newest.
CDK_CLI = ("npx", "--no-install", "cdk")

# Runs a command in the project folder with extra environment variables; answers its exit status.
Runner = Callable[[Sequence[str], Mapping[str, str]], int]
# Prints one line for a person.
Out = Callable[[str], None]


def run_command(command: Sequence[str], env: Mapping[str, str]) -> int:
    """The real runner: the command's output goes straight to the terminal (CDK's progress)."""
    return subprocess.run(list(command), cwd=ROOT, env={**os.environ, **env}, check=False).returncode


def region_env(region: str) -> dict[str, str]:
    """The CDK CLI deploys where the SDK's chain points; pin it to the region preflight checked,
    whichever of AWS_REGION, AWS_DEFAULT_REGION or the profile named it."""
    return {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def deploy_context(overrides: Mapping[str, object] | None = None) -> dict[str, object]:
    """The deploy parameters as `cdk deploy` will see them: cdk.json's context, then `-c` overrides."""
    context = dict(json.loads(CDK_JSON.read_text())["context"])
    context.update(overrides or {})
    return context


def deploy_parameters(context: Mapping[str, object]) -> DeployParameters:
    """The parameters the stack will be built with (ValueError naming a missing or bad one)."""
    return DeployParameters.from_context(context.get)


def context_arguments(stack_name: str, overrides: Mapping[str, object] | None = None) -> list[str]:
    """`-c key=value` for the CDK CLI: the stack's name, and the overrides (cdk.json has the rest)."""
    arguments = ["-c", f"{STACK_NAME_CONTEXT_KEY}={stack_name}"]
    for key, value in (overrides or {}).items():
        arguments += ["-c", f"{key}={json.dumps(value) if isinstance(value, bool) else value}"]
    return arguments


def parse_context_overrides(pairs: Sequence[str]) -> dict[str, str]:
    """`key=value` strings, as `cdk -c` takes them (ValueError for one without `=`)."""
    overrides = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise ValueError(f"context {pair!r} is not key=value")
        overrides[key.strip()] = value.strip()
    return overrides


MARKS = {"ok": "ok  ", "note": "note", "fail": "FAIL", "do": "... "}


def line(status: str, text: str) -> str:
    """One status line: `ok`, `note` (worth knowing, not blocking), `FAIL` (blocking) or `...` (doing)."""
    return f"  {MARKS[status]}  {text}"
