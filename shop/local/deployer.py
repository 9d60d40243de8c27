"""Deploys the synthesized template into moto: the same tables, topic, functions and state machine
that `cdk deploy` creates on AWS, with physical names chosen locally.

IAM roles are created with their trust policies, and every function and the state machine runs
as its own role. The policies themselves (identity policies, topic policies, Lambda permissions)
are read into `LocalStack.policies`, which local mode's IAM enforcement evaluates. Resources local
mode has no use for (log groups, the layer, the API's stage) are skipped; a resource type it does
not know fails loudly, so the stack cannot outgrow local mode silently.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import Any

from shop.local.functions import LocalFunction, lambda_environment
from shop.local.iam.account import AccountPolicies
from shop.local.iam.principals import Principals
from shop.local.template import ACCOUNT_ID, REGION, Resolver, Template, UnsupportedTemplate

_SKIPPED = {
    "AWS::Lambda::LayerVersion",  # dependencies are installed in the local environment
    "AWS::Logs::LogGroup",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Integration",
    "AWS::CDK::Metadata",
}
# Read, not created: policies go to the IAM enforcement (shop/local/iam/account.py), and alarms,
# which local mode does not run (no CloudWatch metrics), have their actions checked at deploy.
_READ = {"AWS::IAM::Policy", "AWS::Lambda::Permission", "AWS::SNS::TopicPolicy", "AWS::CloudWatch::Alarm"}


@dataclass(frozen=True)
class Route:
    """One API Gateway route: `GET /orders/{orderId}` -> the function that serves it."""

    method: str
    path: str
    function_name: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        found = re.match(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class FunctionUrl:
    """A Lambda Function URL, served locally under `/<prefix>/`."""

    prefix: str
    function_name: str
    auth_type: str = "NONE"


@dataclass(frozen=True)
class AlarmAction:
    """A CloudWatch alarm's action: CloudWatch calls it as `cloudwatch.amazonaws.com`."""

    alarm_arn: str
    action_arn: str


@dataclass
class LocalStack:
    base_url: str
    outputs: dict[str, str] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    function_urls: list[FunctionUrl] = field(default_factory=list)
    # Every function's variables, for local mode's own look-ups (table names...); each function
    # itself sees only its own (`functions`).
    environment: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, str] = field(default_factory=dict)  # function name -> handler path
    functions: list[LocalFunction] = field(default_factory=list)
    policies: AccountPolicies = field(default_factory=AccountPolicies)
    alarm_actions: list[AlarmAction] = field(default_factory=list)
    api_id: str = ""
    state_machine_roles: dict[str, str] = field(default_factory=dict)  # state machine ARN -> role ARN


def physical_name(stack_name: str, logical_id: str) -> str:
    """The name local mode gives a resource the template leaves unnamed (CloudFormation's rule, shortened)."""
    return f"{stack_name}-{logical_id}"[:64]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _url_prefix(template: Template, function_id: str) -> str:
    """`OrderShop/ApprovalCallback/Function/Resource` -> `approval-callback`."""
    parts = template.construct_path(function_id).split("/")
    return _kebab(parts[1] if len(parts) > 2 else function_id)


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "local mode runs the handlers in-process")
    return buffer.getvalue()


def _plan(template: Template, base_url: str) -> tuple[Resolver, dict[str, str]]:
    """Physical names and ARNs for every resource, before anything is created, so resources can
    reference each other in any order."""
    resolver = Resolver(stack_name=template.stack_name)
    names: dict[str, str] = {}
    arn = f"{REGION}:{ACCOUNT_ID}"
    for logical_id, resource in template.resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        name = default_name = physical_name(template.stack_name, logical_id)
        if kind == "AWS::DynamoDB::Table":
            name = props.get("TableName") or default_name
            resolver.refs[logical_id] = name
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{arn}:table/{name}"
        elif kind == "AWS::SNS::Topic":
            name = props.get("TopicName") or default_name
            resolver.refs[logical_id] = f"arn:aws:sns:{arn}:{name}"
            resolver.attributes[(logical_id, "TopicName")] = name
        elif kind == "AWS::Lambda::Function":
            name = props.get("FunctionName") or default_name
            resolver.refs[logical_id] = name
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:lambda:{arn}:function:{name}"
        elif kind == "AWS::Lambda::Url":
            function_id = props["TargetFunctionArn"]["Fn::GetAtt"][0]
            url = f"{base_url}/{_url_prefix(template, function_id)}/"
            resolver.attributes[(logical_id, "FunctionUrl")] = url
        elif kind == "AWS::StepFunctions::StateMachine":
            # The real name may be an expression: resolved in a second pass, below.
            resolver.refs[logical_id] = f"arn:aws:states:{arn}:stateMachine:{name}"
        elif kind == "AWS::ApiGatewayV2::Api":
            resolver.refs[logical_id] = logical_id
            resolver.attributes[(logical_id, "ApiEndpoint")] = base_url
        elif kind == "AWS::SecretsManager::Secret":
            name = props.get("Name") or default_name  # its ARN is known once created (deploy)
        elif kind == "AWS::CloudWatch::Alarm":
            name = props.get("AlarmName") or default_name
            resolver.refs[logical_id] = name
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:cloudwatch:{arn}:alarm:{name}"
        elif kind == "AWS::IAM::Role":
            resolver.refs[logical_id] = default_name
            resolver.attributes[(logical_id, "Arn")] = f"arn:aws:iam::{ACCOUNT_ID}:role/{default_name}"
        else:
            resolver.refs[logical_id] = default_name
        names[logical_id] = name
    # State machine names can reference the stack name: resolve them once the rest is known.
    for logical_id, resource in template.of_type("AWS::StepFunctions::StateMachine").items():
        name = resolver.resolve(resource["Properties"].get("StateMachineName")) or names[logical_id]
        resolver.refs[logical_id] = f"arn:aws:states:{arn}:stateMachine:{name}"
        resolver.attributes[(logical_id, "Name")] = name
        names[logical_id] = name
    return resolver, names


def deploy(
    template: Template, *, clients: Any, base_url: str, principals: Principals,
    environment_overrides: dict[str, str] | None = None,
) -> LocalStack:
    """Create the template's resources through `clients(service)` (boto3 clients on moto); each
    role's local credentials come from `principals`."""
    resolver, names = _plan(template, base_url)
    stack = LocalStack(base_url=base_url)
    known = _SKIPPED | _READ | {"AWS::IAM::Role",
        "AWS::DynamoDB::Table", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::Lambda::Function",
        "AWS::Lambda::Url", "AWS::StepFunctions::StateMachine", "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Route", "AWS::SecretsManager::Secret",
    }
    unknown = {r["Type"] for r in template.resources.values()} - known
    if unknown:
        raise UnsupportedTemplate(f"local mode cannot create {sorted(unknown)}")

    # First, as on AWS a secret's ARN ends in a random suffix: only now can it be referred to.
    for logical_id, resource in template.of_type("AWS::SecretsManager::Secret").items():
        length = resource["Properties"].get("GenerateSecretString", {}).get("PasswordLength", 64)
        resolver.refs[logical_id] = clients("secretsmanager").create_secret(
            Name=names[logical_id], SecretString=secrets.token_urlsafe(length))["ARN"]
    stack.policies = AccountPolicies.from_template(template, resolver)
    for logical_id, resource in template.of_type("AWS::IAM::Role").items():
        trust = resolver.resolve(resource["Properties"]["AssumeRolePolicyDocument"])
        clients("iam").create_role(RoleName=names[logical_id], AssumeRolePolicyDocument=json.dumps(trust))

    for logical_id, resource in template.of_type("AWS::DynamoDB::Table").items():
        props = resolver.resolve(resource["Properties"])
        create = {
            "TableName": names[logical_id],
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            create["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        clients("dynamodb").create_table(**create)


    for logical_id in template.of_type("AWS::SNS::Topic"):
        clients("sns").create_topic(Name=names[logical_id])
    for resource in template.of_type("AWS::SNS::Subscription").values():
        props = resolver.resolve(resource["Properties"])
        clients("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"])

    for logical_id, resource in template.of_type("AWS::Lambda::Function").items():
        props = resolver.resolve(resource["Properties"])
        environment = dict(props.get("Environment", {}).get("Variables", {}))
        environment.update({k: v for k, v in (environment_overrides or {}).items() if k in environment})
        for key, value in environment.items():
            if stack.environment.setdefault(key, value) != value:
                # The runtime looks names up in the union: a name must mean one value everywhere.
                raise UnsupportedTemplate(f"functions disagree on environment variable {key}")
        name, memory = names[logical_id], int(props.get("MemorySize", 128))
        clients("lambda").create_function(
            FunctionName=name,
            Runtime=props["Runtime"],
            Role=props["Role"],
            Handler=props["Handler"],
            Code={"ZipFile": _empty_zip()},
            Timeout=int(props.get("Timeout", 3)),
            MemorySize=memory,
            Environment={"Variables": environment},
        )
        stack.handlers[name] = props["Handler"]
        stack.functions.append(LocalFunction(
            name=name, handler=props["Handler"], role_arn=props["Role"], memory_mb=memory,
            timeout_seconds=int(props.get("Timeout", 3)),
            environment=lambda_environment(
                name, props["Handler"], environment, memory_mb=memory,
                credentials=principals.issue(props["Role"]).as_environment()),
        ))

    for resource in template.of_type("AWS::Lambda::Url").values():
        function_id = resource["Properties"]["TargetFunctionArn"]["Fn::GetAtt"][0]
        prefix = _url_prefix(template, function_id)
        function_name = names[function_id]
        stack.function_urls.append(FunctionUrl(
            prefix=prefix, function_name=function_name,
            auth_type=resource["Properties"].get("AuthType", "NONE"),
        ))

    integrations = {
        logical_id: resource["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        for logical_id, resource in template.of_type("AWS::ApiGatewayV2::Integration").items()
    }
    for resource in template.of_type("AWS::ApiGatewayV2::Route").values():
        props = resource["Properties"]
        method, path = props["RouteKey"].split(" ", 1)
        integration_id = props["Target"]["Fn::Join"][1][1]["Ref"]
        function_id = integrations[integration_id]
        function_name = names[function_id]
        stack.routes.append(
            Route(method=method, path=path, function_name=function_name)
        )

    for logical_id, resource in template.of_type("AWS::StepFunctions::StateMachine").items():
        props = resource["Properties"]
        definition = resolver.resolve(props["DefinitionString"])
        json.loads(definition)  # the resolved definition must be valid JSON before moto sees it
        role_arn = resolver.resolve(props["RoleArn"])
        created = clients("stepfunctions").create_state_machine(
            name=names[logical_id], definition=definition, roleArn=role_arn,
            type=props.get("StateMachineType", "STANDARD"),
        )
        stack.state_machine_roles[created["stateMachineArn"]] = role_arn

    for logical_id, resource in template.of_type("AWS::CloudWatch::Alarm").items():
        alarm_arn = resolver.attributes[(logical_id, "Arn")]
        for action in resolver.resolve(resource["Properties"].get("AlarmActions", [])):
            stack.alarm_actions.append(AlarmAction(alarm_arn=alarm_arn, action_arn=action))
    stack.api_id = next(iter(template.of_type("AWS::ApiGatewayV2::Api")), "")

    stack.outputs = {name: str(resolver.resolve(output["Value"])) for name, output in template.outputs.items()}
    return stack
