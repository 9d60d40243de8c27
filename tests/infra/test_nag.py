"""cdk-nag's AwsSolutions rules on the app: every finding is fixed, or acknowledged with a reason.

The session's one synthesis runs the rules (`NAG_CONTEXT` in tests/conftest.py). CDK writes their
outcome to `validation-report.json` in the cloud assembly: `violations` (not acknowledged) and
`suppressedViolations` (acknowledged with `shop.infra.nag.acknowledge`, next to the construct they
concern, each with its reason).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

# What the review accepted (the reasons are in shop/infra): a new kind of finding needs a look.
ACCEPTED_RULES = {
    "AwsSolutions-APIG4",  # public HTTP API for anonymous customers
    "AwsSolutions-IAM4",  # AWSLambdaBasicExecutionRole
    "AwsSolutions-IAM5",  # X-Ray / log delivery on "*", and invoking our own functions' versions
    "AwsSolutions-L1",  # python3.13, not the newest python3.14, until a year before its deprecation
    "AwsSolutions-SMG4",  # no rotation of the approval links' signing key
}


@pytest.fixture(scope="module")
def nag_report(synthesized) -> dict[str, Any]:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    nag = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"]
    # The plugin only appears in the report with findings, acknowledged or not: the stack has some.
    assert len(nag) == 1, "cdk-nag did not run: is the session synthesized with context nag=True?"
    return nag[0]


def _lines(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{violation['severity'].upper()} {violation['ruleName']} on {construct['constructPath']}: "
        f"{violation['description']}"
        for violation in violations
        for construct in violation["violatingConstructs"]
    ]


def test_no_aws_solutions_error_or_warning_is_left(nag_report):
    findings = _lines(nag_report["violations"])  # errors and warnings alike
    assert not findings, "cdk-nag findings to fix, or acknowledge with a reason:\n" + "\n".join(findings)
    assert nag_report["conclusion"] == "success"


def test_every_acknowledged_finding_says_why(nag_report):
    acknowledged = nag_report["suppressedViolations"]
    assert acknowledged
    for finding in acknowledged:
        # A reason, not a placeholder: what is accepted and why.
        assert len(finding["reason"].split()) >= 10, (finding["ruleName"], finding["reason"])


def test_only_reviewed_kinds_of_findings_are_acknowledged(nag_report):
    names = {finding["ruleName"] for finding in nag_report["suppressedViolations"]}
    assert {name.split("[", 1)[0] for name in names} == ACCEPTED_RULES
    # Wildcards are accepted one by one, and never on actions: the Lambda steps' versions, the
    # actions granted on '*' only, any recipient's SES identity (the sandbox), this machine's executions
    # (by its ARN for the order API; by its name, with the stack instance's suffix, for the callback).
    wildcards = {name for name in names if name.startswith("AwsSolutions-IAM5")}
    account = "arn:<AWS::Partition>:(ses|states):<AWS::Region>:<AWS::AccountId>:"
    for name in wildcards:
        assert re.fullmatch(r"AwsSolutions-IAM5\[Resource::(\*|<Workflow\w+\.Arn>:\*|" + account
                            + r'identity/\*|' + account + r'execution:\{"Fn::Select":\[6,\{"Fn::Split":'
                            r'\[":",\{"Ref":"WorkflowStateMachine\w+"\}\]\}\]\}:\*|' + account
                            + r'execution:[\w-]+-OrderWorkflow-\{"Fn::Select":\[4,[^*]*\}\]\}:\*)\]', name), name
