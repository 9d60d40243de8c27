"""AWS's policy evaluation logic within one account, checked against the examples AWS documents:
explicit Deny wins, identity or resource policy allows, the account principal delegates, and the
condition operators with their missing-key and multi-value rules. Anything unimplemented raises."""

from __future__ import annotations

from typing import Any

import pytest

from shop.local.iam.policy import (
    CompiledPolicy,
    Decision,
    Effect,
    Request,
    UnsupportedPolicy,
    compile_policy,
    evaluate,
    validate,
)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/OrderApiRole"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ApprovalRole"
TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:owner-notifications"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:approval-callback"
ALARM = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:OrderShop-FailedExecutions"
IDENTITY = f"arn:aws:ses:us-east-1:{ACCOUNT}:identity/example.com"
SECURE = {"aws:SecureTransport": "true"}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def decide(
    action: str,
    resource: str,
    *identity_policies: dict[str, Any] | CompiledPolicy,
    principal: str = ROLE,
    context: dict[str, Any] | None = None,
    resource_policy: dict[str, Any] | CompiledPolicy | None = None,
) -> Decision:
    request = Request(principal, action, resource, context or {})
    return evaluate(request, identity_policies=identity_policies, resource_policy=resource_policy)


# The topic policy CDK writes for enforce_ssl=True (this stack's template), sid and all.
ENFORCE_SSL = policy(
    {
        "Sid": "AllowPublishThroughSSLOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "sns:Publish",
        "Resource": TOPIC,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
)


# --- identity policies, actions and resources ------------------------------------------------------


def test_an_identity_policy_allows_its_action_on_its_resource():
    decision = decide(
        "dynamodb:GetItem", TABLE, policy(allow(["dynamodb:GetItem", "dynamodb:PutItem"], TABLE))
    )
    assert decision == Decision(Effect.ALLOW, "allowed by statement #1 of identity policy #1")
    assert decision.allowed


def test_nothing_matching_is_an_implicit_deny():
    decision = decide("dynamodb:DeleteItem", TABLE, policy(allow("dynamodb:GetItem", TABLE)))
    assert decision == Decision(Effect.IMPLICIT_DENY, "no identity policy allows it")
    assert not decision.allowed


def test_no_policies_at_all_is_an_implicit_deny():
    assert decide("dynamodb:GetItem", TABLE).effect is Effect.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("pattern", "action", "allowed"),
    [
        ("dynamodb:Get*", "dynamodb:GetItem", True),
        ("dynamodb:Get*", "dynamodb:PutItem", False),
        ("DynamoDB:getitem", "dynamodb:GetItem", True),  # actions are case-insensitive
        ("dynamodb:?etItem", "dynamodb:GetItem", True),
        ("dynamodb:?etItem", "dynamodb:BatchGetItem", False),
        ("*", "states:SendTaskSuccess", True),
        ("dynamodb:*", "states:SendTaskSuccess", False),
    ],
)
def test_action_wildcards(pattern, action, allowed):
    assert decide(action, TABLE, policy(allow(pattern, TABLE))).allowed is allowed


@pytest.mark.parametrize(
    ("pattern", "resource", "allowed"),
    [
        (f"arn:aws:dynamodb:*:{ACCOUNT}:table/orders", TABLE, True),
        # `*` spans ":" and "/" in Resource: the table pattern covers its index, as in AWS.
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/*", f"{TABLE}/index/byStatus", True),
        ("arn:aws:dynamodb:*", f"{TABLE}/index/byStatus", True),
        (TABLE, f"{TABLE}/index/byStatus", False),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Orders", TABLE, False),  # resources are case-sensitive
        ("arn:aws:dynamodb:*:*:table/Orders", TABLE, False),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/order?", TABLE, True),
        (f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/order?", f"{TABLE}s", False),
    ],
)
def test_resource_wildcards(pattern, resource, allowed):
    assert decide("dynamodb:Query", resource, policy(allow("dynamodb:Query", pattern))).allowed is allowed


FUNCTION_ALIAS = f"{FUNCTION}:live"


@pytest.mark.parametrize(
    ("pattern", "resource", "allowed"),
    [
        # A `*` inside a segment stays in it: it used to match across the colons (`*` = `.*`).
        ("arn:aws:lambda:us-east-1:*function:approval-callback", FUNCTION, False),
        # ... though the region's segment-ending `*` may take the account along.
        ("arn:aws:lambda:*:*function:approval-callback", FUNCTION, True),
        ("arn:aws:lambda:us-east-1:1*2:function:approval-callback", FUNCTION, True),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:approval-*-x", FUNCTION, False),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:*callback", FUNCTION, True),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:*callback", FUNCTION_ALIAS, False),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:approval-?allback", FUNCTION, True),
        ("arn:aws:lambda:us-east-1:12345678901?:function:approval-callback", FUNCTION, True),
        ("arn:aws:lambda:us-east-?:function:approval-callback", FUNCTION, False),  # `?` is one character, not ":"
        # "If the * wildcard is the last character of a resource ARN segment, it can expand to match
        # beyond the colon boundaries."
        ("arn:aws:lambda:*", FUNCTION, True),
        ("arn:aws:lambda:us-east-1:*", FUNCTION_ALIAS, True),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function*", FUNCTION, True),
        (f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:approval-*", FUNCTION_ALIAS, True),
        ("arn:aws:lambda:*:function:approval-callback", FUNCTION, True),
    ],
)
def test_a_resource_wildcard_spans_colons_only_at_the_end_of_its_segment(pattern, resource, allowed):
    # IAM User Guide, "IAM JSON policy elements: Resource", Using wildcards in resource ARNs.
    invoke = policy(allow("lambda:InvokeFunction", pattern))
    assert decide("lambda:InvokeFunction", resource, invoke).allowed is allowed


def test_arn_like_keeps_a_wildcard_to_its_component():
    # ArnLike checks "each of the six colon-delimited components ... separately": a `*` in the
    # account component never reaches into the resource, where a StringLike's would.
    pattern = "arn:aws:lambda:us-east-1:*function:approval-callback"
    arn_like = policy(allow("sts:AssumeRole", Condition={"ArnLike": {"aws:SourceArn": pattern}}))
    string_like = policy(allow("sts:AssumeRole", Condition={"StringLike": {"aws:SourceArn": pattern}}))
    assert not decide("sts:AssumeRole", "*", arn_like, context={"aws:SourceArn": FUNCTION}).allowed
    assert decide("sts:AssumeRole", "*", string_like, context={"aws:SourceArn": FUNCTION}).allowed


def test_not_action_with_allow_allows_everything_else():
    # IAM User Guide, NotAction: "Allow": every action except IAM's.
    everything_but_iam = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert decide("sns:Publish", TOPIC, everything_but_iam).allowed
    assert decide("iam:CreateUser", "*", everything_but_iam).effect is Effect.IMPLICIT_DENY


def test_not_action_with_deny_denies_everything_else():
    # IAM User Guide, NotAction with Deny: deny all but the listed actions, here IAM and STS.
    only_iam = policy(
        allow("*"),
        {"Sid": "DenyAllButIam", "Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"},
    )
    assert decide("sns:Publish", TOPIC, only_iam) == Decision(
        Effect.EXPLICIT_DENY, "explicitly denied by statement 'DenyAllButIam' of identity policy #1"
    )
    assert decide("sts:GetCallerIdentity", "*", only_iam).allowed


def test_not_resource():
    all_but_secret_topic = policy(
        {
            "Effect": "Allow",
            "Action": "sns:Publish",
            "NotResource": f"arn:aws:sns:us-east-1:{ACCOUNT}:secret-*",
        }
    )
    assert decide("sns:Publish", TOPIC, all_but_secret_topic).allowed
    secret_topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:secret-payroll"
    assert decide("sns:Publish", secret_topic, all_but_secret_topic).effect is Effect.IMPLICIT_DENY


def test_a_compiled_policy_decides_like_its_document_and_names_itself():
    document = policy({"Sid": "ReadOrders", **allow("dynamodb:GetItem", TABLE)})
    compiled = compile_policy(document, name="OrderApiRoleDefaultPolicy")
    assert decide("dynamodb:GetItem", TABLE, compiled) == Decision(
        Effect.ALLOW, "allowed by statement 'ReadOrders' of identity policy 'OrderApiRoleDefaultPolicy'"
    )
    assert decide("dynamodb:GetItem", TABLE, document) == Decision(
        Effect.ALLOW, "allowed by statement 'ReadOrders' of identity policy #1"
    )
    assert decide("dynamodb:PutItem", TABLE, compiled).effect is Effect.IMPLICIT_DENY


# --- explicit deny wins -----------------------------------------------------------------------------


def test_the_enforce_ssl_deny_of_the_resource_policy_beats_an_identity_allow():
    publisher = policy(allow("sns:Publish", TOPIC))
    insecure = decide(
        "sns:Publish", TOPIC, publisher, context={"aws:SecureTransport": "false"}, resource_policy=ENFORCE_SSL
    )
    assert insecure == Decision(
        Effect.EXPLICIT_DENY,
        "explicitly denied by statement 'AllowPublishThroughSSLOnly' of the resource policy",
    )
    secure = decide("sns:Publish", TOPIC, publisher, context=SECURE, resource_policy=ENFORCE_SSL)
    assert secure == Decision(Effect.ALLOW, "allowed by statement #1 of identity policy #1")


def test_an_identity_deny_beats_a_resource_policy_allow_naming_the_role():
    topic_policy = policy(
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sns:Publish", "Resource": TOPIC}
    )
    no_sns = policy({"Effect": "Deny", "Action": "sns:*", "Resource": "*"})
    decision = decide("sns:Publish", TOPIC, no_sns, resource_policy=topic_policy)
    assert decision.effect is Effect.EXPLICIT_DENY
    assert decision.reason == "explicitly denied by statement #1 of identity policy #1"


def test_a_deny_in_a_second_identity_policy_beats_an_allow_in_the_first():
    decision = decide(
        "dynamodb:DeleteItem",
        TABLE,
        policy(allow("dynamodb:*", TABLE)),
        policy({"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"}),
    )
    assert decision == Decision(
        Effect.EXPLICIT_DENY, "explicitly denied by statement #1 of identity policy #2"
    )


# --- resource policy and identity policies within one account ---------------------------------------


def test_a_service_principal_is_allowed_only_by_the_resource_policy():
    # A CloudWatch alarm action on the enforce-SSL topic: the Deny-only policy does not allow it ...
    request = Request("cloudwatch.amazonaws.com", "sns:Publish", TOPIC, {**SECURE, "aws:SourceArn": ALARM})
    assert evaluate(request, identity_policies=[], resource_policy=ENFORCE_SSL) == Decision(
        Effect.IMPLICIT_DENY,
        "the resource policy does not allow it, and a service principal has no identity policies",
    )
    # ... its own Allow, scoped to the alarm, does.
    with_alarm = policy(
        *ENFORCE_SSL["Statement"],
        {
            "Sid": "AllowAlarm",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": TOPIC,
            "Condition": {"ArnEquals": {"aws:SourceArn": ALARM}},
        },
    )
    assert evaluate(request, identity_policies=[], resource_policy=with_alarm) == Decision(
        Effect.ALLOW, "allowed by statement 'AllowAlarm' of the resource policy"
    )
    other_alarm = Request(request.principal, request.action, TOPIC, {**SECURE, "aws:SourceArn": f"{ALARM}-2"})
    assert (
        evaluate(other_alarm, identity_policies=[], resource_policy=with_alarm).effect is Effect.IMPLICIT_DENY
    )


def test_a_service_principal_has_no_identity_policies():
    with pytest.raises(ValueError, match="no identity policies"):
        decide("sns:Publish", TOPIC, policy(allow("sns:Publish")), principal="cloudwatch.amazonaws.com")


def test_a_resource_policy_naming_the_role_allows_it_without_identity_policies():
    topic_policy = policy(
        {"Effect": "Allow", "Principal": {"AWS": [ROLE]}, "Action": "sns:Publish", "Resource": TOPIC}
    )
    assert decide("sns:Publish", TOPIC, resource_policy=topic_policy).allowed
    assert decide("sns:Publish", TOPIC, principal=OTHER_ROLE, resource_policy=topic_policy) == Decision(
        Effect.IMPLICIT_DENY, "neither an identity policy nor the resource policy allows it"
    )


@pytest.mark.parametrize("account", [f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT])
def test_the_account_principal_delegates_to_identity_policies(account):
    topic_policy = policy(
        {"Effect": "Allow", "Principal": {"AWS": account}, "Action": "sns:Publish", "Resource": TOPIC}
    )
    assert decide("sns:Publish", TOPIC, resource_policy=topic_policy) == Decision(
        Effect.IMPLICIT_DENY,
        "no identity policy allows it (the resource policy only delegates to them, naming the account)",
    )
    assert decide(
        "sns:Publish", TOPIC, policy(allow("sns:Publish", TOPIC)), resource_policy=topic_policy
    ).allowed


def test_a_deny_naming_the_account_applies_to_its_roles():
    topic_policy = policy(
        {"Effect": "Deny", "Principal": {"AWS": ACCOUNT}, "Action": "sns:*", "Resource": "*"}
    )
    decision = decide("sns:Publish", TOPIC, policy(allow("sns:Publish")), resource_policy=topic_policy)
    assert decision.effect is Effect.EXPLICIT_DENY


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}])
def test_everyone_includes_anonymous_callers(principal):
    # The Function URL's permission under auth NONE, as CDK writes it for this stack.
    url_policy = policy(
        {
            "Effect": "Allow",
            "Principal": principal,
            "Action": "lambda:InvokeFunctionUrl",
            "Resource": FUNCTION,
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
        }
    )
    request = Request("*", "lambda:InvokeFunctionUrl", FUNCTION, {"lambda:FunctionUrlAuthType": "NONE"})
    assert evaluate(request, identity_policies=[], resource_policy=url_policy).allowed
    iam_auth = Request("*", "lambda:InvokeFunctionUrl", FUNCTION, {"lambda:FunctionUrlAuthType": "AWS_IAM"})
    assert evaluate(iam_auth, identity_policies=[], resource_policy=url_policy).effect is Effect.IMPLICIT_DENY
    assert evaluate(request, identity_policies=[]) == Decision(
        Effect.IMPLICIT_DENY, "there is no resource policy, and an anonymous caller has no identity policies"
    )


def test_not_principal_with_deny_spares_a_role_only_with_its_account():
    def deny_all_but(*arns: str) -> dict[str, Any]:
        return policy(
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": list(arns)},
                "Action": "sns:Publish",
                "Resource": TOPIC,
            },
            {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC},
        )

    # IAM User Guide, NotPrincipal: name the role and its account, or the role is denied anyway.
    assert decide("sns:Publish", TOPIC, resource_policy=deny_all_but(ROLE, ACCOUNT)).allowed
    assert decide("sns:Publish", TOPIC, resource_policy=deny_all_but(ROLE)).effect is Effect.EXPLICIT_DENY
    assert (
        decide("sns:Publish", TOPIC, principal=OTHER_ROLE, resource_policy=deny_all_but(ROLE, ACCOUNT)).effect
        is Effect.EXPLICIT_DENY
    )


# --- conditions -------------------------------------------------------------------------------------


def test_string_like_on_the_from_address():
    # SES's IAM examples: send only from addresses of one domain.
    senders = policy(
        allow("ses:SendEmail", IDENTITY, Condition={"StringLike": {"ses:FromAddress": "*@example.com"}})
    )
    assert decide("ses:SendEmail", IDENTITY, senders, context={"ses:FromAddress": "shop@example.com"}).allowed
    assert not decide(
        "ses:SendEmail", IDENTITY, senders, context={"ses:FromAddress": "shop@example.org"}
    ).allowed
    assert not decide(
        "ses:SendEmail", IDENTITY, senders, context={"ses:FromAddress": "SHOP@EXAMPLE.COM"}
    ).allowed
    assert not decide("ses:SendEmail", IDENTITY, senders).allowed  # missing key: the condition is false


def test_arn_like_on_the_source_arn_of_a_service_principal():
    # The permission CDK gives API Gateway to invoke the order Lambda, from this stack's template.
    permission = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION,
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/*/*/orders"}
            },
        }
    )

    def invoke(context: dict[str, str]) -> Effect:
        request = Request("apigateway.amazonaws.com", "lambda:InvokeFunction", FUNCTION, context)
        return evaluate(request, identity_policies=[], resource_policy=permission).effect

    assert (
        invoke({"aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:abc123/$default/POST/orders"})
        is Effect.ALLOW
    )
    assert invoke(
        {"aws:SourceArn": f"arn:aws:execute-api:us-east-1:{ACCOUNT}:zzz999/$default/POST/orders"}
    ) is (Effect.IMPLICIT_DENY)
    assert invoke({}) is Effect.IMPLICIT_DENY


def test_arn_like_matches_each_arn_component_on_its_own():
    # "Each of the six colon-delimited components of the ARN is checked separately": the region's `*`
    # cannot swallow the account, where StringLike's would.
    pattern = "arn:aws:states:*:stateMachine:*"
    state_machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:OrderWorkflow"
    arn_like = policy(allow("sts:AssumeRole", Condition={"ArnLike": {"aws:SourceArn": pattern}}))
    string_like = policy(allow("sts:AssumeRole", Condition={"StringLike": {"aws:SourceArn": pattern}}))
    assert not decide("sts:AssumeRole", "*", arn_like, context={"aws:SourceArn": state_machine}).allowed
    assert decide("sts:AssumeRole", "*", string_like, context={"aws:SourceArn": state_machine}).allowed
    per_component = policy(
        allow("sts:AssumeRole", Condition={"ArnLike": {"aws:SourceArn": "arn:aws:states:*:*:stateMachine:*"}})
    )
    assert decide("sts:AssumeRole", "*", per_component, context={"aws:SourceArn": state_machine}).allowed


def test_bool_invoked_via_function_url():
    # The second permission of a Function URL under auth NONE (lambda:InvokedViaFunctionUrl).
    via_url = policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:InvokeFunction",
            "Resource": FUNCTION,
            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": True}},
        }
    )

    def invoke(context: dict[str, str]) -> bool:
        request = Request("*", "lambda:InvokeFunction", FUNCTION, context)
        return evaluate(request, identity_policies=[], resource_policy=via_url).allowed

    assert invoke({"lambda:InvokedViaFunctionUrl": "true"})
    assert invoke({"lambda:InvokedViaFunctionUrl": "TRUE"})  # Bool compares case-insensitively
    assert not invoke({"lambda:InvokedViaFunctionUrl": "false"})
    assert not invoke({})


def test_condition_keys_are_case_insensitive_and_string_values_are_not():
    statement = allow("sns:Publish", TOPIC, Condition={"StringEquals": {"AWS:PrincipalTag/Team": "Shop"}})
    assert decide("sns:Publish", TOPIC, policy(statement), context={"aws:principaltag/team": "Shop"}).allowed
    assert not decide(
        "sns:Publish", TOPIC, policy(statement), context={"aws:principaltag/team": "shop"}
    ).allowed
    ignore_case = allow(
        "sns:Publish", TOPIC, Condition={"StringEqualsIgnoreCase": {"aws:PrincipalTag/Team": "Shop"}}
    )
    assert decide(
        "sns:Publish", TOPIC, policy(ignore_case), context={"aws:PrincipalTag/Team": "SHOP"}
    ).allowed


def test_operators_and_keys_are_anded_and_values_ored():
    statement = allow(
        "dynamodb:UpdateItem",
        TABLE,
        Condition={
            "StringEquals": {"dynamodb:ReturnValues": ["NONE", "ALL_NEW"], "aws:PrincipalTag/Team": "shop"},
            "Bool": {"aws:SecureTransport": "true"},
        },
    )
    base = {"dynamodb:ReturnValues": "ALL_NEW", "aws:PrincipalTag/Team": "shop", **SECURE}
    assert decide("dynamodb:UpdateItem", TABLE, policy(statement), context=base).allowed
    assert decide(
        "dynamodb:UpdateItem", TABLE, policy(statement), context={**base, "dynamodb:ReturnValues": "NONE"}
    ).allowed
    for change in (
        {"dynamodb:ReturnValues": "ALL_OLD"},
        {"aws:PrincipalTag/Team": "ops"},
        {"aws:SecureTransport": "false"},
    ):
        assert not decide("dynamodb:UpdateItem", TABLE, policy(statement), context={**base, **change}).allowed


def test_negated_operators_nor_their_values_and_hold_for_a_missing_key():
    deny_others = policy(
        allow("sts:AssumeRole"),
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "ArnNotLike": {"aws:SourceArn": [f"arn:aws:states:*:{ACCOUNT}:stateMachine:*", ALARM]}
            },
        },
    )
    state_machine = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:OrderWorkflow"
    assert decide("sts:AssumeRole", "*", deny_others, context={"aws:SourceArn": state_machine}).allowed
    assert decide("sts:AssumeRole", "*", deny_others, context={"aws:SourceArn": ALARM}).allowed
    other = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/nightly"
    assert (
        decide("sts:AssumeRole", "*", deny_others, context={"aws:SourceArn": other}).effect
        is Effect.EXPLICIT_DENY
    )
    # "If the policy condition requires that the key is not matched, such as StringNotLike or
    # ArnNotLike, and the right key is not present, the condition is true."
    assert decide("sts:AssumeRole", "*", deny_others).effect is Effect.EXPLICIT_DENY


def test_if_exists_holds_when_the_key_is_missing():
    # IAM User Guide, ...IfExists: "StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}
    instances = policy(
        allow("ec2:*", Condition={"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}})
    )
    assert decide("ec2:DescribeInstances", "*", instances).allowed
    assert decide("ec2:RunInstances", "*", instances, context={"ec2:InstanceType": "t2.micro"}).allowed
    assert not decide("ec2:RunInstances", "*", instances, context={"ec2:InstanceType": "m5.large"}).allowed


def test_null_checks_whether_the_key_is_present():
    temporary_only = policy(allow("sns:Publish", TOPIC, Condition={"Null": {"aws:TokenIssueTime": "false"}}))
    assert decide(
        "sns:Publish", TOPIC, temporary_only, context={"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}
    ).allowed
    assert not decide("sns:Publish", TOPIC, temporary_only).allowed
    long_term_only = policy(allow("sns:Publish", TOPIC, Condition={"Null": {"aws:TokenIssueTime": "true"}}))
    assert decide("sns:Publish", TOPIC, long_term_only).allowed
    assert not decide(
        "sns:Publish", TOPIC, long_term_only, context={"aws:TokenIssueTime": "2026-01-01T00:00:00Z"}
    ).allowed


def test_for_all_values_and_for_any_value_on_recipients():
    only_example_com = policy(
        allow(
            "ses:SendEmail",
            IDENTITY,
            Condition={"ForAllValues:StringLike": {"ses:Recipients": "*@example.com"}},
        )
    )
    ours = {"ses:Recipients": ["a@example.com", "b@example.com"]}
    mixed = {"ses:Recipients": ["a@example.com", "b@example.org"]}
    assert decide("ses:SendEmail", IDENTITY, only_example_com, context=ours).allowed
    assert not decide("ses:SendEmail", IDENTITY, only_example_com, context=mixed).allowed
    # ForAllValues "also returns true if there are no context keys in the request".
    assert decide("ses:SendEmail", IDENTITY, only_example_com).allowed

    blocked = policy(
        allow("ses:SendEmail", IDENTITY),
        {
            "Effect": "Deny",
            "Action": "ses:SendEmail",
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"ses:Recipients": "b@example.org"}},
        },
    )
    assert decide("ses:SendEmail", IDENTITY, blocked, context=mixed).effect is Effect.EXPLICIT_DENY
    assert decide("ses:SendEmail", IDENTITY, blocked, context=ours).allowed
    assert decide("ses:SendEmail", IDENTITY, blocked).allowed  # ForAnyValue is false without the key


def test_a_set_operator_with_a_negated_operator():
    none_from_blocklist = policy(
        allow(
            "ses:SendEmail",
            IDENTITY,
            Condition={
                "ForAllValues:StringNotEquals": {"ses:Recipients": ["x@example.com", "y@example.com"]}
            },
        )
    )
    assert decide(
        "ses:SendEmail", IDENTITY, none_from_blocklist, context={"ses:Recipients": ["a@example.com"]}
    ).allowed
    assert not decide(
        "ses:SendEmail",
        IDENTITY,
        none_from_blocklist,
        context={"ses:Recipients": ["a@example.com", "y@example.com"]},
    ).allowed


@pytest.mark.parametrize(
    "recipients", [["a@example.com"], ["a@example.com", "b@example.com"], []], ids=["one", "two", "none"]
)
@pytest.mark.parametrize("operator", ["StringLike", "StringNotLike", "StringLikeIfExists"])
def test_a_multivalued_key_without_a_set_operator_is_not_guessed_whatever_its_count(operator, recipients):
    # "Multivalued context keys require a condition set operator", and whether a key is multivalued
    # "depends on the number of values in the request context": ses:Recipients is a set even when it
    # holds one address, so one value is refused like two (it used to be judged as a plain string).
    plain = policy(allow("ses:SendEmail", IDENTITY, Condition={operator: {"ses:Recipients": "*@example.com"}}))
    with pytest.raises(UnsupportedPolicy, match="multivalued context key: use ForAnyValue or ForAllValues"):
        decide("ses:SendEmail", IDENTITY, plain, context={"ses:Recipients": recipients})
    # A single-valued key (a string in the request) is judged as before.
    assert decide("ses:SendEmail", IDENTITY, plain, context={"ses:Recipients": "a@example.com"}).allowed is (
        operator != "StringNotLike"
    )


@pytest.mark.parametrize(
    ("operator", "bound", "value", "holds"),
    [
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericLessThanEquals", "10", "11", False),
        ("NumericLessThan", "10", "10", False),
        ("NumericGreaterThan", "10", "10.5", True),
        ("NumericGreaterThanEquals", "10", "9", False),
        ("NumericEquals", 10, "10.0", True),
        ("NumericNotEquals", "10", "10", False),
    ],
)
def test_numeric_operators(operator, bound, value, holds):
    # IAM User Guide, numeric condition operators: "NumericLessThanEquals": {"s3:max-keys": "10"}
    listing = policy(allow("s3:ListBucket", Condition={operator: {"s3:max-keys": bound}}))
    assert decide("s3:ListBucket", "*", listing, context={"s3:max-keys": value}).allowed is holds


@pytest.mark.parametrize("value", ["ten", "", "NaN", "Infinity", "10 keys"])
@pytest.mark.parametrize(
    "operator",
    ["NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericGreaterThanEquals",
     "NumericLessThanIfExists", "NumericNotEqualsIfExists"],
)
def test_a_value_that_is_not_a_number_matches_no_numeric_operator(operator, value):
    # It used to raise ValueError out of evaluate (neither a decision nor UnsupportedPolicy). The
    # comparison cannot be made, so the condition does not match, negated or not: ...IfExists only
    # changes what a missing key does, and the key is present.
    listing = policy(allow("s3:ListBucket", Condition={operator: {"s3:max-keys": "10"}}))
    decision = decide("s3:ListBucket", "*", listing, context={"s3:max-keys": value})
    assert decision == Decision(Effect.IMPLICIT_DENY, "no identity policy allows it")
    deny_unless = policy(allow("s3:ListBucket"), {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                                                   "Condition": {operator: {"s3:max-keys": "10"}}})
    assert decide("s3:ListBucket", "*", deny_unless, context={"s3:max-keys": value}).allowed
    # Under a set operator the unreadable value is one that does not match.
    for_all = policy(allow("s3:ListBucket", Condition={f"ForAllValues:{operator}": {"s3:max-keys": "10"}}))
    assert not decide("s3:ListBucket", "*", for_all, context={"s3:max-keys": ["10", value]}).allowed


# --- resources of another account --------------------------------------------------------------------

OTHER_ACCOUNT = "999999999999"
OTHER_TOPIC = f"arn:aws:sns:us-east-1:{OTHER_ACCOUNT}:their-topic"


def test_a_resource_in_another_account_needs_its_resource_policy_to_allow_too():
    # IAM User Guide, "Cross-account policy evaluation logic": the identity policy and the resource
    # policy must both allow. It used to be judged by the identity policy alone.
    publish_anything = policy(allow("sns:Publish", "*"))
    assert decide("sns:Publish", OTHER_TOPIC, publish_anything) == Decision(
        Effect.IMPLICIT_DENY,
        f"the resource is in account {OTHER_ACCOUNT}, not {ACCOUNT}: across accounts both an identity "
        "policy and the resource policy must allow it, and it has no resource policy",
    )
    assert decide("sns:Publish", TOPIC, publish_anything).allowed  # the caller's own account: as before

    def their_policy(principal: Any) -> dict[str, Any]:
        return policy({"Sid": "Ours", "Effect": "Allow", "Principal": principal, "Action": "sns:Publish",
                       "Resource": OTHER_TOPIC})

    # The resource policy alone does not do either, even naming the role itself ...
    assert decide("sns:Publish", OTHER_TOPIC, resource_policy=their_policy({"AWS": ROLE})).effect is (
        Effect.IMPLICIT_DENY
    )
    # ... both together do, whether it names the role or trusts the caller's account.
    for principal in ({"AWS": ROLE}, {"AWS": ACCOUNT}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "*"):
        decision = decide("sns:Publish", OTHER_TOPIC, publish_anything, resource_policy=their_policy(principal))
        assert decision == Decision(
            Effect.ALLOW, "allowed by statement #1 of identity policy #1 and allowed by statement 'Ours' "
            "of the resource policy"
        ), principal
    assert decide("sns:Publish", OTHER_TOPIC, publish_anything,
                  resource_policy=their_policy({"AWS": OTHER_ROLE})).effect is Effect.IMPLICIT_DENY
    # A service principal has no account of its own: the resource policy decides, as before.
    service = Request("cloudwatch.amazonaws.com", "sns:Publish", OTHER_TOPIC, SECURE)
    assert evaluate(service, identity_policies=[],
                    resource_policy=their_policy({"Service": "cloudwatch.amazonaws.com"})).allowed


def test_an_arn_without_an_account_is_the_callers():
    bucket = policy(allow("s3:GetObject", "arn:aws:s3:::bucket/*"))
    assert decide("s3:GetObject", "arn:aws:s3:::bucket/key", bucket).allowed
    managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert decide("iam:GetPolicy", managed, policy(allow("iam:GetPolicy"))).allowed


# --- what is not implemented fails loudly -----------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            policy(allow("s3:*", Condition={"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}})),
            "DateLessThan",
        ),
        (policy(allow("s3:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})), "IpAddress"),
        (policy(allow("s3:*", Condition={"ForAnyValue:Null": {"aws:TagKeys": "true"}})), "ForAnyValue:Null"),
        (policy(allow("s3:*", "arn:aws:s3:::bucket/${aws:username}/*")), "policy variables"),
        (
            policy(allow("s3:*", Condition={"StringEquals": {"s3:prefix": "${aws:username}"}})),
            "policy variables",
        ),
        ({"Version": "2010-01-01", "Statement": [allow("s3:*")]}, "Version"),
        (policy({**allow("s3:*"), "Comment": "hi"}), "Comment"),
        (
            policy({"Effect": "Allow", "NotPrincipal": {"AWS": ROLE}, "Action": "sns:*", "Resource": "*"}),
            "NotPrincipal",
        ),
        (
            policy(
                {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/*"}, "Action": "sns:*"}
            ),
            "wildcards",
        ),
        (
            policy(
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                    "Action": "sts:*",
                }
            ),
            "Federated",
        ),
        (policy({"Effect": "Allow", "Action": "sns:Publish"}), "Resource"),  # an identity statement needs one
        (policy({"Effect": "allow", "Action": "sns:Publish", "Resource": "*"}), "Effect"),
        (
            policy(
                {"Effect": "Allow", "Action": "sns:Publish", "NotAction": "sns:Subscribe", "Resource": "*"}
            ),
            "both Action and NotAction",
        ),
        (policy(allow("s3:*", Condition={"ArnLike": {"aws:SourceArn": "*"}})), "six components"),
        (policy(allow("s3:*", Condition={"Bool": {"aws:SecureTransport": "yes"}})), "true or false"),
        (policy(allow("s3:*", Condition={"NumericEquals": {"s3:max-keys": "ten"}})), "not a number"),
        ({"Version": "2012-10-17", "Statement": []}, "at least one statement"),
    ],
)
def test_unsupported_policies_raise(document, message):
    with pytest.raises(UnsupportedPolicy, match=message):
        validate(document)
    with pytest.raises(UnsupportedPolicy, match=message):
        decide("s3:GetObject", "arn:aws:s3:::bucket/key", document)


def test_a_policy_in_the_wrong_place_raises():
    topic_policy = policy(
        {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sns:Publish", "Resource": TOPIC}
    )
    with pytest.raises(UnsupportedPolicy, match="not an identity policy"):
        decide("sns:Publish", TOPIC, topic_policy)
    with pytest.raises(UnsupportedPolicy, match="not a resource policy"):
        decide("sns:Publish", TOPIC, resource_policy=policy(allow("sns:Publish")))


def test_a_principal_from_another_account_is_not_judged():
    with pytest.raises(ValueError, match="not in account"):
        decide("sns:Publish", TOPIC, principal="arn:aws:iam::999999999999:role/Other")


def test_this_stacks_trust_policy_validates_and_decides():
    # The state machine role's trust policy, as CDK writes it (resolved): no Resource, two conditions.
    trust = policy(
        {
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:*"},
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
            },
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
        }
    )
    validate(trust)
    context = {
        "aws:SourceArn": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:OrderWorkflow",
        "aws:SourceAccount": ACCOUNT,
    }
    role = f"arn:aws:iam::{ACCOUNT}:role/WorkflowRole"
    request = Request("states.amazonaws.com", "sts:AssumeRole", role, context)
    assert evaluate(request, identity_policies=[], resource_policy=trust).allowed
    lambda_service = Request("lambda.amazonaws.com", "sts:AssumeRole", role, context)
    assert (
        evaluate(lambda_service, identity_policies=[], resource_policy=trust).effect is Effect.IMPLICIT_DENY
    )
