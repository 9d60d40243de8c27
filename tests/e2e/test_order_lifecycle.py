"""An order's whole life through the local HTTP interface: approve, reject, second clicks, bad links."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
import requests

from tests.support import DEMO_PRODUCT, DEMO_PRODUCT_2, subjects
from tests.support import order_body as shop_order


def test_an_approved_order_ships_then_asks_for_feedback(shop):
    # Given a placed order
    response = shop.place(items=[{"productId": DEMO_PRODUCT, "quantity": 2}, {"productId": DEMO_PRODUCT_2, "quantity": 1}])
    assert response.status_code == 201
    order = response.json()
    order_id = order["orderId"]
    assert response.headers["Location"] == f"/orders/{order_id}"
    assert [(i["name"], i["quantity"], i["unitPrice"], i["lineTotal"]) for i in order["items"]] == [
        ("Stoneware mug", 2, "14.90", "29.80"),
        ("Linen tea towel", 1, "9.50", "9.50"),
    ]
    assert (order["total"], order["currency"]) == ("39.30", "EUR")

    # The customer hears at once; the owner gets both links.
    received = shop.wait_for_email(order_id, "We have your order")
    assert received["channel"] == "email" and received["to"] == ["ada@example.com"]
    for text in ("Ada Lovelace", "Stoneware mug", "Linen tea towel", "39.30 EUR", "12 St James Square", "ada@example.com"):
        assert text in received["body"]
    links = shop.links(order_id)
    assert set(links) == {"approve", "reject"}
    notification = next(e for e in shop.outbox() if e["channel"] == "sns" and order_id in e["subject"])
    assert notification["to"] == ["owner@shop.test"]
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    # When the owner opens the approve link, they see a page, and nothing is decided yet
    page = requests.get(links["approve"], timeout=10)
    assert page.status_code == 200 and "Approve order" in page.text and "Stoneware mug" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert shop.status(order_id) == "AWAITING_APPROVAL"

    # ...and the button decides
    done = requests.post(links["approve"], timeout=10)
    assert done.status_code == 200 and "Order approved" in done.text

    # Then: shipment email, then after the delay the feedback request, and the statuses follow
    shop.wait_for_email(order_id, "is on its way")
    shop.wait_for_email(order_id, "How was your order")
    shop.wait_for_status(order_id, "FEEDBACK_REQUESTED")
    assert subjects(shop.outbox(), order_id) == [
        f"We have your order {order_id}",
        f"Approve order {order_id} (39.30 EUR)?",
        f"Your order {order_id} is on its way",
        f"How was your order {order_id}?",
    ]
    execution = shop.finished_execution(order_id)
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"] == {"orderId": order_id, "outcome": "APPROVED"}


def test_a_rejected_order_is_deleted_and_the_customer_told(shop):
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)

    response = requests.post(links["reject"], timeout=10)
    assert response.status_code == 200 and "Order rejected" in response.text

    cancelled = shop.wait_for_email(order_id, "was cancelled")
    assert "could not accept your order" in cancelled["body"]
    shop.wait_for_status(order_id, None)
    assert shop.order(order_id).status_code == 404
    execution = shop.finished_execution(order_id)
    assert execution["status"] == "SUCCEEDED"
    assert execution["output"] == {"orderId": order_id, "outcome": "REJECTED"}
    assert not any("is on its way" in s for s in subjects(shop.outbox(), order_id))


def test_a_second_click_shows_what_was_decided_and_changes_nothing(shop):
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    assert requests.post(links["approve"], timeout=10).status_code == 200

    again = requests.post(links["approve"], timeout=10)
    assert again.status_code == 409
    assert re.search(r"already approved at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", again.text)
    other = requests.post(links["reject"], timeout=10)
    assert other.status_code == 409 and "already approved" in other.text
    assert requests.get(links["approve"], timeout=10).status_code == 409

    shop.wait_for_status(order_id, "FEEDBACK_REQUESTED")
    assert subjects(shop.outbox(), order_id).count(f"Your order {order_id} is on its way") == 1
    assert shop.finished_execution(order_id)["output"]["outcome"] == "APPROVED"


@pytest.mark.parametrize(("answer", "status"), [
    (lambda sfn, token: sfn.send_task_success(taskToken=token, output="{}"), "FEEDBACK_REQUESTED"),
    # Neither a decision nor the timeout: RequestApproval's catch-all, RecordFailure.
    (lambda sfn, token: sfn.send_task_failure(taskToken=token, error="Unexpected", cause="test"), "FAILED"),
], ids=["shipped", "failed"])
def test_the_workflow_takes_the_task_token_off_the_order_whoever_answered_the_task(shop, answer, status):
    """The decision's own bookkeeping removes the token only while the order awaits approval, and the
    workflow's next status update often gets there first. Answered here straight through Step Functions,
    so that bookkeeping never runs at all: the workflow's update alone must remove the token."""
    order_id = shop.place_ok()["orderId"]
    shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")
    token = shop.stored_order(order_id)["approvalTaskToken"]

    answer(boto3.client("stepfunctions"), token)

    shop.wait_for_status(order_id, status)
    stored = shop.stored_order(order_id)
    assert "approvalTaskToken" not in stored and "approvalLinkId" not in stored, sorted(stored)


def test_of_clicks_at_once_exactly_one_answers_done_and_the_others_already_decided(shop):
    """Five POSTs of the same approve link at once, on several orders: each order is decided and
    delivered by exactly one of them; the others get the 409 the README promises."""
    orders = [shop.place_ok()["orderId"] for _ in range(6)]
    links = {order_id: shop.links(order_id)["approve"] for order_id in orders}
    for order_id in orders:
        shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    with ThreadPoolExecutor(max_workers=30) as pool:
        clicks = {order_id: [pool.submit(requests.post, link, timeout=20) for _ in range(5)]
                  for order_id, link in links.items()}
        answers = {order_id: [future.result() for future in futures] for order_id, futures in clicks.items()}

    for order_id, responses in answers.items():
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200, 409, 409, 409, 409], (order_id, statuses)
        assert all(re.search(r"already approved at \d{4}-", r.text) for r in responses if r.status_code == 409)
    for order_id in orders:
        shop.wait_for_email(order_id, "is on its way")
        assert subjects(shop.outbox(), order_id).count(f"Your order {order_id} is on its way") == 1


def test_opening_a_link_never_decides(shop):
    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    for _ in range(3):  # what a mail security scanner does
        assert requests.get(links["approve"], timeout=10).status_code == 200
        assert requests.get(links["reject"], timeout=10).status_code == 200
        head = requests.head(links["approve"], timeout=10)
        assert head.status_code == 200 and head.text == ""

    assert shop.status(order_id) == "AWAITING_APPROVAL"
    assert shop.execution(order_id)["status"] == "RUNNING"
    assert subjects(shop.outbox(), order_id) == [f"We have your order {order_id}", f"Approve order {order_id} (29.80 EUR)?"]


def test_a_garbage_or_foreign_token_is_refused_and_changes_nothing(shop):
    order_id = shop.place_ok()["orderId"]
    other_id = shop.place_ok()["orderId"]
    links, other_links = shop.links(order_id), shop.links(other_id)
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")

    garbage = re.sub(r"token=[^&]+", "token=not-a-real-token%2B%2F%3D", links["approve"])
    foreign = re.sub(r"token=[^&]+", re.search(r"token=[^&]+", other_links["approve"]).group(0), links["approve"])
    for link in (garbage, foreign):
        for method in ("GET", "POST"):
            response = requests.request(method, link, timeout=10)
            assert response.status_code == 403, (method, link)
            assert "not valid" in response.text and "<!DOCTYPE html>" in response.text
            assert "not-a-real-token" not in response.text  # the page never echoes a token

    missing = requests.post(links["approve"].split("&token=")[0], timeout=10)
    assert missing.status_code == 400 and "approval token" in missing.text
    wrong_result = requests.get(links["approve"].replace("result=approve", "result=maybe"), timeout=10)
    assert wrong_result.status_code == 400
    # Another order id in a signed link is a changed link.
    unknown = requests.get(links["approve"].replace(order_id, "01ZZZZZZZZZZZZZZZZZZZZZZZZ"), timeout=10)
    assert unknown.status_code == 403

    for oid in (order_id, other_id):
        assert shop.status(oid) == "AWAITING_APPROVAL"
        assert shop.execution(oid)["status"] == "RUNNING"


def _executions(shop) -> set[str]:
    machine = shop.shop.stack.outputs["StateMachineArn"]
    pages = boto3.client("stepfunctions").get_paginator("list_executions").paginate(stateMachineArn=machine)
    return {execution["name"] for page in pages for execution in page["executions"]}


def test_bad_orders_get_a_clear_error_and_start_nothing(shop):
    before = _executions(shop)
    cases = [
        (requests.post(f"{shop.url}/orders", data="{not json", timeout=10), 400, "body"),
        (shop.place(items=[]), 400, "items"),
        (shop.place(items=[{"productId": DEMO_PRODUCT, "quantity": 0}]), 400, "items[0].quantity"),
        (shop.place(customerEmail="not-an-email"), 400, "customerEmail"),
        (shop.place(items=[{"productId": "01ZZZZZZZZZZZZZZZZZZZZZZZZ", "quantity": 1}]), 422, "items[0].productId"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["field"] == field
    assert requests.get(f"{shop.url}/orders/01ZZZZZZZZZZZZZZZZZZZZZZZZ", timeout=10).status_code == 404
    # No execution started (the outbox is no measure: earlier tests' orders still send their emails).
    assert _executions(shop) == before


def test_products_and_the_outbox_pages(shop):
    products = requests.get(f"{shop.url}/products", timeout=10).json()["products"]
    assert len(products) == 8 and all(p["currency"] == "EUR" for p in products)

    order_id = shop.place_ok()["orderId"]
    links = shop.links(order_id)
    entries = shop.outbox()
    assert all(set(e) == {"channel", "to", "subject", "body", "sentAt"} for e in entries)
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", e["sentAt"]) for e in entries)

    page = requests.get(f"{shop.url}/outbox", timeout=10).text
    assert f'href="{links["approve"].replace("&", "&amp;")}"' in page  # the owner's links are clickable
    newest, oldest = entries[-1]["subject"], entries[0]["subject"]
    assert page.index(newest) < page.index(oldest)  # newest first


def test_task_tokens_and_signatures_never_reach_a_log(shop):
    import importlib
    import io
    from urllib.parse import parse_qs, urlsplit

    # Every handler's Powertools logger writes here for the test, in its production JSON format,
    # and every other logger of the process (the local server's access log, moto, botocore) at
    # INFO, where the local shop runs.
    buffer = io.StringIO()
    modules = [importlib.import_module(f"shop.handlers.{name}")
               for name in ("order_api", "approval_callback", "customer_email", "approval_request")]
    previous = [module.logger.registered_handler.setStream(buffer) for module in modules]
    everything = logging.StreamHandler(buffer)
    everything.setLevel(logging.INFO)
    root, access_log = logging.getLogger(), logging.getLogger("werkzeug")
    levels = root.level, access_log.level
    root.addHandler(everything)
    root.setLevel(logging.INFO)
    access_log.setLevel(logging.INFO)
    try:
        order_id = shop.place_ok()["orderId"]
        links = shop.links(order_id)
        requests.get(links["approve"], timeout=10)
        requests.post(links["reject"].replace("sig=", "sig=x"), timeout=10)  # refused links are logged too
        requests.post(links["approve"], timeout=10)
        shop.wait_for_status(order_id, "FEEDBACK_REQUESTED")
    finally:
        for module, stream in zip(modules, previous, strict=True):
            module.logger.registered_handler.setStream(stream)
        root.removeHandler(everything)
        root.setLevel(levels[0])
        access_log.setLevel(levels[1])

    output = buffer.getvalue()
    assert output.count(order_id) >= 5  # the logs do say which order, from every handler
    assert "GET /approval-callback/?... HTTP/1.1" in output  # the access log names the page, not the link
    query = parse_qs(urlsplit(links["approve"]).query)
    for secret in (query["token"][0], query["sig"][0]):
        assert secret not in output


def test_an_idempotency_key_replays_the_same_order_and_never_a_second_execution(shop):
    body = {"items": [{"productId": DEMO_PRODUCT_2, "quantity": 4}]}
    first = requests.post(f"{shop.url}/orders", json={**shop_order(), **body},
                          headers={"Idempotency-Key": "checkout-42"}, timeout=10)
    again = requests.post(f"{shop.url}/orders", json={**shop_order(), **body},
                          headers={"Idempotency-Key": "checkout-42"}, timeout=10)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    order_id = first.json()["orderId"]
    assert again.json()["orderId"] == order_id and again.json()["total"] == first.json()["total"] == "38.00"
    shop.links(order_id)  # the workflow got as far as the owner's notification
    assert subjects(shop.outbox(), order_id).count(f"We have your order {order_id}") == 1

    other = requests.post(f"{shop.url}/orders", json=shop_order(), headers={"Idempotency-Key": "checkout-42"},
                          timeout=10)
    assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"

    # Once the order is rejected and deleted, the key cannot bring it back.
    requests.post(shop.links(order_id)["reject"], timeout=10)
    shop.wait_for_status(order_id, None)
    late = requests.post(f"{shop.url}/orders", json={**shop_order(), **body},
                         headers={"Idempotency-Key": "checkout-42"}, timeout=10)
    assert late.status_code == 422 and "cancelled" in late.json()["message"]
    assert shop.order(order_id).status_code == 404


CONCURRENT_CLIENTS = 20
ROUNDS = 15  # the races are narrow: before the fix, 15 rounds of 20 hit one most of the time


def _post_at_once(url: str, key: str) -> list[requests.Response]:
    """The same order with the same Idempotency-Key, from every client at the same moment."""
    start = threading.Barrier(CONCURRENT_CLIENTS)

    def post(_: int) -> requests.Response:
        start.wait(timeout=30)  # all at once: the races are between a claim and what follows it
        return requests.post(f"{url}/orders", json=shop_order(), headers={"Idempotency-Key": key}, timeout=60)

    with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:
        return list(pool.map(post, range(CONCURRENT_CLIENTS)))


def test_concurrent_retries_with_one_idempotency_key_all_get_the_one_order(shop):
    """A client that retries impatiently: 20 POSTs with the same key and body at once, several
    rounds. Each gets the same order: 201, the one request that claimed the key as created, every
    other as replayed. Never a 422 for an order that is alive, never a 503. One order, one execution."""
    machine = shop.shop.stack.outputs["StateMachineArn"]
    sfn = boto3.client("stepfunctions")
    for round_number in range(ROUNDS):
        responses = _post_at_once(shop.url, f"impatient-{round_number}-{uuid.uuid4()}")

        wrong = [(r.status_code, r.text[:200]) for r in responses if r.status_code != 201]
        assert not wrong, f"round {round_number}: {wrong}"
        assert len({r.json()["orderId"] for r in responses}) == 1, f"round {round_number}: more than one order"
        assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == [""] + ["true"] * (CONCURRENT_CLIENTS - 1)
        order_id = responses[0].json()["orderId"]
        assert shop.order(order_id).status_code == 200
        names = [e["name"] for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine)
                 for e in page["executions"]]
        assert names.count(order_id) == 1, f"round {round_number}: {names.count(order_id)} executions"
