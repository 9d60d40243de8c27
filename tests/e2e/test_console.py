"""The owner's console: in a real browser (Debian's Chromium driven by Playwright, nothing
downloaded), and over plain HTTP for what a browser would not send."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import requests

from tests.support import ShopClient, poll, running_shop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling Google, which this network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def owner_shop(synthesized):
    """Feedback is asked after a minute, so an approved order rests at WaitBeforeFeedback."""
    with running_shop(synthesized, approval_timeout_seconds=120, feedback_delay_seconds=60) as shop:
        yield shop


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("SHOP_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
        pytest.skip("no Chromium: `apt-get install chromium` to run the console's browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], errors  # no script failed on any page


def awaiting(shop: ShopClient) -> str:
    order_id = shop.place_ok()["orderId"]
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")
    return order_id


def state(page, name: str, mark: str):
    return page.locator(f'#workflow [data-state="{name}"][data-mark="{mark}"]')


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    """The page at a phone's width, where a table or a long order id used to push the page sideways."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def fits_the_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# Every framed email fitted to its content: taller than its document, and its footer inside the frame.
FRAMES_FIT = """() => [...document.querySelectorAll('iframe[srcdoc]')].filter(f => f.offsetWidth > 0).every(f => {
    const doc = f.contentDocument;
    if (!doc || doc.readyState !== 'complete' || !doc.body) return false;
    const last = doc.body.querySelector('table p:last-of-type');
    return f.clientHeight >= doc.documentElement.scrollHeight
        && last.getBoundingClientRect().bottom <= f.contentWindow.innerHeight;
})"""


# -- in the browser --------------------------------------------------------------------------------


def test_owner_approves_from_the_console_and_the_graph_moves_to_shipping(owner_shop, page):
    order_id = awaiting(owner_shop)

    page.goto(f"{owner_shop.url}/console/approvals")
    pending = page.locator(f'section.pending[data-order="{order_id}"]')
    pending.wait_for()
    assert "left" in pending.inner_text()
    pending.get_by_role("link", name=order_id).click()

    page.wait_for_url(f"**/console/orders/{order_id}")
    state(page, "RequestApproval", "current").wait_for()
    assert page.locator("#order-status").inner_text() == "AWAITING APPROVAL"
    assert page.locator("#workflow [data-state]").count() >= 15  # the whole state machine is drawn

    page.get_by_role("button", name="Approve").click()

    page.wait_for_url(re.compile(r"done=approve"))
    assert "Approved: the order ships now." in page.locator(".notice.done").inner_text()
    state(page, "ShipmentEmail", "passed").wait_for()
    state(page, "WaitBeforeFeedback", "current").wait_for()
    assert page.locator("#order-status").inner_text() == "SHIPPED"
    assert state(page, "RequestApproval", "passed").count() == 1
    assert page.get_by_role("button", name="Approve").count() == 0  # decided: no more buttons
    page.get_by_text(f"Your order {order_id} is on its way").wait_for()  # the email, under Messages


def test_the_order_page_follows_the_workflow_without_a_reload(owner_shop, page):
    order_id = awaiting(owner_shop)
    page.goto(f"{owner_shop.url}/console/orders/{order_id}")
    state(page, "RequestApproval", "current").wait_for()
    page.evaluate("window.loadedOnce = true")

    # Decided elsewhere: with the emailed link.
    assert requests.post(owner_shop.links(order_id)["reject"], timeout=10).status_code == 200

    state(page, "OrderCancelled", "passed").wait_for()
    state(page, "End", "passed").wait_for()
    page.locator("#order-status", has_text="REJECTED").wait_for()
    assert page.evaluate("window.loadedOnce") is True  # the same page, updated in place
    assert state(page, "Rejected", "passed").count() == 1
    assert state(page, "MarkShipped", "passed").count() == 0


def test_a_new_order_appears_on_the_open_approvals_page_by_itself(owner_shop, page):
    page.goto(f"{owner_shop.url}/console/approvals")
    page.evaluate("window.loadedOnce = true")

    order_id = awaiting(owner_shop)

    page.locator(f'section.pending[data-order="{order_id}"]').wait_for()
    assert page.evaluate("window.loadedOnce") is True


def test_cancelling_from_the_console_asks_first_then_tells_the_customer(owner_shop, page):
    order_id = awaiting(owner_shop)
    page.goto(f"{owner_shop.url}/console/orders/{order_id}")
    questions: list[str] = []

    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Cancel order").click()
    assert questions and "customer is told" in questions[0]
    assert owner_shop.status(order_id) == "AWAITING_APPROVAL"  # dismissed: nothing happened

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel order").click()

    page.wait_for_url(re.compile(r"done=cancel"))
    state(page, "Cancelled", "passed").wait_for()
    state(page, "End", "passed").wait_for()
    owner_shop.wait_for_email(order_id, "was cancelled")


def test_resending_from_the_approvals_page_sends_new_links(owner_shop, page):
    order_id = awaiting(owner_shop)
    old = owner_shop.links(order_id)
    page.goto(f"{owner_shop.url}/console/approvals")

    page.locator(f'section.pending[data-order="{order_id}"]').get_by_role("button", name="Resend notification").click()

    page.wait_for_url(re.compile(r"/console/approvals\?done=resend"))
    assert "the earlier ones no longer work" in page.locator(".notice.done").inner_text()
    assert requests.get(old["approve"], timeout=10).status_code == 403


def test_the_orders_list_filters_by_status(owner_shop, page):
    order_id = awaiting(owner_shop)

    page.goto(f"{owner_shop.url}/console/orders")
    page.get_by_role("link", name="awaiting approval").click()

    page.wait_for_url(re.compile(r"status=AWAITING_APPROVAL"))
    row = page.locator(f'tr[data-order="{order_id}"]')
    assert "AWAITING APPROVAL" in row.inner_text() and "29.80" in row.inner_text()
    assert set(page.locator("tbody .status").all_inner_texts()) == {"AWAITING APPROVAL"}


# -- over HTTP -------------------------------------------------------------------------------------


def test_a_post_from_another_site_is_refused_and_changes_nothing(owner_shop):
    order_id = awaiting(owner_shop)

    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        response = requests.post(f"{owner_shop.url}/console/orders/{order_id}/approve", headers=headers,
                                 allow_redirects=False, timeout=10)
        assert response.status_code == 403
    assert owner_shop.status(order_id) == "AWAITING_APPROVAL"


def test_a_decision_is_made_once_from_the_console_too(owner_shop):
    order_id = awaiting(owner_shop)
    url = f"{owner_shop.url}/console/orders/{order_id}"

    first = requests.post(f"{url}/approve", allow_redirects=False, timeout=10)
    assert first.status_code == 303 and first.headers["Location"] == f"/console/orders/{order_id}?done=approve"
    second = requests.post(f"{url}/reject", allow_redirects=False, timeout=10)
    assert second.status_code == 409 and "already approved" in second.text
    # The refusal shows the order page, whose live region keeps polling the order's own URL.
    assert f'hx-get="/console/orders/{order_id}?live=' in second.text
    owner_shop.wait_for_status(order_id, "SHIPPED")


def test_where_an_action_returns_to_stays_inside_the_console(owner_shop):
    order_id = awaiting(owner_shop)

    response = requests.post(f"{owner_shop.url}/console/orders/{order_id}/resend",
                             data={"next": "https://evil.example/"}, allow_redirects=False, timeout=10)
    assert response.headers["Location"] == f"/console/orders/{order_id}?done=resend"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/console/orders/01JDF12740C1HB5QE4DT9TWB3Z", 404),
        ("GET", "/console/orders?status=lost", 400),
        ("GET", "/console/nowhere", 404),
        ("GET", "/console/static/missing.js", 404),
        ("GET", "/console/vendor/../../Makefile", 404),
        ("POST", "/console/orders/01JDF12740C1HB5QE4DT9TWB3Z/approve", 404),
        ("POST", "/console/orders/01JDF12740C1HB5QE4DT9TWB3Z/explode", 405),
        ("PUT", "/console/orders", 405),
    ],
)
def test_bad_console_requests_get_a_clear_answer(owner_shop, method, path, status):
    response = requests.request(method, owner_shop.url + path, allow_redirects=False, timeout=10)

    assert response.status_code == status


def test_the_live_region_answers_204_until_it_changes(owner_shop):
    order_id = awaiting(owner_shop)
    url = f"{owner_shop.url}/console/orders/{order_id}"
    version = re.search(r'id="live" data-version="(\w+)"', requests.get(url, timeout=10).text).group(1)

    assert requests.get(url, params={"live": version}, timeout=10).status_code == 204
    requests.post(f"{url}/approve", timeout=10)
    changed = poll(lambda: (r := requests.get(url, params={"live": version}, timeout=10)).status_code == 200 and r,
                   what="the live region to change")
    assert changed.text.startswith('<div id="live"') and "<html" not in changed.text


def test_the_browser_libraries_come_from_npm(owner_shop):
    for name in ("htmx.min.js", "dagre.min.js"):
        response = requests.get(f"{owner_shop.url}/console/vendor/{name}", timeout=10)
        assert response.status_code == 200 and "javascript" in response.headers["Content-Type"], name


def test_the_stored_task_token_is_shown_nowhere(owner_shop):
    from urllib.parse import parse_qs, urlsplit

    order_id = awaiting(owner_shop)
    query = parse_qs(urlsplit(owner_shop.links(order_id)["approve"]).query)
    secrets = (query["token"][0], query["link"][0])

    answers = [owner_shop.order(order_id).text]
    answers += [requests.get(f"{owner_shop.url}/console/{page}", timeout=10).text
                for page in ("orders", "approvals", f"orders/{order_id}", "orders?status=AWAITING_APPROVAL")]
    # The order page lists what was sent, the owner's notification with its links included, as
    # the outbox does: local mode's stand-in for the owner's mailbox. Everything else is checked.
    answers = [re.sub(r"<details>.*?</details>", "", answer, flags=re.S) for answer in answers]
    for answer in answers:
        assert order_id in answer
        for secret in secrets:
            assert secret not in answer
    assert "approvalTaskToken" not in answers[0]


# -- at a phone's width, and the framed emails -----------------------------------------------------


def test_every_page_of_the_console_the_outbox_and_the_approval_pages_fits_a_phone(owner_shop, phone):
    """At 390 px the execution history pushed the order page to 552 px; now every page fits."""
    shipped, waiting = awaiting(owner_shop), awaiting(owner_shop)
    used = owner_shop.links(shipped)["approve"]
    assert requests.post(used, timeout=10).status_code == 200
    owner_shop.wait_for_status(shipped, "SHIPPED")

    for path in ["/", "/outbox", "/console/orders", "/console/approvals", f"/console/orders/{shipped}",
                 f"/console/orders/{waiting}", "/console/orders/NO-SUCH-ORDER", used]:
        phone.goto(path if path.startswith("http") else owner_shop.url + path)
        assert fits_the_width(phone), f"{path} is wider than a phone: {phone.evaluate('document.documentElement.scrollWidth')} px"
        if path == "/":  # the start page says, as the banner does, that nothing survives a restart
            assert "do not survive a restart" in phone.content()
    assert "already approved" in phone.content()  # the last page checked: the used link's answer

    phone.goto(owner_shop.links(waiting)["reject"])  # the confirmation page, then its answer
    assert fits_the_width(phone)
    phone.get_by_role("button", name="Reject order").click()
    phone.get_by_text("rejected").first.wait_for()
    assert fits_the_width(phone)


@pytest.mark.parametrize("width", [PHONE["width"], 1280])
def test_each_framed_email_is_as_tall_as_its_content_and_shows_its_footer(owner_shop, browser, width):
    """The outbox framed every email at 460 px: the order-received email's footer was cut off."""
    order_id = awaiting(owner_shop)
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{owner_shop.url}/outbox")
        page.wait_for_function(FRAMES_FIT, timeout=20_000)

        page.goto(f"{owner_shop.url}/console/orders/{order_id}")  # the order's messages, opened
        page.locator("details", has_text="We have your order").locator("summary").click()
        page.wait_for_function(FRAMES_FIT, timeout=20_000)
    finally:
        context.close()

