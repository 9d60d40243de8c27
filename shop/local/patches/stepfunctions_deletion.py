"""Deleting a state machine while executions run, as AWS does it.

AWS's DeleteStateMachine is asynchronous: "It sets the state machine's status to DELETING and begins
the deletion process. A state machine is deleted only when all its executions are completed. On the
next state transition, the state machine's executions are terminated." (DeleteStateMachine API
reference). Meanwhile CreateStateMachine under its name, and StartExecution on it, fail with
`StateMachineDeleting`. moto removed the machine at once, so a redeploy reusing the name passed
locally where on AWS it rolls back (an order waits up to 24 hours for its owner: its next
transition can be that far away).

Here a machine with running executions stays listed and described as DELETING; each of its
executions is aborted when it enters its next state (a task waiting for its token ends first, as
on AWS); the machine goes once none runs. Only the top-level states count as transitions: a
Map's or Parallel's inner states run on (this stack has neither).
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

from shop.local.patches import Patch

# AWS's status of a state machine being deleted (DescribeStateMachine), and the error refusing it.
DELETING = "DELETING"
STATE_MACHINE_DELETING = "StateMachineDeleting"
ABORT_CAUSE = "The state machine was deleted"


def _refused(arn: str) -> Exception:
    from moto.core.exceptions import AWSError

    return AWSError(f"State machine is being deleted: '{arn}'", exception_type=STATE_MACHINE_DELETING, status=400)


def _running(machine: Any) -> bool:
    from moto.stepfunctions.parser.api import ExecutionStatus

    return any(getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING for execution in machine.executions)


def patches() -> list[Patch]:
    lock = threading.Lock()  # a deletion and its executions' ends decide the machine's fate one at a time
    deleting: set[str] = set()  # ARNs of machines DELETING: every account and region's, as ARNs say

    def asynchronous_delete(delete: Any) -> Any:
        def delete_once_executions_end(self, arn: str) -> None:
            self._validate_machine_arn(arn)
            with lock:
                machine = next((m for m in self.state_machines if m.arn == arn), None)
                if machine is not None and _running(machine):
                    deleting.add(arn)
                    return
                deleting.discard(arn)
            delete(self, arn)

        return delete_once_executions_end

    def refuse_a_deleting_name(create: Any) -> Any:
        def create_unless_deleting(self, name: str, *args: Any, **kwargs: Any) -> Any:
            busy = next((m.arn for m in self.state_machines if m.name == name and m.arn in deleting), None)
            if busy is not None:
                raise _refused(busy)
            return create(self, name, *args, **kwargs)

        return create_unless_deleting

    def refuse_a_deleting_machine(start: Any) -> Any:
        def start_unless_deleting(self, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
            if state_machine_arn in deleting:
                raise _refused(state_machine_arn)
            return start(self, state_machine_arn, *args, **kwargs)

        return start_unless_deleting

    def described_as_deleting(describe: Any) -> Any:
        def describe_with_status(self, state_machine_arn: str) -> Any:
            described = describe(self, state_machine_arn)
            if state_machine_arn in deleting:
                described.result["status"] = DELETING  # moto answers ACTIVE, always
            return described

        return describe_with_status

    def aborted_at_next_transition(evaluate: Any) -> Any:
        def evaluate_unless_deleting(self, env: Any) -> None:
            machine_arn = env.states.context_object.context_object_data["StateMachine"]["Id"]
            if machine_arn in deleting and not env.is_frame() and env.is_running():
                env.set_stop(stop_date=datetime.datetime.now(tz=datetime.UTC), cause=ABORT_CAUSE, error=None)
                return
            evaluate(self, env)

        return evaluate_unless_deleting

    def deleted_after_the_last_execution(terminated: Any) -> Any:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        def terminated_then_deleted(self) -> None:
            terminated(self)
            execution = self.execution
            arn = execution.state_machine.arn
            with lock:
                if arn not in deleting:
                    return
                backend = stepfunctions_parser_backends[execution.account_id][execution.region_name]
                machine = next((m for m in backend.state_machines if m.arn == arn), None)
                if machine is not None and _running(machine):
                    return
                deleting.discard(arn)
                if machine is not None:
                    backend.state_machines.remove(machine)  # what moto's DeleteStateMachine does

        return terminated_then_deleted

    return [
        Patch("moto.stepfunctions.models:StepFunctionBackend", "delete_state_machine", asynchronous_delete,
              why="a machine with running executions stays DELETING until they end"),
        Patch("moto.stepfunctions.models:StepFunctionBackend", "create_state_machine", refuse_a_deleting_name,
              why="CreateStateMachine under a DELETING machine's name fails with StateMachineDeleting"),
        Patch("moto.stepfunctions.parser.models:StepFunctionsParserBackend", "start_execution",
              refuse_a_deleting_machine, why="StartExecution on a DELETING machine fails with StateMachineDeleting"),
        Patch("moto.stepfunctions.responses:StepFunctionResponse", "_describe_state_machine", described_as_deleting,
              why="DescribeStateMachine shows DELETING"),
        Patch("moto.stepfunctions.parser.asl.component.state.state:CommonStateField", "eval",
              aborted_at_next_transition, why="a DELETING machine's executions end at their next transition"),
        Patch("moto.stepfunctions.parser.backend.execution:BaseExecutionWorkerCommunication", "terminated",
              deleted_after_the_last_execution, why="the machine is deleted once no execution runs"),
    ]
