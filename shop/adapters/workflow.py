"""Step Functions: starting an order's execution and resuming its approval task."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from shop.adapters.aws import client, error_code, refused
from shop.domain.errors import TooBusy
from shop.domain.executions import Execution, HistoryEvent
from shop.domain.workflow_contract import ExecutionStatus
from shop.domain.workflow_graph import state_marks

# What Step Functions answers when a token can no longer be used: already answered, timed out, its
# execution ended (all TaskTimedOut on AWS, and in local mode), or never existed (InvalidToken).
_TASK_GONE = {"InvalidToken", "TaskDoesNotExist", "TaskTimedOut"}


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of the state machine's execution `name` (an order's execution is named after it)."""
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


class TaskGone(Exception):
    """The approval task no longer accepts an answer. `retried`: the SDK sent this answer more than
    once (its own retries, after a 5xx, a timeout or a throttle), so an earlier attempt may be the
    answer the task took: only the execution's history tells."""

    def __init__(self, code: str, *, retried: bool = False):
        super().__init__(code)
        self.retried = retried


class NotTaken(Exception):
    """Step Functions refused the answer (throttling, a 4xx) at the first attempt: the task
    certainly did not get it. Any other failure (a 5xx, a timeout, a lost connection, or a refusal
    of the SDK's retry of an attempt whose response was lost) leaves that unknown: the answer may
    have arrived although the caller saw an error."""


class Workflow:
    def __init__(self, state_machine_arn: str, stepfunctions: Any = None):
        self.state_machine_arn = state_machine_arn
        self._sfn = stepfunctions
        # A finished execution never changes: the owner's console, polling every second, asks
        # Step Functions about each one once.
        self._finished: dict[str, Execution] = {}

    @property
    def sfn(self) -> Any:
        return self._sfn or client("stepfunctions")

    def start(self, *, name: str, payload: dict[str, Any]) -> str:
        """Start one execution named `name`. Starting the same name again is a no-op: a retried
        request can never create a second execution."""
        try:
            response = self.sfn.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )
            return response["executionArn"]
        except Exception as error:
            if error_code(error) == "ExecutionAlreadyExists":
                return self.execution_arn(name)
            if error_code(error) == "ExecutionLimitExceeded":
                raise TooBusy("The shop takes no new orders right now: too many orders are open. "
                              "Please try again later.") from None
            raise

    def exists(self, name: str) -> bool:
        try:
            self.sfn.describe_execution(executionArn=self.execution_arn(name))
            return True
        except Exception as error:
            if error_code(error) == "ExecutionDoesNotExist":
                return False
            raise

    def execution_arn(self, name: str) -> str:
        return execution_arn(self.state_machine_arn, name)

    def executions(self, *, status: ExecutionStatus | None = None) -> Iterator[Execution]:
        """Every execution, newest first (as Step Functions lists them), one page at a time; without
        input and output (`describe` has them)."""
        arguments = {"stateMachineArn": self.state_machine_arn, "maxResults": 100}
        if status:
            arguments["statusFilter"] = status
        for listed in self._paged(self.sfn.list_executions, "executions", **arguments):
            yield _execution(listed["name"], listed)

    def describe(self, name: str) -> Execution | None:
        """The execution named `name` (input and output parsed), or None."""
        if name in self._finished:
            return self._finished[name]
        try:
            described = self.sfn.describe_execution(executionArn=self.execution_arn(name))
        except Exception as error:
            if error_code(error) == "ExecutionDoesNotExist":
                return None
            raise
        execution = _execution(name, described, input=_json(described.get("input")),
                               output=_json(described.get("output")))
        if not execution.running:
            self._finished[name] = execution
        return execution

    def history(self, name: str) -> list[HistoryEvent]:
        """The execution's events, oldest first, with only what may be shown of them (never the
        details' input or parameters, which can hold the task token)."""
        return [HistoryEvent.from_aws(event) for event in self._paged(
            self.sfn.get_execution_history, "events", executionArn=self.execution_arn(name), maxResults=1000)]

    @staticmethod
    def _paged(operation, items: str, **arguments: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged Step Functions call, following `nextToken`."""
        while True:
            page = operation(**arguments)
            yield from page.get(items, [])
            if not page.get("nextToken"):
                return
            arguments["nextToken"] = page["nextToken"]

    def progress(self, name: str) -> tuple[dict[str, str], ExecutionStatus] | None:
        """Where the execution `name` stands, from its history: the states it reached (marked as
        `workflow_graph.state_marks` does) and its status; None if there is no such execution."""
        execution = self.describe(name)
        if execution is None:
            return None
        return state_marks(self.history(name), execution.status), execution.status

    def definition(self) -> dict[str, Any]:
        """The state machine's definition as Step Functions runs it."""
        return json.loads(self.sfn.describe_state_machine(stateMachineArn=self.state_machine_arn)["definition"])

    def stop(self, name: str, *, error: str, cause: str) -> None:
        """Stop the running execution `name` where it stands (StopExecution); the error and cause
        stay in its history, saying why. One that has ended meanwhile is left as it ended."""
        try:
            self.sfn.stop_execution(executionArn=self.execution_arn(name), error=error, cause=cause)
        except Exception as error_raised:
            if error_code(error_raised) != "ExecutionDoesNotExist":
                raise

    def approve(self, task_token: str, output: dict[str, Any]) -> None:
        self._answer(lambda: self.sfn.send_task_success(taskToken=task_token, output=json.dumps(output)))

    def reject(self, task_token: str, *, error: str, cause: str) -> None:
        self._answer(
            lambda: self.sfn.send_task_failure(taskToken=task_token, error=error, cause=cause)
        )

    def _answer(self, call) -> None:
        # The SDK retries a 5xx, a timeout and a throttle on its own. Its retry of an answer that
        # arrived, its response lost, gets TaskTimedOut (the task took one answer already), or a
        # throttle: so what the last attempt got says nothing certain about the earlier ones. The
        # SDK's needs-retry event shows each attempt as it ends; a client without one (a test's
        # stub) is judged by its count of retries (ResponseMetadata.RetryAttempts).
        noted = _note_attempts(self.sfn)
        _attempts.may_have_landed = False
        try:
            call()
        except Exception as error:
            metadata = (getattr(error, "response", None) or {}).get("ResponseMetadata", {})
            earlier = _attempts.may_have_landed if noted else bool(metadata.get("RetryAttempts", 0))
            if error_code(error) in _TASK_GONE:
                raise TaskGone(error_code(error), retried=earlier) from None
            if refused(error) and not earlier:
                raise NotTaken(error_code(error)) from error
            raise


# Per thread (a call and its retries run in the caller's thread): whether an attempt of the answer
# being sent ended in a way that leaves its fate unknown (a 5xx, a timeout, a lost connection).
_attempts = threading.local()
_ANSWERS = ("SendTaskSuccess", "SendTaskFailure")


def _note_attempt(response: Any = None, caught_exception: Exception | None = None, **_: Any) -> None:
    status = getattr(response[0], "status_code", 0) if response else 0
    if caught_exception is not None or status >= 500:
        _attempts.may_have_landed = True
    # None: the retry decision stays the SDK's own


def _note_attempts(sfn: Any) -> bool:
    """Watch the attempts of `sfn`'s answers (once per client); False for a client without events."""
    events = getattr(getattr(sfn, "meta", None), "events", None)
    if events is None:
        return False
    if not getattr(sfn, "_shop_notes_attempts", False):
        for operation in _ANSWERS:
            events.register(f"needs-retry.sfn.{operation}", _note_attempt, unique_id=f"shop-attempts-{operation}")
        sfn._shop_notes_attempts = True
    return True


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


def _execution(name: str, aws: dict[str, Any], **parsed: Any) -> Execution:
    """From DescribeExecution's or ListExecutions' answer for one execution."""
    return Execution(name=name, status=ExecutionStatus(aws["status"]), start_date=aws.get("startDate"),
                     stop_date=aws.get("stopDate"), **parsed)
