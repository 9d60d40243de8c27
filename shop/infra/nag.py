"""cdk-nag (AwsSolutions rules): how the stack runs it and how a reviewed finding is acknowledged.

cdk-nag 3 is a CDK validation plugin. A finding neither fixed nor acknowledged fails the synthesis
(unless `@aws-cdk/core:failSynthOnValidationErrors` is false, as in the tests) and is listed, with
the acknowledged ones and their reasons, in the cloud assembly's `validation-report.json`.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import IConstruct

PACK = "AwsSolutions"


def add_checks(scope: IConstruct) -> None:
    """Run the AwsSolutions rules on the whole app when it is synthesized."""
    from cdk_nag import AwsSolutionsChecks  # a dev dependency: loaded only when the checks are asked for

    cdk.Validations.of(scope).add_plugins(AwsSolutionsChecks(scope, verbose=True))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept the finding `rule` on `scope` and everything under it, saying why.

    `rule` is the id the report gives, e.g. `AwsSolutions-SMG4`, or one finding of a rule that has
    several, e.g. `AwsSolutions-IAM5[Resource::*]` for one wildcard: name exactly what is accepted.
    """
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{PACK}::{rule}", reason=reason))


def finding_resource(scope: IConstruct, arn: str) -> str:
    """A resource as cdk-nag's IAM5 finding names it: a pseudo parameter as `<AWS::Region>`, any
    other token as its CloudFormation JSON, e.g. an ARN whose name ends in a per-stack suffix."""
    import json

    resolved = cdk.Stack.of(scope).resolve(arn)
    parts = resolved["Fn::Join"][1] if isinstance(resolved, dict) and "Fn::Join" in resolved else [resolved]
    return "".join(part if isinstance(part, str)
                   else f"<{part['Ref']}>" if set(part) == {"Ref"} and part["Ref"].startswith("AWS::")
                   else json.dumps(part, separators=(",", ":")) for part in parts)
