"""A model of the approval protocol, checked with hypothesis's stateful testing: one order, its
execution as Step Functions runs it, and everything that acts on it, in any order, with faults.

The real logic (shop/logic/approvals.py, notifications.py) runs over the in-memory tables
(tests/fakes.py, held to the adapters' conditions by tests/integration/test_tables.py) and a model
of the order's execution (`Execution`): the RequestApproval step (its attempts, each with its own
task token, retried after a fault), the approval task that takes one answer for the current token
until its deadline, and the steps that follow (MarkShipped, DeleteOrder, the customer's emails,
RecordFailure).

Rules interleave: link GETs and POSTs for both decisions (from the newest notification or an older
one), the console's approve, reject, cancel, resend and deliver, a RequestApproval attempt, and the
workflow's next step, run as up to three requests at once, switching between them at every AWS
call in an order hypothesis draws ("concurrent" clicks); faults injected on any AWS call; the
deadline passing. After every step the invariants the README promises must hold.

The faults are what AWS really has, on every call: a throttle past the SDK's retries (the call
fails and changes nothing); a lost response (the call took effect, its caller got a 500); a slow
call (it lands later, in a later step, while its caller got a timeout). With the SDK's own retries
(botocore's default, drawn per example against AWS_MAX_ATTEMPTS=1) a lost or timed-out call is sent
again at once, and its caller hears the retry's answer: a conditional failure on the item its first
attempt wrote, TaskTimedOut from the task its first attempt answered.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from shop.adapters.workflow import Workflow
from shop.domain.approval import Decision, parse_callback
from shop.domain.errors import DeliveryUnknown, LinkExpired, NotDelivered, ShopError
from shop.domain.executions import Execution as ExecutionView
from shop.domain.workflow_contract import ExecutionStatus
from shop.error_answers import link_answer_for
from shop.logic import approvals, owner
from shop.logic.notifications import request_approval, resend_approval_request
from tests.fakes import Decisions, Orders, Throttled


class AwsError(Exception):
    """A botocore ClientError: its code, HTTP status and the SDK's count of retries."""

    def __init__(self, code: str, status: int, *, retries: int = 0):
        super().__init__(code)
        self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status,
                                                                      "RetryAttempts": retries}}


class ReadTimeout(Exception):
    """What botocore raises when no response came in time (the call may land later)."""

KEY = b"k" * 32
START = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TIMEOUT = 3600
ORDER_ID = "01JORDER"
ORDER = {"orderId": ORDER_ID, "status": "RECEIVED", "customerEmail": "ada@example.com", "customerName": "Ada",
         "currency": "EUR", "total": "29.80", "items": [], "createdAt": "2026-11-24T11:00:00Z",
         "shippingAddress": {"streetAddress": "s", "city": "c", "county": "c", "country": "c"}}
APPROVAL_ATTEMPTS = 4  # RequestApproval: the first try and 3 retries, as the state machine has it
DECIDED = {"APPROVED", "REJECTED", "CANCELLED", "SHIPPED", "FEEDBACK_REQUESTED", "FAILED"}
# Every AWS call of the model. Each can be throttled past the SDK's retries (its name), lose its
# response after it took effect (" (response lost)"), or land late (" (slow)").
CALLS = (
    "orders.get", "orders.mark_awaiting_approval", "orders.confirm_links", "orders.replace_link",
    "orders.set_decided", "orders.set_status", "orders.delete",
    "decisions.get", "decisions.record", "decisions.claim", "decisions.release", "decisions.mark_delivered",
    "decisions.mark_missed", "sns.publish", "workflow.success", "workflow.failure",
)
LOST, SLOW = " (response lost)", " (slow)"
FAULTABLE = (*CALLS, *(call + LOST for call in CALLS), *(call + SLOW for call in CALLS))
# The writes of a decision and its delivery, on which the protocol turns: half the faults drawn.
PIVOTAL = tuple(call + fault for call in ("decisions.record", "decisions.claim", "workflow.success",
                                          "workflow.failure") for fault in ("", LOST, SLOW))
FIRST_ATTEMPT_FAULTS = ("orders.mark_awaiting_approval", "orders.confirm_links", "sns.publish")
OPERATIONS = (  # the first 11 are the owner's: any number of them may run at once
    "get approve", "get reject", "post approve", "post reject", "post approve (first email)",
    "post reject (first email)", "console approve", "console reject", "console cancel", "console resend",
    "console deliver", "request approval", "request approval", "workflow step", "workflow step",
    "deadline passes", "a minute passes", "late calls land",
)
DECIDING = tuple(op for op in OPERATIONS[:11] if op.startswith(("post", "console")) and "resend" not in op)
# Where each answer to the approval task takes the workflow, and the customer's outcome email.
_AFTER = {
    ("success", None): ["MarkShipped", "email shipped", "email feedback", "MarkFeedbackRequested"],
    ("failure", "OrderRejected"): ["DeleteOrder", "email cancelled REJECTED"],
    ("failure", "OrderCancelled"): ["DeleteOrder", "email cancelled CANCELLED"],
    ("timeout", None): ["DeleteOrder", "email cancelled TIMED_OUT"],
}
_DECISION_OF = {("success", None): "approve", ("failure", "OrderRejected"): "reject",
                ("failure", "OrderCancelled"): "cancel"}


class Interleaving:
    """Runs requests in threads, one at a time: each pauses at every AWS call (the fakes' `before`)
    and the next to run is drawn from `choices`. Deterministic, as only one thread ever runs."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.back = threading.Semaphore(0)
        self.faults: dict[str, int] = {}
        self.on_call: Callable[[str], None] = lambda operation: None

    def point(self, operation: str) -> None:
        job = getattr(self.local, "job", None)
        if job is not None:
            self.back.release()
            if not job.go.acquire(timeout=10):
                raise RuntimeError("interleaving stalled")
        self.on_call(operation)
        if self.faults.get(operation):
            self.faults[operation] -= 1
            raise Throttled(operation)

    def take(self, fault: str) -> bool:
        """Consume an armed fault that does not fail the call itself (a lost response)."""
        if self.faults.get(fault):
            self.faults[fault] -= 1
            return True
        return False

    def who(self) -> int:
        """Which of the running requests is calling (its place in the batch)."""
        job = getattr(self.local, "job", None)
        return job.index if job is not None else 0

    def run(self, requests: list[Callable[[], Any]], choices: list[int]) -> list[Any]:
        if len(requests) == 1:
            return [_answer(requests[0])]
        jobs = [_Job(request, index) for index, request in enumerate(requests)]
        for job in jobs:
            job.thread = threading.Thread(target=self._job, args=(job,), daemon=True)
            job.thread.start()
        step = 0
        while live := [job for job in jobs if not job.done]:
            job = live[choices[step % len(choices)] % len(live)] if choices else live[0]
            step += 1
            job.go.release()
            if not self.back.acquire(timeout=10):
                raise RuntimeError("a request never came back")
        for job in jobs:
            job.thread.join(timeout=10)
        return [job.answer for job in jobs]

    def _job(self, job: _Job) -> None:
        self.local.job = job
        job.go.acquire()
        try:
            job.answer = _answer(job.request)
        finally:
            job.done = True
            self.back.release()


@dataclass
class _Job:
    request: Callable[[], Any]
    index: int
    go: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    done: bool = False
    answer: Any = None
    thread: Any = None


@dataclass
class Answer:
    """What a request answered: `done`, a refusal (its status and message), or an AWS failure."""

    kind: str  # "done", "refused", "failed"
    status: int
    message: str = ""
    value: Any = None


def _answer(request: Callable[[], Any]) -> Answer:
    try:
        return Answer("done", 200, value=request())
    except ShopError as error:
        return Answer("refused", link_answer_for(error).status, error.message, value=error)
    except Exception as error:  # what the pages' generic 503 says
        return Answer("failed", 503, "this click changed nothing", value=error)


class Execution:
    """The order's execution in Step Functions, as far as the protocol sees it."""

    def __init__(self, world: ProtocolModel) -> None:
        self.world = world
        self.attempts = 0
        self.token: str | None = None  # the current RequestApproval attempt's task token
        self.waiting = False  # the approval task takes an answer for `token`
        self.deadline = START + timedelta(seconds=TIMEOUT)
        self.needs_attempt = True
        self.answered: tuple[str, str | None] | None = None  # the one answer the task took
        self.timed_out = False
        self.steps: list[str] = []  # the workflow's steps still to run, in order
        self.failed = False
        self.finished = False

    # -- what the approval callback and the owner's tools call (through the Workflow adapter) ---
    def send_task_success(self, *, taskToken: str, output: str) -> None:
        self._answer(taskToken, ("success", None))

    def send_task_failure(self, *, taskToken: str, error: str, cause: str) -> None:
        self._answer(taskToken, ("failure", error))

    def _answer(self, token: str, answer: tuple[str, str | None]) -> None:
        operation = f"workflow.{answer[0]}"
        self.world.calls.point(operation)  # a throttle: ThrottlingException, as botocore raises it

        def effect() -> None:
            if not (self.waiting and token == self.token):
                raise AwsError("TaskTimedOut", 400)
            self.waiting, self.answered = False, answer
            self.steps = list(_AFTER[answer])
            self.world.delivered.append(answer)
            self.world.deliverers.add(self.world.calls.who())

        self.world.sdk(operation, effect)

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        return {"status": self.marks()[1]}

    def get_execution_history(self, *, executionArn: str, maxResults: int) -> dict[str, Any]:
        """The states `marks` shows, as the events of a history: entered, and exited if passed."""
        events: list[dict[str, Any]] = [{"type": "ExecutionStarted"}]
        for state, mark in self.marks()[0].items():
            events.append({"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": state}})
            if mark == "passed":
                events.append({"type": "TaskStateExited", "stateExitedEventDetails": {"name": state}})
        return {"events": [{"id": i, "timestamp": START, **event} for i, event in enumerate(events, 1)]}

    # -- the state machine's own progress -------------------------------------------------------
    def attempt(self) -> None:
        """One RequestApproval attempt: the Lambda runs while the task waits for its token."""
        if not self.needs_attempt:
            return
        self.needs_attempt = False
        self.attempts += 1
        self.token, self.waiting = f"token-{self.attempts}", True
        self.deadline = self.world.now + timedelta(seconds=TIMEOUT)
        try:
            request_approval(ORDER, self.token, timeout_seconds=TIMEOUT, approval_url="https://cb.example/",
                             topic_arn="arn:topic", key=KEY, orders=self.world.orders,
                             publish=self.world.publish, waiting_since=self.world.now)
        except Exception:
            if self.answered is None:  # the attempt failed: its token is dead
                self.waiting = False
                if self.attempts < APPROVAL_ATTEMPTS:
                    self.needs_attempt = True
                else:
                    self.failed, self.steps = True, ["RecordFailure"]
            raise

    def time_out(self) -> None:
        if self.waiting:
            self.waiting, self.timed_out = False, True
            self.steps = list(_AFTER[("timeout", None)])

    def step(self) -> None:
        """The workflow's next step; a fault leaves it to be retried."""
        if not self.steps:
            return
        name, orders = self.steps[0], self.world.orders
        if name == "MarkShipped":
            orders.set_status(ORDER_ID, "SHIPPED")
        elif name == "MarkFeedbackRequested":
            orders.set_status(ORDER_ID, "FEEDBACK_REQUESTED")
        elif name == "RecordFailure":
            orders.set_status(ORDER_ID, "FAILED")  # False once the order is gone: caught, OrderFailed
        elif name == "DeleteOrder":
            orders.delete(ORDER_ID)
        else:
            self.world.emails.append(name.removeprefix("email "))
        self.steps.pop(0)
        self.finished = not self.steps

    def describe(self, name: str) -> ExecutionView:
        return ExecutionView(name, ExecutionStatus(self.marks()[1]))

    def marks(self) -> tuple[dict[str, str], str]:
        """The owner's view of it: the states an execution history would mark, and its status."""
        marks = {"RequestApproval": "current" if self.waiting or self.needs_attempt else "passed"}
        if self.answered == ("success", None):
            marks["MarkShipped"] = "passed"
        elif self.answered is not None:
            marks["Rejected" if self.answered[1] == "OrderRejected" else "Cancelled"] = "passed"
        if self.timed_out:
            marks["TimedOut"] = "passed"
        status = "FAILED" if self.failed and self.finished else "SUCCEEDED" if self.finished else "RUNNING"
        return marks, status


class ProtocolModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.calls = Interleaving()
        self.calls.on_call = self._observe
        self.orders = Orders(ORDER, before=self.calls.point, sdk=self.sdk)
        self.decisions = RecordingDecisions(before=self.calls.point, who=self.calls.who, sdk=self.sdk)
        self.execution = Execution(self)
        self.workflow = Workflow("arn:aws:states:eu-west-1:123456789012:stateMachine:shop",
                                 stepfunctions=self.execution)
        self.sdk_retries = True  # botocore's default; False: AWS_MAX_ATTEMPTS=1
        self.late: list[Callable[[], Any]] = []  # slow calls on their way, to land later
        self.now = START
        self.notifications: list[dict[str, Any]] = []  # what the owner received, oldest first
        self.emails: list[str] = ["received"]  # the customer's, after OrderReceivedEmail
        self.delivered: list[tuple[str, str | None]] = []  # every answer the approval task took
        self.deliverers: set[int] = set()  # which requests of the current batch it took them from
        self.done: list[tuple[str, str]] = []  # the requests that delivered, and their decision
        self.statuses: list[str | None] = []  # the order's status at every AWS call
        self.violations: list[str] = []

    # -- the world's plumbing -----------------------------------------------------------------------
    def sdk(self, operation: str, effect: Callable[[], Any]) -> Any:
        """One AWS call as the SDK makes it, with the faults armed for it: `effect` is what AWS does."""
        if self.calls.take(operation + LOST):
            with contextlib.suppress(Exception):  # its answer was lost with the response
                effect()
            if not self.sdk_retries:
                raise AwsError("InternalServerError", 500)
            return self._retried(effect)
        if self.calls.take(operation + SLOW):
            self.late.append(effect)
            if not self.sdk_retries:
                raise ReadTimeout(operation)
            return self._retried(effect)
        return effect()

    @staticmethod
    def _retried(effect: Callable[[], Any]) -> Any:
        try:
            return effect()
        except AwsError as error:  # the SDK says it retried
            error.response["ResponseMetadata"]["RetryAttempts"] = 1
            raise

    def _land(self) -> None:
        """The slow calls arrive, after their callers gave up on them (their answers reach nobody)."""
        while self.late:
            with contextlib.suppress(Exception):
                self.late.pop(0)()

    def _observe(self, operation: str) -> None:
        order = self.orders.items.get(ORDER_ID)
        self.statuses.append(order.get("status") if order else None)

    def publish(self, *, topic_arn: str, subject: str, message: str) -> str:
        self.calls.point("sns.publish")
        # Judged when the shop sends it, not when it lands: a publish on its way (slow) cannot be
        # called back, and one that lands after a decision was sent before it (its old links then
        # say so).
        order, decided = self.orders.items.get(ORDER_ID), self.decisions.items.get(ORDER_ID)
        first = "replace the ones sent before" not in message
        if first and (decided or not order or order.get("status") != "AWAITING_APPROVAL"):
            self.violations.append(f"the owner was asked about a decided order: {order}, {decided}")

        def effect() -> str:
            links = [word for word in message.split() if word.startswith("https://cb.example/")]
            self.notifications.append({"links": {self._parse(link).decision.value: link for link in links}})
            return f"message-{len(self.notifications)}"

        return self.sdk("sns.publish", effect)

    @staticmethod
    def _parse(link: str):
        return parse_callback({key: values[0] for key, values in parse_qs(urlsplit(link).query).items()})

    def _request(self, operation: str) -> Callable[[], Any] | None:
        """The request behind an operation, or None when it has nothing to act on yet."""
        now, shop = self.now, {"orders": self.orders, "decisions": self.decisions}
        kind, _, what = operation.partition(" ")
        if kind in ("get", "post"):
            decision, first = what.split(" ")[0], "(first email)" in what
            notes = [note for note in self.notifications if decision in note["links"]]
            if not notes:
                return None
            link = self._parse(notes[0 if first else -1]["links"][decision])
            if kind == "get":
                return lambda: approvals.review(link, key=KEY, workflow=self.workflow, now=now, **shop)
            return lambda: approvals.decide(link, key=KEY, workflow=self.workflow, now=now, **shop)
        if kind == "console":
            if what == "resend":
                return lambda: resend_approval_request(ORDER_ID, approval_url="https://cb.example/",
                                                       topic_arn="arn:topic", key=KEY, publish=self.publish,
                                                       workflow=self.workflow, now=now, **shop)
            if what == "deliver":
                return lambda: approvals.deliver_as_owner(ORDER_ID, workflow=self.workflow, now=now, **shop)
            return lambda: approvals.decide_as_owner(ORDER_ID, Decision(what), workflow=self.workflow,
                                                     now=now, **shop)
        if operation == "request approval":
            return self.execution.attempt if self.execution.needs_attempt else None
        if operation == "deadline passes":
            return self._deadline_passes if self.execution.waiting else None
        if operation == "late calls land":
            return self._land if self.late else None
        if operation == "a minute passes":  # claims lapse (CLAIM_SECONDS), the deadline may come
            return lambda: self._time_passes(self.now + timedelta(minutes=1))
        return self.execution.step if self.execution.steps else None

    def _deadline_passes(self) -> None:
        self._time_passes(max(self.now, self.execution.deadline))

    def _time_passes(self, now: datetime) -> None:
        """The clock moves on, and the approval task times out at its deadline. Requests already
        running keep the time they started at, as they would."""
        self.now = now
        if self.now >= self.execution.deadline:
            self.execution.time_out()

    # -- rules ----------------------------------------------------------------------------------------
    @initialize(faults=st.dictionaries(st.sampled_from(FIRST_ATTEMPT_FAULTS), st.integers(1, 2), max_size=1),
                sdk_retries=st.booleans())
    def the_order_is_placed_and_the_owner_asked(self, faults, sdk_retries):
        """OrderReceivedEmail, then RequestApproval's first attempt (which a fault may fail)."""
        self.sdk_retries = sdk_retries
        self._run(["request approval"], [], faults)

    @rule(operations=st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=3),
          choices=st.lists(st.integers(0, 3), max_size=12),
          faults=st.dictionaries(st.one_of(st.sampled_from(PIVOTAL), st.sampled_from(FAULTABLE)),
                                 st.integers(1, 2), max_size=3))
    def requests(self, operations, choices, faults):
        """Up to three requests at once, switching at AWS calls as `choices` says, with faults armed."""
        self._run(operations, choices, faults)

    def _run(self, operations, choices, faults):
        # The workflow runs one state at a time: at most one of its own steps per batch.
        operations = [op for i, op in enumerate(operations)
                      if op in OPERATIONS[:11] or op not in operations[:i]]
        requests = [(op, request) for op in operations if (request := self._request(op))]
        if not requests:
            return
        self.calls.faults = dict(faults)
        self.decisions.recorders.clear()
        self.deliverers.clear()
        try:
            answers = self.calls.run([request for _, request in requests], choices)
        finally:
            self.calls.faults = {}
        for (operation, _), answer in zip(requests, answers, strict=True):  # --hypothesis-show-statistics
            refusal = type(answer.value).__name__ if answer.kind != "done" else ""
            event(f"{operation}: {answer.status} {refusal}")
        self._check_answers(requests, answers)

    # -- invariants -----------------------------------------------------------------------------------
    def _check_answers(self, requests, answers):
        for index, ((operation, _), answer) in enumerate(zip(requests, answers, strict=True)):
            if answer.kind == "failed":
                # The generic page says this click changed nothing: it recorded and delivered nothing.
                assert index not in self.decisions.recorders | self.deliverers, (operation, answer)
            if index in self.decisions.recorders and not isinstance(answer.value, LinkExpired):
                # It made the decision: never "nothing changed" (unless it came too late, and says so).
                assert "Nothing was changed" not in answer.message, (operation, answer.message)
            assert "Nothing was decided" not in answer.message, (operation, answer.message)
            if isinstance(answer.value, NotDelivered):  # "recorded, not yet delivered": it is recorded
                assert self.decisions.items.get(ORDER_ID) is not None, operation
            if index in self.deliverers:
                # The click that delivered says "done", or, its response lost, that it cannot confirm
                # it, or, an earlier click's outcome unknown too, that one of them delivered it.
                assert (answer.kind == "done" or isinstance(answer.value, DeliveryUnknown)
                        or "this click or an earlier one delivered it" in answer.message), (operation, answer)
                self.done.append((operation, _DECISION_OF[self.delivered[-1]]))
            elif answer.kind == "done" and operation in DECIDING:
                self.violations.append(f"{operation} answered done and delivered nothing")

    @invariant()
    def nothing_went_wrong_inside_a_request(self):
        assert not self.violations, self.violations

    @invariant()
    def at_most_one_decision_is_ever_delivered_and_only_its_click_says_done(self):
        assert len(self.delivered) <= 1, self.delivered
        assert len(self.done) == len(self.delivered), (self.done, self.delivered)

    @invariant()
    def the_customers_outcome_emails_match_that_decision(self):
        outcomes = [email for email in self.emails if email != "received"]
        if self.delivered:
            expected = [step.removeprefix("email ") for step in _AFTER[self.delivered[0]]
                        if step.startswith("email")]
        elif self.execution.timed_out:
            expected = ["cancelled TIMED_OUT"]
        else:
            expected = []
        assert outcomes == expected[: len(outcomes)], (outcomes, self.delivered)

    @invariant()
    def the_status_never_goes_back_to_awaiting_approval_after_a_decision(self):
        seen_decided = False
        for status in self.statuses + [self._status()]:
            seen_decided = seen_decided or status in DECIDED
            assert not (seen_decided and status == "AWAITING_APPROVAL"), self.statuses

    @invariant()
    def no_token_remains_once_the_order_is_decided_or_gone(self):
        order = self.orders.items.get(ORDER_ID)
        if order is not None and order.get("status") in DECIDED:
            assert not {"approvalTaskToken", "approvalLinkId", "pendingLinkId"} & set(order), order
        for record in self.decisions.items.values():
            assert not any("token" in key.lower() for key in record), record

    @invariant()
    def a_decision_record_tells_the_truth_about_its_delivery(self):
        record = self.decisions.items.get(ORDER_ID)
        if record is None:  # records are never deleted: nothing was ever decided
            assert not self.delivered, self.delivered
            return
        if record.get("delivered"):
            assert self.delivered and _DECISION_OF[self.delivered[0]] == record["decision"], record
        if record.get("missed"):
            assert not self.delivered, (record, self.delivered)
        # What the console and CLI show, read from the execution's history.
        marks, status = self.execution.marks()
        shown = owner.delivery(record, marks, status)
        if self.delivered:
            assert shown == "delivered" and _DECISION_OF[self.delivered[0]] == record["decision"], shown
        elif self.execution.waiting:
            assert shown == "pending", shown
        else:
            assert shown == "missed", shown  # timed out (or failed): said so, never silently stuck

    def _status(self) -> str | None:
        order = self.orders.items.get(ORDER_ID)
        return order.get("status") if order else None


class RecordingDecisions(Decisions):
    """Notes which of the running requests recorded the decision."""

    def __init__(self, before, who, sdk):
        super().__init__(before=before, sdk=sdk)
        self.who, self.recorders = who, set()

    def record(self, order_id, **kwargs):
        """Whatever the call answered (a lost response, the SDK's retry refused): the record it
        wrote holds its claim."""
        try:
            super().record(order_id, **kwargs)
        finally:
            if self.items.get(order_id, {}).get("deliveryClaim") == kwargs["claim"]:
                self.recorders.add(self.who())


# About 10 s on a busy core. To search harder (minutes): PROTOCOL_MODEL_EXAMPLES=2000. Without the
# fixes of issue 18, items 1 and 2, it fails within the default examples (checked with seeds 1-4).
# The default run is derandomized, the same examples every time, so that `make test` and CI say
# the same thing; a search with more examples explores afresh (PROTOCOL_MODEL_EXAMPLES), and at
# 1,000 it still finds two interleavings the protocol gets wrong (the closing note of issue 18).
_EXAMPLES = os.environ.get("PROTOCOL_MODEL_EXAMPLES")
ProtocolModel.TestCase.settings = settings(
    max_examples=int(_EXAMPLES or "200"), derandomize=_EXAMPLES is None, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestApprovalProtocol = ProtocolModel.TestCase
