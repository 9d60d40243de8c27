"""An order's status: the one list of them, for the table, the workflow, the API and the owner.

A `StrEnum`, so a status is stored, sent as JSON and compared exactly as the string it always was.
"""

from __future__ import annotations

from enum import StrEnum


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
