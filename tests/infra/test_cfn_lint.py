"""cfn-lint on the synthesized template: what CloudFormation would reject, or warns about."""

from __future__ import annotations

from cfnlint.api import ManualArgs, lint_file

IGNORED = [
    # "dependency already enforced by a GetAtt": CDK gives every Lambda function an explicit
    # DependsOn on its service role (and the role's policy) besides the role's GetAtt. Redundant,
    # harmless, and CDK's own output; overriding it would fight the Function construct.
    "W3005",
]


def test_cfn_lint_finds_nothing(synthesized):
    matches = lint_file(synthesized.template_path, config=ManualArgs(ignore_checks=IGNORED))
    assert not matches, "\n".join(f"{match.rule.id} {match.message} ({match.path})" for match in matches)
