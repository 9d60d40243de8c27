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
The first two read `Execution.exec_worker` and the callback pool of its environment; the contract test
(tests/integration/test_moto_hooks.py) runs both against moto, so a rename fails there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
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
            if endpoint.get_outcome() is None:
                endpoint.notify(CallbackOutcomeFailure(callback_id, "ShopStopped", "local shop stopped"))
                released += 1
    return released


def patches() -> list[Patch]:
    answering = threading.Lock()  # check-and-set: of two answers at once, exactly one is taken

    def one_answer_per_task(notify: Any) -> Any:
        from moto.core.exceptions import AWSError
        from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackConsumerTimeout

        def refused(code: str, message: str) -> AWSError:
            return AWSError(message, exception_type=code, status=400)

        def notify_once(self, callback_id: str, outcome: Any) -> bool:
            with answering:
                endpoint = self._pool.get(callback_id)
                if endpoint is None:
                    return notify(self, callback_id, outcome)
                # Refused here with the error AWS gives: moto's own `raise TaskTimedOut()` for a
                # task that stopped waiting fails to build the error (a 500 instead of a 400).
                if isinstance(endpoint.consumer_error, CallbackConsumerTimeout):
                    raise refused("TaskTimedOut", "Task Timed Out: 'Provided task timed out'")
                if endpoint.consumer_error is not None:
                    raise refused("TaskDoesNotExist", "Provided task does not exist anymore")
                if endpoint.get_outcome() is not None:
                    raise refused("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
                return notify(self, callback_id, outcome)

        return notify_once

    return [Patch("moto.stepfunctions.parser.asl.eval.callback.callback:CallbackPoolManager", "notify",
                  one_answer_per_task, why="a task takes one answer, as on AWS")]
