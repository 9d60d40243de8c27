"""Tasks waiting for their token in moto's Step Functions: whose token it is, and releasing them.

- IAM authorizes SendTaskSuccess/SendTaskFailure against the state machine the token belongs to
  (see shop/local/iam/actions.py); moto knows it only through the execution that waits on it.
- StopExecution does not wake a task waiting for its token: its thread would sleep until the
  approval timeout and then act on whatever emulator is running. `release_waiting_tasks` fails
  those waits so the threads of stopped executions end at once.
- A task takes one answer. moto let a second SendTaskSuccess/SendTaskFailure for the same token
  overwrite the first while the execution had not moved on yet (answering 200 twice); AWS refuses
  it (TaskTimedOut: the task no longer exists). `patches()` makes moto refuse it the same way, so
  a protocol that would deliver a decision twice fails here as it would on AWS.
- A task that timed out takes no answer. moto 5.2.5 never marks its callback timed out and keeps
  the token: SendTaskSuccess answered 200 while the execution ran its timeout's Catch path (and
  the owner's tools said "delivered" of a cancelled order). AWS answers TaskTimedOut, which the
  timed-out task now answers here (`closed_at_timeout`).
- Once the execution has ended, moto looks for the token among running executions only and
  answers InvalidToken, a token never issued; AWS answers TaskTimedOut ("the task token has either
  expired or the task associated with the token has already been closed"), and so does this
  (`closed_with_its_execution`). A token no execution was given stays InvalidToken.
The first two read `Execution.exec_worker` and the callback pool of its environment; the contract test
(tests/integration/test_moto_hooks.py) runs both against moto, so a rename fails there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import wraps
from typing import Any

from shop.local.patches import Patch


def _executions() -> Iterator[tuple[Any, Any]]:
    """(state machine, execution) for every execution moto knows, in every account and region."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    for regions in list(stepfunctions_parser_backends.values()):
        for backend in list(regions.values()):
            for machine in list(backend.state_machines):
                for execution in list(machine.executions):
                    yield machine, execution


def _callback_pool(execution: Any) -> dict[str, Any]:
    worker = execution.exec_worker  # None until the execution has started
    return {} if worker is None else worker.env.callback_pool_manager._pool


def task_token_owner(token: str) -> str | None:
    """The ARN of the state machine whose execution waits on (or waited on) `token`."""
    for machine, execution in _executions():
        if token in _callback_pool(execution):
            return machine.arn
    return None


def release_waiting_tasks() -> int:
    """Fail every task token still awaited; returns how many."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeFailure

    released = 0
    for _, execution in _executions():
        for callback_id, endpoint in list(_callback_pool(execution).items()):
            if endpoint.get_outcome() is None and endpoint.consumer_error is None:
                endpoint.notify(CallbackOutcomeFailure(callback_id, "ShopStopped", "local shop stopped"))
                released += 1
    return released


def _refused(code: str, message: str) -> Any:
    from moto.core.exceptions import AWSError

    # AWSError, not moto's own TaskTimedOut: raised here, that fails to build the error (a 500, not a 400).
    return AWSError(message, exception_type=code, status=400)


def _task_timed_out() -> Any:
    return _refused("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")


def patches() -> list[Patch]:
    answering = threading.Lock()  # check-and-set: of two answers at once, exactly one is taken

    def one_answer_per_task(notify: Any) -> Any:
        from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackConsumerTimeout

        def notify_once(self, callback_id: str, outcome: Any) -> bool:
            with answering:
                endpoint = self._pool.get(callback_id)
                if endpoint is None:
                    return notify(self, callback_id, outcome)
                if isinstance(endpoint.consumer_error, CallbackConsumerTimeout):
                    raise _refused("TaskTimedOut", "Task Timed Out: 'Provided task timed out'")
                if endpoint.consumer_error is not None:
                    raise _refused("TaskDoesNotExist", "Provided task does not exist anymore")
                if endpoint.get_outcome() is not None:
                    raise _task_timed_out()
                return notify(self, callback_id, outcome)

        return notify_once

    def closed_at_timeout(evaluate_with_timeout: Any) -> Any:
        from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
        from moto.stepfunctions.parser.asl.eval.callback.callback import (
            CallbackConsumerTimeout,
            CallbackTimeoutError,
            HeartbeatTimeoutError,
        )

        timeouts = (EvalTimeoutError, CallbackTimeoutError, HeartbeatTimeoutError)

        @wraps(evaluate_with_timeout)
        def evaluate_then_close_a_timed_out_task(self, env):
            # A task waiting for its token has it in the context object (set before each attempt).
            token = (env.states.context_object.context_object_data.get("Task") or {}).get("Token")
            endpoint = env.callback_pool_manager.get(token) if token else None
            if endpoint is None:
                return evaluate_with_timeout(self, env)
            with answering:
                if isinstance(endpoint.consumer_error, CallbackConsumerTimeout):
                    endpoint.consumer_error = None  # a retried attempt waits on the same token again
            try:
                return evaluate_with_timeout(self, env)
            except timeouts:
                # The state's timer (or the callback's own) ran out: from now on the task is closed.
                with answering:
                    if endpoint.consumer_error is None:
                        endpoint.report(CallbackConsumerTimeout())
                raise

        return evaluate_then_close_a_timed_out_task

    def closed_with_its_execution(send_task_success: Any) -> Any:
        from moto.stepfunctions.parser.api import InvalidToken

        @wraps(send_task_success)
        def send_task_success_to_a_closed_task(self, task_token, outcome):
            try:
                return send_task_success(self, task_token, outcome)
            except InvalidToken:
                if task_token_owner(task_token) is not None:  # an execution that has ended was given it
                    raise _task_timed_out() from None
                raise

        return send_task_success_to_a_closed_task

    return [
        Patch("moto.stepfunctions.parser.asl.eval.callback.callback:CallbackPoolManager", "notify",
              one_answer_per_task, why="a task takes one answer, as on AWS"),
        Patch("moto.stepfunctions.parser.asl.component.state.exec.execute_state:ExecutionState",
              "_evaluate_with_timeout", closed_at_timeout,
              why="a task that timed out answers TaskTimedOut, as on AWS"),
        Patch("moto.stepfunctions.parser.models:StepFunctionsParserBackend", "send_task_success",
              closed_with_its_execution, why="a token of an ended execution answers TaskTimedOut, as on AWS"),
    ]
