"""The outbox as people and scripts read it: the page newest first, `/outbox.json` oldest first,
and each says which (the page used to say only its own order)."""

from __future__ import annotations

import re

from werkzeug.test import Client

from shop.local.http_adapter import HttpAdapter
from shop.local.outbox import Outbox


def client_with(*subjects: str) -> Client:
    outbox = Outbox()
    for subject in subjects:
        outbox.record(channel="sns", to=["owner@example.com"], subject=subject, body="text")
    return Client(HttpAdapter(outbox))


def test_the_page_is_newest_first_the_json_oldest_first_and_the_page_says_both():
    client = client_with("first sent", "second sent")

    page = client.get("/outbox").get_data(as_text=True)
    listed = client.get("/outbox.json").get_json()

    assert page.index("second sent") < page.index("first sent")
    assert [entry["subject"] for entry in listed] == ["first sent", "second sent"]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "Everything the shop sent, newest first." in text
    assert "/outbox.json has the same messages oldest first, in the order they were sent." in text
