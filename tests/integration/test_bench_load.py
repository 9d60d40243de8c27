"""A level of `make bench`'s load measurement (bench/load.py) against an in-process local shop:
with the bench's orders and the shop set up as the bench sets up its shops, the orders reach the
approval wait; against a shop whose orders fail, the level stops and says why instead of waiting.
Issue 18, item 9: the bench's customers were refused by local mode's SES sandbox, every order
failed at its first email, and the sustained measurement waited for orders that never came."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from bench import BenchFailed, load
from bench.ceiling import _InProcessTarget
from bench.shop_process import ShopProcess
from shop.local.runtime import LocalConfig, LocalShop


def measure_one_level(shop: LocalShop) -> load.LoadResult:
    """One client placing three of the bench's orders through the order API, then the drain."""
    return load.measure("api", load.api_operation(SimpleNamespace(url=shop.base_url)), _InProcessTarget(shop),
                        clients=1, per_client=3, pid=os.getpid())


def test_the_bench_orders_reach_the_approval_wait_in_a_shop_set_up_as_the_bench_does(synthesized):
    environment = ShopProcess("test", template=synthesized.template_path).environment()
    config = LocalConfig.from_environment(environment)
    assert config.ses_sandbox  # the default, which the bench measures
    shop = LocalShop(config).start()
    try:
        result = measure_one_level(shop)
    finally:
        shop.stop()

    assert (result.succeeded, result.errors, result.lost_orders) == (3, 0, 0)
    assert result.drain_complete and result.sustained_orders_per_second > 0


def test_a_level_whose_orders_fail_stops_and_says_why(synthesized):
    # The sandbox verifying only its sample customer: the bench's customers are refused.
    shop = LocalShop(LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path)).start()
    try:
        with pytest.raises(BenchFailed) as failed:
            measure_one_level(shop)
    finally:
        shop.stop()

    message = str(failed.value)
    assert "orders FAILED in their workflows" in message
    assert "not verified" in message and "customer" in message, message
