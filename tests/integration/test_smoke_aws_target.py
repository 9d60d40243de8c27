"""`make smoke`'s AWS target offline: `make deploy`'s own preflight and deploy create the throwaway
stack, `make destroy`'s removes it, and then what the stack kept is deleted as well. The CDK CLI
never runs: test_deploy's fake does to moto what it would do to the account."""

from __future__ import annotations

import json

import pytest

from shop.deploy.smoke import AwsTarget, Durations
from tests.integration.test_deploy import FakeCdk, bootstrap, session, verify  # noqa: F401 (a fixture)

SENDER = "orders@lovelace-mugs.com"
DURATIONS = Durations(approval_timeout=120, feedback_delay=10, step_timeout=90)
# What the preflight reads of a synthesized template: its bootstrap-version rule, its resource types.
TEMPLATE = {"Rules": {"CheckBootstrapVersion": {"Assertions": [{"Assert": {"Fn::Not": [{"Fn::Contains": [
    ["1", "2", "3", "4", "5"], {"Ref": "BootstrapVersion"}]}]}}]}},
    "Resources": {"ApprovalUrl": {"Type": "AWS::Lambda::Url", "Properties": {}}}}


@pytest.fixture
def target(session, tmp_path):  # noqa: F811 (the fixture imported above)
    (tmp_path / "main.template.json").write_text(json.dumps(TEMPLATE))
    lines: list[str] = []
    target = AwsTarget("OrderShopSmoke", DURATIONS, {"senderEmail": SENDER}, session=session,
                       runner=FakeCdk(session), confirm=lambda question: False, out=lines.append,
                       main_template=tmp_path / "main.template.json")
    target.lines = lines
    return target


def test_the_smoke_stack_is_deployed_with_its_context_and_leaves_nothing(session, target):  # noqa: F811
    verify(session, SENDER)
    bootstrap(session)

    outputs = target.deploy()
    assert outputs["ProductsTableName"] and outputs["OwnerTopicArn"]
    assert session.described_types == ["AWS::Lambda::Url"]  # the main template's, asked of the region
    (deploy_command, _), = target.runner.commands
    assert deploy_command[3:5] == ["deploy", "OrderShopSmoke"]
    for pair in ("stackName=OrderShopSmoke", "ownerEmail=success@simulator.amazonses.com",
                 "approvalTimeoutSeconds=120", "feedbackDelaySeconds=10", f"senderEmail={SENDER}"):
        assert pair in deploy_command
    assert deploy_command[deploy_command.index("--output") + 1] == target.outdir  # never cdk.out

    target.destroy()

    assert target.runner.verbs() == ["deploy", "destroy"]
    assert session.client("dynamodb").list_tables()["TableNames"] == []  # the retained Orders table too
    assert session.client("logs").describe_log_groups()["logGroups"] == []
    assert "deleted what the smoke stack kept" in "\n".join(target.lines)


def test_a_failed_preflight_deploys_nothing(session, target):  # noqa: F811
    bootstrap(session)  # the sender is not verified, and nobody is there to start its verification

    with pytest.raises(RuntimeError, match="preflight failed"):
        target.deploy()
    assert target.runner.commands == []
    target.destroy()  # what the smoke's clean-up then does: nothing to destroy
    assert target.runner.commands == []
