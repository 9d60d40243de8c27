"""In-memory stand-ins for what the approval protocol calls: the Orders and Decisions tables and the
approval task in Step Functions; and the idempotency keys an order is placed with. Each table method holds to the condition its DynamoDB expression
in shop/adapters/tables.py states; tests/integration/test_tables.py runs the same scenarios against
both, in moto. No AWS, no clock: times are passed in, as the logic passes them.

Every call first goes through `before(operation)`, which does nothing unless a test makes it: raise
`Throttled` (an AWS fault: the call fails and changes nothing), or pause there while another request
runs (an interleaving). The protocol's model (tests/unit/test_protocol_model.py) does both.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from shop.adapters.tables import DecisionConflict, IdempotencyConflict
from shop.adapters.workflow import NotTaken, TaskGone
from shop.domain.executions import Execution
from shop.domain.orders import APPROVAL_FIELDS, AWAITING_KEY, StoredOrder
from shop.domain.status import OrderStatus
from shop.domain.workflow_contract import ExecutionStatus

Before = Callable[[str], None]


def _nothing(operation: str) -> None:
    return None


class Throttled(Exception):
    """What botocore raises once AWS throttled a call past the SDK's retries: nothing was done."""

    def __init__(self, operation: str):
        super().__init__(f"{operation}: Rate exceeded (injected fault)")
        self.response = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}


# What every stored order has besides the fields a test cares about (its id, status, approval).
STORED_ORDER = {"orderId": "01JORDER", "status": "RECEIVED", "createdAt": "2026-11-24T10:00:00Z",
                "customerName": "Ada", "customerEmail": "ada@example.com",
                "shippingAddress": {"streetAddress": "1 Main St", "city": "Cork", "county": "Cork",
                                    "country": "Ireland"},
                "items": [{"productId": "01JDF12740C1HB5QE4DT9TWB3R", "name": "Stoneware mug", "quantity": 2,
                           "unitPrice": "14.90", "lineTotal": "29.80"}],
                "currency": "EUR", "total": "29.80"}


def stored(**fields: Any) -> dict[str, Any]:
    """An orders table item: STORED_ORDER with `fields`."""
    return {**copy.deepcopy(STORED_ORDER), **fields}


class Orders:
    """The orders table; `items` holds its items as the table does. An item given in part (the
    fields a test cares about) is completed from STORED_ORDER, as every stored order has them."""

    def __init__(self, *orders: dict[str, Any], before: Before = _nothing):
        self.items = {order["orderId"]: stored(**copy.deepcopy(order)) for order in orders}
        self.before = before

    def get(self, order_id: str) -> StoredOrder | None:
        self.before("orders.get")
        item = self.items.get(order_id)
        return StoredOrder.from_item(copy.deepcopy(item)) if item is not None else None

    def get_many(self, order_ids: Iterable[str]) -> dict[str, StoredOrder]:
        self.before("orders.get_many")
        return {key: StoredOrder.from_item(copy.deepcopy(self.items[key])) for key in order_ids if key in self.items}

    def mark_awaiting_approval(self, order_id: str, *, task_token: str, link_id: str, deadline: str) -> bool:
        self.before("orders.mark_awaiting_approval")
        order = self.items.get(order_id)
        if order is None or order.get("status") not in (OrderStatus.RECEIVED, OrderStatus.AWAITING_APPROVAL):
            return False
        order.update(status=OrderStatus.AWAITING_APPROVAL, approvalTaskToken=task_token, pendingLinkId=link_id,
                     approvalDeadline=deadline, **{AWAITING_KEY: OrderStatus.AWAITING_APPROVAL})
        order.pop("approvalLinkId", None)
        return True

    def awaiting(self, *, limit: int) -> list[StoredOrder]:
        """The awaiting index: the orders carrying its key, the earliest deadline first."""
        self.before("orders.awaiting")
        found = sorted((item for item in self.items.values() if AWAITING_KEY in item),
                       key=lambda item: item.get("approvalDeadline", ""))
        return [StoredOrder.from_item(copy.deepcopy(item)) for item in found[:limit]]

    def confirm_links(self, order_id: str, *, link_id: str) -> bool:
        self.before("orders.confirm_links")
        order = self.items.get(order_id)
        if order is None or order.get("pendingLinkId") != link_id:
            return False
        order["approvalLinkId"] = order.pop("pendingLinkId")
        return True

    def replace_link(self, order_id: str, *, old_link_id: str, new_link_id: str) -> bool:
        self.before("orders.replace_link")
        order = self.items.get(order_id)
        if (order is None or order.get("status") != OrderStatus.AWAITING_APPROVAL
                or order.get("approvalLinkId") not in (old_link_id, new_link_id)):
            return False
        order["approvalLinkId"] = new_link_id
        return True

    def set_decided(self, order_id: str, *, status: str, decided_at: str) -> None:
        self.before("orders.set_decided")
        order = self.items.get(order_id)
        if order is None:
            return
        if order.get("status") == OrderStatus.AWAITING_APPROVAL:
            order.update(status=status, decidedAt=decided_at)
        for name in APPROVAL_FIELDS:
            order.pop(name, None)

    # -- the state machine's own DynamoDB tasks (not adapter methods) ------------------------------
    def set_status(self, order_id: str, status: str) -> bool:
        """MarkShipped, MarkFeedbackRequested, RecordFailure: False when the condition failed."""
        self.before("orders.set_status")
        order = self.items.get(order_id)
        if order is None:
            return False
        order["status"] = status
        for name in APPROVAL_FIELDS:
            order.pop(name, None)
        return True

    def delete(self, order_id: str) -> None:
        self.before("orders.delete")
        self.items.pop(order_id, None)


class Decisions:
    def __init__(self, before: Before = _nothing):
        self.items: dict[str, dict[str, Any]] = {}
        self.before = before

    def get(self, order_id: str) -> dict[str, Any] | None:
        self.before("decisions.get")
        return copy.deepcopy(self.items.get(order_id))

    def get_many(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        self.before("decisions.get_many")
        return {key: copy.deepcopy(self.items[key]) for key in order_ids if key in self.items}

    def record(self, order_id: str, *, decision: str, decided_at: str, expires_at: int, claim: str,
               claimed_until: int) -> None:
        self.before("decisions.record")
        if order_id in self.items:
            raise DecisionConflict(order_id)
        self.items[order_id] = {"orderId": order_id, "decision": decision, "decidedAt": decided_at,
                                "delivered": False, "expiresAt": expires_at, "deliveryClaim": claim,
                                "claimedUntil": claimed_until}

    def claim(self, order_id: str, *, decision: str, claim: str, now: int, claimed_until: int) -> str | None:
        self.before("decisions.claim")
        record = self.items.get(order_id)
        if (record is None or record["decision"] != decision or record["delivered"] is not False
                or "missed" in record or record.get("claimedUntil", now) > now):
            return None
        lapsed = record.get("deliveryClaim", "")
        record.update(deliveryClaim=claim, claimedUntil=claimed_until)
        return lapsed

    def release(self, order_id: str, *, claim: str, doubt: bool = False) -> None:
        self.before("decisions.release")
        record = self.items.get(order_id)
        if record is not None and record.get("deliveryClaim") == claim:
            if doubt:
                record["claimedUntil"] = 0
            else:
                del record["deliveryClaim"], record["claimedUntil"]

    def mark_delivered(self, order_id: str) -> None:
        self._settle("decisions.mark_delivered", order_id, "delivered")

    def mark_missed(self, order_id: str) -> None:
        self._settle("decisions.mark_missed", order_id, "missed")

    def _settle(self, operation: str, order_id: str, flag: str) -> None:
        self.before(operation)
        record = self.items.get(order_id)
        if record is not None:
            record[flag] = True
            record.pop("deliveryClaim", None), record.pop("claimedUntil", None)


class IdempotencyKeys:
    """The idempotency table: a key whose `expiresAt` has passed is stored (TTL deletes it only
    within about two days) and counts as absent."""

    def __init__(self, before: Before = _nothing):
        self.items: dict[str, dict[str, Any]] = {}
        self.before = before

    def claim(self, key: str, *, order_id: str, request_hash: str, now: int, expires_at: int) -> None:
        self.before("idempotency.claim")
        held = self.items.get(key)
        if held is not None and not held["expiresAt"] < now:
            raise IdempotencyConflict(copy.deepcopy(held))
        self.items[key] = {"idempotencyKey": key, "orderId": order_id, "requestHash": request_hash,
                           "expiresAt": expires_at}


class Workflow:
    """The approval task of one execution: it takes one answer for its token, then refuses any
    (as Step Functions does: TaskTimedOut, InvalidToken). `gone` makes it refuse from the start;
    `ended`, the execution's status, says it has ended (DescribeExecution)."""

    def __init__(self, gone: bool = False, before: Before = _nothing, ended: ExecutionStatus | None = None):
        self.calls: list[tuple] = []
        self.gone = gone or ended is not None
        self.before = before
        self.ended = ended  # how the execution ended (RecordFailure may have failed to say so on the order)

    def describe(self, name: str) -> Execution:
        self.before("workflow.describe")
        if self.ended is None:
            return Execution(name, ExecutionStatus.RUNNING)
        return Execution(name, self.ended, stop_date=datetime(2026, 11, 24, 10, 5, tzinfo=UTC))

    def executions(self, *, status: ExecutionStatus | None = None) -> Iterator[Execution]:
        """No execution of another order: only `describe` knows this one (ListExecutions)."""
        self.before("workflow.executions")
        return iter(())

    def approve(self, token: str, output: dict[str, Any]) -> None:
        self._call("success", token, output.get("decision"))

    def reject(self, token: str, *, error: str, cause: str) -> None:
        self._call("failure", token, error)

    def _call(self, *call: Any) -> None:
        try:
            self.before(f"workflow.{call[0]}")
        except Throttled as error:  # what the adapter makes of a refused call
            raise NotTaken(error.response["Error"]["Code"]) from error
        if self.gone or self.calls:
            raise TaskGone("TaskTimedOut")
        self.calls.append(call)
