"""DynamoDB access for orders and products."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from shop.adapters.aws import client, error_code
from shop.domain.catalog import Product
from shop.domain.orders import APPROVAL_FIELDS, AWAITING_INDEX, AWAITING_KEY, Order, StoredOrder
from shop.domain.status import OrderStatus

_BATCH_GET_LIMIT = 100
_BATCH_WRITE_LIMIT = 25
_APPROVAL_FIELDS = ", ".join(APPROVAL_FIELDS)


def _serializer():
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    serializer, _ = _serializer()
    return {key: serializer.serialize(value) for key, value in data.items() if value is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    _, deserializer = _serializer()
    return {key: deserializer.deserialize(value) for key, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; integers become int again."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


class _Table:
    """One DynamoDB table, by name, with its partition key; the client is the shared one unless
    a test passes its own."""

    key = ""

    def __init__(self, table_name: str, dynamodb: Any = None):
        self.table_name = table_name
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> Any:
        return self._dynamodb or client("dynamodb")

    def get(self, key: str) -> dict[str, Any] | None:
        """The item as plain Python values (consistent read), or None."""
        response = self.dynamodb.get_item(
            TableName=self.table_name, Key={self.key: {"S": key}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _plain(from_item(item)) if item else None

    @staticmethod
    def _condition_held(write: Any, **request: Any) -> bool:
        """Make a conditional write; False when its condition failed, and nothing was written."""
        try:
            write(**request)
        except Exception as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _batch_get(self, keys: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Items by key, in batches of 100, as plain Python values; missing keys yield nothing."""
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            batch = [{self.key: {"S": key}} for key in wanted[start : start + _BATCH_GET_LIMIT]]
            request = {self.table_name: {"Keys": batch, "ConsistentRead": True}}
            while request:
                response = self.dynamodb.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    yield _plain(from_item(item))
                request = response.get("UnprocessedKeys") or {}


class OrdersTable(_Table):
    """Orders keyed by `orderId`. Amounts are stored as strings, exactly as the API shows them."""

    key = "orderId"

    def get(self, key: str) -> StoredOrder | None:  # type: ignore[override]
        """The order with its approval's state (consistent read), or None."""
        item = super().get(key)
        return StoredOrder.from_item(item) if item is not None else None

    def put_new(self, order: Order) -> bool:
        """Store a new order; never overwrites one with the same id. False when one was there."""
        return self._condition_held(
            self.dynamodb.put_item,
            TableName=self.table_name,
            Item=to_item(order.to_public()),
            ConditionExpression="attribute_not_exists(orderId)",
        )

    def mark_awaiting_approval(self, order_id: str, *, task_token: str, link_id: str, deadline: str) -> bool:
        """Record that the owner is being asked: the task token (the owner's console and CLI decide
        with it) and the deadline. The links' id stays pending until `confirm_links`: nothing can
        decide the order before its notification went out. False, changing nothing, when the order
        is past awaiting approval (decided: a retried request must not undo that) or gone."""
        return self._condition_held(
            self.dynamodb.update_item,
            TableName=self.table_name,
            Key={"orderId": {"S": order_id}},
            UpdateExpression="SET #status = :status, approvalTaskToken = :token, pendingLinkId = :link, "
            f"approvalDeadline = :deadline, {AWAITING_KEY} = :status REMOVE approvalLinkId",
            ConditionExpression="attribute_exists(orderId) AND #status IN (:received, :status)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":status": {"S": OrderStatus.AWAITING_APPROVAL},
                ":received": {"S": OrderStatus.RECEIVED},
                ":token": {"S": task_token},
                ":link": {"S": link_id},
                ":deadline": {"S": deadline},
            },
        )

    def awaiting(self, *, limit: int) -> list[StoredOrder]:
        """The `limit` orders awaiting approval whose deadline comes first: one Query of the
        awaiting index, which holds only them."""
        response = self.dynamodb.query(
            TableName=self.table_name, IndexName=AWAITING_INDEX, Limit=limit, ScanIndexForward=True,
            KeyConditionExpression="#awaiting = :awaiting", ExpressionAttributeNames={"#awaiting": AWAITING_KEY},
            ExpressionAttributeValues={":awaiting": {"S": OrderStatus.AWAITING_APPROVAL}},
        )
        return [StoredOrder.from_item(_plain(from_item(item))) for item in response.get("Items", [])]

    def confirm_links(self, order_id: str, *, link_id: str) -> bool:
        """The notification with these links went out: from now on they (and the owner's tools)
        decide. False if the order moved on meanwhile (a timeout deleted it)."""
        return self._condition_held(
            self.dynamodb.update_item,
            TableName=self.table_name,
            Key={"orderId": {"S": order_id}},
            UpdateExpression="SET approvalLinkId = :link REMOVE pendingLinkId",
            ConditionExpression="pendingLinkId = :link",
            ExpressionAttributeValues={":link": {"S": link_id}},
        )

    def replace_link(self, order_id: str, *, old_link_id: str, new_link_id: str) -> bool:
        """Make `new_link_id` the only link id that decides; False if the order moved on (or was
        resent) in the meantime, in which case nothing changed. The same write again holds: a retry
        (the SDK's, or the caller's) of one whose answer was lost finishes it rather than failing."""
        return self._condition_held(
            self.dynamodb.update_item,
            TableName=self.table_name,
            Key={"orderId": {"S": order_id}},
            UpdateExpression="SET approvalLinkId = :new",
            ConditionExpression="#status = :awaiting AND approvalLinkId IN (:old, :new)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":new": {"S": new_link_id},
                ":old": {"S": old_link_id},
                ":awaiting": {"S": OrderStatus.AWAITING_APPROVAL},
            },
        )

    def get_many(self, order_ids: Iterable[str]) -> dict[str, StoredOrder]:
        """Orders by id (consistent reads); ids with no order are absent from the result."""
        return {item["orderId"]: StoredOrder.from_item(item) for item in self._batch_get(order_ids)}

    def set_decided(self, order_id: str, *, status: OrderStatus, decided_at: str) -> None:
        """Show the decision on the order while the workflow moves on, and take the token off it:
        it has done its work. The status only while the order awaits approval (the workflow may
        have moved it on already), the token whatever the status; never resurrects a deleted order."""
        request = {"TableName": self.table_name, "Key": {"orderId": {"S": order_id}},
                   "ExpressionAttributeNames": {"#status": "status"}}
        if self._condition_held(
            self.dynamodb.update_item,
            **request,
            UpdateExpression="SET #status = :status, decidedAt = :decided_at REMOVE " + _APPROVAL_FIELDS,
            ConditionExpression="#status = :awaiting",
            ExpressionAttributeValues={
                ":status": {"S": status},
                ":awaiting": {"S": OrderStatus.AWAITING_APPROVAL},
                ":decided_at": {"S": decided_at},
            },
        ):
            return
        del request["ExpressionAttributeNames"]
        self._condition_held(self.dynamodb.update_item, **request,
                             UpdateExpression="REMOVE " + _APPROVAL_FIELDS,
                             ConditionExpression="attribute_exists(orderId)")


class DecisionConflict(Exception):
    """Someone decided this order first."""


class DecisionsTable(_Table):
    """One item per decided order: the decision, when, and whether Step Functions has it.

    The conditional put is what makes a decision happen once, from any link or console. Delivering
    it (telling Step Functions) is claimed, so that two clicks never deliver at once: the put holds
    the claim for its own request, and a later request re-delivering an undelivered decision takes
    it with `claim`. A claim lapses at `claimedUntil`, so one lost with its request blocks nobody
    for long. Once delivered (`delivered`), or known never to arrive (`missed`: the workflow had
    stopped waiting), nothing delivers it again.
    """

    key = "orderId"

    def record(self, order_id: str, *, decision: str, decided_at: str, expires_at: int, claim: str,
               claimed_until: int) -> None:
        if not self._condition_held(
            self.dynamodb.put_item,
            TableName=self.table_name,
            Item=to_item({"orderId": order_id, "decision": decision, "decidedAt": decided_at,
                          "delivered": False, "expiresAt": expires_at, "deliveryClaim": claim,
                          "claimedUntil": claimed_until}),
            ConditionExpression="attribute_not_exists(orderId)",
        ):
            raise DecisionConflict(order_id)

    def get_many(self, order_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Decisions by order id (consistent reads); orders with none are absent from the result."""
        return {item["orderId"]: item for item in self._batch_get(order_ids)}

    def claim(self, order_id: str, *, decision: str, claim: str, now: int, claimed_until: int) -> str | None:
        """Take the right to deliver `decision`, recorded and not yet delivered nor missed, unless
        another request holds it: None if it does, or the decision is settled or another one.
        Otherwise the id of a lapsed claim taken over ("" if there was none): a delivery whose
        request never said how it ended, which may have reached the workflow."""
        try:
            response = self.dynamodb.update_item(
                TableName=self.table_name,
                Key={"orderId": {"S": order_id}},
                UpdateExpression="SET deliveryClaim = :claim, claimedUntil = :until",
                ConditionExpression="#decision = :decision AND delivered = :no "
                "AND attribute_not_exists(missed) "
                "AND (attribute_not_exists(claimedUntil) OR claimedUntil <= :now)",
                ExpressionAttributeNames={"#decision": "decision"},
                ExpressionAttributeValues={":claim": {"S": claim}, ":until": {"N": str(claimed_until)},
                                           ":decision": {"S": decision}, ":no": {"BOOL": False},
                                           ":now": {"N": str(now)}},
                ReturnValues="UPDATED_OLD",
            )
        except Exception as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return response.get("Attributes", {}).get("deliveryClaim", {}).get("S", "")

    def release(self, order_id: str, *, claim: str, doubt: bool = False) -> None:
        """Give the claim back after a delivery that certainly failed: the next click may try at once.
        With `doubt` (this request took over a lapsed claim: an earlier delivery may have arrived),
        the claim only lapses now, so that the next one still knows of that earlier delivery."""
        self._condition_held(
            self.dynamodb.update_item,
            TableName=self.table_name,
            Key={"orderId": {"S": order_id}},
            **({"UpdateExpression": "SET claimedUntil = :lapsed",
                "ExpressionAttributeValues": {":claim": {"S": claim}, ":lapsed": {"N": "0"}}} if doubt else
               {"UpdateExpression": "REMOVE deliveryClaim, claimedUntil",
                "ExpressionAttributeValues": {":claim": {"S": claim}}}),
            ConditionExpression="deliveryClaim = :claim",
        )

    def mark_delivered(self, order_id: str) -> None:
        """The workflow took the decision (its history shows it): that stands over any earlier
        `missed`, which only a guess could have written."""
        self._settle(order_id, "SET delivered = :yes REMOVE deliveryClaim, claimedUntil, missed")

    def mark_missed(self, order_id: str) -> None:
        """The workflow stopped waiting before the decision reached it (its history shows it).
        Never over `delivered`: a late or retried answer does not undo what the workflow took."""
        self._settle(order_id, "SET missed = :yes REMOVE deliveryClaim, claimedUntil",
                     condition=" AND delivered <> :yes")

    def _settle(self, order_id: str, expression: str, *, condition: str = "") -> None:
        self._condition_held(  # a decision expired by DynamoDB's TTL is not brought back
            self.dynamodb.update_item,
            TableName=self.table_name,
            Key={"orderId": {"S": order_id}},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(orderId)" + condition,
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )


class IdempotencyConflict(Exception):
    """The key was used before; `.record` holds what it was used for."""

    def __init__(self, record: dict[str, Any]):
        super().__init__(record.get("idempotencyKey"))
        self.record = record


class IdempotencyKeys(_Table):
    """`Idempotency-Key` header -> the order it created (and the request's hash), until `expiresAt`.

    DynamoDB's TTL deletes an expired key only within about two days, and reads return it until
    then: a key past its `expiresAt` counts as absent, so that it lives its lifetime, not up to
    two days more. Its one read is the claim's own (the item its condition failed on), so no
    read can see a key the claim took for expired, nor miss one it did not.
    """

    key = "idempotencyKey"

    def claim(self, key: str, *, order_id: str, request_hash: str, now: int, expires_at: int) -> None:
        """Take `key` for `order_id` unless it holds an unexpired claim (`now` in epoch seconds,
        as `expiresAt`): then IdempotencyConflict with that claim."""
        item = {"idempotencyKey": key, "orderId": order_id, "requestHash": request_hash, "expiresAt": expires_at}
        try:
            self.dynamodb.put_item(
                TableName=self.table_name,
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(idempotencyKey) OR expiresAt < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            raise IdempotencyConflict(_plain(from_item(error.response["Item"]))) from None  # type: ignore[attr-defined]


class ProductsTable(_Table):
    """The catalog, keyed by `productId`."""

    key = "productId"

    @staticmethod
    def _to_product(data: dict[str, Any]) -> Product:
        weight = data.get("weight")
        return Product(
            product_id=data["productId"],
            name=data["name"],
            price=Decimal(str(data["price"])),
            currency=data["currency"],
            description=data.get("description", ""),
            weight=int(weight) if weight is not None else None,
            image_url=data.get("imageUrl", ""),
            supplier=data.get("supplier", ""),
            category=data.get("category", ""),
        )

    def get_many(self, product_ids: Iterable[str]) -> dict[str, Product]:
        """Products by id; ids not in the catalog are simply absent from the result."""
        products = (self._to_product(item) for item in self._batch_get(product_ids))
        return {product.product_id: product for product in products}

    def scan(self) -> Iterator[Product]:
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=self.table_name):
            for item in page.get("Items", []):
                yield self._to_product(from_item(item))

    def put_all(self, products: Iterable[Product]) -> int:
        """Load products (replacing any with the same id); returns how many were written."""
        count = 0
        batch: list[dict[str, Any]] = []
        for product in products:
            batch.append({"PutRequest": {"Item": to_item(product.to_public())}})
            count += 1
            if len(batch) == _BATCH_WRITE_LIMIT:
                self._write(batch)
                batch = []
        if batch:
            self._write(batch)
        return count

    def _write(self, requests: list[dict[str, Any]]) -> None:
        pending = {self.table_name: requests}
        while pending:
            response = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
