"""What the order workflow and the code around it agree on: the names each side relies on.

The state machine's definition (shop/infra/workflow.py) is built from these names; the handlers
and the owner's tools send or read them. A name changed here changes both sides at once.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What an execution's output says became of the order: a rejection, a cancellation or a
    timeout is a business result, not a failure. The cancellation email reads it too."""

    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    TIMED_OUT = "TIMED_OUT"
    CANCELLED = "CANCELLED"


class ExecutionStatus(StrEnum):
    """Step Functions' status of an execution (DescribeExecution, ListExecutions)."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"
    PENDING_REDRIVE = "PENDING_REDRIVE"


# The error name the approval callback gives SendTaskFailure; the state machine catches it.
REJECTION_ERROR = "OrderRejected"
# ... and the one the owner's console and CLI give it to cancel an order awaiting approval.
CANCELLATION_ERROR = "OrderCancelled"
# The error a Lambda step raises when AWS throttled or failed it after the SDK's own retries;
# the state machine retries it with backoff. It is the name of shop.adapters.aws.TransientError.
TRANSIENT_ERROR = "TransientError"


class State:
    """States of the definition the owner's tools look for in an execution's history."""

    REQUEST_APPROVAL = "RequestApproval"  # waits for the owner's decision (the task token)
    MARK_SHIPPED = "MarkShipped"  # reached once an approval was delivered
    REJECTED = "Rejected"  # reached once a rejection was delivered
    CANCELLED = "Cancelled"  # reached once a cancellation was delivered
    TIMED_OUT = "TimedOut"  # entered when the approval deadline passed
    WAIT_BEFORE_FEEDBACK = "WaitBeforeFeedback"  # shipped: the feedback email waits its delay here
