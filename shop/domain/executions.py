"""An order's execution as the owner's tools read it: what Step Functions says of it, typed.

The adapter (shop/adapters/workflow.py) makes these from DescribeExecution, ListExecutions and
GetExecutionHistory, so nothing past it reads Step Functions' dictionaries or `*EventDetails` keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shop.domain.workflow_contract import CANCELLATION_ERROR, REJECTION_ERROR, ExecutionStatus, State


@dataclass(frozen=True)
class Execution:
    """One execution, named after its order. `input` and `output` are parsed, and known only for
    an execution that was described (a listed one has neither)."""

    name: str
    status: ExecutionStatus
    start_date: datetime | None = None
    stop_date: datetime | None = None
    input: Mapping[str, Any] | None = None
    output: Mapping[str, Any] | None = None

    @property
    def outcome(self) -> str | None:
        """What became of the order, from a finished execution's output (shop/infra/workflow.py)."""
        return (self.output or {}).get("outcome")

    @property
    def order(self) -> Mapping[str, Any] | None:
        """The order as the execution was started with it: all that is left of a deleted one."""
        return (self.input or {}).get("order")

    @property
    def running(self) -> bool:
        return self.status == ExecutionStatus.RUNNING


# The details of an event worth showing; the rest (inputs, outputs, parameters) can hold the task token.
_SHOWN_DETAILS = ("error", "cause")


@dataclass(frozen=True)
class HistoryEvent:
    """One event of an execution's history, with only what may be shown: the state it is about,
    and a failure's error and cause. Never the details' inputs, outputs or parameters, which can
    hold the approval task's token."""

    id: int
    type: str
    timestamp: datetime
    state: str | None = None  # the state entered or exited
    error: str | None = None
    cause: str | None = None

    @classmethod
    def from_aws(cls, event: Mapping[str, Any]) -> HistoryEvent:
        """From one of GetExecutionHistory's events, whose details sit under a key named after
        its type (`stateEnteredEventDetails`, `taskFailedEventDetails`...)."""
        shown: dict[str, Any] = {}
        for key, details in event.items():
            if key.endswith("EventDetails") and isinstance(details, Mapping):
                if "name" in details:
                    shown["state"] = details["name"]
                shown.update({name: details[name] for name in _SHOWN_DETAILS if details.get(name)})
        return cls(id=event["id"], type=event["type"], timestamp=event["timestamp"], **shown)

    @property
    def entered(self) -> bool:
        return self.type.endswith("StateEntered")

    @property
    def exited(self) -> bool:
        return self.type.endswith("StateExited")


# The approval task's answers as its history shows them: an approval succeeds it, a rejection or a
# cancellation fails it with its own error. Any other failure (a Lambda fault) is retried.
_ANSWERED_BY_FAILURE = (REJECTION_ERROR, CANCELLATION_ERROR)


def approval_timed_out(events: Iterable[HistoryEvent]) -> bool:
    """Whether the approval task timed out before it took an answer: then no decision reached the
    workflow, whatever a record says. Task events name no state; they belong to the state entered last."""
    state = None
    for event in events:
        if event.entered:
            state = event.state
        elif state == State.REQUEST_APPROVAL:
            if event.type == "TaskSucceeded" or (event.type == "TaskFailed" and event.error in _ANSWERED_BY_FAILURE):
                return False
            if event.type == "TaskTimedOut":
                return True
    return False
