"""docs/architecture.svg is drawn from the template (shop/infra/architecture.py) and kept up to date."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from shop.infra.architecture import INTERNET, UndrawnResource, architecture_svg, build

ROOT = Path(__file__).resolve().parents[2]
PICTURE = ROOT / "docs" / "architecture.svg"


def test_the_checked_in_picture_is_the_one_the_template_draws(synthesized):
    drawn = architecture_svg(synthesized.template_path)

    assert drawn == PICTURE.read_text(), "docs/architecture.svg is out of date: run `make architecture`"


@pytest.fixture(scope="module")
def graph(synthesized):
    return build(synthesized.template, "stack")


def _edges(graph) -> dict[tuple[str, str, str], set[str]]:
    """(source label, source caption, target label) -> edge labels: the picture as a reader sees it."""
    def name(node: str) -> tuple[str, str]:
        if node == INTERNET:
            return INTERNET, ""
        label, kind = graph.nodes[node]
        return label, kind.caption

    return {(*name(source), name(target)[0]): labels for (source, target), labels in graph.edges.items()}


def test_requests_flow_from_the_internet_through_the_api_and_the_function_url(graph):
    edges = _edges(graph)

    assert edges[(INTERNET, "", "OrderApi")] == {"HTTPS"}
    assert edges[("OrderApi", "API Gateway HTTP API", "OrderApi")] == {
        "POST /orders", "GET /orders/{orderId}", "GET /products"}
    assert edges[(INTERNET, "", "ApprovalCallback")] == {"links in emails"}
    assert edges[("ApprovalCallback", "Lambda Function URL", "ApprovalCallback")] == {"invoke"}


def test_functions_call_what_their_policies_allow_with_the_actions_they_allow(graph):
    edges = _edges(graph)

    assert edges[("OrderApi", "Lambda function", "Workflow")] == {"StartExecution", "DescribeExecution"}
    assert edges[("OrderApi", "Lambda function", "Products")] == {"BatchGetItem", "Scan"}
    # Its policy names the state machine by a written-out ARN (no Ref: a dependency cycle).
    assert edges[("ApprovalCallback", "Lambda function", "Workflow")] == {"SendTaskSuccess", "SendTaskFailure"}
    assert edges[("ApprovalRequest", "Lambda function", "OwnerNotifications")] == {"Publish"}
    assert edges[("CustomerEmail", "Lambda function", "Amazon SES\nemail to customers")] == {"SendEmail"}


def test_the_state_machine_calls_what_its_tasks_name(graph):
    edges = _edges(graph)

    assert edges[("Workflow", "Step Functions state machine", "CustomerEmail")] == {"lambda:invoke"}
    assert edges[("Workflow", "Step Functions state machine", "ApprovalRequest")] == {
        "lambda:invoke.waitForTaskToken"}
    assert edges[("Workflow", "Step Functions state machine", "Orders")] == {
        "dynamodb:updateItem", "dynamodb:deleteItem"}


def test_the_alarm_watches_the_state_machine_and_notifies_the_topic(graph):
    edges = _edges(graph)

    assert edges[("Workflow", "Step Functions state machine", "FailedExecutions")] == {"ExecutionsFailed"}
    assert edges[("FailedExecutions", "CloudWatch alarm", "OwnerNotifications")] == {"alarm action"}
    assert edges[("OwnerNotifications", "SNS topic", "email subscription")] == set()


def test_an_environment_variable_naming_what_no_policy_covers_is_a_dashed_edge(graph):
    edges = _edges(graph)

    assert edges[("ApprovalRequest", "Lambda function", "ApprovalCallback")] == {"APPROVAL_URL"}
    assert [graph.nodes[target][1].caption for source, target in graph.dashed
            if graph.nodes[source][0] == "ApprovalRequest"] == ["Lambda Function URL"]


def test_labels_carry_no_deploy_parameter(synthesized):
    """The subscription's construct id is the owner's address, which differs per deploy."""
    graph = build(synthesized.template, "stack")

    assert not [label for label, _ in graph.nodes.values() if "@" in label]


def test_a_resource_type_the_picture_does_not_know_is_refused(synthesized):
    template = copy.deepcopy(synthesized.template)
    template["Resources"]["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {}}

    with pytest.raises(UndrawnResource, match="AWS::SQS::Queue"):
        build(template, "stack")
