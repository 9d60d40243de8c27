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


def test_a_decision_not_delivered_before_the_deadline_is_reported_not_left_silently(synthesized, capsys):
    """The approval was recorded, Step Functions never got it, and nobody clicked again: the order
    times out like any unanswered one, and every place that shows the decision says it came to nothing."""
    from shop.cli.main import main

    shop = ShopClient(start_shop(synthesized, approval_timeout_seconds=5, feedback_delay_seconds=1))
    try:
        order_id = shop.place_ok()["orderId"]
        links = shop.links(order_id)
        shop.wait_for_status(order_id, "AWAITING_APPROVAL")
        shop.shop.faults.arm("stepfunctions.send_task_success", 100)  # past the SDK's own retries
        try:
            failed = requests.post(links["approve"], timeout=10)
        finally:
            shop.shop.faults.arm("stepfunctions.send_task_success", 0)
        assert failed.status_code == 503 and "recorded, not yet delivered" in failed.text

        execution = shop.finished_execution(order_id, timeout=30)
        assert execution["output"] == {"orderId": order_id, "outcome": "TIMED_OUT"}
        assert "could not confirm your order in time" in shop.wait_for_email(order_id, "was cancelled")["body"]

        page = requests.get(f"{shop.url}/console/orders/{order_id}", timeout=10).text
        assert "approved</strong> at" in page and "(not delivered before the deadline)" in page
        assert 'data-action="deliver"' not in page
        assert main(["--local", shop.url, "order", "show", order_id]) == 0
        assert "Decision: approved at" in (shown := capsys.readouterr().out) and "not delivered before the deadline" in shown
        late = requests.post(f"{shop.url}/console/orders/{order_id}/deliver", headers={"Origin": shop.url},
                             allow_redirects=False, timeout=10)
        assert late.status_code == 410 and "before its deadline" in late.text
    finally:
        shop.shop.stop()


def test_acting_on_a_timed_out_order_says_its_deadline_passed(synthesized, capsys):
    """`order show` finds a timed-out order (TIMED_OUT, deleted); acting on it is a conflict (exit 4)
    that says when the deadline passed, as for a rejected or cancelled order, in the CLI and on the
    console's buttons alike: never "There is no open order" (exit 3)."""
    from shop.cli import EXIT
    from shop.cli.main import main

    shop = ShopClient(start_shop(synthesized, approval_timeout_seconds=2, feedback_delay_seconds=1))
    try:
        order_id = shop.place_ok()["orderId"]
        shop.wait_for_email(order_id, "was cancelled")
        shop.finished_execution(order_id)

        assert main(["--local", shop.url, "order", "show", order_id]) == 0
        assert "TIMED_OUT" in capsys.readouterr().out
        for command in (["approvals", "approve"], ["approvals", "reject"], ["approvals", "resend"],
                        ["approvals", "deliver"], ["order", "cancel"]):
            assert main(["--local", shop.url, *command, order_id]) == EXIT["conflict"], command
            said = capsys.readouterr().err
            assert "not decided in time: the deadline passed at 20" in said and " UTC" in said, said
            assert "no open order" not in said

        for action in ("approve", "reject", "cancel", "resend", "deliver"):
            page = requests.post(f"{shop.url}/console/orders/{order_id}/{action}", headers={"Origin": shop.url},
                                 allow_redirects=False, timeout=10)
            assert page.status_code == 410, action
            assert "the deadline passed at 20" in page.text, action
        assert main(["--local", shop.url, "approvals", "approve", "01JDF12740C1HB5QE4DT9TWB3Z"]) == EXIT["not_found"]
    finally:
        shop.shop.stop()
