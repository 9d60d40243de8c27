"""Local mode's IAM evaluator against an independent one, @cloud-copilot/iam-simulate (tests/iam_differential.py):
on a corpus of AWS's documented examples, each with its source, and on requests generated (with a
fixed seed) against the synthesized stack's own policies. tests/e2e/test_lifecycles_enforced.py
compares the requests the lifecycles really make.

Every disagreement that remains is listed below with its reason; any other fails the test, and so
does a listed one that no longer happens (so the list stays true).
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from shop.local.deployer import _plan
from shop.local.iam.account import AccountPolicies
from shop.local.template import ACCOUNT_ID, Template
from tests.iam_differential import Case, Disagreement, compare, local_verdict

DOCS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/Example"
OTHER_ACCOUNT = "111122223333"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def _bucket(name: str) -> str:
    return f"arn:aws:s3:::{name}"


# --- AWS's documented examples -------------------------------------------------------------------

_RESOURCE_DOC = DOCS + "reference_policies_elements_resource.html"
_OPERATORS_DOC = DOCS + "reference_policies_elements_condition_operators.html"
_MULTIVALUED_DOC = DOCS + "reference_policies_condition-single-vs-multi-valued-context-keys.html"
_CROSS_ACCOUNT_DOC = DOCS + "reference_policies_evaluation-logic-cross-account.html"
_LOGIC_DOC = DOCS + "reference_policies_evaluation-logic_policies_evaluation.html"

_NESTED_OBJECTS = policy(allow("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*"))
_TAG_KEYS_ALL = policy(allow("ec2:CreateTags"), {
    "Effect": "Deny", "Action": "ec2:CreateTags", "Resource": "*",
    "Condition": {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["environment", "cost-center"]}}})
_TAG_KEYS_ANY = policy(allow("ec2:CreateTags"), {
    "Effect": "Deny", "Action": "ec2:CreateTags", "Resource": "*",
    "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["webserver"]}}})
_INSTANCE = f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:instance/i-1234567890abcdef0"
_QUEUE = f"arn:aws:sqs:us-east-1:{OTHER_ACCOUNT}:queue1"

DOCUMENTED: list[Case] = [
    Case("resource: */test/* covers a nested object", ROLE, "s3:GetObject",
         "arn:aws:s3:::amzn-s3-demo-bucket/1/2/test/3/object.jpg", {}, [_NESTED_OBJECTS], None, _RESOURCE_DOC),
    Case("resource: */test/* does not cover 1-test/", ROLE, "s3:GetObject",
         "arn:aws:s3:::amzn-s3-demo-bucket/1-test/object.jpg", {}, [_NESTED_OBJECTS], None, _RESOURCE_DOC),
    Case("resource: the accounting path's users", ROLE, "iam:GetUser",
         f"arn:aws:iam::{ACCOUNT_ID}:user/accounting/ada",
         {}, [policy(allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT_ID}:user/accounting/*"))], None, _RESOURCE_DOC),
    Case("resource: a mid-segment * stays in its segment", ROLE, "lambda:InvokeFunction",
         f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:fn",
         {}, [policy(allow("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:*function:fn"))], None, _RESOURCE_DOC),
    Case("resource: a segment-ending * spans colons", ROLE, "lambda:InvokeFunction",
         f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:fn:live",
         {}, [policy(allow("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:f*"))],
         None, _RESOURCE_DOC),
    Case("numeric: s3:max-keys 10 <= 10", ROLE, "s3:ListBucket", _bucket("amzn-s3-demo-bucket"),
         {"s3:max-keys": "10"},
         [policy(allow("s3:ListBucket", Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))],
         None, _OPERATORS_DOC),
    Case("numeric: s3:max-keys 11 > 10", ROLE, "s3:ListBucket", _bucket("amzn-s3-demo-bucket"),
         {"s3:max-keys": "11"},
         [policy(allow("s3:ListBucket", Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))],
         None, _OPERATORS_DOC),
    Case("numeric: a value that is not a number does not match", ROLE, "s3:ListBucket",
         _bucket("amzn-s3-demo-bucket"), {"s3:max-keys": "ten"},
         [policy(allow("s3:ListBucket", Condition={"NumericNotEquals": {"s3:max-keys": "10"}}))],
         None, _OPERATORS_DOC),
    Case("IfExists: no instance type at all", ROLE, "ec2:StartInstances", _INSTANCE, {},
         [policy(allow("ec2:*", Condition={"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}))],
         None, _OPERATORS_DOC),
    Case("IfExists: an m5 instance", ROLE, "ec2:StartInstances", _INSTANCE, {"ec2:InstanceType": "m5.large"},
         [policy(allow("ec2:*", Condition={"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}))],
         None, _OPERATORS_DOC),
    Case("Null: temporary credentials only", ROLE, "ec2:StartInstances", _INSTANCE, {},
         [policy(allow("ec2:*", Condition={"Null": {"aws:TokenIssueTime": "false"}}))], None, _OPERATORS_DOC),
    Case("ForAllValues deny: an unexpected tag key", ROLE, "ec2:CreateTags", _INSTANCE,
         {"aws:TagKeys": ["environment", "owner"]}, [_TAG_KEYS_ALL], None, _MULTIVALUED_DOC),
    Case("ForAllValues deny: only the allowed tag keys", ROLE, "ec2:CreateTags", _INSTANCE,
         {"aws:TagKeys": ["environment"]}, [_TAG_KEYS_ALL], None, _MULTIVALUED_DOC),
    Case("ForAnyValue deny: the webserver tag key", ROLE, "ec2:CreateTags", _INSTANCE,
         {"aws:TagKeys": ["environment", "webserver"]}, [_TAG_KEYS_ANY], None, _MULTIVALUED_DOC),
    Case("multivalued key without a set operator", ROLE, "ec2:CreateTags", _INSTANCE,
         {"aws:TagKeys": ["environment"]},
         [policy(allow("ec2:CreateTags", Condition={"StringEquals": {"aws:TagKeys": "environment"}}))],
         None, _MULTIVALUED_DOC),
    Case("explicit deny beats an allow", ROLE, "s3:DeleteObject", "arn:aws:s3:::amzn-s3-demo-bucket/key", {},
         [policy(allow("s3:*"), {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})], None, _LOGIC_DOC),
    Case("NotAction deny: everything but IAM", ROLE, "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key", {},
         [policy(allow("*"), {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"})], None,
         DOCS + "reference_policies_elements_notaction.html"),
    Case("cross-account: identity policy alone", ROLE, "sqs:SendMessage", _QUEUE, {},
         [policy(allow("sqs:SendMessage"))], None, _CROSS_ACCOUNT_DOC),
    Case("cross-account: the queue policy trusts the account", ROLE, "sqs:SendMessage", _QUEUE, {},
         [policy(allow("sqs:SendMessage"))],
         policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                 "Action": "sqs:SendMessage", "Resource": _QUEUE}), _CROSS_ACCOUNT_DOC),
    Case("cross-account: the queue policy alone", ROLE, "sqs:SendMessage", _QUEUE, {}, [],
         policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sqs:SendMessage", "Resource": _QUEUE}),
         _CROSS_ACCOUNT_DOC),
    Case("same account: the queue policy naming the role alone", ROLE, "sqs:SendMessage",
         f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:queue1", {}, [],
         policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sqs:SendMessage",
                 "Resource": f"arn:aws:sqs:us-east-1:{ACCOUNT_ID}:queue1"}), _LOGIC_DOC),
]

# Where AWS's documentation leaves the answer open and the two evaluators choose differently.
DOCUMENTED_DISAGREEMENTS = {
    "multivalued key without a set operator": (
        "AWS: 'Multivalued context keys require a condition set operator' and documents no result "
        "without one. The local evaluator refuses to judge (UnsupportedPolicy); iam-simulate does not match."),
}


@pytest.fixture(scope="module")
def documented() -> dict[str, Disagreement]:
    return {d.case.name: d for d in compare(DOCUMENTED)}


def test_the_documented_examples_agree_but_for_the_listed(documented):
    assert all(case.source.startswith(DOCS) for case in DOCUMENTED)
    assert set(documented) == set(DOCUMENTED_DISAGREEMENTS), [str(d) for d in documented.values()]
    assert documented["multivalued key without a set operator"].local == "Unsupported"


# --- generated against the stack's policies -------------------------------------------------------


def stack_policies(template_path: Path) -> AccountPolicies:
    """The synthesized stack's policies, resolved to local ARNs as the deployer resolves them."""
    template = Template.load(template_path)
    resolver, names = _plan(template, "http://127.0.0.1:9")
    for logical_id in template.of_type("AWS::SecretsManager::Secret"):  # their ARNs exist once created
        resolver.refs[logical_id] = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT_ID}:secret:{names[logical_id]}-AbCdEf"
    return AccountPolicies.from_template(template, resolver)


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# The resource of an action granted on "*" as its call names it: the functions' own logs, else "*".
_LOG_STREAM = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/lambda/fn:log-stream:2026/01/01"
_ON_LOGS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}


def _concrete(pattern: str, action: str, rng: random.Random) -> str:
    if pattern == "*":
        return _LOG_STREAM if action in _ON_LOGS else "*"
    return pattern.replace("*", rng.choice(["example.com", "live", "order-1", "x:y"]))


def _near_misses(arn: str, rng: random.Random) -> list[str]:
    """An ARN and near misses: another account, another region, another case, a suffix, a qualifier."""
    parts = arn.split(":")
    if len(parts) < 6:
        return [arn]
    return [arn, arn, arn + "x", arn + ":live", arn.swapcase(), rng.choice([arn[:-1], arn.upper()]),
            ":".join([*parts[:4], OTHER_ACCOUNT, *parts[5:]]), ":".join([*parts[:3], "eu-west-1", *parts[4:]])]


def generated_cases(policies: AccountPolicies, count: int, seed: int) -> list[Case]:
    """Requests for the actions and resources the stack's statements name, and near misses of them,
    by every principal, in random contexts (reproducibly: `seed`)."""
    rng = random.Random(seed)
    documents = [d for docs in policies.identity.values() for d in docs] + list(policies.resource.values())
    statements = [s for d in documents for s in d["Statement"]]
    pairs = sorted({(a, r) for s in statements for a in _strings(s["Action"]) for r in _strings(s.get("Resource", "*"))})
    actions_of: dict[str, set[str]] = {}
    for action, _ in pairs:
        actions_of.setdefault(action.split(":")[0], set()).add(action)
    source_arns = sorted({v for s in statements for c in s.get("Condition", {}).values()
                          for k, v in c.items() if k == "aws:SourceArn"})
    principals = [*policies.identity, "apigateway.amazonaws.com", "cloudwatch.amazonaws.com", "*"]

    cases = []
    for number in range(count):
        action, pattern = rng.choice(pairs)
        if rng.random() < 0.3:  # another action of the same service on the same resource
            action = rng.choice(sorted(actions_of[action.split(":")[0]]))
        resource = rng.choice(_near_misses(_concrete(pattern, action, rng), rng))
        principal = rng.choice(principals)
        context: dict[str, Any] = {"aws:SecureTransport": rng.choice(["true", "true", "false"])}
        if source_arns and rng.random() < 0.6:
            context["aws:SourceArn"] = rng.choice(_near_misses(_concrete(rng.choice(source_arns), action, rng), rng))
        if rng.random() < 0.3:
            context["ses:FromAddress"] = rng.choice(["shop@example.com", "shop@example.org", "SHOP@example.com"])
        if rng.random() < 0.3:
            context["lambda:FunctionUrlAuthType"] = rng.choice(["NONE", "AWS_IAM"])
        resource_policy = policies.resource.get(resource)
        if resource_policy is None and resource.startswith("arn:aws:lambda:"):  # as the enforcer: a qualified ARN
            resource_policy = policies.resource.get(":".join(resource.split(":")[:7]))
        cases.append(Case(f"generated #{number}", principal, action, resource, context,
                          policies.identity.get(principal, []), resource_policy))
    return cases


# Where the generated requests are judged differently, and why; `_known_generated` tells them apart.
GENERATED_DISAGREEMENTS = {
    "must.use.wildcard": (
        "iam-simulate refuses an ARN for an action that the service authorization reference lists "
        "without resource types. AWS authorizes states:SendTaskSuccess/Failure against the state "
        "machine that issued the token (shop/local/iam/actions.py, _task_token_callback), which the "
        "stack's grant names; and a generated request names an ARN for logs:DescribeLogGroups and the like."),
    "no.resource.types": (
        "a generated near miss (a topic or table ARN with a qualifier, a state machine ARN for an "
        "execution's action) is of none of the action's resource types: AWS would not make such a request."),
}


def _known_generated(disagreement: Disagreement) -> str | None:
    """Which listed reason explains a disagreement on a generated request; None when none does."""
    if disagreement.independent != "error":
        return None
    for reason in GENERATED_DISAGREEMENTS:
        if f'"message":"{reason}"' in disagreement.message:
            return reason
    return None


def test_a_generated_set_against_the_stacks_policies_agrees_but_for_the_listed(synthesized):
    cases = generated_cases(stack_policies(synthesized.template_path), count=4000, seed=18)
    disagreements = compare(cases)
    unexplained = [str(d) for d in disagreements if _known_generated(d) is None]
    assert unexplained == []
    reasons = Counter(_known_generated(d) for d in disagreements)
    assert set(reasons) <= set(GENERATED_DISAGREEMENTS)
    # Most requests are judged by both, and each verdict occurs: the set is not all refusals.
    assert len(disagreements) < len(cases) // 4, reasons
    verdicts = Counter(local_verdict(case) for case in cases)
    assert {"Allowed", "ExplicitlyDenied", "ImplicitlyDenied"} <= set(verdicts), verdicts
