"""The state machine as a picture's data: its graph, read from the definition Step Functions
runs, and how far one execution got, read from that execution's event history.

Pure functions over the ASL JSON and the history events, so the console draws whatever the CDK
app synthesized, never a hand-made copy of the workflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shop.domain.executions import HistoryEvent
from shop.domain.workflow_contract import ExecutionStatus

START = "Start"  # the two pseudo-nodes every drawing of a state machine has
END = "End"

PASSED = "passed"
CURRENT = "current"
FAILED = "failed"

# Execution statuses after which nothing is "current" any more.
_STOPPED = {ExecutionStatus.FAILED, ExecutionStatus.ABORTED, ExecutionStatus.TIMED_OUT}


def _edge(source: str, target: str, kind: str, label: str = "") -> dict[str, str]:
    return {"source": source, "target": target, "kind": kind, "label": label}


def workflow_graph(definition: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Nodes and edges of a (flat) state machine definition.

    Edge kinds: `next` (Next, Default and StartAt), `choice` (a Choice rule), `catch` (a Catch,
    labelled with its errors) and `end` (End: true, Succeed and Fail states)."""
    states: Mapping[str, Mapping[str, Any]] = definition.get("States", {})
    nodes = [{"id": START, "label": "Start", "type": "Start"}]
    edges = [_edge(START, definition["StartAt"], "next")]
    for name, state in states.items():
        kind = state.get("Type", "")
        nodes.append({"id": name, "label": name, "type": kind})
        if "Next" in state:
            edges.append(_edge(name, state["Next"], "next"))
        for rule in state.get("Choices", []):
            edges.append(_edge(name, rule["Next"], "choice"))
        if "Default" in state:
            edges.append(_edge(name, state["Default"], "next", "default"))
        for catch in state.get("Catch", []):
            edges.append(_edge(name, catch["Next"], "catch", ", ".join(catch.get("ErrorEquals", []))))
        if state.get("End") or kind in ("Succeed", "Fail"):
            edges.append(_edge(name, END, "end"))
    nodes.append({"id": END, "label": "End", "type": "End"})
    return {"nodes": nodes, "edges": edges}


def state_marks(events: Iterable[HistoryEvent], execution_status: str) -> dict[str, str]:
    """Each state the execution reached: `passed`, `current` (entered, not left, still
    running) or `failed` (where a stopped execution ended). Start and End are marked too.

    A state entered again after leaving (a retry loop) is current again."""
    marks: dict[str, str] = {}
    started = False
    for event in events:
        if event.type == "ExecutionStarted":
            started = True
        if event.state is None:
            continue
        if event.entered:
            marks[event.state] = CURRENT
        elif event.exited:
            marks[event.state] = PASSED
    if started:
        marks[START] = PASSED
    if execution_status == ExecutionStatus.SUCCEEDED:
        marks[END] = PASSED
    elif execution_status in _STOPPED:
        marks = {name: FAILED if mark == CURRENT else mark for name, mark in marks.items()}
    return marks


def current_state(marks: Mapping[str, str]) -> str | None:
    return next((name for name, mark in marks.items() if mark == CURRENT), None)
