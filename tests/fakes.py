"""In-memory stand-ins for what the approval protocol calls: the Orders and Decisions tables and the
approval task in Step Functions; and the idempotency keys an order is placed with. Each table method holds to the condition its DynamoDB expression
in shop/adapters/tables.py states; tests/integration/test_tables.py runs the same scenarios against
both, in moto. No AWS, no clock: times are passed in, as the logic passes them.

Every call first goes through `before(operation)`, which does nothing unless a test makes it: raise
`Throttled` (an AWS fault: the call fails and changes nothing), or pause there while another request
runs (an interleaving). Then `sdk(operation, effect)` makes the call: `effect()` is what AWS does
(the condition, the write, the result or the conditional failure). By default it simply runs it; the
protocol's model (tests/unit/test_protocol_model.py) runs it as the SDK and the network would, with
lost responses and the SDK's retries, or lets it land late.
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
Sdk = Callable[[str, Callable[[], Any]], Any]


def _nothing(operation: str) -> None:
    return None


def _directly(operation: str, effect: Callable[[], Any]) -> Any:
    return effect()


class _Fake:
    def __init__(self, before: Before = _nothing, sdk: Sdk = _directly):
        self.before, self.sdk = before, sdk

    def _call(self, operation: str, effect: Callable[[], Any]) -> Any:
        self.before(operation)
        return self.sdk(operation, effect)


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


class Orders(_Fake):
    """The orders table; `items` holds its items as the table does. An item given in part (the
    fields a test cares about) is completed from STORED_ORDER, as every stored order has them."""

    def __init__(self, *orders: dict[str, Any], before: Before = _nothing, sdk: Sdk = _directly):
        super().__init__(before, sdk)
        self.items = {order["orderId"]: stored(**copy.deepcopy(order)) for order in orders}

    def get(self, order_id: str) -> StoredOrder | None:
        def effect() -> Any:
            item = self.items.get(order_id)
            return StoredOrder.from_item(copy.deepcopy(item)) if item is not None else None
        return self._call("orders.get", effect)

    def get_many(self, order_ids: Iterable[str]) -> dict[str, StoredOrder]:
        def effect() -> Any:
            return {key: StoredOrder.from_item(copy.deepcopy(self.items[key])) for key in order_ids if key in self.items}
        return self._call("orders.get_many", effect)

    def mark_awaiting_approval(self, order_id: str, *, task_token: str, link_id: str, deadline: str) -> bool:
        def effect() -> Any:
            order = self.items.get(order_id)
            if order is None or order.get("status") not in (OrderStatus.RECEIVED, OrderStatus.AWAITING_APPROVAL):
                return False
            order.update(status=OrderStatus.AWAITING_APPROVAL, approvalTaskToken=task_token, pendingLinkId=link_id,
                         approvalDeadline=deadline, **{AWAITING_KEY: OrderStatus.AWAITING_APPROVAL})
            order.pop("approvalLinkId", None)
            return True
        return self._call("orders.mark_awaiting_approval", effect)

    def awaiting(self, *, limit: int) -> list[StoredOrder]:
        """The awaiting index: the orders carrying its key, the earliest deadline first."""
        self.before("orders.awaiting")
        found = sorted((item for item in self.items.values() if AWAITING_KEY in item),
                       key=lambda item: item.get("approvalDeadline", ""))
        return [StoredOrder.from_item(copy.deepcopy(item)) for item in found[:limit]]

    def confirm_links(self, order_id: str, *, link_id: str) -> bool:
        def effect() -> Any:
            order = self.items.get(order_id)
            if order is None or order.get("pendingLinkId") != link_id:
                return False
            order["approvalLinkId"] = order.pop("pendingLinkId")
            return True
        return self._call("orders.confirm_links", effect)

    def replace_link(self, order_id: str, *, old_link_id: str, new_link_id: str) -> bool:
        def effect() -> Any:
            order = self.items.get(order_id)
            if (order is None or order.get("status") != OrderStatus.AWAITING_APPROVAL
                    or order.get("approvalLinkId") not in (old_link_id, new_link_id)):
                return False
            order["approvalLinkId"] = new_link_id
            return True
        return self._call("orders.replace_link", effect)

    def set_decided(self, order_id: str, *, status: str, decided_at: str) -> None:
        def effect() -> Any:
            order = self.items.get(order_id)
            if order is None:
                return
            if order.get("status") == OrderStatus.AWAITING_APPROVAL:
                order.update(status=status, decidedAt=decided_at)
            for name in APPROVAL_FIELDS:
                order.pop(name, None)
        return self._call("orders.set_decided", effect)

    # -- the state machine's own DynamoDB tasks (not adapter methods) ------------------------------
    def set_status(self, order_id: str, status: str) -> bool:
        """MarkShipped, MarkFeedbackRequested, RecordFailure: False when the condition failed."""
        def effect() -> Any:
            order = self.items.get(order_id)
            if order is None:
                return False
            order["status"] = status
            for name in APPROVAL_FIELDS:
                order.pop(name, None)
            return True
        return self._call("orders.set_status", effect)

    def delete(self, order_id: str) -> None:
        def effect() -> Any:
            self.items.pop(order_id, None)
        return self._call("orders.delete", effect)


class Decisions(_Fake):
    def __init__(self, before: Before = _nothing, sdk: Sdk = _directly):
        super().__init__(before, sdk)
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, order_id: str) -> dict[str, Any] | None:
        def effect() -> Any:
            return copy.deepcopy(self.items.get(order_id))
        return self._call("decisions.get", effect)

    def get_many(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        def effect() -> Any:
            return {key: copy.deepcopy(self.items[key]) for key in order_ids if key in self.items}
        return self._call("decisions.get_many", effect)

    def record(self, order_id: str, *, decision: str, decided_at: str, expires_at: int, claim: str,
               claimed_until: int) -> None:
        def effect() -> Any:
            if order_id in self.items:
                raise DecisionConflict(order_id)
            self.items[order_id] = {"orderId": order_id, "decision": decision, "decidedAt": decided_at,
                                    "delivered": False, "expiresAt": expires_at, "deliveryClaim": claim,
                                    "claimedUntil": claimed_until}
        return self._call("decisions.record", effect)

    def claim(self, order_id: str, *, decision: str, claim: str, now: int, claimed_until: int) -> str | None:
        def effect() -> Any:
            record = self.items.get(order_id)
            if (record is None or record["decision"] != decision or record["delivered"] is not False
                    or "missed" in record or record.get("claimedUntil", now) > now):
                return None
            lapsed = record.get("deliveryClaim", "")
            record.update(deliveryClaim=claim, claimedUntil=claimed_until)
            return lapsed
        return self._call("decisions.claim", effect)

    def release(self, order_id: str, *, claim: str, doubt: bool = False) -> None:
        def effect() -> Any:
            record = self.items.get(order_id)
            if record is not None and record.get("deliveryClaim") == claim:
                if doubt:
                    record["claimedUntil"] = 0
                else:
                    del record["deliveryClaim"], record["claimedUntil"]
        return self._call("decisions.release", effect)

    def mark_delivered(self, order_id: str) -> None:
        self._settle("decisions.mark_delivered", order_id, "delivered")

    def mark_missed(self, order_id: str) -> None:
        self._settle("decisions.mark_missed", order_id, "missed")

    def _settle(self, operation: str, order_id: str, flag: str) -> None:
        def effect() -> Any:
            record = self.items.get(order_id)
            if record is None or (flag == "missed" and record["delivered"] is True):
                return  # a delivered decision is never marked missed
            record[flag] = True
            record.pop("deliveryClaim", None), record.pop("claimedUntil", None)
            if flag == "delivered":
                record.pop("missed", None)
        return self._call(operation, effect)


class IdempotencyKeys(_Fake):
    """The idempotency table: a key whose `expiresAt` has passed is stored (TTL deletes it only
    within about two days) and counts as absent."""

    def __init__(self, before: Before = _nothing, sdk: Sdk = _directly):
        super().__init__(before, sdk)
        self.items: dict[str, dict[str, Any]] = {}

    def claim(self, key: str, *, order_id: str, request_hash: str, now: int, expires_at: int) -> None:
        def effect() -> Any:
            held = self.items.get(key)
            if held is not None and not held["expiresAt"] < now:
                raise IdempotencyConflict(copy.deepcopy(held))
            self.items[key] = {"idempotencyKey": key, "orderId": order_id, "requestHash": request_hash,
                               "expiresAt": expires_at}
        return self._call("idempotency.claim", effect)


class Workflow:
    """The approval task of one execution: it takes one answer for its token, then refuses any
    (as Step Functions does: TaskTimedOut, InvalidToken). `gone` makes it refuse from the start:
    its deadline passed, and its history shows the timeout (`progress`); `ended`, the execution's
    status, says it has ended (DescribeExecution)."""

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

    def progress(self, name: str) -> tuple[dict[str, str], str]:
        """The states its history shows, and its status: still running."""
        marks = {"RequestApproval": "passed" if self.gone or self.calls else "current"}
        if self.calls:
            kind, _, what = self.calls[0]
            marks[_REACHED.get(what if kind == "failure" else "approve", "")] = "passed"
        elif self.gone:
            marks["TimedOut"] = "current"
        return marks, "RUNNING"


# The state each answer takes the workflow to (shop.domain.workflow_contract.State).
_REACHED = {"approve": "MarkShipped", "OrderRejected": "Rejected", "OrderCancelled": "Cancelled"}
