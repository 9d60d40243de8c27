"""Local mode's IAM pieces around the evaluator: who a call is, what the template grants, what a
refusal looks like."""

from __future__ import annotations

import contextlib
import sys
import threading
import traceback
from types import SimpleNamespace

import pytest

from shop.local.iam.account import AccountPolicies, permission_statement
from shop.local.iam.actions import FilledOnce
from shop.local.iam.enforcer import AccessDenied, Enforcer, access_denied_code
from shop.local.iam.principals import DEVELOPER, Principals
from shop.local.patches.ses_sandbox import SesSandbox
from shop.local.template import Resolver, Template, UnsupportedTemplate
from tests.support import poll

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:Callback"
ROLE = "arn:aws:iam::123456789012:role/Callback"


def test_each_issued_key_is_its_principal_and_any_other_key_is_the_developer():
    principals = Principals()
    credentials = principals.issue(ROLE)
    assert principals.issue(ROLE) == credentials  # stable: clients made earlier stay valid
    assert principals.of_key(credentials.access_key_id) == ROLE
    header = f"AWS4-HMAC-SHA256 Credential={credentials.access_key_id}/20261201/us-east-1/sns/aws4_request, ..."
    assert principals.of_authorization(header) == ROLE
    assert principals.of_authorization("AWS4-HMAC-SHA256 Credential=testing/2026...") == DEVELOPER
    assert principals.of_authorization(None) == DEVELOPER


def test_a_lambda_permission_becomes_the_statement_lambda_adds_to_the_function_policy():
    url = permission_statement("Url", FUNCTION, {"Action": "lambda:InvokeFunctionUrl", "FunctionName": FUNCTION,
                                                  "Principal": "*", "FunctionUrlAuthType": "NONE"})
    assert url == {"Sid": "Url", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
                   "Resource": FUNCTION, "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}}
    api = permission_statement("Api", FUNCTION, {"Action": "lambda:InvokeFunction", "FunctionName": FUNCTION,
                                                  "Principal": "apigateway.amazonaws.com", "SourceArn": "arn:x"})
    assert api["Principal"] == {"Service": "apigateway.amazonaws.com"}
    assert api["Condition"] == {"ArnLike": {"aws:SourceArn": "arn:x"}}
    with pytest.raises(UnsupportedTemplate, match="PrincipalOrgID"):
        permission_statement("Org", FUNCTION, {"Action": "lambda:InvokeFunction", "FunctionName": FUNCTION,
                                               "Principal": "*", "PrincipalOrgID": "o-1"})


def _enforcer(policies: AccountPolicies) -> Enforcer:
    enforcer = Enforcer(Principals(), task_token_owner=lambda token: None,
                        ses_identity=lambda address: f"arn:aws:ses:us-east-1:123456789012:identity/{address}",
                        ses_sandbox=True)
    enforcer.load(policies)
    return enforcer


def test_a_function_url_needs_both_permissions_as_on_aws_since_2025():
    template = Template("Shop", {
        "Url": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunctionUrl", "FunctionName": FUNCTION, "Principal": "*",
            "FunctionUrlAuthType": "NONE"}},
    }, {})
    enforcer = _enforcer(AccountPolicies.from_template(template, Resolver("Shop")))
    enforcer.authorize("*", "lambda:InvokeFunctionUrl", FUNCTION, {"lambda:FunctionUrlAuthType": "NONE"})
    with pytest.raises(AccessDenied) as denied:
        enforcer.authorize("*", "lambda:InvokeFunction", FUNCTION, {"lambda:InvokedViaFunctionUrl": "true"})
    assert "lambda:InvokeFunction" in str(denied.value) and FUNCTION in str(denied.value)
    assert enforcer.denials == [denied.value.denial]


def test_a_role_may_do_what_its_policy_allows_and_nothing_else():
    policies = AccountPolicies()
    policies.attach(ROLE, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders"}]})
    enforcer = _enforcer(policies)
    enforcer.authorize_call(ROLE, "dynamodb", "GetItem", {"TableName": "Orders", "Key": {}})
    with pytest.raises(AccessDenied, match=r"assumed-role/Callback/.* dynamodb:PutItem"):
        enforcer.authorize_call(ROLE, "dynamodb", "PutItem", {"TableName": "Orders", "Item": {}})
    with pytest.raises(AccessDenied, match="table/Products"):
        enforcer.authorize_call(ROLE, "dynamodb", "GetItem", {"TableName": "Products", "Key": {}})
    enforcer.authorize_call(DEVELOPER, "dynamodb", "DeleteTable", {"TableName": "Orders"})  # the administrator
    assert ("arn:aws:iam::123456789012:role/Callback", "dynamodb:GetItem") in enforcer.allowed


@pytest.mark.parametrize(("service", "code"), [
    ("dynamodb", "AccessDeniedException"), ("stepfunctions", "AccessDeniedException"),
    ("lambda", "AccessDeniedException"), ("secretsmanager", "AccessDeniedException"),
    ("sns", "AuthorizationError"), ("ses", "AccessDenied"), ("cloudformation", "AccessDenied"),
])
def test_a_refusal_has_the_code_the_service_answers_with(service, code):
    assert access_denied_code(service) == code


def test_an_address_is_authorized_as_the_verified_identity_it_belongs_to():
    backend = SimpleNamespace(email_identities={"ada@example.com": 1, "shop.test": 1})
    assert SesSandbox.verified_identity(backend, "Ada <ada@example.com>") == "ada@example.com"
    assert SesSandbox.verified_identity(backend, "orders@shop.test") == "shop.test"
    assert SesSandbox.verified_identity(backend, "success@simulator.amazonses.com") == "success@simulator.amazonses.com"
    assert SesSandbox.verified_identity(backend, "eve@example.org") is None


def test_a_verified_domain_covers_its_subdomains_at_any_depth():
    """SES's guide: with example.com verified, a.example.com, a.b.example.com and their addresses
    need no identities of their own. The nearest verified identity is the one authorized."""
    backend = SimpleNamespace(email_identities={"example.com": 1, "b.example.com": 1, "grace@c.example.com": 1})
    assert SesSandbox.verified_identity(backend, "ada@sub.example.com") == "example.com"
    assert SesSandbox.verified_identity(backend, "ada@a.b.example.com") == "b.example.com"
    assert SesSandbox.verified_identity(backend, "ada@B.Example.com") == "b.example.com"
    assert SesSandbox.verified_identity(backend, "grace@c.example.com") == "grace@c.example.com"
    assert SesSandbox.verified_identity(backend, "ada@c.example.com") == "example.com"
    for outside in ("ada@example.com.evil.test", "ada@notexample.com", "ada@com"):
        assert SesSandbox.verified_identity(backend, outside) is None, outside


def _fresh_caches(monkeypatch) -> tuple[FilledOnce, FilledOnce, FilledOnce]:
    """Empty caches of what enforcement resolves (the process's own are warm from other tests)."""
    from shop.local.iam import actions, enforcer

    fresh = (FilledOnce(actions._load_service), FilledOnce(actions._parse_action),
             FilledOnce(enforcer._access_denied_code))
    monkeypatch.setattr(actions, "_service", fresh[0])
    monkeypatch.setattr(actions, "_action", fresh[1])
    monkeypatch.setattr(enforcer, "access_denied_code", fresh[2])
    return fresh


def test_loading_policies_resolves_what_their_calls_need_before_the_first_call(monkeypatch):
    caches = _fresh_caches(monkeypatch)
    policies = AccountPolicies()
    policies.attach(ROLE, {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
        "dynamodb:GetItem", "dynamodb:PutItem", "states:SendTaskSuccess", "lambda:InvokeFunction",
        "ses:SendEmail", "sns:Publish", "secretsmanager:GetSecretValue"]}]})
    enforcer = _enforcer(policies)
    assert {"dynamodb", "stepfunctions", "lambda", "sns", "ses", "sesv2", "secretsmanager"} <= set(enforcer.services)
    resolved = [cache.computed for cache in caches]
    role = ROLE
    for service, operation, params in [
        ("dynamodb", "GetItem", {"TableName": "Orders", "Key": {}}),
        ("dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "Orders", "Item": {}}}]}),
        ("stepfunctions", "SendTaskSuccess", {"taskToken": "t", "output": "{}"}),
        ("lambda", "Invoke", {"FunctionName": "f"}),
        ("sesv2", "SendEmail", {"FromEmailAddress": "a@shop.test", "Destination": {"ToAddresses": ["b@x.test"]},
                                "Content": {}}),
    ]:
        with contextlib.suppress(AccessDenied):
            enforcer.authorize_call(role, service, operation, params)
    assert [cache.computed for cache in caches] == resolved, "a call had to resolve something after the deploy"


def test_threads_that_miss_together_wait_for_one_computation(monkeypatch):
    inside, release = threading.Event(), threading.Event()
    computations = []

    def slow_model(name: str) -> str:
        computations.append(name)
        inside.set()
        release.wait(timeout=30)
        return name.upper()

    cache = FilledOnce(slow_model)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache("dynamodb"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=30)

    def everyone_inside_the_call() -> bool:
        frames = sys._current_frames()
        return all(any(frame.f_code in (FilledOnce.__call__.__code__, slow_model.__code__)
                       for frame, _ in traceback.walk_stack(frames[thread.ident]))
                   for thread in threads if thread.ident in frames)

    poll(everyone_inside_the_call, what="all 8 threads in the cache's call")
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert results == ["DYNAMODB"] * 8
    assert computations == ["dynamodb"]
    assert cache("dynamodb") == "DYNAMODB" and cache.computed == 1
