"""The local shop's access log keeps the path and drops the query (the approval links' token)."""

import pytest

from shop.local.access_log import without_query


@pytest.mark.parametrize(("logged", "kept"), [
    ("/approval-callback/?orderId=1&token=T0K3N&sig=S1G", "/approval-callback/?..."),
    ("/orders/01JORDER", "/orders/01JORDER"),
    ("/?", "/?..."),
    ("GET /approval-callback/?token=T0K3N HTTP/1.1", "GET /approval-callback/?... HTTP/1.1"),  # a whole line
    ("GET /x?token=with space HTTP/1.1", "GET /x?... HTTP/1.1"),
    ("", ""),
])
def test_the_query_is_dropped_and_the_rest_kept(logged, kept):
    assert without_query(logged) == kept
