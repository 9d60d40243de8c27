"""What must hold before `cdk deploy` creates anything, one line each.

The read-only checks run first: those of the settings alone (the static region list, cdk.json's
addresses), all reported in one run, then those that ask AWS (the credentials; whether the region's
CloudFormation knows every resource type of the template, and whether SES answers there; the
sender; the SES account). Only when none of them failed does preflight act: it bootstraps an
account the CDK has not bootstrapped yet. So a deploy that cannot succeed creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from shop.deploy import CDK_CLI, Out, Runner, line, region_env
from shop.infra.regions import FUNCTION_URL_UNSUPPORTED_REGIONS, supports_function_urls
from shop.samples import SES_SIMULATOR_SUCCESS

# The default CDK bootstrap qualifier; the synthesized template reads the bootstrap stack's version
# from this SSM parameter (its BootstrapVersion parameter) and its CheckBootstrapVersion rule fails
# the deploy when the version is too old.
BOOTSTRAP_VERSION_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
# Domains reserved for examples and tests (RFC 2606, RFC 6761): no mailbox there ever exists, so
# SES can never verify such a sender and an owner there never confirms a subscription.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost")
SES_PRODUCTION_ACCESS = "https://docs.aws.amazon.com/ses/latest/dg/request-production-access.html"
SES_REGIONS = "https://docs.aws.amazon.com/general/latest/gr/ses.html"
# Where the approval links work and SES sends, to suggest when the region cannot host the shop.
SUGGESTED_REGION = "eu-west-1"
FUNCTION_URL_TYPE = "AWS::Lambda::Url"
# A custom resource's type is a name the template gives a Lambda-backed resource, not a registry type.
CUSTOM_RESOURCE_PREFIX = "Custom::"

# Asks a person a yes/no question (or answers for them: `--yes`, no terminal).
Confirm = Callable[[str], bool]


@dataclass
class PreflightResult:
    """What the checks found; `ok` is False when the deploy cannot succeed."""

    ok: bool = True
    account: str = ""
    region: str = ""
    sandbox: bool | None = None  # None: SES's account status could not be read
    lines: list[str] = field(default_factory=list)

    def report(self, status: str, text: str, out: Out) -> None:
        if status == "fail":
            self.ok = False
        self.lines.append(line(status, text))
        out(self.lines[-1])


def _error(error: Exception) -> dict[str, Any]:
    """A botocore ClientError's `Error` part (code, message); empty for any other error."""
    return getattr(error, "response", {}).get("Error", {})


def _error_code(error: Exception) -> str:
    return _error(error).get("Code", "")


def _is_aws_error(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(error, (BotoCoreError, ClientError))


def required_bootstrap_version(template: Mapping[str, Any]) -> int:
    """The bootstrap version the template's CheckBootstrapVersion rule accepts at least.

    The rule asserts that the SSM parameter's value is not one of the versions it lists as too old
    (`Fn::Not` of `Fn::Contains [["1", ..., "5"], BootstrapVersion]`): the requirement is the next.
    """
    try:
        assertions = template["Rules"]["CheckBootstrapVersion"]["Assertions"]
        too_old = assertions[0]["Assert"]["Fn::Not"][0]["Fn::Contains"][0]
        return max(int(version) for version in too_old) + 1
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError("the template has no CheckBootstrapVersion rule the deploy can read: "
                         "synthesize it again with `make synth`") from None


def template_resource_types(template: Mapping[str, Any]) -> list[str]:
    """The CloudFormation registry types the template's resources use, which the region must know."""
    types = {resource["Type"] for resource in template.get("Resources", {}).values()}
    return sorted(name for name in types if not name.startswith(CUSTOM_RESOURCE_PREFIX))


# -- the checks: each reports its line(s) and answers whether later checks can go on ---------------
def check_credentials(session: Any, result: PreflightResult, out: Out) -> bool:
    """Credentials and a region, and that AWS accepts them (STS GetCallerIdentity)."""
    region = session.region_name
    if not region:
        result.report("fail", "no AWS region: set AWS_REGION (e.g. `export AWS_REGION=eu-west-1`) "
                              "or a region in your AWS profile (`aws configure`)", out)
    try:
        credentials = session.get_credentials()
    except Exception as error:  # a broken profile or an expired SSO session, before any call
        if not _is_aws_error(error):
            raise
        result.report("fail", f"AWS credentials cannot be loaded: {error}", out)
        return False
    if credentials is None:
        result.report("fail", "no AWS credentials: set AWS_PROFILE to a profile of `aws configure` "
                              "(or run `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", out)
        return False
    if not region:
        return False
    try:
        identity = session.client("sts").get_caller_identity()
    except Exception as error:
        if not _is_aws_error(error):
            raise
        code = _error_code(error)
        why = f"{code}: {_error(error).get('Message', '')}" if code else str(error)
        result.report("fail", f"AWS refused the credentials ({why}): renew them "
                              "(`aws sso login`, new access keys) and run this again", out)
        return False
    result.account, result.region = identity["Account"], region
    result.report("ok", f"credentials: {identity['Arn']}, account {result.account}, region {region}", out)
    return True


def check_region(region: str, result: PreflightResult, out: Out) -> bool:
    """Lambda Function URLs carry the approval links; the regions known to have none (no AWS call)."""
    if supports_function_urls(region):
        return True
    result.report("fail", f"region {region} has no Lambda Function URLs, which carry the approval links "
                          f"(nor have {', '.join(sorted(FUNCTION_URL_UNSUPPORTED_REGIONS - {region}))}): "
                          f"deploy to another region, e.g. `AWS_REGION={SUGGESTED_REGION} make deploy`", out)
    return False


def check_resource_types(cloudformation: Any, resource_types: Collection[str], result: PreflightResult,
                         out: Out) -> bool:
    """The region's CloudFormation knows every resource type of the template (DescribeType): where it
    does not, `cdk deploy` fails with "Unrecognized resource types", and a bootstrap was for nothing."""
    missing: list[str] = []
    unread: list[tuple[str, Exception]] = []
    for resource_type in resource_types:
        try:
            cloudformation.describe_type(Type="RESOURCE", TypeName=resource_type)
        except Exception as error:
            if _error_code(error) == "TypeNotFoundException":
                missing.append(resource_type)
            elif _is_aws_error(error):
                unread.append((resource_type, error))
            else:
                raise
    region = result.region
    if missing:
        result.report("fail", f"CloudFormation in {region} has no resource type {', '.join(missing)}, which the "
                              "stack uses: `cdk deploy` would fail there (\"Unrecognized resource types\"); deploy "
                              f"to another region, e.g. `AWS_REGION={SUGGESTED_REGION} make deploy`", out)
        return False
    if unread:
        first_type, first_error = unread[0]
        result.report("note", f"cannot ask CloudFormation in {region} about {len(unread)} of the template's "
                              f"resource types ({first_type}: {first_error}); `cdk deploy` will say if {region} "
                              "lacks one", out)
        return True
    urls = ", AWS::Lambda::Url of the approval links among them" if FUNCTION_URL_TYPE in resource_types else ""
    result.report("ok", f"CloudFormation in {region} has every resource type the stack uses "
                        f"({len(resource_types)}{urls})", out)
    return True


def check_ses_offered(sesv2: Any, result: PreflightResult, out: Out) -> tuple[bool, Any]:
    """SES answers in the region (SESv2 GetAccount): the shop sends its customers' emails with it.
    Answers whether it does, and the account (an Exception when it could not be read)."""
    from botocore.exceptions import EndpointConnectionError

    try:
        return True, sesv2.get_account()
    except EndpointConnectionError as error:
        result.report("fail", f"SES does not answer in {result.region} ({error}): SES is not offered there "
                              f"(its regions: {SES_REGIONS}), and the shop sends its emails with it; deploy to "
                              f"another region, e.g. `AWS_REGION={SUGGESTED_REGION} make deploy`", out)
        return False, error
    except Exception as error:
        if not _is_aws_error(error):
            raise
        return True, error


def _reserved(address: str) -> bool:
    domain = address.rpartition("@")[2].lower()
    return domain in RESERVED_DOMAINS or domain.endswith(RESERVED_SUFFIXES)


def check_addresses(owner_email: str, sender_email: str, result: PreflightResult, out: Out) -> bool:
    """cdk.json ships placeholder addresses; nobody can verify or confirm them."""
    ok = True
    for name, key, address in (("owner", "ownerEmail", owner_email), ("sender", "senderEmail", sender_email)):
        if _reserved(address):
            result.report("fail", f"the {name} address {address} is a placeholder nobody can receive mail at: "
                                  f"set {key} in cdk.json's context, or `make deploy ARGS='-c {key}=you@yours.com'`",
                          out)
            ok = False
    return ok


def _identity_verified(sesv2: Any, identity: str) -> bool | None:
    """True/False for an identity SES has; None when it has none of that name."""
    try:
        return bool(sesv2.get_email_identity(EmailIdentity=identity)["VerifiedForSendingStatus"])
    except Exception as error:
        if _error_code(error) == "NotFoundException":
            return None
        raise


def check_sender(sesv2: Any, sender_email: str, confirm: Confirm, result: PreflightResult, out: Out) -> None:
    """SES sends as the sender only once it verified the address, or the address's domain."""
    rerun = "click the link in it, then run `make deploy` again"
    try:
        verified = _identity_verified(sesv2, sender_email)
        domain = sender_email.rpartition("@")[2]
        if not verified and _identity_verified(sesv2, domain):
            result.report("ok", f"SES sender {sender_email}: its domain {domain} is verified", out)
            return
        if verified:
            result.report("ok", f"SES sender {sender_email} is verified", out)
            return
        if verified is False:
            result.report("fail", f"SES sender {sender_email} is not verified yet: AWS emailed it a link; {rerun}", out)
            return
        if not confirm(f"SES has no identity {sender_email}, the shop's sender. Start its verification now "
                       "(AWS emails it a link)?"):
            result.report("fail", f"SES sender {sender_email} is not an SES identity: `make deploy YES=1` starts "
                                  f"its verification (or `aws sesv2 create-email-identity --email-identity "
                                  f"{sender_email}`), then {rerun}", out)
            return
        sesv2.create_email_identity(EmailIdentity=sender_email)
    except Exception as error:
        if not _is_aws_error(error):
            raise
        result.report("fail", f"cannot check the SES sender {sender_email}: {error}", out)
        return
    result.report("fail", f"SES sender {sender_email}: verification started, AWS emailed it a link; {rerun}", out)


def check_sandbox(account: Mapping[str, Any] | Exception, result: PreflightResult, out: Out) -> None:
    """SESv2 GetAccount's answer: in the sandbox, mail reaches verified addresses and the simulator only."""
    if isinstance(account, Exception):
        result.report("note", f"cannot read the SES account status ({account}): if the account is in the SES "
                              "sandbox, only verified customer addresses receive mail", out)
        return
    if not account.get("SendingEnabled", True):
        result.report("fail", f"SES sending is paused for this account in {result.region}: no email would go out "
                              "(see the SES console's Account dashboard)", out)
    result.sandbox = not account.get("ProductionAccessEnabled", False)
    if result.sandbox:
        result.report("note", f"SES is in the sandbox in {result.region}: customer emails reach only addresses you "
                              f"verified and the mailbox simulator ({SES_SIMULATOR_SUCCESS}); an order for any other "
                              "address fails at its first email. Verify a test address with `aws sesv2 "
                              "create-email-identity --email-identity you@yours.com`, or request production "
                              f"access: {SES_PRODUCTION_ACCESS}", out)
    else:
        result.report("ok", "SES has production access: any customer address receives mail", out)


def check_bootstrap(ssm: Any, *, required: int, result: PreflightResult, runner: Runner, out: Out) -> None:
    """The CDK bootstrap stack (CDKToolkit) at the version the template asks for; bootstraps if not."""
    def version() -> int | None:
        try:
            return int(ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)["Parameter"]["Value"])
        except Exception as error:
            if _error_code(error) == "ParameterNotFound":
                return None
            raise

    environment = f"aws://{result.account}/{result.region}"
    try:
        found = version()
    except Exception as error:
        if not _is_aws_error(error):
            raise
        result.report("note", f"cannot read {BOOTSTRAP_VERSION_PARAMETER} ({error}); `cdk deploy` will say if "
                              f"{environment} needs `npx cdk bootstrap {environment}`", out)
        return
    if found is not None and found >= required:
        result.report("ok", f"CDK bootstrap: {environment} is at version {found} (the template needs {required})", out)
        return
    why = "is not bootstrapped for the CDK" if found is None else f"has CDK bootstrap version {found}, older than {required}"
    command = [*CDK_CLI, "bootstrap", environment]
    result.report("do", f"{environment} {why}: running `npx cdk bootstrap {environment}` (the CDKToolkit "
                        "stack: an S3 bucket for the code, the cdk-* roles CloudFormation deploys with)", out)
    status = runner(command, region_env(result.region))
    found = version() if status == 0 else None
    if found is not None and found >= required:
        result.report("ok", f"CDK bootstrap: {environment} is at version {found}", out)
    else:
        result.report("fail", f"`cdk bootstrap {environment}` did not finish (exit {status}): see its output above", out)


def preflight(
    session: Any,
    *,
    owner_email: str,
    sender_email: str,
    required_bootstrap: int,
    resource_types: Collection[str],
    runner: Runner,
    confirm: Confirm,
    out: Out = print,
) -> PreflightResult:
    """Every check, in order; bootstraps only when nothing else stands in the way.

    `resource_types`: the synthesized template's (template_resource_types), which the region's
    CloudFormation must know.
    """
    result = PreflightResult()
    out("Preflight:")
    # What the settings alone rule out, each reported, before the first AWS call.
    region = session.region_name
    region_listed = not region or check_region(region, result, out)
    check_addresses(owner_email, sender_email, result, out)
    # Nothing is asked of (or started in) a region the shop cannot use.
    if not check_credentials(session, result, out) or not region_listed:
        return result
    sesv2 = session.client("sesv2")
    types_known = check_resource_types(session.client("cloudformation"), resource_types, result, out)
    ses_offered, ses_account = check_ses_offered(sesv2, result, out)
    if not (types_known and ses_offered):
        return result
    if not _reserved(sender_email):
        check_sender(sesv2, sender_email, confirm, result, out)
    check_sandbox(ses_account, result, out)
    if result.ok:
        check_bootstrap(session.client("ssm"), required=required_bootstrap, result=result, runner=runner, out=out)
    return result
