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
import string
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shop.local.functions import LocalFunction, default_log_group_name, lambda_environment
from shop.local.iam.account import AccountPolicies
from shop.local.iam.principals import Principals
from shop.local.template import ACCOUNT_ID, REGION, Resolver, Template, UnsupportedTemplate, construct_name


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
    stack_id: str = ""  # AWS::StackId of this deployment: new each time, as CloudFormation's
    # logical id -> what CloudFormation calls its physical id (a table's name, a topic's ARN...), for
    # every resource created in moto: what `destroy` deletes.
    physical_ids: dict[str, str] = field(default_factory=dict)


# CloudFormation's random part of a generated name: 13 capitals and digits (`...-1A2B3C4D5E6F7`).
_RANDOM_NAME_PART = 13
_NAME_ALPHABET = string.ascii_uppercase + string.digits


def physical_name_prefix(stack_name: str, logical_id: str) -> str:
    """What every name local mode gives the resource starts with: `<stack>-<logical id>-`."""
    return f"{stack_name}-{logical_id}"[:64 - _RANDOM_NAME_PART - 1] + "-"


def physical_name(stack_name: str, logical_id: str) -> str:
    """The name local mode gives a resource the template leaves unnamed, by CloudFormation's rule:
    `<stack>-<logical id>-<random>`, at most 64 characters. New for each deployment, as on AWS: a
    redeploy after a destroy that kept a resource (the Orders table) must not collide with it."""
    return physical_name_prefix(stack_name, logical_id) + "".join(
        secrets.choice(_NAME_ALPHABET) for _ in range(_RANDOM_NAME_PART))


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def _one(found: list[str], what: str) -> str:
    if len(found) != 1:
        raise UnsupportedTemplate(f"{what}: expected one, found {found or 'none'}")
    return found[0]


def function_url_target(template: Template, props: dict[str, Any]) -> str:
    """The function a Function URL serves: the one its TargetFunctionArn refers to (an Arn, a name)."""
    return _one(template.referenced(props["TargetFunctionArn"], "AWS::Lambda::Function"),
                "the function of a Function URL")


def url_prefix(template: Template, function_id: str) -> str:
    """Where local mode serves a function's URL: `ApprovalCallback` -> `/approval-callback/`."""
    return _kebab(construct_name(function_id, template.resources[function_id]))


def route_target(template: Template, props: dict[str, Any]) -> str:
    """The function an API route calls: the integration its Target refers to, and the function
    that integration's URI refers to, wherever in the expressions they are."""
    integration_id = _one(template.referenced(props["Target"], "AWS::ApiGatewayV2::Integration"),
                          f"the integration of route {props['RouteKey']}")
    uri = template.resources[integration_id]["Properties"]["IntegrationUri"]
    return _one(template.referenced(uri, "AWS::Lambda::Function"),
                f"the function of route {props['RouteKey']}")


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "local mode runs the handlers in-process")
    return buffer.getvalue()


@dataclass
class _Planning:
    """What planning knows so far: each resource's physical name, and the resolver's values."""

    template: Template
    base_url: str
    resolver: Resolver


# resource type -> the function that names it and gives the resolver its Ref and attributes.
# A planner gets (planning, logical id, properties, default name) and returns the physical name.
Planner = Callable[[_Planning, str, dict[str, Any], str], str]
_PLANNERS: dict[str, Planner] = {}
_ARN = f"{REGION}:{ACCOUNT_ID}"


def _plans(*resource_types: str) -> Callable[[Planner], Planner]:
    def register(planner: Planner) -> Planner:
        for resource_type in resource_types:
            if resource_type in _PLANNERS:
                raise ValueError(f"{resource_type} has a planner already")
            _PLANNERS[resource_type] = planner
        return planner
    return register


@_plans(
    # Skipped: dependencies are installed in the local environment (the layer); local mode keeps
    # no logs; the API's stage and integrations are read into routes (`route_target`).
    "AWS::Lambda::LayerVersion", "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Integration", "AWS::CDK::Metadata",
    # Read, not created: policies go to the IAM enforcement (shop/local/iam/account.py).
    "AWS::IAM::Policy", "AWS::Lambda::Permission", "AWS::SNS::TopicPolicy",
    # Created, but nothing refers to them.
    "AWS::SNS::Subscription", "AWS::ApiGatewayV2::Route",
)
def _named_only(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    plan.resolver.refs[logical_id] = name
    return name


@_plans("AWS::Logs::LogGroup")
def _log_group(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    # Not created (local mode keeps no logs), but named as on AWS: a function's LoggingConfig
    # refers to its group, whose name Lambda gives the function (AWS_LAMBDA_LOG_GROUP_NAME).
    name = plan.resolver.resolve(props.get("LogGroupName")) or name
    plan.resolver.refs[logical_id] = name
    plan.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:logs:{_ARN}:log-group:{name}:*"
    return name


@_plans("AWS::IAM::Role")
def _role(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    plan.resolver.refs[logical_id] = name
    plan.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
    return name


@_plans("AWS::DynamoDB::Table")
def _table(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    name = props.get("TableName") or name
    plan.resolver.refs[logical_id] = name
    plan.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{_ARN}:table/{name}"
    return name


@_plans("AWS::SNS::Topic")
def _topic(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    name = props.get("TopicName") or name
    plan.resolver.refs[logical_id] = f"arn:aws:sns:{_ARN}:{name}"
    plan.resolver.attributes[(logical_id, "TopicName")] = name
    return name


@_plans("AWS::Lambda::Function")
def _function(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    name = props.get("FunctionName") or name
    plan.resolver.refs[logical_id] = name
    plan.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:lambda:{_ARN}:function:{name}"
    return name


@_plans("AWS::Lambda::Url")
def _function_url(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    prefix = url_prefix(plan.template, function_url_target(plan.template, props))
    plan.resolver.attributes[(logical_id, "FunctionUrl")] = f"{plan.base_url}/{prefix}/"
    return name


@_plans("AWS::StepFunctions::StateMachine")
def _state_machine(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    # The real name may be an expression (the stack's name in it): `_plan` resolves it once
    # every other value is known.
    plan.resolver.refs[logical_id] = f"arn:aws:states:{_ARN}:stateMachine:{name}"
    return name


@_plans("AWS::ApiGatewayV2::Api")
def _api(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    plan.resolver.refs[logical_id] = logical_id
    plan.resolver.attributes[(logical_id, "ApiEndpoint")] = plan.base_url
    return name


@_plans("AWS::SecretsManager::Secret")
def _secret(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    return props.get("Name") or name  # its Ref, the ARN, is known once created (deploy)


@_plans("AWS::CloudWatch::Alarm")
def _alarm(plan: _Planning, logical_id: str, props: dict[str, Any], name: str) -> str:
    # Local mode runs no alarms (no CloudWatch metrics); their actions are checked at deploy.
    name = props.get("AlarmName") or name
    plan.resolver.refs[logical_id] = name
    plan.resolver.attributes[(logical_id, "Arn")] = f"arn:aws:cloudwatch:{_ARN}:alarm:{name}"
    return name


# What local mode can deploy: a type with no planner fails loudly, so the stack cannot outgrow
# local mode silently.
KNOWN_TYPES = frozenset(_PLANNERS)


def _plan(template: Template, base_url: str) -> tuple[Resolver, dict[str, str]]:
    """Physical names and ARNs for every resource, before anything is created, so resources can
    reference each other in any order."""
    unknown = {r["Type"] for r in template.resources.values()} - KNOWN_TYPES
    if unknown:
        raise UnsupportedTemplate(f"local mode cannot create {sorted(unknown)}")
    plan = _Planning(template, base_url, Resolver(stack_name=template.stack_name))
    names = {
        logical_id: _PLANNERS[resource["Type"]](
            plan, logical_id, resource.get("Properties", {}), physical_name(template.stack_name, logical_id))
        for logical_id, resource in template.resources.items()
    }
    # State machine names can reference the stack name: resolve them once the rest is known.
    resolver = plan.resolver
    for logical_id, resource in template.of_type("AWS::StepFunctions::StateMachine").items():
        name = resolver.resolve(resource["Properties"].get("StateMachineName")) or names[logical_id]
        resolver.refs[logical_id] = f"arn:aws:states:{_ARN}:stateMachine:{name}"
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
    for logical_id, resource in template.of_type("AWS::SNS::Subscription").items():
        props = resolver.resolve(resource["Properties"])
        stack.physical_ids[logical_id] = clients("sns").subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"])["SubscriptionArn"]

    for logical_id, resource in template.of_type("AWS::Lambda::Function").items():
        props = resolver.resolve(resource["Properties"])
        environment = dict(props.get("Environment", {}).get("Variables", {}))
        environment.update({k: v for k, v in (environment_overrides or {}).items() if k in environment})
        for key, value in environment.items():
            if stack.environment.setdefault(key, value) != value:
                # The runtime looks names up in the union: a name must mean one value everywhere.
                raise UnsupportedTemplate(f"functions disagree on environment variable {key}")
        name, memory = names[logical_id], int(props.get("MemorySize", 128))
        log_group = props.get("LoggingConfig", {}).get("LogGroup") or default_log_group_name(name)
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
            timeout_seconds=int(props.get("Timeout", 3)), log_group_name=log_group,
            environment=lambda_environment(
                name, props["Handler"], environment, runtime=props["Runtime"], memory_mb=memory,
                log_group_name=log_group,
                credentials=principals.issue(props["Role"]).as_environment()),
        ))

    for resource in template.of_type("AWS::Lambda::Url").values():
        function_id = function_url_target(template, resource["Properties"])
        stack.function_urls.append(FunctionUrl(
            prefix=url_prefix(template, function_id), function_name=names[function_id],
            auth_type=resource["Properties"].get("AuthType", "NONE"),
        ))

    for resource in template.of_type("AWS::ApiGatewayV2::Route").values():
        props = resource["Properties"]
        method, path = props["RouteKey"].split(" ", 1)
        stack.routes.append(Route(method=method, path=path, function_name=names[route_target(template, props)]))

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
    stack.stack_id = resolver.stack_id
    stack.physical_ids.update({logical_id: resolver.refs[logical_id] for logical_id, resource
                               in template.resources.items() if resource["Type"] in _DELETERS
                               and logical_id not in stack.physical_ids})
    return stack


# How CloudFormation deletes each type local mode creates in moto, given its physical id; in the
# order of `destroy` (the reverse of `deploy`'s).
_DELETERS: dict[str, Callable[[Any, str], object]] = {
    # Asynchronous on AWS: the machine stays DELETING while executions run (patches/stepfunctions_deletion.py).
    "AWS::StepFunctions::StateMachine": lambda clients, arn: clients("stepfunctions").delete_state_machine(
        stateMachineArn=arn),
    "AWS::Lambda::Function": lambda clients, name: clients("lambda").delete_function(FunctionName=name),
    "AWS::SNS::Subscription": lambda clients, arn: clients("sns").unsubscribe(SubscriptionArn=arn),
    "AWS::SNS::Topic": lambda clients, arn: clients("sns").delete_topic(TopicArn=arn),
    "AWS::DynamoDB::Table": lambda clients, name: clients("dynamodb").delete_table(TableName=name),
    "AWS::IAM::Role": lambda clients, name: clients("iam").delete_role(RoleName=name),
    # CloudFormation schedules the deletion (the secret's default recovery window), as here.
    "AWS::SecretsManager::Secret": lambda clients, arn: clients("secretsmanager").delete_secret(SecretId=arn),
}


def destroy(template: Template, stack: LocalStack, *, clients: Any) -> list[str]:
    """Delete a deployed stack as CloudFormation does: every resource created, except those whose
    DeletionPolicy keeps them (shop/deploy/destroy.py reads the same policies for `make destroy`).
    Returns the logical ids of the resources kept."""
    from shop.deploy.destroy import retained_resources

    kept = {k.logical_id for k in retained_resources({"Resources": template.resources})}
    for resource_type, delete in _DELETERS.items():
        for logical_id in template.of_type(resource_type):
            if logical_id not in kept and logical_id in stack.physical_ids:
                delete(clients, stack.physical_ids[logical_id])
    return sorted(kept & set(stack.physical_ids))
