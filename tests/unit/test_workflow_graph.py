"""The workflow picture's data: the graph read from a definition, and the marks read from an
execution's history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shop.domain.executions import HistoryEvent
from shop.domain.workflow_graph import (
    CURRENT,
    END,
    FAILED,
    PASSED,
    START,
    current_state,
    state_marks,
    workflow_graph,
)

DEFINITION = {
    "StartAt": "Ask",
    "States": {
        "Ask": {"Type": "Task", "Next": "Route",
                "Catch": [{"ErrorEquals": ["Nope"], "Next": "Cleanup"}, {"ErrorEquals": ["A", "B"], "Next": "Broken"}]},
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": "Done"}],
                  "Default": "Cleanup"},
        "Cleanup": {"Type": "Pass", "End": True},
        "Broken": {"Type": "Fail", "Error": "X"},
        "Done": {"Type": "Succeed"},
    },
}


def edges(graph):
    return {(e["source"], e["target"], e["kind"], e["label"]) for e in graph["edges"]}


def test_graph_has_every_state_and_the_two_pseudo_states():
    graph = workflow_graph(DEFINITION)

    assert [n["id"] for n in graph["nodes"]] == [START, "Ask", "Route", "Cleanup", "Broken", "Done", END]
    assert {n["id"]: n["type"] for n in graph["nodes"]}["Route"] == "Choice"


def test_graph_edges_follow_next_choices_default_catches_and_ends():
    assert edges(workflow_graph(DEFINITION)) == {
        (START, "Ask", "next", ""),
        ("Ask", "Route", "next", ""),
        ("Ask", "Cleanup", "catch", "Nope"),
        ("Ask", "Broken", "catch", "A, B"),
        ("Route", "Done", "choice", ""),
        ("Route", "Cleanup", "next", "default"),
        ("Cleanup", END, "end", ""),
        ("Broken", END, "end", ""),
        ("Done", END, "end", ""),
    }


def event(aws_event):
    """A history event as the adapter makes it from GetExecutionHistory's."""
    return HistoryEvent.from_aws({"id": 1, "timestamp": datetime(2026, 11, 24, tzinfo=UTC), **aws_event})


def entered(name, kind="Task"):
    return event({"type": f"{kind}StateEntered", "stateEnteredEventDetails": {"name": name}})


def exited(name, kind="Task"):
    return event({"type": f"{kind}StateExited", "stateExitedEventDetails": {"name": name}})


STARTED = event({"type": "ExecutionStarted", "executionStartedEventDetails": {"input": "{}"}})


def test_a_running_execution_has_passed_states_and_one_current():
    marks = state_marks([STARTED, entered("Ask"), event({"type": "TaskScheduled"}), exited("Ask"), entered("Route", "Choice")],
                        "RUNNING")

    assert marks == {START: PASSED, "Ask": PASSED, "Route": CURRENT}
    assert current_state(marks) == "Route"


def test_a_succeeded_execution_reaches_the_end():
    marks = state_marks([STARTED, entered("Done", "Succeed"), exited("Done", "Succeed")], "SUCCEEDED")

    assert marks == {START: PASSED, "Done": PASSED, END: PASSED}
    assert current_state(marks) is None


@pytest.mark.parametrize("status", ["FAILED", "ABORTED", "TIMED_OUT"])
def test_a_stopped_execution_marks_where_it_stopped_as_failed(status):
    marks = state_marks([STARTED, entered("Ask"), exited("Ask"), entered("Broken", "Fail")], status)

    assert marks == {START: PASSED, "Ask": PASSED, "Broken": FAILED}
    assert END not in marks


def test_a_state_entered_again_is_current_again():
    marks = state_marks([STARTED, entered("Ask"), exited("Ask"), entered("Ask")], "RUNNING")

    assert marks["Ask"] == CURRENT


def test_no_history_marks_nothing():
    assert state_marks([], "") == {}
