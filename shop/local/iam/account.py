"""The account's policies as the synthesized template sets them up, resolved to local ARNs:
identity policies per role, resource policies per resource, trust policies per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shop.local.template import ACCOUNT_ID, REGION, Resolver, Template, UnsupportedTemplate

# AWS managed policies the stack attaches, as AWS publishes them (the template names them only by
# ARN). AWSLambdaBasicExecutionRole lets a function write its own logs.
MANAGED_POLICIES: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Resource": "*",
                       "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]}],
    },
}


@dataclass
class AccountPolicies:
    identity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # principal ARN -> policies
    resource: dict[str, dict[str, Any]] = field(default_factory=dict)  # resource ARN -> its policy
    trust: dict[str, dict[str, Any]] = field(default_factory=dict)  # role ARN -> who may assume it
    # Where each identity statement came from, to name it in a denial: (role ARN, index) -> logical id.
    sources: dict[tuple[str, int], str] = field(default_factory=dict)

    def attach(self, principal_arn: str, document: dict[str, Any], source: str = "") -> None:
        policies = self.identity.setdefault(principal_arn, [])
        self.sources[(principal_arn, len(policies))] = source
        policies.append(document)

    def add_resource_statements(self, resource_arn: str, statements: list[dict[str, Any]]) -> None:
        policy = self.resource.setdefault(resource_arn, {"Version": "2012-10-17", "Statement": []})
        policy["Statement"].extend(statements)

    @classmethod
    def from_template(cls, template: Template, resolver: Resolver) -> AccountPolicies:
        account = cls()
        for logical_id, resource in template.of_type("AWS::IAM::Role").items():
            props = resolver.resolve(resource["Properties"])
            role_arn = role_arn_of(resolver.refs[logical_id])
            account.trust[role_arn] = props["AssumeRolePolicyDocument"]
            account.identity.setdefault(role_arn, [])
            for managed in props.get("ManagedPolicyArns", []):
                if managed not in MANAGED_POLICIES:
                    raise UnsupportedTemplate(f"local mode does not know the managed policy {managed}")
                account.attach(role_arn, MANAGED_POLICIES[managed], managed)
            for inline in props.get("Policies", []):
                account.attach(role_arn, inline["PolicyDocument"], f"{logical_id}/{inline['PolicyName']}")
        for logical_id, resource in template.of_type("AWS::IAM::Policy").items():
            props = resolver.resolve(resource["Properties"])
            for role_name in props.get("Roles", []):
                account.attach(role_arn_of(role_name), props["PolicyDocument"], logical_id)
        for resource in template.of_type("AWS::SNS::TopicPolicy").values():
            props = resolver.resolve(resource["Properties"])
            for topic_arn in props["Topics"]:
                account.add_resource_statements(topic_arn, props["PolicyDocument"]["Statement"])
        for logical_id, resource in template.of_type("AWS::Lambda::Permission").items():
            props = resolver.resolve(resource["Properties"])
            function_arn = function_arn_of(props["FunctionName"])
            account.add_resource_statements(function_arn, [permission_statement(logical_id, function_arn, props)])
        return account


def role_arn_of(name_or_arn: str) -> str:
    return name_or_arn if name_or_arn.startswith("arn:") else f"arn:aws:iam::{ACCOUNT_ID}:role/{name_or_arn}"


def function_arn_of(name_or_arn: str) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name_or_arn}"


def permission_statement(sid: str, function_arn: str, props: dict[str, Any]) -> dict[str, Any]:
    """An `AWS::Lambda::Permission` as the statement Lambda adds to the function's policy."""
    principal = props["Principal"]
    if principal == "*":
        principal_element: Any = "*"
    elif principal.endswith(".amazonaws.com"):
        principal_element = {"Service": principal}
    else:
        principal_element = {"AWS": principal}
    conditions: dict[str, dict[str, str]] = {}
    if "SourceArn" in props:
        conditions.setdefault("ArnLike", {})["aws:SourceArn"] = props["SourceArn"]
    if "SourceAccount" in props:
        conditions.setdefault("StringEquals", {})["aws:SourceAccount"] = props["SourceAccount"]
    if "FunctionUrlAuthType" in props:
        conditions.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = props["FunctionUrlAuthType"]
    if props.get("InvokedViaFunctionUrl"):
        conditions.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    unknown = set(props) - {"Action", "FunctionName", "Principal", "SourceArn", "SourceAccount",
                            "FunctionUrlAuthType", "InvokedViaFunctionUrl"}
    if unknown:
        raise UnsupportedTemplate(f"Lambda permission {sid}: local mode does not evaluate {sorted(unknown)}")
    statement = {"Sid": sid, "Effect": "Allow", "Principal": principal_element, "Action": props["Action"],
                 "Resource": function_arn}
    if conditions:
        statement["Condition"] = conditions
    return statement
