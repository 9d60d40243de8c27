"""Local mode's bounds under load (issue 18, item 9): an idle or stalled connection is closed after
the idle timeout instead of holding its thread for good, on both ports; beyond the bound on open
executions a new order is refused, as at Step Functions' quota, and the shop goes on answering."""

from __future__ import annotations

import socket

import pytest
import requests

from shop.local.runtime import LocalConfig, LocalShop
from tests.support import order_body, poll


@pytest.fixture(scope="module")
def shop(synthesized):
    running = LocalShop(LocalConfig(port=0, aws_port=0, template_path=synthesized.template_path,
                                    approval_timeout_seconds=3600, feedback_delay_seconds=3600,
                                    idle_timeout_seconds=1, max_open_executions=2)).start()
    yield running
    running.stop()


def _closed_by_the_server(url: str, sent: bytes) -> None:
    host, _, port = url.removeprefix("http://").partition(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(sent)
        connection.settimeout(0.2)

        def closed() -> bool:
            try:
                return connection.recv(1024) == b""
            except TimeoutError:
                return False

        poll(closed, timeout=30, what=f"{url} closing a connection that sent {sent!r}")


@pytest.mark.parametrize("sent", [b"", b"GET /products HTTP/1.1\r\nHost: 127.0.0.1\r\n"],
                         ids=["idle", "headers-unfinished"])
def test_a_silent_connection_is_closed_on_both_ports(shop, sent):
    _closed_by_the_server(shop.base_url, sent)
    _closed_by_the_server(shop.aws_endpoint, sent)


def test_beyond_the_bound_on_open_executions_an_order_is_refused_and_the_shop_goes_on(shop):
    for _ in range(2):
        assert requests.post(f"{shop.base_url}/orders", json=order_body(), timeout=30).status_code == 201
    refused = requests.post(f"{shop.base_url}/orders", json=order_body(), timeout=30)
    assert refused.status_code == 503, refused.text
    assert "too many orders are open" in refused.json()["message"]
    assert refused.headers.get("Retry-After") == "60"
    assert requests.get(f"{shop.base_url}/products", timeout=30).status_code == 200
