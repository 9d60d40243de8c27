"""No answer before the approval timeout: the order is cancelled exactly as if rejected."""

from __future__ import annotations

import requests

from tests.support import ShopClient, start_shop


def test_an_unanswered_order_times_out_into_the_cancellation_path(synthesized):
    shop = ShopClient(start_shop(synthesized, approval_timeout_seconds=2, feedback_delay_seconds=1))
    try:
        order_id = shop.place_ok()["orderId"]
        links = shop.links(order_id)

        cancelled = shop.wait_for_email(order_id, "was cancelled")
        assert "could not confirm your order in time" in cancelled["body"]
        execution = shop.finished_execution(order_id)
        assert execution["status"] == "SUCCEEDED"
        assert execution["output"] == {"orderId": order_id, "outcome": "TIMED_OUT"}
        assert shop.order(order_id).status_code == 404

        late = requests.post(links["approve"], timeout=10)
        assert late.status_code == 410 and "ran out" in late.text
    finally:
        shop.shop.stop()
