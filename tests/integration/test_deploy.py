"""`make deploy` and `make destroy` offline: preflight, the deploy's outputs, the next steps and what
a destroy leaves, against moto. The CDK CLI never runs: a fake runner does to moto what
`cdk bootstrap`, `cdk deploy` and `cdk destroy` would do to the account.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

from shop.deploy import CDK_CLI, context_arguments
from shop.deploy.__main__ import main
from shop.deploy.deploy import cdk_command
from shop.deploy.destroy import Kept, retained_resources
from shop.deploy.preflight import (
    BOOTSTRAP_VERSION_PARAMETER,
    preflight,
    required_bootstrap_version,
    template_resource_types,
)
from shop.domain.catalog import parse_catalog
from shop.samples import SES_SIMULATOR_SUCCESS
from tests.support import DEMO_CATALOG, ROOT, TEST_CONTEXT

REGION = "eu-west-1"
ENVIRONMENT = f"aws://{DEFAULT_ACCOUNT_ID}/{REGION}"
# Not reserved example domains: preflight refuses those (nobody can verify them).
OWNER = "owner@lovelace-mugs.com"
SENDER = "orders@lovelace-mugs.com"
CONTEXT = ["-c", f"ownerEmail={OWNER}", "-c", f"senderEmail={SENDER}"]

# What `cdk deploy` creates, cut down to what the next steps and a destroy touch: the owner's topic
# with its email subscription, the products table, a kept table and a kept log group.
_TABLE = {
    "KeySchema": [{"AttributeName": "productId", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "productId", "AttributeType": "S"}],
    "BillingMode": "PAY_PER_REQUEST",
}
SHOP_TEMPLATE = {
    "Resources": {
        "Orders": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                   "Properties": _TABLE},
        "Products": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete", "Properties": _TABLE},
        "Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "Properties": {}},
        "Topic": {"Type": "AWS::SNS::Topic",
                  "Properties": {"Subscription": [{"Protocol": "email", "Endpoint": OWNER}]}},
        # A destroy lists the state machine's running executions first: none here.
        "Workflow": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "DefinitionString": json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            "RoleArn": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/workflow"}},
    },
    "Outputs": {
        "ProductsTableName": {"Value": {"Ref": "Products"}},
        "OrdersTableName": {"Value": {"Ref": "Orders"}},
        "OwnerTopicArn": {"Value": {"Ref": "Topic"}},
        "StateMachineArn": {"Value": {"Ref": "Workflow"}},
        **{name: {"Value": f"https://{name.lower()}.example"} for name in (
            "ApiUrl", "ApprovalUrl", "DecisionsTableName", "LinkSigningSecretArn")},
    },
}


class FakeCdk:
    """Does to moto what the CDK CLI's commands would do to the account; records each command."""

    def __init__(self, session: Any, *, fail: str = "") -> None:
        self.session, self.fail, self.commands = session, fail, []

    def __call__(self, command: Sequence[str], env: Mapping[str, str]) -> int:
        self.commands.append((list(command), dict(env)))
        verb, stack = command[len(CDK_CLI)], command[len(CDK_CLI) + 1]
        if verb == self.fail:
            return 1
        if verb == "bootstrap":
            self.session.client("ssm").put_parameter(
                Name=BOOTSTRAP_VERSION_PARAMETER, Value="30", Type="String", Overwrite=True)
        elif verb == "deploy" and not self._exists(stack):  # an update changes nothing here
            self.session.client("cloudformation").create_stack(StackName=stack, TemplateBody=json.dumps(SHOP_TEMPLATE))
        elif verb == "destroy":
            self.session.client("cloudformation").delete_stack(StackName=stack)
        return 0

    def _exists(self, stack: str) -> bool:
        stacks = self.session.client("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])
        return any(summary["StackName"] == stack for summary in stacks["StackSummaries"])

    def verbs(self) -> list[str]:
        return [command[len(CDK_CLI)] for command, _ in self.commands]


# Resource types the preflight asks the region about (the synthesized template's, in the CLI's tests).
RESOURCE_TYPES = ["AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::Lambda::Url", "AWS::SNS::Topic"]


def fake_registry(session: Any) -> None:
    """moto has no CloudFormation DescribeType: the region knows every type but the test's
    `session.unknown_types`; `session.described_types` records what was asked."""
    session.unknown_types, session.described_types = set(), []

    def describe_type(params: dict, **_: Any) -> tuple[AWSResponse, dict]:
        name = params["body"]["TypeName"]  # the query protocol's form, not yet encoded
        session.described_types.append(name)
        if name in session.unknown_types:
            error = {"Code": "TypeNotFoundException", "Message": f"The type '{name}' cannot be found."}
            return AWSResponse("https://cloudformation.amazonaws.com", 404, {}, None), {"Error": error}
        return AWSResponse("https://cloudformation.amazonaws.com", 200, {}, None), {"Type": "RESOURCE", "TypeName": name}

    session.events.register("before-call.cloudformation.DescribeType", describe_type)


@pytest.fixture
def session():
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        session.ses_account = {"ProductionAccessEnabled": True, "SendingEnabled": True}

        # moto has no SESv2 GetAccount: answer it from the test's dict (or raise the test's
        # error), the rest goes to moto.
        def get_account(**_: Any) -> tuple[AWSResponse, dict]:
            if isinstance(session.ses_account, Exception):
                raise session.ses_account
            return AWSResponse("https://email.eu-west-1.amazonaws.com", 200, {}, None), dict(session.ses_account)

        session.events.register("before-call.sesv2.GetAccount", get_account)
        fake_registry(session)
        yield session


def verify(session: Any, identity: str) -> None:
    """An SES identity whose owner clicked the link (moto leaves every identity unverified)."""
    from moto.ses.models import ses_backends

    session.client("sesv2").create_email_identity(EmailIdentity=identity)
    ses_backends[DEFAULT_ACCOUNT_ID][REGION].email_identities[identity].verified_for_sending_status = True


def bootstrap(session: Any, version: int = 30) -> None:
    session.client("ssm").put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value=str(version), Type="String")


def run_preflight(session: Any, runner: Any, *, confirm: bool = False, lines: list[str] | None = None,
                  sender: str = SENDER, owner: str = OWNER):
    return preflight(session, owner_email=owner, sender_email=sender, required_bootstrap=6,
                     resource_types=RESOURCE_TYPES, runner=runner, confirm=lambda question: confirm,
                     out=(lines if lines is not None else []).append)


def text(lines: list[str]) -> str:
    return "\n".join(lines)


@pytest.fixture
def cli_args(synthesized) -> list[str]:
    """The deploy command's arguments: the test addresses, and the session's synthesized app (a
    fresh clone has no cdk.out)."""
    return [*CONTEXT, "--outdir", str(synthesized.outdir)]


# -- preflight ---------------------------------------------------------------------------------
def test_a_ready_account_passes_every_check_and_nothing_is_run(session):
    verify(session, SENDER)
    bootstrap(session)
    runner, lines = FakeCdk(session), []
    result = run_preflight(session, runner, lines=lines)
    assert result.ok, text(lines)
    assert (result.account, result.region, result.sandbox) == (DEFAULT_ACCOUNT_ID, REGION, False)
    assert runner.commands == []
    assert all(entry.startswith("  ok") for entry in lines[1:]), text(lines)


def test_an_unbootstrapped_account_is_bootstrapped_after_saying_so(session):
    verify(session, SENDER)
    runner, lines = FakeCdk(session), []
    result = run_preflight(session, runner, lines=lines)
    assert result.ok, text(lines)
    assert runner.commands == [([*CDK_CLI, "bootstrap", ENVIRONMENT], {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION})]
    said = next(i for i, entry in enumerate(lines) if "is not bootstrapped" in entry)
    assert f"npx cdk bootstrap {ENVIRONMENT}" in lines[said]
    assert "version 30" in lines[said + 1] and lines[said + 1].startswith("  ok")


def test_an_outdated_bootstrap_is_updated(session):
    verify(session, SENDER)
    bootstrap(session, version=5)
    runner, lines = FakeCdk(session), []
    assert run_preflight(session, runner, lines=lines).ok
    assert "has CDK bootstrap version 5, older than 6" in text(lines)
    assert runner.verbs() == ["bootstrap"]


def test_a_failed_bootstrap_fails_preflight(session):
    verify(session, SENDER)
    lines: list[str] = []
    assert not run_preflight(session, FakeCdk(session, fail="bootstrap"), lines=lines).ok
    assert lines[-1].startswith("  FAIL") and "did not finish (exit 1)" in lines[-1]


@pytest.mark.parametrize("region", ["ap-south-2", "ap-southeast-7", "mx-central-1"])
def test_an_unsupported_region_fails_before_anything_is_created(region):
    with mock_aws():
        session = boto3.Session(region_name=region)
        fake_registry(session)
        runner, lines = FakeCdk(session), []
        result = run_preflight(session, runner, confirm=True, lines=lines)
        assert not result.ok
        [fail] = [entry for entry in lines if entry.startswith("  FAIL")]
        assert f"region {region} has no Lambda Function URLs" in fail and "another region" in fail
        assert session.described_types == []  # the list answered: the region is not asked
        assert runner.commands == []  # no bootstrap
        assert session.client("sesv2").list_email_identities()["EmailIdentities"] == []  # no verification


def test_the_settings_checks_are_reported_together():
    with mock_aws():
        session = boto3.Session(region_name="ap-southeast-6")
        lines: list[str] = []
        assert not run_preflight(session, FakeCdk(session), confirm=True, lines=lines,
                                 owner="owner@example.com", sender="shop@example.com").ok
        fails = [entry for entry in lines if entry.startswith("  FAIL")]
        assert len(fails) == 3, text(lines)
        assert "region ap-southeast-6 has no Lambda Function URLs" in fails[0]
        assert "owner@example.com is a placeholder" in fails[1] and "shop@example.com is a placeholder" in fails[2]


def test_a_resource_type_the_region_lacks_fails_before_anything_is_bootstrapped(session):
    # A region the static list does not know yet, whose CloudFormation has no AWS::Lambda::Url.
    session.unknown_types = {"AWS::Lambda::Url"}
    runner, lines = FakeCdk(session), []
    result = run_preflight(session, runner, confirm=True, lines=lines)
    assert not result.ok
    assert sorted(session.described_types) == sorted(RESOURCE_TYPES)
    [fail] = [entry for entry in lines if entry.startswith("  FAIL")]
    assert fail == (f"  FAIL  CloudFormation in {REGION} has no resource type AWS::Lambda::Url, which the stack "
                    "uses: `cdk deploy` would fail there (\"Unrecognized resource types\"); deploy to another "
                    "region, e.g. `AWS_REGION=eu-west-1 make deploy`")
    assert runner.commands == []  # not bootstrapped
    with pytest.raises(session.client("ssm").exceptions.ParameterNotFound):
        session.client("ssm").get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    assert session.client("sesv2").list_email_identities()["EmailIdentities"] == []  # no verification started


def test_a_region_without_ses_is_a_clear_fail_before_anything_is_bootstrapped(session):
    from botocore.exceptions import EndpointConnectionError

    # What boto3 raises where SES has no endpoint: the host name does not resolve.
    url = "https://email.ap-southeast-5.amazonaws.com/v2/email/account"
    session.ses_account = EndpointConnectionError(endpoint_url=url)
    session.unknown_types = {"AWS::Lambda::Url", "AWS::SNS::Topic"}
    runner, lines = FakeCdk(session), []
    assert not run_preflight(session, runner, confirm=True, lines=lines).ok
    fails = [entry for entry in lines if entry.startswith("  FAIL")]
    assert len(fails) == 2, text(lines)  # both of the region's gaps, in one run
    assert "no resource type AWS::Lambda::Url, AWS::SNS::Topic" in fails[0]
    assert fails[1].startswith(f"  FAIL  SES does not answer in {REGION} (Could not connect to the endpoint URL: "
                               f"\"{url}\"): SES is not offered there")
    assert "another region" in fails[1]
    assert "cannot check the SES sender" not in text(lines)  # the sender is not asked where SES is not
    assert runner.commands == []
    assert session.client("sesv2").list_email_identities()["EmailIdentities"] == []


def test_a_resource_type_that_cannot_be_asked_about_is_a_note(session):
    verify(session, SENDER)
    bootstrap(session)

    def deny(**_: Any) -> tuple[AWSResponse, dict]:
        error = {"Code": "AccessDenied", "Message": "not authorized to perform: cloudformation:DescribeType"}
        return AWSResponse("https://cloudformation.amazonaws.com", 403, {}, None), {"Error": error}

    session.events.register_first("before-call.cloudformation.DescribeType", deny)  # before fake_registry's
    lines: list[str] = []
    assert run_preflight(session, FakeCdk(session), lines=lines).ok, text(lines)
    [note] = [entry for entry in lines if entry.startswith("  note")]
    assert f"cannot ask CloudFormation in {REGION} about {len(RESOURCE_TYPES)} of the template's resource types" in note


def test_an_unknown_sender_gets_its_verification_started_when_the_person_agrees(session):
    runner, lines = FakeCdk(session), []
    result = run_preflight(session, runner, confirm=True, lines=lines)
    assert not result.ok  # the shop could not send a single email yet
    assert f"SES sender {SENDER}: verification started" in text(lines)
    identity = session.client("sesv2").get_email_identity(EmailIdentity=SENDER)
    assert identity["VerifiedForSendingStatus"] is False
    assert runner.commands == []  # nothing bootstrapped while the deploy cannot succeed


def test_an_unknown_sender_is_left_alone_without_consent(session):
    lines: list[str] = []
    assert not run_preflight(session, FakeCdk(session), confirm=False, lines=lines).ok
    assert "make deploy YES=1" in text(lines) and f"--email-identity {SENDER}" in text(lines)
    assert session.client("sesv2").list_email_identities()["EmailIdentities"] == []


def test_a_sender_awaiting_its_click_fails_and_says_so(session):
    session.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    lines: list[str] = []
    assert not run_preflight(session, FakeCdk(session), confirm=True, lines=lines).ok
    assert f"SES sender {SENDER} is not verified yet" in text(lines)


def test_a_verified_domain_verifies_its_sender(session):
    verify(session, "lovelace-mugs.com")
    bootstrap(session)
    lines: list[str] = []
    assert run_preflight(session, FakeCdk(session), lines=lines).ok
    assert "its domain lovelace-mugs.com is verified" in text(lines)


def test_the_sandbox_is_explained_and_does_not_block(session):
    verify(session, SENDER)
    bootstrap(session)
    session.ses_account = {"ProductionAccessEnabled": False, "SendingEnabled": True}
    lines: list[str] = []
    result = run_preflight(session, FakeCdk(session), lines=lines)
    assert result.ok and result.sandbox is True
    [note] = [entry for entry in lines if entry.startswith("  note")]
    assert "SES is in the sandbox in eu-west-1" in note
    assert SES_SIMULATOR_SUCCESS in note and "verified" in note and "production access" in note


def test_placeholder_addresses_are_refused(session):
    bootstrap(session)
    lines: list[str] = []
    result = run_preflight(session, FakeCdk(session), confirm=True, lines=lines,
                           owner="owner@example.com", sender="shop@example.com")
    assert not result.ok
    assert "the owner address owner@example.com is a placeholder" in text(lines)
    assert "the sender address shop@example.com is a placeholder" in text(lines)
    assert session.client("sesv2").list_email_identities()["EmailIdentities"] == []


@pytest.fixture
def no_aws_configuration(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role either, and no 1 s wait


def test_missing_credentials_and_region_say_what_to_set(cli_args, no_aws_configuration):
    lines: list[str] = []
    assert main(["preflight", *cli_args], runner=FakeCdk(None), out=lines.append) == 1
    assert "  FAIL  no AWS region: set AWS_REGION" in text(lines)
    assert "  FAIL  no AWS credentials: set AWS_PROFILE" in text(lines)


def test_missing_credentials_end_the_command_without_a_traceback(cli_args, no_aws_configuration):
    done = subprocess.run([sys.executable, "-m", "shop.deploy", "deploy", *cli_args], cwd=ROOT,
                          capture_output=True, text=True, env=os.environ, timeout=120, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "no AWS credentials" in done.stdout and "nothing was deployed" in done.stdout


def test_an_unknown_profile_is_a_clear_line(cli_args, no_aws_configuration, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nobody")
    lines: list[str] = []
    assert main(["preflight", *cli_args], runner=FakeCdk(None), out=lines.append) == 1
    assert lines == ["  FAIL  AWS configuration: The config profile (nobody) could not be found"]


def test_the_cli_asks_the_region_about_the_synthesized_templates_resource_types(cli_args, session, synthesized):
    verify(session, SENDER)
    bootstrap(session)
    lines: list[str] = []
    assert main(["preflight", *cli_args], runner=FakeCdk(session), session=session, out=lines.append) == 0, text(lines)
    asked = sorted(session.described_types)
    assert asked == template_resource_types(synthesized.template) and "AWS::Lambda::Url" in asked
    assert "Custom::" not in " ".join(asked)


def test_the_bootstrap_version_comes_from_the_templates_rule(synthesized):
    assert required_bootstrap_version(synthesized.template) == 6
    with pytest.raises(ValueError, match="make synth"):
        required_bootstrap_version({"Resources": {}})


# -- deploy and next steps ---------------------------------------------------------------------
def deploy(session: Any, cli_args: list[str], *args: str) -> tuple[int, list[str], FakeCdk]:
    runner, lines = FakeCdk(session), []
    status = main(["deploy", "--yes", *cli_args, *args], runner=runner, session=session, out=lines.append)
    return status, lines, runner


def pending(session: Any) -> None:
    """The owner has not clicked "Confirm subscription" yet: SNS lists no ARN for it (moto has one)."""
    from moto.sns.models import sns_backends

    backend = sns_backends[DEFAULT_ACCOUNT_ID][REGION]
    for subscription in backend.subscriptions.values():
        subscription.arn = "PendingConfirmation"


def test_a_deploy_loads_the_empty_catalog_and_asks_to_confirm_the_subscription(cli_args, session, monkeypatch):
    verify(session, SENDER)
    bootstrap(session)
    session.ses_account["ProductionAccessEnabled"] = False
    # The subscription is pending from the moment the stack creates it.
    original = FakeCdk.__call__

    def deploy_then_pending(self, command, env):
        status = original(self, command, env)
        pending(session)
        return status

    monkeypatch.setattr(FakeCdk, "__call__", deploy_then_pending)
    status, lines, runner = deploy(session, cli_args)
    assert status == 0, text(lines)
    [(command, env)] = runner.commands
    assert command == cdk_command("deploy", "OrderShop", context={"ownerEmail": OWNER, "senderEmail": SENDER}, yes=True,
                                  outdir=cli_args[-1])
    assert env == {"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}

    out = text(lines)
    assert f"confirm the owner's subscription: AWS Notifications emailed {OWNER}" in out
    demo = parse_catalog(DEMO_CATALOG.read_text())
    outputs = session.client("cloudformation").describe_stacks(StackName="OrderShop")["Stacks"][0]["Outputs"]
    products_table = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ProductsTableName")
    assert f"loaded {len(demo)} products from data/demo-catalog.json into {products_table}" in out
    assert session.client("dynamodb").scan(TableName=products_table, Select="COUNT")["Count"] == len(demo)
    [curl] = [entry.strip() for entry in lines if entry.strip().startswith("curl ")]
    assert curl.startswith("curl -s -X POST https://apiurl.example/orders ")
    body = json.loads(curl.split(" -d ", 1)[1].strip("'"))
    assert body["customerEmail"] == SES_SIMULATOR_SUCCESS and body["items"][0]["productId"] == demo[0].product_id
    assert "the account is in the SES sandbox" in out
    assert lines[-1] == "Deployed. Confirm the owner's subscription (above) before the first order."


def test_a_second_deploy_keeps_the_catalog_and_sees_the_confirmed_subscription(cli_args, session):
    verify(session, SENDER)
    bootstrap(session)
    status, lines, _ = deploy(session, cli_args, "--stack", "Shop2")
    assert status == 0 and "the catalog was empty: loaded" in text(lines), text(lines)
    status, lines, runner = deploy(session, cli_args, "--stack", "Shop2")
    assert status == 0, text(lines)
    assert runner.commands[0][0][len(CDK_CLI):len(CDK_CLI) + 4] == ["deploy", "Shop2", "-c", "stackName=Shop2"]
    out = text(lines)
    assert "the catalog has products already" in out and "loaded" not in out
    assert f"  ok    {OWNER} is subscribed to the owner's notifications" in out
    assert lines[-1] == "Deployed."


def test_a_failed_preflight_deploys_nothing(cli_args, session):
    runner, lines = FakeCdk(session), []
    assert main(["deploy", *cli_args], runner=runner, session=session, out=lines.append) == 1
    assert runner.commands == []
    assert lines[-1].startswith("Preflight failed: nothing was deployed")


def test_a_failed_cdk_deploy_fails_the_command(cli_args, session):
    verify(session, SENDER)
    bootstrap(session)
    runner, lines = FakeCdk(session, fail="deploy"), []
    assert main(["deploy", "--yes", *cli_args], runner=runner, session=session, out=lines.append) == 1
    assert lines[-1] == "  FAIL  `cdk deploy OrderShop` failed (exit 1): see its output above"


def test_the_cdk_commands_name_the_stack_and_its_context():
    assert cdk_command("deploy", "Smoke", context={"approvalTimeoutSeconds": 60}, outdir="cdk.out.smoke") == [
        *CDK_CLI, "deploy", "Smoke", "-c", "stackName=Smoke", "-c", "approvalTimeoutSeconds=60",
        "--output", "cdk.out.smoke", "--require-approval", "broadening"]
    assert cdk_command("deploy", "Smoke", yes=True)[-2:] == ["--require-approval", "never"]
    assert cdk_command("destroy", "Smoke", yes=True) == [*CDK_CLI, "destroy", "Smoke", *context_arguments("Smoke"), "--force"]


def test_the_stack_name_context_names_the_synthesized_stack(tmp_path):
    from shop.infra.stack import build_app

    _, stack = build_app(str(tmp_path), context={**TEST_CONTEXT, "stackName": "OrderShopSmoke"})
    assert stack.stack_name == "OrderShopSmoke"


# -- destroy -----------------------------------------------------------------------------------
def test_the_shops_template_keeps_the_orders_table_and_the_log_groups(synthesized):
    kept = {k.logical_id: k.resource_type for k in retained_resources(synthesized.template)}
    tables = [k for k in kept if kept[k] == "AWS::DynamoDB::Table"]
    assert len(tables) == 1 and tables[0].startswith("StorageOrders")
    log_groups = {k for k in kept if kept[k] == "AWS::Logs::LogGroup"}
    assert any(k.startswith("Workflow") for k in log_groups) and any(k.startswith("OrderApi") for k in log_groups)
    every_log_group = {k for k, r in synthesized.template["Resources"].items() if r["Type"] == "AWS::Logs::LogGroup"}
    assert log_groups == every_log_group


def test_destroy_deletes_the_stack_and_names_what_stays(session):
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(StackName="OrderShop", TemplateBody=json.dumps(SHOP_TEMPLATE))
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for r in cloudformation.list_stack_resources(StackName="OrderShop")["StackResourceSummaries"]}
    runner, lines = FakeCdk(session), []
    assert main(["destroy", "--yes"], runner=runner, session=session, out=lines.append) == 0
    assert runner.verbs() == ["destroy"] and runner.commands[0][0][-1] == "--force"
    out = text(lines)
    assert f"DynamoDB table {physical['Orders']} (Orders); remove it with " \
           f"`aws dynamodb delete-table --region eu-west-1 --table-name {physical['Orders']}`" in out
    assert f"log group {physical['Logs']} (Logs); remove it with " \
           f"`aws logs delete-log-group --region eu-west-1 --log-group-name {physical['Logs']}`" in out
    assert physical["Products"] not in out
    # What it says stays, stays (moto honours DeletionPolicy), and the rest is gone.
    assert session.client("dynamodb").list_tables()["TableNames"] == [physical["Orders"]]
    assert [g["logGroupName"] for g in session.client("logs").describe_log_groups()["logGroups"]] == [physical["Logs"]]


def test_destroy_without_a_stack_does_nothing(session):
    runner, lines = FakeCdk(session), []
    assert main(["destroy", "--yes"], runner=runner, session=session, out=lines.append) == 0
    assert runner.commands == [] and "no stack OrderShop in eu-west-1: nothing to destroy" in lines[-1]


class _NoTerminal:
    def isatty(self) -> bool:
        return False


def test_destroy_asks_and_without_an_answer_deletes_nothing(session, monkeypatch):
    monkeypatch.delenv("SHOP_DEPLOY_YES", raising=False)
    session.client("cloudformation").create_stack(StackName="OrderShop", TemplateBody=json.dumps(SHOP_TEMPLATE))
    runner, lines = FakeCdk(session), []
    assert main(["destroy"], runner=runner, session=session, stdin=_NoTerminal(), out=lines.append) == 1
    assert runner.commands == [] and lines[-1].startswith("Nothing deleted")


def test_kept_resources_read_well():
    assert Kept("Orders", "AWS::DynamoDB::Table", "t-1").describe("eu-west-1") == (
        "DynamoDB table t-1 (Orders); remove it with `aws dynamodb delete-table --region eu-west-1 --table-name t-1`")
    assert Kept("Logs", "AWS::Logs::LogGroup").describe("eu-west-1") == "log group (never created) (Logs)"


def test_credentials_aws_refuses_are_a_clear_line(session):
    # What STS answers for deleted access keys; moto accepts any, so the answer is injected.
    def refuse(**_: Any) -> tuple[AWSResponse, dict]:
        error = {"Code": "InvalidClientTokenId", "Message": "The security token included in the request is invalid."}
        return AWSResponse("https://sts.amazonaws.com", 403, {}, None), {"Error": error}

    session.events.register("before-call.sts.GetCallerIdentity", refuse)
    lines: list[str] = []
    assert not run_preflight(session, FakeCdk(session), lines=lines).ok
    assert lines[-1] == ("  FAIL  AWS refused the credentials (InvalidClientTokenId: The security token included in "
                         "the request is invalid.): renew them (`aws sso login`, new access keys) and run this again")


class _Terminal:
    def __init__(self, answer: str) -> None:
        self.answer = answer

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        return self.answer


@pytest.mark.parametrize(("answer", "started"), [("y\n", True), ("\n", False)])
def test_at_a_terminal_the_person_decides_whether_verification_starts(cli_args, session, monkeypatch, answer, started):
    monkeypatch.delenv("SHOP_DEPLOY_YES", raising=False)
    lines: list[str] = []
    assert main(["preflight", *cli_args], runner=FakeCdk(session), session=session, stdin=_Terminal(answer),
                out=lines.append) == 1
    assert any(entry.startswith("  ?") and SENDER in entry for entry in lines)
    identities = session.client("sesv2").list_email_identities()["EmailIdentities"]
    assert [i["IdentityName"] for i in identities] == ([SENDER] if started else [])
