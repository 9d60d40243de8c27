"""Deploys the synthesized template into moto: the same tables, topic, functions and state machine
that `cdk deploy` creates on AWS, with physical names chosen locally.

Resources local mode has no use for (IAM policies, permissions, log groups, the layer) are
skipped; a resource type it does not know fails loudly, so the stack cannot outgrow local mode
silently.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import Any

from shop.local.template import ACCOUNT_ID, REGION, Resolver, Template, UnsupportedTemplate

_SKIPPED = {
    "AWS::IAM::Role",  # moto gets one local role per service instead
    "AWS::IAM::Policy",
    "AWS::Lambda::Permission",
    "AWS::Lambda::LayerVersion",  # dependencies are installed in the local environment
    "AWS::Logs::LogGroup",
    "AWS::SNS::TopicPolicy",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Integration",
    "AWS::CDK::Metadata",
    "AWS::CloudWatch::Alarm",  # no CloudWatch metrics locally: failed orders show as FAILED
}


@dataclass(frozen=True)
class Route:
    """One API Gateway route: `GET /orders/{orderId}` -> a handler."""

    method: str
    path: str
    handler: str
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
    handler: str
    function_name: str


@dataclass
class LocalStack:
    base_url: str
    outputs: dict[str, str] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    function_urls: list[FunctionUrl] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    handlers: dict[str, str] = field(default_factory=dict)  # function name -> handler path


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
        name = default_name = f"{template.stack_name}-{logical_id}"[:64]
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
            # Secrets Manager takes a name wherever it takes an ARN; moto adds a random suffix
            # to ARNs, so the name is what the functions get.
            name = props.get("Name") or default_name
            resolver.refs[logical_id] = name
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
    template: Template, *, clients: Any, base_url: str, environment_overrides: dict[str, str] | None = None
) -> LocalStack:
    """Create the template's resources through `clients(service)` (boto3 clients on moto)."""
    resolver, names = _plan(template, base_url)
    stack = LocalStack(base_url=base_url)
    known = _SKIPPED | {
        "AWS::DynamoDB::Table", "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::Lambda::Function",
        "AWS::Lambda::Url", "AWS::StepFunctions::StateMachine", "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Route", "AWS::SecretsManager::Secret",
    }
    unknown = {r["Type"] for r in template.resources.values()} - known
    if unknown:
        raise UnsupportedTemplate(f"local mode cannot create {sorted(unknown)}")

    roles = {}
    for service in ("lambda", "states"):
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": f"{service}.amazonaws.com"}}]}
        roles[service] = clients("iam").create_role(
            RoleName=f"{template.stack_name}-local-{service}", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]

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

    for logical_id, resource in template.of_type("AWS::SecretsManager::Secret").items():
        length = resource["Properties"].get("GenerateSecretString", {}).get("PasswordLength", 64)
        clients("secretsmanager").create_secret(Name=names[logical_id], SecretString=secrets.token_urlsafe(length))

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
                # Handlers share one process locally, so a name must mean one value everywhere.
                raise UnsupportedTemplate(f"functions disagree on environment variable {key}")
        clients("lambda").create_function(
            FunctionName=names[logical_id],
            Runtime=props["Runtime"],
            Role=roles["lambda"],
            Handler=props["Handler"],
            Code={"ZipFile": _empty_zip()},
            Timeout=int(props.get("Timeout", 3)),
            Environment={"Variables": environment},
        )
        stack.handlers[names[logical_id]] = props["Handler"]

    for resource in template.of_type("AWS::Lambda::Url").values():
        function_id = resource["Properties"]["TargetFunctionArn"]["Fn::GetAtt"][0]
        prefix = _url_prefix(template, function_id)
        function_name = names[function_id]
        stack.function_urls.append(
            FunctionUrl(prefix=prefix, handler=stack.handlers[function_name], function_name=function_name)
        )

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
            Route(method=method, path=path, handler=stack.handlers[function_name], function_name=function_name)
        )

    for logical_id, resource in template.of_type("AWS::StepFunctions::StateMachine").items():
        props = resource["Properties"]
        definition = resolver.resolve(props["DefinitionString"])
        json.loads(definition)  # the resolved definition must be valid JSON before moto sees it
        clients("stepfunctions").create_state_machine(
            name=names[logical_id], definition=definition, roleArn=roles["states"],
            type=props.get("StateMachineType", "STANDARD"),
        )

    stack.outputs = {name: str(resolver.resolve(output["Value"])) for name, output in template.outputs.items()}
    return stack
