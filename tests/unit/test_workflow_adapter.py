"""The Step Functions adapter's reading side, with a stub client: names to ARNs, paging, and
finished executions asked about once."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from shop.adapters.workflow import NotTaken, TaskGone, Workflow
from shop.domain.workflow_contract import ExecutionStatus

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:OrderShop-OrderWorkflow"


class StubStepFunctions:
    def __init__(self, status: str):
        self.status = status
        self.calls: list[tuple[str, dict]] = []

    def describe_execution(self, **arguments):
        self.calls.append(("describe_execution", arguments))
        return {"status": self.status, "input": json.dumps({"order": {"orderId": "o1"}}), "output": None}

    def list_executions(self, **arguments):
        self.calls.append(("list_executions", arguments))
        if "nextToken" not in arguments:
            return {"executions": [{"name": "b", "status": "RUNNING"}], "nextToken": "page-2"}
        return {"executions": [{"name": "a", "status": "RUNNING"}]}


def test_execution_arns_are_made_from_the_machines():
    assert Workflow(MACHINE).execution_arn("o1") == (
        "arn:aws:states:us-east-1:123456789012:execution:OrderShop-OrderWorkflow:o1")


def test_a_finished_execution_is_described_once():
    stub = StubStepFunctions("SUCCEEDED")
    workflow = Workflow(MACHINE, stepfunctions=stub)

    first, second = workflow.describe("o1"), workflow.describe("o1")

    assert first == second and first.order == {"orderId": "o1"} and first.output is None
    assert len(stub.calls) == 1


def test_a_running_execution_is_described_every_time():
    stub = StubStepFunctions("RUNNING")
    workflow = Workflow(MACHINE, stepfunctions=stub)

    workflow.describe("o1")
    workflow.describe("o1")

    assert len(stub.calls) == 2


def test_executions_follow_every_page_with_the_filter():
    stub = StubStepFunctions("RUNNING")

    names = [e.name for e in Workflow(MACHINE, stepfunctions=stub).executions(status=ExecutionStatus.RUNNING)]

    assert names == ["b", "a"]
    assert [args.get("statusFilter") for _, args in stub.calls] == ["RUNNING", "RUNNING"]
    assert stub.calls[1][1]["nextToken"] == "page-2"


def test_an_answer_step_functions_refused_is_told_apart_from_one_whose_fate_is_unknown():
    import pytest
    from botocore.exceptions import ClientError, ReadTimeoutError

    from shop.adapters.workflow import NotTaken, TaskGone

    def failing(error):
        class Stub:
            def send_task_success(self, **arguments):
                raise error

        return Workflow(MACHINE, stepfunctions=Stub())

    def client_error(code, status):
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                           "SendTaskSuccess")

    with pytest.raises(NotTaken):  # throttled: refused, certainly not delivered
        failing(client_error("ThrottlingException", 400)).approve("t", {})
    with pytest.raises(TaskGone):
        failing(client_error("TaskTimedOut", 400)).approve("t", {})
    with pytest.raises(ClientError):  # AWS failed on its side: it may have taken it
        failing(client_error("InternalFailure", 500)).approve("t", {})
    with pytest.raises(ReadTimeoutError):  # no answer at all: unknown too
        failing(ReadTimeoutError(endpoint_url="https://states")).approve("t", {})


def _sdk_client(*answers: tuple[int, str]):
    """A real botocore Step Functions client (standard retries, 4 attempts) whose attempts of
    SendTaskSuccess get `answers` in turn, as (HTTP status, error code), instead of going out."""
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    sfn = boto3.client("stepfunctions", region_name="eu-west-1", aws_access_key_id="test",
                       aws_secret_access_key="test", config=Config(retries={"mode": "standard", "max_attempts": 3}))
    pending = list(answers)

    class Body:
        def __init__(self, body: bytes):
            self.body = body

        def stream(self, **_):
            yield self.body

    def send(request, **_):
        status, code = pending.pop(0)
        body = json.dumps({"__type": code, "message": code} if code else {}).encode()
        return AWSResponse(request.url, status, {"Content-Type": "application/x-amz-json-1.0"}, Body(body))

    sfn.meta.events.register("before-send.sfn.SendTaskSuccess", send)
    return Workflow(MACHINE, stepfunctions=sfn), pending


THROTTLED = (400, "ThrottlingException")


@pytest.mark.parametrize(("answers", "outcome", "retried"), [
    # Issue 18, item 1: the first attempt's response was lost (a 500) after the task took it.
    ([(500, "InternalFailure"), (400, "TaskTimedOut")], TaskGone, True),
    ([THROTTLED, (400, "TaskTimedOut")], TaskGone, False),
    ([(400, "TaskTimedOut")], TaskGone, False),
    ([THROTTLED] * 4, NotTaken, None),  # every attempt refused: certainly not taken
    ([(500, "InternalFailure"), THROTTLED, THROTTLED, THROTTLED], ClientError, None),  # the first may have landed
])
def test_the_sdks_retries_of_an_answer_are_told_apart_by_what_each_attempt_got(answers, outcome, retried,
                                                                              monkeypatch):
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)  # the SDK's backoff
    workflow, pending = _sdk_client(*answers)

    with pytest.raises(outcome) as raised:
        workflow.approve("token", {"decision": "approve"})

    assert pending == []  # every attempt was made, by the SDK
    if outcome is TaskGone:
        assert raised.value.retried is retried
