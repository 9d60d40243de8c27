"""CDK assertions on the synthesized template: what `cdk deploy` would create."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from shop import stack_outputs
from shop.adapters.aws import TransientError
from shop.adapters.stack import REQUIRED_OUTPUTS
from shop.settings import Env
from tests.support import TEST_CONTEXT

# A stack's id as CloudFormation gives it: the names of retained resources end in its last 12 digits.
STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/OrderShop/1c2fa620-982a-11e3-aff7-50e2416294e0"
STACK_SUFFIX = "50e2416294e0"


@pytest.fixture(scope="module")
def template(synthesized) -> Template:
    return Template.from_json(synthesized.template)


def _flatten(value: Any) -> str:
    """A `Fn::Join` of the definition with every reference replaced by a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten(part) for part in parts)
    return "REF"


@pytest.fixture(scope="module")
def definition(synthesized) -> dict[str, Any]:
    machines = [r for r in synthesized.template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert len(machines) == 1
    return json.loads(_flatten(machines[0]["Properties"]["DefinitionString"]))


def _statements(synthesized) -> list[dict[str, Any]]:
    return [
        statement
        for resource in synthesized.template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_workflow_is_a_standard_state_machine(template):
    template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {"StateMachineType": "STANDARD"})


def test_the_approval_step_waits_for_a_task_token_with_a_timeout(definition):
    waiting = {name: s for name, s in definition["States"].items() if s.get("Resource", "").endswith(".waitForTaskToken")}
    assert list(waiting) == ["RequestApproval"]
    state = waiting["RequestApproval"]
    assert state["TimeoutSecondsPath"] == "$.approvalTimeoutSeconds"
    assert state["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    # The links' deadline counts from when the task began to wait, as its timeout does.
    assert state["Parameters"]["Payload"]["waitingSince.$"] == "$$.State.EnteredTime"


def test_rejection_cancellation_and_timeout_are_caught_and_lead_to_the_cancellation_path(definition):
    states = definition["States"]
    catches = {error: catch["Next"] for catch in states["RequestApproval"]["Catch"] for error in catch["ErrorEquals"]}
    # Order matters: States.ALL last, or it would swallow the business outcomes.
    assert list(catches) == ["OrderRejected", "OrderCancelled", "States.Timeout", "States.ALL"]
    assert catches.pop("States.ALL") == "RecordFailure"

    def path_from(name: str) -> list[str]:
        visited = []
        while name:
            visited.append(name)
            name = states[name].get("Next")
        return visited

    for error, first in catches.items():
        path = path_from(first)
        assert "DeleteOrder" in path and "CancellationEmail" in path, (error, path)
        assert path.index("DeleteOrder") < path.index("CancellationEmail")
        assert states[path[-1]]["Type"] == "Pass" and states[path[-1]].get("End")


def test_the_approved_path_ships_waits_then_asks_for_feedback(definition):
    states, name, path = definition["States"], definition["StartAt"], []
    while name:
        path.append(name)
        name = states[name].get("Next")
    assert path == [
        "OrderReceivedEmail", "RequestApproval", "MarkShipped", "ShipmentEmail",
        "WaitBeforeFeedback", "FeedbackEmail", "MarkFeedbackRequested", "OrderCompleted",
    ]
    assert states["WaitBeforeFeedback"]["SecondsPath"] == "$.feedbackDelaySeconds"
    # At most 12 transitions for an approved order: one per state on this path.
    assert len(path) <= 12


def test_every_task_retries_transient_errors_and_records_a_failure(definition):
    states = definition["States"]
    for name, state in states.items():
        if state["Type"] != "Task":
            continue
        retried = {error for retrier in state.get("Retry", []) for error in retrier["ErrorEquals"]}
        assert retried, f"{name} has no Retry"
        # Retrying everything would retry a rejection or the approval timeout.
        assert not retried & {"States.ALL", "States.Timeout", "OrderRejected"}, name
        assert all(r.get("BackoffRate", 1) > 1 for r in state["Retry"]), name
        if name != "RecordFailure":
            final = state["Catch"][-1]
            assert (final["ErrorEquals"], final["Next"]) == (["States.ALL"], "RecordFailure"), name
    assert states["RecordFailure"]["Next"] == "OrderFailed"
    assert states["OrderFailed"]["Type"] == "Fail"


def test_a_failure_after_the_order_was_deleted_still_ends_as_order_failed(definition):
    """CancellationEmail fails after DeleteOrder: RecordFailure's `attribute_exists` condition fails on
    AWS, and that must end the execution as OrderFailed, not as the condition's error."""
    record = definition["States"]["RecordFailure"]
    assert record["Next"] == "OrderFailed"
    catches = {error: catch["Next"] for catch in record.get("Catch", []) for error in catch["ErrorEquals"]}
    assert catches == {"DynamoDB.ConditionalCheckFailedException": "OrderFailed",
                       "States.ALL": "OrderFailedUnrecorded"}
    # The catch is for a missing order only: throttling is still retried, and the order never resurrected.
    assert record["Parameters"]["ConditionExpression"] == "attribute_exists(orderId)"
    assert "DynamoDB.ProvisionedThroughputExceededException" in record["Retry"][0]["ErrorEquals"]


def test_a_failure_that_cannot_be_recorded_still_ends_as_order_failed_and_says_so(definition):
    """RecordFailure runs out of retries too (a throttling burst): the execution must still fail as
    OrderFailed, whose cause does not claim the order was marked."""
    unrecorded = definition["States"]["OrderFailedUnrecorded"]
    assert (unrecorded["Type"], unrecorded["Error"]) == ("Fail", "OrderFailed")
    assert "marked FAILED" not in unrecorded["Cause"] and "out of date" in unrecorded["Cause"]


@pytest.mark.parametrize("state", ["MarkShipped", "MarkFeedbackRequested", "RecordFailure"])
def test_every_status_the_workflow_sets_removes_the_task_token(definition, state):
    """The owner's decision removes the token too, but only while the order awaits approval: when
    the workflow's own update gets there first, it must remove it itself."""
    expression = definition["States"][state]["Parameters"]["UpdateExpression"]
    removed = expression.partition(" REMOVE ")[2]
    assert {name.strip() for name in removed.split(",")} >= {"approvalTaskToken", "approvalLinkId"}


def test_a_failed_execution_alarms_the_owner(template):
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "ExecutionsFailed", "Namespace": "AWS/States", "Threshold": 1,
        "AlarmActions": [Match.object_like({"Ref": Match.string_like_regexp("OwnerNotificationsTopic")})],
    })


def test_the_state_machine_logs_to_a_group_under_the_vended_logs_prefix(template, synthesized):
    from shop.local.template import Resolver

    [machine] = template.find_resources("AWS::StepFunctions::StateMachine").values()
    [destination] = machine["Properties"]["LoggingConfiguration"]["Destinations"]
    log_group_id, _ = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"]
    log_group = template.find_resources("AWS::Logs::LogGroup")[log_group_id]
    # The name ends in a part of the stack's id, so a new stack of the same name gets a new group
    # while the retained one of the previous stack stays.
    assert log_group["DeletionPolicy"] == "Retain"
    resolver = Resolver(stack_name="OrderShop", stack_id=STACK_ID)
    name = resolver.resolve(log_group["Properties"]["LogGroupName"])
    # The state machine's name, which carries the suffix (once).
    assert name == "/aws/vendedlogs/states/OrderShop-OrderWorkflow-50e2416294e0"


def test_the_state_machines_name_is_new_for_each_instance_of_the_stack(synthesized):
    """Step Functions keeps a deleted state machine's name busy (DELETING) until its executions make
    their next transition, up to the approval timeout: a redeploy after `make destroy` must not need it."""
    from shop.local.template import Resolver

    resources = synthesized.template["Resources"]
    [(machine_id, machine)] = [(k, r) for k, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    name = machine["Properties"]["StateMachineName"]
    assert Resolver(stack_name="OrderShop", stack_id=STACK_ID).resolve(name) == "OrderShop-OrderWorkflow-50e2416294e0"
    again = Resolver(stack_name="OrderShop", stack_id=STACK_ID.replace("50e2416294e0", "0123456789ab"))
    assert again.resolve(name) == "OrderShop-OrderWorkflow-0123456789ab"
    # The callback is granted SendTask* on, and told, the ARN of that very machine.
    resolver = Resolver(stack_name="OrderShop", stack_id=STACK_ID)
    arn = resolver.resolve({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":states:", {"Ref": "AWS::Region"},
                                                ":", {"Ref": "AWS::AccountId"}, ":stateMachine:", name]]})
    [grant] = [s for s in _statements(synthesized) if "states:SendTaskSuccess" in json.dumps(s["Action"])]
    assert resolver.resolve(grant["Resource"]) == arn
    told = [r["Properties"]["Environment"]["Variables"][Env.STATE_MACHINE_ARN] for r in resources.values()
            if Env.STATE_MACHINE_ARN in r.get("Properties", {}).get("Environment", {}).get("Variables", {})]
    built = [value for value in told if value != {"Ref": machine_id}]  # the callback's: it cannot Ref it
    assert len(built) == 1 and resolver.resolve(built[0]) == arn
    # Everything else names the machine by reference: the output the console and the CLI read.
    assert synthesized.template["Outputs"][stack_outputs.STATE_MACHINE_ARN]["Value"] == {"Ref": machine_id}


@pytest.mark.parametrize(("stack_name", "fits"), [("S" * 53, True), ("S" * 54, False)])
def test_a_stack_name_too_long_for_the_state_machines_name_is_refused_at_synthesis(tmp_path, stack_name, fits):
    from shop.infra.stack import build_app
    from shop.settings import STATE_MACHINE_NAME_LIMIT

    if fits:
        _, stack = build_app(str(tmp_path), context={**TEST_CONTEXT, "stackName": stack_name})
        assert stack.stack_name == stack_name
        assert len(f"{stack_name}-OrderWorkflow-{'0' * 12}") == STATE_MACHINE_NAME_LIMIT
    else:
        with pytest.raises(ValueError, match=r"too long: 54 characters, at most 53\. The state machine is named"):
            build_app(str(tmp_path), context={**TEST_CONTEXT, "stackName": stack_name})


def _log_group_name(log_group: dict[str, Any]) -> str:
    from shop.local.template import Resolver

    return Resolver(stack_name="OrderShop", stack_id=STACK_ID).resolve(log_group["Properties"]["LogGroupName"])


def test_every_log_group_is_named_for_this_stack_instance_keeps_its_events_a_month_and_is_retained(template):
    """A named group outlives its stack: the name must be new for the next stack of the same name."""
    log_groups = template.find_resources("AWS::Logs::LogGroup")
    assert len(log_groups) == 6  # the state machine's, the API's access log, the four functions'
    for logical_id, log_group in log_groups.items():
        assert log_group["Properties"]["RetentionInDays"] == 30, logical_id
        assert log_group["DeletionPolicy"] == "Retain", logical_id
        assert _log_group_name(log_group).endswith(f"-{STACK_SUFFIX}"), logical_id


def test_the_apis_access_log_group_is_under_the_vended_logs_prefix(template):
    """Not in the account's CloudWatch Logs resource policy, one entry per stack, until its 5,120
    characters are full and no stack can enable logging any more."""
    [stage] = template.find_resources("AWS::ApiGatewayV2::Stage").values()
    log_group_id, _ = stage["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"]
    name = _log_group_name(template.find_resources("AWS::Logs::LogGroup")[log_group_id])
    assert name == f"/aws/vendedlogs/apigateway/OrderShop-{STACK_SUFFIX}"


def test_every_function_logs_to_a_log_group_of_its_own_in_the_stack(template):
    """Not to the one Lambda creates at its first run, outside the stack, kept forever."""
    log_groups = template.find_resources("AWS::Logs::LogGroup")
    functions = template.find_resources("AWS::Lambda::Function")
    groups = {logical_id: function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
              for logical_id, function in functions.items()}
    assert len(set(groups.values())) == len(functions) == 4
    for logical_id, group in groups.items():
        assert _log_group_name(log_groups[group]).startswith("/aws/lambda/OrderShop-"), logical_id


def test_every_functions_role_may_write_to_any_log_group(template):
    """The function's log group is not /aws/lambda/<its name>: its role's basic execution policy
    must allow writing to it, as AWS's does (on every log group), and as local mode knows it."""
    from shop.local.iam.account import MANAGED_POLICIES

    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    [statement] = MANAGED_POLICIES[basic]["Statement"]
    assert statement["Resource"] == "*" and {"logs:CreateLogStream", "logs:PutLogEvents"} <= set(statement["Action"])
    roles = template.find_resources("AWS::IAM::Role")
    for logical_id, function in template.find_resources("AWS::Lambda::Function").items():
        role = roles[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        managed = [json.dumps(arn) for arn in role["Properties"]["ManagedPolicyArns"]]
        assert any("service-role/AWSLambdaBasicExecutionRole" in arn for arn in managed), logical_id


def test_make_destroy_lists_every_log_group_as_staying(synthesized):
    from shop.deploy.destroy import retained_resources

    log_groups = {logical_id for logical_id, resource in synthesized.template["Resources"].items()
                  if resource["Type"] == "AWS::Logs::LogGroup"}
    kept = {k.logical_id for k in retained_resources(synthesized.template) if k.resource_type == "AWS::Logs::LogGroup"}
    assert kept == log_groups and len(log_groups) == 6


def test_the_function_url_is_public_and_can_be_invoked(template):
    template.has_resource_properties("AWS::Lambda::Url", {"AuthType": "NONE"})
    # Since late 2025 a public Function URL needs both permissions for the public principal.
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunctionUrl", "Principal": "*", "FunctionUrlAuthType": "NONE"},
    )
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"Action": "lambda:InvokeFunction", "Principal": "*", "InvokedViaFunctionUrl": True},
    )


def test_http_api_routes(template):
    for route in ("POST /orders", "GET /orders/{orderId}", "GET /products"):
        template.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": route})


def test_grants_are_scoped_to_this_stacks_resources(synthesized):
    logical_ids = set(synthesized.template["Resources"])
    # Actions AWS only grants on "*" (X-Ray tracing and the log-delivery API of Step Functions).
    resource_less = ("xray:", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                     "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                     "logs:DescribeResourcePolicies", "logs:DescribeLogGroups")
    for statement in _statements(synthesized):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert all(action.startswith(resource_less) for action in actions), statement
            continue
        for resource in resources:
            text = json.dumps(resource)
            referenced = any(f'"{logical_id}"' in text for logical_id in logical_ids)
            named = "OrderShop-OrderWorkflow" in text or TEST_CONTEXT["senderEmail"] in text or "shop.test" in text
            assert referenced or named or _only_from_our_sender(statement), f"{actions} granted on {text}"


def _only_from_our_sender(statement: dict[str, Any]) -> bool:
    """SES identities are any recipient's in the sandbox: the grant is scoped by its sender instead."""
    return statement.get("Condition") == {"StringEquals": {"ses:FromAddress": TEST_CONTEXT["senderEmail"]}}


def test_customers_can_be_mailed_in_the_ses_sandbox_but_only_from_the_shops_sender(synthesized):
    [statement] = [s for s in _statements(synthesized) if s["Action"] == "ses:SendEmail"]
    # In the sandbox SES authorizes SendEmail against each recipient's identity too.
    assert _flatten(statement["Resource"]).endswith(":identity/*")
    assert _only_from_our_sender(statement)


def test_the_alarm_may_publish_to_the_owners_topic_which_refuses_plain_http(synthesized):
    [policy] = [r["Properties"]["PolicyDocument"] for r in synthesized.template["Resources"].values()
                if r["Type"] == "AWS::SNS::TopicPolicy"]
    by_effect = {statement["Effect"]: statement for statement in policy["Statement"]}
    assert by_effect["Deny"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allow = by_effect["Allow"]
    assert (allow["Principal"], allow["Action"]) == ({"Service": "cloudwatch.amazonaws.com"}, "sns:Publish")
    [alarm_id] = [lid for lid, r in synthesized.template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [alarm_id, "Arn"]}}}
    # ...on the very topic the alarm notifies.
    alarm_actions = synthesized.template["Resources"][alarm_id]["Properties"]["AlarmActions"]
    Template.from_json(synthesized.template).has_resource_properties("AWS::SNS::TopicPolicy", {
        "Topics": alarm_actions,
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
            "Resource": alarm_actions[0],
        })])},
    })


def test_the_callback_may_only_answer_this_state_machine(synthesized):
    statements = [s for s in _statements(synthesized) if "states:SendTaskSuccess" in json.dumps(s["Action"])]
    assert len(statements) == 1
    assert set(statements[0]["Action"]) == {"states:SendTaskSuccess", "states:SendTaskFailure"}
    assert "stateMachine:OrderShop-OrderWorkflow" in json.dumps(statements[0]["Resource"])


def test_deploy_parameters_reach_the_functions(template):
    template.has_resource_properties("AWS::Lambda::Function", {
        "Environment": {"Variables": Match.object_like({
            "APPROVAL_TIMEOUT_SECONDS": str(TEST_CONTEXT["approvalTimeoutSeconds"]),
            "FEEDBACK_DELAY_SECONDS": str(TEST_CONTEXT["feedbackDelaySeconds"]),
        })},
    })
    template.has_resource_properties("AWS::Lambda::Function", {
        "Environment": {"Variables": Match.object_like({"SENDER_EMAIL": TEST_CONTEXT["senderEmail"]})},
    })
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": TEST_CONTEXT["ownerEmail"]}
    )


def test_every_function_is_given_the_variables_its_handler_needs(synthesized):
    # A handler fails at its cold start without one of them: the stack must give them all.
    functions = [r["Properties"] for r in synthesized.template["Resources"].values()
                 if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler", "").startswith("shop.")]
    assert len(functions) == 4
    for function in functions:
        handler = importlib.import_module(function["Handler"].rpartition(".")[0])
        given = set(function["Environment"]["Variables"])
        assert handler.runtime_settings.needs <= given, function["Handler"]


def test_no_function_bundle_contains_boto3_and_templates_are_bundled(synthesized):
    assets = [p for p in Path(synthesized.outdir).iterdir() if p.name.startswith("asset.") and p.is_dir()]
    assert assets, "no bundled assets"
    names = {path.name for asset in assets for path in asset.rglob("*")}
    assert "boto3" not in names and "botocore" not in names
    code = next(a for a in assets if (a / "shop" / "handlers").is_dir())
    assert (code / "templates" / "emails" / "order_received.html").is_file()
    for not_deployed in ("shop/infra", "shop/local", "shop/cli", "shop/deploy", "templates/local", "templates/console"):
        assert not (code / not_deployed).exists(), not_deployed
    assert (code / "templates" / "pages" / "approval_review.html").is_file()
    layer = next(a for a in assets if (a / "python").is_dir())
    for package in ("aws_lambda_powertools", "jinja2", "markupsafe", "fastjsonschema", "ulid", "idna"):
        assert (layer / "python" / package).is_dir(), package
    # No bytecode: what this machine's Python compiles, the runtime's would ignore (lambda_bundle.py).
    assert not [path for asset in (code, layer) for path in asset.rglob("*.pyc")]


def test_the_consoles_graph_of_the_definition_reaches_every_state(definition):
    from shop.domain.workflow_graph import START, workflow_graph

    graph = workflow_graph(definition)
    edges = {(e["source"], e["target"], e["kind"], e["label"]) for e in graph["edges"]}

    assert {n["id"] for n in graph["nodes"]} - {START} <= {e["target"] for e in graph["edges"]}
    assert {("RequestApproval", "Cancelled", "catch", "OrderCancelled"),
            ("RequestApproval", "Rejected", "catch", "OrderRejected"),
            ("RequestApproval", "TimedOut", "catch", "States.Timeout"),
            ("RequestApproval", "MarkShipped", "next", "")} <= edges


def test_the_stack_outputs_are_exactly_those_the_owners_tools_read(synthesized):
    """Issue 13, item 5: the names are written once (shop/stack_outputs.py); the template has them all."""
    assert set(synthesized.template["Outputs"]) == set(stack_outputs.ALL)
    assert REQUIRED_OUTPUTS == stack_outputs.ALL


def test_lambda_steps_retry_the_error_the_handlers_raise_by_its_class_name(definition):
    """A handler's TransientError reaches Step Functions as its class name: the name the Lambda
    steps retry on must be that class's."""
    lambda_steps = {name: state for name, state in definition["States"].items()
                    if state["Type"] == "Task" and ":lambda:" in json.dumps(state["Resource"])}
    assert lambda_steps
    for name, state in lambda_steps.items():
        retried = {error for retrier in state["Retry"] for error in retrier["ErrorEquals"]}
        assert TransientError.__name__ in retried, name


def test_every_step_of_a_kind_has_the_one_retry_policy_of_its_kind(definition):
    policies: dict[str, list[str]] = {}
    for state in definition["States"].values():
        if state["Type"] == "Task":
            kind = "lambda" if ":lambda:" in json.dumps(state["Resource"]) else "dynamodb"
            policies.setdefault(kind, []).append(json.dumps(state["Retry"], sort_keys=True))
    assert set(policies) == {"lambda", "dynamodb"}
    assert all(len(set(retries)) == 1 for retries in policies.values()), policies
