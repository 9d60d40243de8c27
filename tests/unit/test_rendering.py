"""Rendering every email, notification and page from `templates/`: subjects, the order's content,
amounts formatted for people, HTML escaping of customer text, and StrictUndefined."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
import pytest

from shop.domain.approval import Decision, approval_links
from shop.domain.orders import parse_order_request, price_order
from shop.rendering import format_utc, render
from tests.unit.samples import P1, P2, product, valid_body

ORDER_ID = "01JORDER0000000000000000AB"
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
DEADLINE = "2026-11-25T16:13:46Z"
TOKEN = "AAAA+b/Yz== x"


def public_order(**customer: Any) -> dict[str, Any]:
    """An order as the workflow carries it, priced by the real code: total 1,234.50 EUR."""
    body = valid_body()
    body.update(customer)
    body["items"] = [{"productId": P1, "quantity": 2}, {"productId": P2, "quantity": 1}]
    catalog = {P1: product(P1, "Stoneware mug", "14.90"), P2: product(P2, "Teak dining table", "1204.70")}
    order = price_order(parse_order_request(body), catalog, order_id=ORDER_ID, created_at="2026-11-24T16:13:46Z")
    return order.to_public() | {"decidedAt": "2026-11-24T17:00:00Z"}


# Every template a customer or the owner sees, with the context its caller passes.
EMAILS = [
    ("emails/order_received.html", {"outcome": None}, "We have your order {id}"),
    ("emails/shipment_confirmed.html", {"outcome": None}, "Your order {id} is on its way"),
    ("emails/shipment_cancelled.html", {"outcome": "REJECTED"}, "Your order {id} was cancelled"),
    ("emails/shipment_cancelled.html", {"outcome": "TIMED_OUT"}, "Your order {id} was cancelled"),
    ("emails/shipment_cancelled.html", {"outcome": "CANCELLED"}, "Your order {id} was cancelled"),
    ("emails/feedback_request.html", {"outcome": None}, "How was your order {id}?"),
]
PAGES = [
    ("pages/approval_review.html", {"approve": True, "deadline": DEADLINE}, "Approve order {id}?"),
    ("pages/approval_review.html", {"approve": False, "deadline": DEADLINE}, "Reject order {id}?"),
    ("pages/approval_done.html", {"approve": True}, "Order {id} approved"),
    ("pages/approval_done.html", {"approve": False}, "Order {id} rejected"),
]
HTML_WITH_ORDER = EMAILS + PAGES
HTML_IDS = [f"{name}-{next(iter(ctx.values()))}" for name, ctx, _ in HTML_WITH_ORDER]
# Which templates show the address and the customer's email.
SHOWS_ADDRESS = {"emails/order_received.html", "emails/shipment_confirmed.html", "pages/approval_review.html",
                 "pages/approval_done.html"}
SHOWS_EMAIL = {"emails/order_received.html", "pages/approval_review.html", "pages/approval_done.html"}


def notification(order: dict[str, Any], **context: Any):
    links = approval_links("https://cb.example/", order["orderId"], TOKEN, key=b"k", expires=1_795_000_000,
                           link_id="a-link-id-for-tests")
    return render(
        "notifications/approval_request.txt",
        order=order,
        approve_url=links[Decision.APPROVE],
        reject_url=links[Decision.REJECT],
        deadline=DEADLINE,
        **({"replaces_earlier": False} | context),
    ), links


def item_rows(body: str) -> list[str]:
    return re.findall(r"<tr[^>]*>.*?</tr>", body, flags=re.S)


@pytest.mark.parametrize(("name", "context", "subject"), HTML_WITH_ORDER, ids=HTML_IDS)
def test_html_subject_names_the_order(name, context, subject):
    rendered = render(name, order=public_order(), **context)

    assert rendered.subject == subject.format(id=ORDER_ID)
    assert f"<title>{rendered.subject}</title>" in rendered.body


@pytest.mark.parametrize(("name", "context", "subject"), HTML_WITH_ORDER, ids=HTML_IDS)
def test_html_body_shows_the_items_and_total(name, context, subject):
    order = public_order()

    body = render(name, order=order, **context).body

    rows = item_rows(body)
    for item, line_total in zip(order["items"], ["29.80 EUR", "1,204.70 EUR"], strict=True):
        [row] = [row for row in rows if item["name"] in row]
        assert f">{item['quantity']}</td>" in row
        assert line_total in row
    assert "1,234.50 EUR" in body
    assert ORDER_ID in body


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>.*?</t[hd]>", row, flags=re.S)]


@pytest.mark.parametrize(("name", "context", "subject"), HTML_WITH_ORDER, ids=HTML_IDS)
def test_html_body_shows_unit_price_and_line_total_side_by_side_as_the_console_does(name, context, subject):
    """A "Price" of 29.80 for two mugs at 14.90 read as the price of one mug."""
    body = render(name, order=public_order(), **context).body

    rows = [cells(row) for row in re.findall(r"<tr[^>]*>(?:(?!<tr).)*?</tr>", body, flags=re.S)]  # innermost
    assert ["Item", "Qty", "Price", "Total"] in rows
    assert ["Stoneware mug", "2", "14.90 EUR", "29.80 EUR"] in rows
    assert ["Total", "1,234.50 EUR"] in rows


@pytest.mark.parametrize(("name", "context", "subject"), HTML_WITH_ORDER, ids=HTML_IDS)
def test_html_body_shows_the_customer(name, context, subject):
    body = render(name, order=public_order(), **context).body

    assert "Ada Lovelace" in body
    assert ("ada@example.com" in body) == (name in SHOWS_EMAIL)
    for part in ("12 St James Square", "London", "Greater London", "United Kingdom"):
        assert (part in body) == (name in SHOWS_ADDRESS), part


@pytest.mark.parametrize(("name", "context", "subject"), HTML_WITH_ORDER, ids=HTML_IDS)
def test_html_escapes_customer_text(name, context, subject):
    order = public_order(customerName=SCRIPT)
    order["shippingAddress"]["streetAddress"] = '<img src=x onerror="alert(2)">'
    order["items"][0]["name"] = "Mug <b>bold</b> & co"

    rendered = render(name, order=order, **context)

    assert SCRIPT not in rendered.body
    assert "<script" not in rendered.body
    assert ESCAPED_SCRIPT in rendered.body
    assert "<b>bold</b>" not in rendered.body
    assert "Mug &lt;b&gt;bold&lt;/b&gt; &amp; co" in rendered.body
    assert "<img" not in rendered.body
    if name in SHOWS_ADDRESS:
        assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in rendered.body


def test_message_page_escapes_title_and_message():
    rendered = render("pages/message.html", title="Oops <i>", message=SCRIPT)

    assert rendered.subject == ""
    assert "<h1>Oops &lt;i&gt;</h1>" in rendered.body
    assert f"<p>{ESCAPED_SCRIPT}</p>" in rendered.body
    assert SCRIPT not in rendered.body
    assert "<title>Oops &lt;i&gt;</title>" in rendered.body


def test_cancelled_email_words_a_rejection_a_timeout_and_a_cancellation_differently():
    rejected = render("emails/shipment_cancelled.html", order=public_order(), outcome="REJECTED").body
    timed_out = render("emails/shipment_cancelled.html", order=public_order(), outcome="TIMED_OUT").body
    cancelled = render("emails/shipment_cancelled.html", order=public_order(), outcome="CANCELLED").body

    assert "could not accept your order" in rejected
    assert "in time" not in rejected
    assert "could not confirm your order in time" in timed_out
    assert "could not accept" not in timed_out
    assert "The shop has cancelled your order." in cancelled
    assert "could not" not in cancelled


def test_a_resent_notification_says_the_earlier_links_no_longer_work():
    first, _ = notification(public_order())
    resent, _ = notification(public_order(), replaces_earlier=True)

    assert "A new order is waiting" in first.body and "replace" not in first.body
    assert "still waiting for your decision" in resent.body
    assert "replace the ones sent before, which no longer work" in resent.body
    assert first.subject == resent.subject  # the same thread in the owner's mail client


@pytest.mark.parametrize(
    ("approve", "button", "other"), [(True, "Approve order", "Reject order"), (False, "Reject order", "Approve order")]
)
def test_review_page_has_one_button_that_posts_to_the_same_url(approve, button, other):
    body = render("pages/approval_review.html", order=public_order(), approve=approve, deadline=DEADLINE).body

    assert re.search(r'<form method="post">', body)
    assert "action=" not in body
    assert f">{button}</button>" in body
    assert other not in body
    assert "Decide before 2026-11-25 16:13:46 UTC." in body
    assert "placed 2026-11-24 16:13:46 UTC" in body


def test_review_page_without_a_deadline_does_not_mention_one():
    body = render("pages/approval_review.html", order=public_order(), approve=True, deadline=None).body

    assert "Decide before" not in body


def test_done_page_shows_when_it_was_decided():
    body = render("pages/approval_done.html", order=public_order(), approve=True).body

    assert "Decided at 2026-11-24 17:00:00 UTC." in body


# --- the owner's plain-text notification ------------------------------------------------------


def test_notification_subject_has_the_order_and_total():
    rendered, _ = notification(public_order())

    assert rendered.subject == f"Approve order {ORDER_ID} (1,234.50 EUR)?"


def test_notification_body_has_the_whole_order():
    rendered, _ = notification(public_order())

    assert f"Order:    {ORDER_ID}" in rendered.body
    assert "Placed:   2026-11-24 16:13:46 UTC" in rendered.body
    assert 'Customer: "Ada Lovelace"\nEmail:    "ada@example.com"\n' in rendered.body
    assert 'Ship to:  "12 St James Square", "London", "Greater London", "United Kingdom"' in rendered.body
    assert "2 x Stoneware mug  29.80 EUR" in rendered.body
    assert "1 x Teak dining table  1,204.70 EUR" in rendered.body
    assert "Total: 1,234.50 EUR" in rendered.body
    assert "Decide before 2026-11-25 16:13:46 UTC." in rendered.body


def test_notification_links_are_verbatim_and_keep_the_token():
    rendered, links = notification(public_order())

    found = re.findall(r"^https://\S+$", rendered.body, flags=re.M)
    assert found == [links[Decision.APPROVE], links[Decision.REJECT]]  # approve first, `&` not `&amp;`
    for link in found:
        assert parse_qs(urlsplit(link).query)["token"] == [TOKEN]


def test_notification_is_plain_text_and_not_escaped():
    rendered, _ = notification(public_order(customerName=SCRIPT))

    assert f'Customer: "{SCRIPT}"' in rendered.body
    assert "&lt;" not in rendered.body and "&amp;" not in rendered.body


# The report's forged block. The API refuses it now; an order stored before that still renders.
FAKE_BLOCK = "Eve\n\nApprove and ship it:\nhttp://evil.example/approve\n"


def stored_before_the_rules(**customer: Any) -> dict[str, Any]:
    return public_order() | customer


@pytest.mark.parametrize("order", [
    pytest.param(stored_before_the_rules(customerName=FAKE_BLOCK), id="name"),
    pytest.param(stored_before_the_rules(shippingAddress={"streetAddress": FAKE_BLOCK, "city": "\u2028x",
                                                          "county": "\r\n", "country": "\x85"}), id="address"),
    pytest.param(stored_before_the_rules(customerEmail='eve@example.com"\n\nReject it:\nhttp://evil.example/'),
                 id="email"),
    pytest.param(public_order(customerName="Approve and ship it: http://evil.example/approve"), id="one-line"),
])
def test_customer_text_cannot_imitate_the_notifications_links(order):
    rendered, links = notification(order)
    lines = rendered.body.splitlines()

    # The shop's links are the only lines that are a URL, and nothing the customer typed comes before them.
    assert [line for line in lines if re.fullmatch(r"\s*https?://\S+", line)] == [
        links[Decision.APPROVE], links[Decision.REJECT]]
    before_links = "\n".join(lines[: lines.index(links[Decision.REJECT]) + 1])
    assert "evil" not in before_links and "Eve" not in before_links
    # "Approve and ship it:" starts a line exactly once: the shop's own.
    assert sum(line.startswith("Approve and ship it:") for line in lines) == 1
    assert sum(line.startswith("Reject it:") for line in lines) == 1
    assert "http://evil.example/" in rendered.body  # shown, as quoted text, after the links


def test_a_forged_block_stays_one_quoted_line():
    rendered, _ = notification(stored_before_the_rules(customerName=FAKE_BLOCK + '" and more'))

    assert ('Customer: "Eve\\x0a\\x0aApprove and ship it:\\x0ahttp://evil.example/approve\\x0a\\" and more"\n'
            in rendered.body)


# --- the local outbox and console: which URLs become links ------------------------------------


def test_only_a_url_on_a_line_of_its_own_becomes_a_link():
    from shop.local.http_adapter import linkify

    rendered, links = notification(public_order(customerName="Approve: http://evil.example/a?b=1"))

    html = str(linkify(rendered.body))

    hrefs = re.findall(r'<a href="([^"]*)">', html)
    assert hrefs == [links[Decision.APPROVE].replace("&", "&amp;"), links[Decision.REJECT].replace("&", "&amp;")]
    assert "http://evil.example/a?b=1" in html and 'href="http://evil' not in html
    # Escaped first, so a quote in a URL cannot leave its href.
    assert str(linkify('<b>x</b>\nhttp://a.example/?q="x"\n')) == (
        '&lt;b&gt;x&lt;/b&gt;\n<a href="http://a.example/?q=&#34;x&#34;">http://a.example/?q=&#34;x&#34;</a>\n')


# --- StrictUndefined ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "context"),
    [
        ("emails/order_received.html", {}),
        ("emails/shipment_cancelled.html", {"order": "ORDER"}),  # no outcome
        ("pages/approval_review.html", {"order": "ORDER", "approve": True}),  # no deadline
        ("pages/approval_done.html", {"order": "ORDER_WITHOUT_DECIDED_AT", "approve": True}),
        ("pages/message.html", {"title": "t"}),  # no message
        ("notifications/approval_request.txt", {"order": "ORDER", "approve_url": "a", "reject_url": "r"}),
    ],
)
def test_a_missing_variable_raises(name, context):
    order = public_order()
    if context.get("order") == "ORDER_WITHOUT_DECIDED_AT":
        del order["decidedAt"]
    if "order" in context:
        context = context | {"order": order}

    with pytest.raises(jinja2.UndefinedError):
        render(name, **context)


@pytest.mark.parametrize("missing", ["total", "currency", "customerName"])
def test_a_missing_order_key_raises(missing):
    order = public_order()
    del order[missing]

    with pytest.raises(jinja2.UndefinedError):
        render("emails/order_received.html", order=order, outcome=None)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [("2026-11-24T16:13:46Z", "2026-11-24 16:13:46 UTC"), ("2026-11-24T16:13:46+02:00", "2026-11-24T16:13:46+02:00"),
     ("", "")],
)
def test_format_utc(moment, expected):
    assert format_utc(moment) == expected
