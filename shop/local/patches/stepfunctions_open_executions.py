"""A bound on open executions, as Step Functions' quota of them: StartExecution is refused with
ExecutionLimitExceeded once the account has that many running.

AWS's quota is 1,000,000 open executions per account and region. In local mode each one that waits
for the owner holds two threads and ~160 kB (make bench): at 3,000 waiting orders the shop had
6,003 threads and 947 MB, and the machine's PID limit would end the process at about 16,000. So
local mode sets the bound itself (LocalConfig.max_open_executions, `MAX_OPEN_EXECUTIONS`), and
beyond it an order is refused with the error AWS answers at its quota, which the shop answers as
503 "too many orders are open" (shop/adapters/workflow.py), instead of running out of threads.
"""

from __future__ import annotations

import threading
from typing import Any

from shop.local.patches import Patch

# 2 threads and ~160 kB each: 10,000 threads and under 1 GB, far from a laptop's PID limit.
DEFAULT_MAX_OPEN_EXECUTIONS = 5000


def _running(backend: Any) -> int:
    from moto.stepfunctions.parser.api import ExecutionStatus

    return sum(1 for machine in backend.state_machines for execution in machine.executions
               if getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING)


def patches(bound: int) -> list[Patch]:
    lock = threading.Lock()  # two starts at the bound: one of them is refused

    def wrap(start: Any) -> Any:
        from moto.core.exceptions import AWSError

        def start_within_the_bound(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
            with lock:
                if _running(self) >= bound:
                    raise AWSError(
                        f"The maximum number of running executions has been reached ({bound}, local "
                        "mode's MAX_OPEN_EXECUTIONS). Running executions must end or be stopped before "
                        "a new execution can be started.", exception_type="ExecutionLimitExceeded", status=400)
                return start(self, state_machine_arn, *args, **kwargs)

        return start_within_the_bound

    return [Patch("moto.stepfunctions.parser.models:StepFunctionsParserBackend", "start_execution", wrap,
                  why="local mode's bound on open executions, as Step Functions' quota")]
