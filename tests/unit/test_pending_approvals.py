"""The owner's listing of orders awaiting approval (`shop approvals list`, /console/approvals):
read from the orders table's awaiting index, one page of the most urgent, with the same number of
calls whatever waits (issue 18, item 9: at 3,000 waiting orders it made ~90 calls, listing every
running execution and reading every order, and took 5-7 s)."""

from __future__ import annotations

from datetime import UTC, datetime

from shop.logic import owner
from tests import fakes

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _awaiting(count: int, calls: list[str]) -> fakes.Orders:
    orders = fakes.Orders(*(fakes.stored(orderId=f"01JORDER{n:06d}", status="RECEIVED") for n in range(count)),
                          before=calls.append)
    for n in range(count):
        deadline = f"2026-11-24T{13 + n % 5:02d}:{n % 60:02d}:00Z"
        orders.mark_awaiting_approval(f"01JORDER{n:06d}", task_token=f"t{n}", link_id=f"l{n}", deadline=deadline)
    calls.clear()
    return orders


def _listed(count: int, **page) -> tuple[list[dict], list[str]]:
    calls: list[str] = []
    orders = _awaiting(count, calls)
    decisions, workflow = fakes.Decisions(before=calls.append), fakes.Workflow(before=calls.append)
    listed = owner.pending_approvals(orders=orders, decisions=decisions, workflow=workflow, now=NOW, **page)
    return listed, calls


def test_the_calls_for_a_page_do_not_grow_with_the_orders_waiting():
    few, few_calls = _listed(3)
    many, many_calls = _listed(3000)
    assert few_calls == many_calls == ["orders.awaiting", "workflow.executions", "decisions.get_many"]
    assert len(few) == 3 and len(many) == owner.PENDING_PAGE


def test_the_page_holds_the_most_urgent_first_with_their_time_left():
    listed, _ = _listed(12, limit=5)
    deadlines = [order["approvalDeadline"] for order in listed]
    assert deadlines == sorted(deadlines) and len(listed) == 5
    assert listed[0]["secondsLeft"] == 3600 and listed[0]["status"] == "AWAITING_APPROVAL"
    assert listed[0]["decision"] is None and listed[0]["execution"] == "RUNNING"


def test_a_full_page_says_that_more_may_wait():
    from shop.cli import render

    listed, _ = _listed(owner.PENDING_PAGE + 5)
    assert f"The {owner.PENDING_PAGE} most urgent are shown" in render.approvals_list(listed)
    assert "most urgent are shown" not in render.approvals_list(listed[:3])
