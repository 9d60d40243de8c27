"""The whole list of local mode's patches to moto, in the order they are applied: the runtime
applies it, and the contract test (tests/integration/test_moto_hooks.py) resolves the very same
declarations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shop.local.outbox import Outbox
from shop.local.patches import (
    Patch,
    dynamodb_lock,
    iam_enforcement,
    lambda_invoke,
    moto_backends,
    moto_server_cors,
    outbox_capture,
    stepfunctions_clients,
    stepfunctions_deletion,
    stepfunctions_open_executions,
    stepfunctions_speedups,
    stepfunctions_stop,
    stepfunctions_tasks,
)
from shop.local.patches.faults import Faults
from shop.local.patches.ses_sandbox import SesSandbox
from shop.local.patches.stepfunctions_open_executions import DEFAULT_MAX_OPEN_EXECUTIONS


def every_patch(*, invoke: Callable[[str, Any], Any], outbox: Outbox, ses: SesSandbox, faults: Faults,
                enforcer: Any, credentials_for: Callable[[str], Mapping[str, str]],
                max_open_executions: int = DEFAULT_MAX_OPEN_EXECUTIONS) -> list[Patch]:
    return [
        *lambda_invoke.patches(invoke),
        *outbox_capture.patches(outbox),  # sees a message only once the sandbox let it through
        *ses.patches(),
        *faults.patches(),
        *iam_enforcement.patches(enforcer),
        *stepfunctions_clients.patches(credentials_for),
        *stepfunctions_speedups.patches(),
        *stepfunctions_tasks.patches(),
        *stepfunctions_stop.patches(),
        *stepfunctions_deletion.patches(),
        *stepfunctions_open_executions.patches(max_open_executions),
        *dynamodb_lock.patches(),
        *moto_server_cors.patches(),
        *moto_backends.patches(),
    ]
