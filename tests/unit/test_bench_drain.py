"""The bench's wait for placed orders to reach the approval wait (bench/load.py `drain`): a deadline
on progress, not on total time. No shop: a table that answers the statuses a test gives it, and a
clock that moves only when the drain pauses."""

from __future__ import annotations

import pytest

from bench import BenchFailed, load


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.now += seconds


class Orders:
    """The orders table's Scan: at each look, the statuses `looks` gives for that moment."""

    def __init__(self, looks) -> None:
        self.looks = looks
        self.count = 0

    def get_paginator(self, operation: str):
        assert operation == "scan"
        return self

    def paginate(self, **request):
        statuses = self.looks(self.count)
        self.count += 1
        yield {"Items": [{"orderId": {"S": f"01J{n:023d}"}, "status": {"S": status}}
                         for n, status in enumerate(statuses)]}


class Target:
    orders_table = "orders"

    def __init__(self, orders: Orders) -> None:
        self.orders = orders

    def client(self, service: str):
        assert service == "dynamodb"
        return self.orders


def drain(looks, *, placed: int, clock: Clock) -> load.LoadResult:
    result = load.LoadResult(clients=1, orders_per_client=placed, succeeded=placed, seconds=1.0)
    load.drain(Target(Orders(looks)), result, stall_limit=60, clock=clock, pause=clock.pause)
    return result


def test_orders_that_never_reach_the_approval_wait_stop_the_level_after_a_minute_without_progress():
    clock = Clock()

    with pytest.raises(BenchFailed, match=r"no progress for 60s \(0/3 awaiting approval, statuses \{'RECEIVED': 3\}"):
        drain(lambda look: ["RECEIVED"] * 3, placed=3, clock=clock)

    assert 60 < clock.now <= 61


def test_a_slow_level_that_keeps_making_progress_finishes_however_long_it_takes():
    clock = Clock()
    # One more order reaches the wait every 50 s: 500 s in all, never 60 s without progress.
    result = drain(lambda look: ["AWAITING_APPROVAL"] * (look // 100) + ["RECEIVED"] * (10 - look // 100),
                   placed=10, clock=clock)

    assert result.drain_complete and result.drain_seconds == pytest.approx(500)
