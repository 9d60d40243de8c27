"""StopExecution keeps its error and cause, as AWS does.

moto's StopExecution reads only the execution's ARN and stops it with an empty error and cause, so
the stopped execution's history (ExecutionAborted) and the owner's tools say nothing of why. On AWS
they say what the caller gave: `make destroy` stops an order waiting for its feedback email with
an error and a cause that say so. This passes them on to the execution, which hands them to the
running program (moto's ProgramStopped carries both into the ExecutionAborted event).
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from shop.local.patches import Patch


def patches() -> list[Patch]:
    def wrap(stop_execution: Any) -> Any:
        @wraps(stop_execution)
        def stop_execution_saying_why(self):
            from moto.core.responses import ActionResult
            from moto.core.utils import utcnow

            arn = self._get_param("executionArn")
            backend = self.stepfunction_backend
            backend._validate_execution_arn(arn)
            machine = backend._get_state_machine_for_execution(arn)
            execution = next((e for e in machine.executions if e.execution_arn == arn), None)
            if execution is None:
                return stop_execution(self)  # moto's own ExecutionDoesNotExist
            execution.stop(stop_date=utcnow(), error=self._get_param("error") or "",
                           cause=self._get_param("cause") or "")
            return ActionResult({"stopDate": execution.stop_date})

        return stop_execution_saying_why

    return [Patch("moto.stepfunctions.responses:StepFunctionResponse", "stop_execution", wrap,
                  why="StopExecution keeps its error and cause")]
