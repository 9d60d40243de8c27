"""Local mode's IAM evaluator (shop/local/iam/policy.py) against an independent one, iam-simulate.

`compare` judges a batch of requests with both, iam-simulate through one node process for the whole
batch (tests/iam_simulate.js), and answers the disagreements. iam-simulate (npm, AGPL-3.0) is a
devDependency for the tests only: `make test` installs it with `npm ci`, and nothing ships it.
The node is the project's own when make installed one (shop/infra/node_runtime.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shop.infra.node_runtime import PROJECT_NODE_BIN, ROOT
from shop.local.iam.policy import Request, UnsupportedPolicy, evaluate, resource_account
from shop.local.template import ACCOUNT_ID

DRIVER = Path(__file__).with_name("iam_simulate.js")
PACKAGE = ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate"
# "Unsupported": the local evaluator refuses to judge (UnsupportedPolicy); "error": iam-simulate does.
VERDICTS = ("Allowed", "ExplicitlyDenied", "ImplicitlyDenied")


@dataclass(frozen=True)
class Case:
    """One request and the policies that apply to it; `source` says where it comes from."""

    name: str
    principal: str
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    identity_policies: Sequence[Mapping[str, Any]] = ()
    resource_policy: Mapping[str, Any] | None = None
    source: str = ""


@dataclass(frozen=True)
class Disagreement:
    case: Case
    local: str
    independent: str
    message: str = ""  # iam-simulate's, when it refused the input

    def __str__(self) -> str:
        refused = f" ({self.message[:300]})" if self.message else ""
        return (f"{self.case.name}: {self.case.principal} {self.case.action} on {self.case.resource}: "
                f"local {self.local}, iam-simulate {self.independent}{refused}")


def local_verdict(case: Case) -> str:
    request = Request(case.principal, case.action, case.resource, dict(case.context))
    try:
        decision = evaluate(request, identity_policies=list(case.identity_policies),
                            resource_policy=case.resource_policy, account_id=ACCOUNT_ID)
    except UnsupportedPolicy:
        return "Unsupported"
    return decision.effect.value.replace("ImplicitDeny", "ImplicitlyDenied").replace(
        "ExplicitDeny", "ExplicitlyDenied").replace("Allow", "Allowed")


def _node() -> str:
    project = PROJECT_NODE_BIN / "node"
    found = str(project) if project.is_file() else shutil.which("node")
    assert found, "no node: `make test` installs the project's own into .node/"
    return found


def simulate(cases: Sequence[Case]) -> list[dict[str, str]]:
    """iam-simulate's answer on each case ({"result": ..., "message": ...}), in one node process."""
    assert PACKAGE.is_dir(), (
        "@cloud-copilot/iam-simulate is not installed: `make test` installs the devDependencies "
        "(or run `npm ci`; `npm ci --omit=dev`, as `make run` does, leaves it out)")
    inputs = [
        {
            "principal": case.principal,
            "action": case.action,
            "resource": case.resource,
            "resourceAccount": resource_account(case.resource, ACCOUNT_ID),
            "context": {key: list(value) if not isinstance(value, str) else value
                        for key, value in case.context.items()},
            "identityPolicies": list(case.identity_policies),
            "resourcePolicy": case.resource_policy,
        }
        for case in cases
    ]
    completed = subprocess.run([_node(), str(DRIVER)], input=json.dumps(inputs), capture_output=True,
                               text=True, cwd=ROOT, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    answers = json.loads(completed.stdout)
    assert len(answers) == len(cases)
    return answers


def compare(cases: Sequence[Case]) -> list[Disagreement]:
    independent = simulate(cases)
    return [
        Disagreement(case, local, other["result"], other.get("message", ""))
        for case, other in zip(cases, independent, strict=True)
        if (local := local_verdict(case)) != other["result"]
    ]
