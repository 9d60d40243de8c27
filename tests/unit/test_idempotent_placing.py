"""Placing an order with an Idempotency-Key while other requests with the same key are at work.

The races a client's impatient retries run into, replayed in a fixed order with in-memory tables and
workflow: a second request reads the AWS state while the first one stores the order and starts its
execution in between. Each retry must answer with the one order, never call a live order cancelled
(422) and never fail on the first request's write (503).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shop.adapters.tables import OrdersTable
from shop.domain.errors import InvalidRequest, UnprocessableOrder
from shop.domain.orders import StoredOrder, parse_order_request, price_order
from shop.logic.orders import IDEMPOTENCY_KEY_LIFETIME, place_order
from tests import fakes
from tests.unit.samples import MUG, product, valid_body

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CATALOG = {MUG: product(MUG, "Stoneware mug", "14.90")}
KEY = "checkout-42"


class World:
    """The AWS state every request shares: orders, executions by name, idempotency keys."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, dict[str, Any]] = {}
        self.keys = fakes.IdempotencyKeys()


class Request:
    """One request's calls to the orders table and the workflow (one object plays both).

    `before` holds what other requests do just before this one's n-th read of the state
    ("read 2": an orders.get or a workflow.exists, whichever comes second) or its write
    ("put_new"). `hold` lists calls this request makes but that only take effect on `resume()`:
    a request still at work, or stopped for good, after its claim.
    """

    def __init__(self, world: World, *, before: dict[str, Callable[[], Any]] | None = None,
                 hold: tuple[str, ...] = ()) -> None:
        self.world, self.before, self.hold = world, dict(before or {}), hold
        self.reads = 0
        self.held: list[Callable[[], Any]] = []

    def _moment(self, name: str) -> None:
        action = self.before.pop(name, None)
        if action:
            action()

    def _read(self) -> None:
        self.reads += 1
        self._moment(f"read {self.reads}")

    def get(self, order_id: str) -> StoredOrder | None:
        self._read()
        item = self.world.orders.get(order_id)
        return StoredOrder.from_item(item) if item else None

    def exists(self, name: str) -> bool:
        self._read()
        return name in self.world.executions

    def put_new(self, order) -> bool:
        self._moment("put_new")
        if "put_new" in self.hold:
            self.held.append(lambda: self._put(order))
            return True
        return self._put(order)

    def _put(self, order) -> bool:
        if order.order_id in self.world.orders:  # DynamoDB's attribute_not_exists(orderId)
            return False
        self.world.orders[order.order_id] = order.to_public()
        return True

    def start(self, *, name: str, payload: dict[str, Any]) -> str:
        if "start" in self.hold:
            self.held.append(lambda: self.world.executions.setdefault(name, payload))
        else:
            self.world.executions.setdefault(name, payload)  # one execution per name, ever
        return f"arn:execution:{name}"

    def resume(self) -> None:
        for call in self.held:
            call()


class Products:
    def get_many(self, ids):
        return {product_id: CATALOG[product_id] for product_id in ids if product_id in CATALOG}


def place(world: World, order_id: str, *, at: datetime, request: Request | None = None):
    """POST /orders with the key, the same body each time, as request `order_id` would make it."""
    request = request or Request(world)
    return place_order(
        valid_body(), products=Products(), orders=request, workflow=request, order_id=order_id, now=at,
        approval_timeout_seconds=60, feedback_delay_seconds=1, idempotency=world.keys, idempotency_key=KEY,
    )


def first_request_held(world: World, hold: tuple[str, ...] = ("put_new", "start")) -> Request:
    """The first request, which claims the key; what it holds happens only when resumed."""
    first = Request(world, hold=hold)
    place(world, "01JFIRST", at=T0, request=first)
    return first


@pytest.fixture
def world() -> World:
    return World()


def test_a_retry_reading_while_the_first_request_stores_and_starts_gets_the_live_order(world):
    """Issue 10, item 7: the retry saw no order, then the execution the first request had just
    started, and answered 422 "which was cancelled" for an order awaiting approval."""
    first = first_request_held(world)
    retry = Request(world, before={"read 2": first.resume})  # between the retry's two reads

    order, created = place(world, "01JRETRY", at=T0 + timedelta(seconds=1), request=retry)

    assert (order.order_id, created) == ("01JFIRST", False)
    assert order.to_public() == world.orders["01JFIRST"]
    assert list(world.executions) == ["01JFIRST"]


def test_a_retry_that_found_nothing_and_stores_second_answers_with_the_first_order(world):
    """Issue 10, item 7: the retry found neither order nor execution and went to finish the order;
    the first request stored it in the meantime, and the retry's write failed (503)."""
    first = first_request_held(world)
    retry = Request(world, before={"put_new": first.resume})  # after both reads, before its write

    order, created = place(world, "01JRETRY", at=T0 + timedelta(seconds=1), request=retry)

    assert (order.order_id, created) == ("01JFIRST", False)
    assert order.created_at == "2026-11-24T12:00:00Z"  # the order stored first, not the retry's own
    assert order.to_public() == world.orders["01JFIRST"]
    assert world.executions["01JFIRST"]["order"] == world.orders["01JFIRST"]


def test_the_first_request_answers_with_the_order_a_faster_retry_stored(world):
    """The same race seen from the first request: slow after its claim, it finds the order a retry
    finished meanwhile. It answers with that order, as the one request that created it."""
    retried: list[Any] = []
    first = Request(world, before={"put_new": lambda: retried.append(
        place(world, "01JRETRY", at=T0 + timedelta(seconds=1)))})

    order, created = place(world, "01JFIRST", at=T0, request=first)

    (retry_order, retry_created), = retried
    assert (retry_order.order_id, retry_created) == ("01JFIRST", False)
    assert (order.order_id, created) == ("01JFIRST", True)
    assert order.to_public() == retry_order.to_public() == world.orders["01JFIRST"]
    assert list(world.executions) == ["01JFIRST"]


def test_a_retry_after_the_workflow_deleted_the_order_is_still_refused(world):
    place(world, "01JFIRST", at=T0)
    del world.orders["01JFIRST"]  # rejected: its workflow deleted it; the execution stays

    with pytest.raises(UnprocessableOrder, match="01JFIRST, which was cancelled"):
        place(world, "01JRETRY", at=T0 + timedelta(seconds=1))

    assert "01JFIRST" not in world.orders


def test_a_retry_after_the_first_request_stopped_at_its_claim_finishes_the_order(world):
    first_request_held(world)  # and never resumed: it crashed

    order, created = place(world, "01JRETRY", at=T0 + timedelta(seconds=1))

    assert (order.order_id, created) == ("01JFIRST", False)
    assert world.orders["01JFIRST"] == order.to_public()
    assert list(world.executions) == ["01JFIRST"]


def test_a_retry_after_the_first_request_stopped_before_starting_starts_the_execution(world):
    first_request_held(world, hold=("start",))  # stored its order, crashed before starting

    order, created = place(world, "01JRETRY", at=T0 + timedelta(seconds=1))

    assert (order.order_id, created) == ("01JFIRST", False)
    assert order.created_at == "2026-11-24T12:00:00Z"
    assert world.executions["01JFIRST"]["order"] == world.orders["01JFIRST"]


def test_a_key_past_its_lifetime_places_a_fresh_order_though_its_item_is_still_stored(world):
    """Issue 17, item 5: DynamoDB's TTL deletes an expired key within about two days, and until
    then the claim found it and replayed the old order: a key lived 24 to 72 hours, not 24."""
    place(world, "01JFIRST", at=T0)
    later = T0 + IDEMPOTENCY_KEY_LIFETIME + timedelta(seconds=1)

    order, created = place(world, "01JLATER", at=later)

    assert (order.order_id, created) == ("01JLATER", True)
    assert order.created_at == "2026-11-25T12:00:01Z"
    assert set(world.orders) == set(world.executions) == {"01JFIRST", "01JLATER"}
    assert world.keys.items[KEY]["orderId"] == "01JLATER"
    replayed, created = place(world, "01JRETRY", at=later + timedelta(seconds=1))
    assert (replayed.order_id, created) == ("01JLATER", False)


def test_a_key_at_the_end_of_its_lifetime_still_replays(world):
    place(world, "01JFIRST", at=T0)

    order, created = place(world, "01JRETRY", at=T0 + IDEMPOTENCY_KEY_LIFETIME)

    assert (order.order_id, created) == ("01JFIRST", False)


class _DynamoDB:
    """put_item with its condition, as DynamoDB answers it: ConditionalCheckFailedException."""

    def __init__(self) -> None:
        self.items: set[str] = set()

    def put_item(self, **request: Any) -> None:
        assert request["ConditionExpression"] == "attribute_not_exists(orderId)"
        if request["Item"]["orderId"]["S"] in self.items:
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException", "Message": "failed"}}, "PutItem")
        self.items.add(request["Item"]["orderId"]["S"])


def test_storing_an_order_that_is_there_already_says_so_instead_of_failing():
    order = price_order(parse_order_request(valid_body()), CATALOG, order_id="01JFIRST", created_at="t")
    table = OrdersTable("orders", dynamodb=_DynamoDB())

    assert table.put_new(order) is True
    assert table.put_new(order) is False


def test_a_key_without_the_idempotency_table_is_refused_before_anything_is_written(world):
    """Issue 13, item 7 (found by mypy): with a key but no table, `idempotency.claim` on None
    failed with an AttributeError after the catalog read; now a clear error, nothing stored."""
    request = Request(world)
    with pytest.raises(TypeError, match="idempotency_key needs the idempotency table"):
        place_order(
            valid_body(), products=Products(), orders=request, workflow=request, order_id="01JFIRST", now=T0,
            approval_timeout_seconds=60, feedback_delay_seconds=1, idempotency=None, idempotency_key=KEY,
        )
    assert world.orders == {} and world.executions == {} and world.keys.items == {}


@pytest.mark.parametrize("key", [KEY + "\n", "", "has space", "x" * 129, "caf\u00e9"])
def test_a_key_that_is_not_1_to_128_printable_characters_is_refused_and_nothing_is_written(world, key):
    request = Request(world)
    with pytest.raises(InvalidRequest) as refused:
        place_order(
            valid_body(), products=Products(), orders=request, workflow=request, order_id="01JFIRST", now=T0,
            approval_timeout_seconds=60, feedback_delay_seconds=1, idempotency=world.keys, idempotency_key=key,
        )
    assert refused.value.field == "Idempotency-Key"
    assert world.orders == {} and world.executions == {} and world.keys.items == {}
