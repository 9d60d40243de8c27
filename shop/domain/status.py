"""An order's status: the one list of them, for the table, the workflow, the API and the owner.

A `StrEnum`, so a status is stored, sent as JSON and compared exactly as the string it always was.
"""

from __future__ import annotations

from enum import StrEnum

from shop.domain.workflow_contract import ExecutionStatus


class OrderStatus(StrEnum):
    # Statuses an order holds in the orders table, in the order the workflow moves through them.
    RECEIVED = "RECEIVED"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SHIPPED = "SHIPPED"
    FEEDBACK_REQUESTED = "FEEDBACK_REQUESTED"
    CANCELLED = "CANCELLED"  # the owner cancelled it; the workflow deletes it
    FAILED = "FAILED"  # a step kept failing after its retries; the owner must look
    # Statuses the owner sees of an order the workflow already deleted, from how its execution ended
    # (a rejected or cancelled one shows REJECTED or CANCELLED, its execution's outcome).
    TIMED_OUT = "TIMED_OUT"  # nobody decided it before the approval deadline
    CLOSING = "CLOSING"  # deleted, its cancellation email not yet sent
    ABORTED = "ABORTED"  # stopped by hand in the Step Functions console


# Each status, and the status of the execution of every order in it: the owner's list asks Step
# Functions for those executions only, and an order whose ended execution disagrees with its record
# is not where its record says.
EXECUTION_STATUS_OF: dict[OrderStatus, ExecutionStatus] = {
    OrderStatus.RECEIVED: ExecutionStatus.RUNNING,
    OrderStatus.AWAITING_APPROVAL: ExecutionStatus.RUNNING,
    OrderStatus.APPROVED: ExecutionStatus.RUNNING,
    OrderStatus.SHIPPED: ExecutionStatus.RUNNING,
    OrderStatus.CLOSING: ExecutionStatus.RUNNING,
    OrderStatus.FEEDBACK_REQUESTED: ExecutionStatus.SUCCEEDED,
    OrderStatus.REJECTED: ExecutionStatus.SUCCEEDED,
    OrderStatus.CANCELLED: ExecutionStatus.SUCCEEDED,
    OrderStatus.TIMED_OUT: ExecutionStatus.SUCCEEDED,
    OrderStatus.FAILED: ExecutionStatus.FAILED,
    OrderStatus.ABORTED: ExecutionStatus.ABORTED,
}


def status_of(stored: str | None, execution_status: ExecutionStatus | None,
              outcome: str | None = None) -> OrderStatus:
    """An order's status: `stored`, its record's (None once its workflow deleted it), unless its
    execution ended otherwise (`execution_status`, and a succeeded one's `outcome`).

    The record is written by the workflow's own steps. When they cannot write it (DynamoDB refusing
    every retry, RecordFailure's too), the execution fails and leaves the record behind, still
    AWAITING_APPROVAL or SHIPPED. An ended execution never moves on, so a record that disagrees
    with it will never be right: the execution is the truth."""
    if stored is not None and (execution_status in (None, ExecutionStatus.RUNNING)
                               or EXECUTION_STATUS_OF.get(OrderStatus(stored)) == execution_status):
        return OrderStatus(stored)
    assert execution_status is not None, "no order and no execution: there is nothing to have a status"
    if execution_status == ExecutionStatus.SUCCEEDED:
        return OrderStatus(outcome) if outcome and outcome in OrderStatus.__members__ else OrderStatus.FEEDBACK_REQUESTED
    return {ExecutionStatus.RUNNING: OrderStatus.CLOSING, ExecutionStatus.FAILED: OrderStatus.FAILED}.get(
        execution_status, OrderStatus.ABORTED)
