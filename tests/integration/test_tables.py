"""The tables' conditional writes, against moto's DynamoDB and against the in-memory fakes the unit
tests and the protocol's model use (tests/fakes.py): the same scenarios, the same results, so the
fakes decide exactly what the adapters' expressions decide."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from shop.adapters.tables import (
    DecisionConflict,
    DecisionsTable,
    IdempotencyConflict,
    IdempotencyKeys,
    OrdersTable,
)
from shop.domain.orders import AWAITING_INDEX, AWAITING_KEY, StoredOrder
from tests import fakes

AWAITING = fakes.stored(status="AWAITING_APPROVAL", approvalTaskToken="token-1", approvalLinkId="link-1",
                        approvalDeadline="2026-11-24T13:00:00Z")


# The orders table's index of awaiting orders, as shop/infra/storage.py declares it.
AWAITING_INDEX_OF_THE_STACK = {
    "AttributeDefinitions": [{"AttributeName": AWAITING_KEY, "AttributeType": "S"},
                             {"AttributeName": "approvalDeadline", "AttributeType": "S"}],
    "GlobalSecondaryIndexUpdates": [{"Create": {
        "IndexName": AWAITING_INDEX, "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [{"AttributeName": AWAITING_KEY, "KeyType": "HASH"},
                      {"AttributeName": "approvalDeadline", "KeyType": "RANGE"}]}}],
}


def stored(**fields):
    """What reading the order 01JORDER gives when its item is a whole order with `fields`."""
    return StoredOrder.from_item(fakes.stored(**fields))


@pytest.fixture(params=["moto", "fake"])
def tables(request):
    """(orders, decisions, put): `put` stores an order item as it is."""
    if request.param == "fake":
        orders = fakes.Orders()
        yield orders, fakes.Decisions(), lambda item: orders.items.__setitem__(item["orderId"], dict(item))
        return
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("orders", "decisions"):
            dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "S"}],
                                  BillingMode="PAY_PER_REQUEST")
        dynamodb.update_table(TableName="orders", **AWAITING_INDEX_OF_THE_STACK)
        from shop.adapters.tables import to_item

        yield (OrdersTable("orders", dynamodb), DecisionsTable("decisions", dynamodb),
               lambda item: dynamodb.put_item(TableName="orders", Item=to_item(item)))


@pytest.fixture(params=["moto", "fake"])
def keys(request):
    """The idempotency table, as the order API writes it."""
    if request.param == "fake":
        yield fakes.IdempotencyKeys()
        return
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(TableName="keys", KeySchema=[{"AttributeName": "idempotencyKey", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "idempotencyKey", "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        yield IdempotencyKeys("keys", dynamodb)


# -- orders ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["RECEIVED", "AWAITING_APPROVAL"])
def test_asking_the_owner_keeps_the_new_links_pending(tables, status):
    orders, _, put = tables
    put({**AWAITING, "status": status})

    assert orders.mark_awaiting_approval("01JORDER", task_token="token-2", link_id="link-2", deadline="D")

    assert orders.get("01JORDER") == stored(status="AWAITING_APPROVAL", approvalTaskToken="token-2",
                                            pendingLinkId="link-2", approvalDeadline="D")
    assert orders.confirm_links("01JORDER", link_id="other") is False
    assert orders.confirm_links("01JORDER", link_id="link-2") is True
    assert orders.get("01JORDER") == stored(status="AWAITING_APPROVAL", approvalTaskToken="token-2",
                                            approvalLinkId="link-2", approvalDeadline="D")


@pytest.mark.parametrize("status", ["APPROVED", "REJECTED", "CANCELLED", "SHIPPED", "FAILED"])
def test_asking_again_never_moves_a_decided_order(tables, status):
    orders, _, put = tables
    put(fakes.stored(status=status, decidedAt="T"))

    assert not orders.mark_awaiting_approval("01JORDER", task_token="token-2", link_id="link-2", deadline="D")
    assert orders.get("01JORDER") == stored(status=status, decidedAt="T")


def test_nothing_resurrects_a_deleted_order(tables):
    orders, _, _ = tables

    assert orders.mark_awaiting_approval("01JORDER", task_token="t", link_id="l", deadline="D") is False
    assert orders.confirm_links("01JORDER", link_id="l") is False
    orders.set_decided("01JORDER", status="APPROVED", decided_at="T")
    assert orders.get("01JORDER") is None


def test_the_decision_shows_on_an_order_awaiting_approval_and_takes_the_token_off(tables):
    orders, _, put = tables
    put({**AWAITING, "pendingLinkId": "link-2"})

    orders.set_decided("01JORDER", status="APPROVED", decided_at="T")

    assert orders.get("01JORDER") == stored(status="APPROVED", decidedAt="T", approvalDeadline="2026-11-24T13:00:00Z")


def test_the_token_leaves_even_when_the_workflow_moved_the_order_on_first(tables):
    orders, _, put = tables
    put({**AWAITING, "status": "SHIPPED"})

    orders.set_decided("01JORDER", status="APPROVED", decided_at="T")

    assert orders.get("01JORDER") == stored(status="SHIPPED", approvalDeadline="2026-11-24T13:00:00Z")


def test_the_awaiting_index_lists_the_orders_awaiting_approval_the_earliest_deadline_first(tables):
    orders, _, put = tables
    for order_id, deadline in [("01JLATE", "2026-11-24T15:00:00Z"), ("01JSOON", "2026-11-24T13:00:00Z"),
                               ("01JNEXT", "2026-11-24T14:00:00Z"), ("01JDECIDED", "2026-11-24T12:00:00Z")]:
        put(fakes.stored(orderId=order_id, status="RECEIVED"))
        assert orders.mark_awaiting_approval(order_id, task_token=f"t-{order_id}", link_id="l", deadline=deadline)
    put(fakes.stored(orderId="01JNOTYET", status="RECEIVED"))
    orders.set_decided("01JDECIDED", status="APPROVED", decided_at="T")

    assert [order.order_id for order in orders.awaiting(limit=10)] == ["01JSOON", "01JNEXT", "01JLATE"]
    assert [order.order_id for order in orders.awaiting(limit=2)] == ["01JSOON", "01JNEXT"]
    assert orders.awaiting(limit=1)[0] == orders.get("01JSOON")


def test_a_resend_replaces_only_the_current_links(tables):
    orders, _, put = tables
    put(AWAITING)

    assert orders.replace_link("01JORDER", old_link_id="stale", new_link_id="link-2") is False
    assert orders.replace_link("01JORDER", old_link_id="link-1", new_link_id="link-2") is True
    assert orders.get("01JORDER").approval.link_id == "link-2"
    # The same write again (a retry of one whose answer was lost) holds; another resend's does not.
    assert orders.replace_link("01JORDER", old_link_id="link-1", new_link_id="link-2") is True
    assert orders.replace_link("01JORDER", old_link_id="link-1", new_link_id="link-3") is False
    assert orders.get("01JORDER").approval.link_id == "link-2"


# -- decisions ---------------------------------------------------------------------------------------


def record(decisions, claimed_until=100, order_id="01JORDER"):
    decisions.record(order_id, decision="approve", decided_at="T", expires_at=999, claim="first",
                     claimed_until=claimed_until)


def claim(decisions, claim_id, *, now):
    return decisions.claim("01JORDER", decision="approve", claim=claim_id, now=now, claimed_until=now + 30)


def test_a_decision_is_recorded_once_holding_its_delivery_claim(tables):
    _, decisions, _ = tables
    record(decisions)

    with pytest.raises(DecisionConflict):
        decisions.record("01JORDER", decision="reject", decided_at="T2", expires_at=999, claim="second",
                         claimed_until=100)
    assert decisions.get("01JORDER") == {"orderId": "01JORDER", "decision": "approve", "decidedAt": "T",
                                         "delivered": False, "expiresAt": 999, "deliveryClaim": "first",
                                         "claimedUntil": 100}


def test_a_live_claim_refuses_another_until_it_lapses_or_is_released(tables):
    _, decisions, _ = tables
    record(decisions, claimed_until=100)

    assert decisions.claim("01JORDER", decision="approve", claim="second", now=99, claimed_until=130) is None
    # Taken over once lapsed, saying whose it was: that delivery never said how it ended.
    assert claim(decisions, "second", now=100) == "first"
    decisions.release("01JORDER", claim="first")  # not the holder's: nothing happens
    assert decisions.get("01JORDER")["deliveryClaim"] == "second"
    decisions.release("01JORDER", claim="second")
    assert not {"deliveryClaim", "claimedUntil"} & set(decisions.get("01JORDER"))
    assert decisions.claim("01JORDER", decision="approve", claim="third", now=0, claimed_until=130) == ""


def test_a_claim_given_back_in_doubt_lapses_and_the_next_claimer_learns_of_it(tables):
    _, decisions, _ = tables
    record(decisions, claimed_until=100)
    assert claim(decisions, "second", now=100) == "first"

    decisions.release("01JORDER", claim="second", doubt=True)

    assert claim(decisions, "third", now=101) == "second"


@pytest.mark.parametrize("settle", ["mark_delivered", "mark_missed"])
def test_a_settled_decision_is_never_claimed_again(tables, settle):
    _, decisions, _ = tables
    record(decisions)

    getattr(decisions, settle)("01JORDER")

    stored = decisions.get("01JORDER")
    assert "deliveryClaim" not in stored and "claimedUntil" not in stored
    assert stored["delivered"] is (settle == "mark_delivered")
    assert stored.get("missed", False) is (settle == "mark_missed")
    assert decisions.claim("01JORDER", decision="approve", claim="x", now=10**9, claimed_until=10**9) is None


def test_a_delivered_decision_is_never_marked_missed_and_delivered_clears_a_missed_mark(tables):
    # Issue 18, item 1: a late or retried answer's TaskTimedOut must not undo a delivery.
    _, decisions, _ = tables
    record(decisions)
    decisions.mark_delivered("01JORDER")

    decisions.mark_missed("01JORDER")

    assert decisions.get("01JORDER")["delivered"] is True and "missed" not in decisions.get("01JORDER")
    record(decisions, order_id="01JOTHER")
    decisions.mark_missed("01JOTHER")
    decisions.mark_delivered("01JOTHER")  # the history shows it arrived: that is what happened
    assert decisions.get("01JOTHER")["delivered"] is True and "missed" not in decisions.get("01JOTHER")


def test_only_the_recorded_decision_can_be_claimed_and_nothing_is_created(tables):
    _, decisions, _ = tables

    assert decisions.claim("01JORDER", decision="approve", claim="x", now=0, claimed_until=1) is None
    decisions.mark_delivered("01JORDER")
    decisions.mark_missed("01JORDER")
    assert decisions.get("01JORDER") is None
    record(decisions, claimed_until=0)
    assert decisions.claim("01JORDER", decision="reject", claim="x", now=10, claimed_until=20) is None
    assert decisions.get_many(["01JORDER", "01OTHER"]).keys() == {"01JORDER"}


# -- idempotency keys --------------------------------------------------------------------------------


def test_a_key_is_claimed_once_until_it_expires(keys):
    keys.claim("checkout-42", order_id="01JFIRST", request_hash="h1", now=100, expires_at=200)

    with pytest.raises(IdempotencyConflict) as conflict:
        keys.claim("checkout-42", order_id="01JRETRY", request_hash="h2", now=200, expires_at=300)
    assert conflict.value.record == {"idempotencyKey": "checkout-42", "orderId": "01JFIRST", "requestHash": "h1",
                                     "expiresAt": 200}


def test_an_expired_key_still_stored_is_claimed_as_new(keys):
    """Issue 17, item 5: DynamoDB's TTL deletes an expired item within about two days and reads
    return it until then (moto never deletes it): the key counts as absent from its expiresAt on."""
    keys.claim("checkout-42", order_id="01JFIRST", request_hash="h1", now=100, expires_at=200)

    keys.claim("checkout-42", order_id="01JLATER", request_hash="h2", now=201, expires_at=300)

    with pytest.raises(IdempotencyConflict) as conflict:
        keys.claim("checkout-42", order_id="01JTHIRD", request_hash="h2", now=250, expires_at=350)
    assert conflict.value.record["orderId"] == "01JLATER"
