"""Tasks waiting for their token in moto's Step Functions: whose token it is, and releasing them.

- IAM authorizes SendTaskSuccess/SendTaskFailure against the state machine the token belongs to
  (see shop/local/iam/actions.py); moto knows it only through the execution that waits on it.
- StopExecution does not wake a task waiting for its token: its thread would sleep until the
  approval timeout and then act on whatever emulator is running. `release_waiting_tasks` fails
  those waits so the threads of stopped executions end at once.
Both read `Execution.exec_worker` and the callback pool of its environment; the contract test
(tests/integration/test_moto_hooks.py) runs both against moto, so a rename fails there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


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
