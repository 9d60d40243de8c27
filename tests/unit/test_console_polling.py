"""The console's live regions poll less often the more the page lists (issue 18, item 9: at 3,000
waiting orders, one open approvals tab polling every second used a whole core)."""

from __future__ import annotations

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from shop.local.console.app import Console, poll_seconds


def test_a_short_list_polls_every_second_and_a_long_one_backs_off_to_half_a_minute():
    assert [poll_seconds(n) for n in (0, 1, 199, 200, 1000, 3000, 50_000)] == [1, 1, 1, 2, 10, 30, 30]


def test_the_live_region_polls_at_the_interval_it_is_given():
    request = Request(EnvironBuilder(path="/console/approvals").get_environ())
    assert 'hx-trigger="every 30s"' in Console._region(request, None, "<p>rows</p>", "abc", poll_seconds(3000))
    assert 'hx-trigger="every 1s"' in Console._region(request, None, "<p>rows</p>", "abc")
