"""What a web page the developer visits can do to local mode's two ports (README, "Security").

A browser runs that page on the developer's machine, so its requests reach 127.0.0.1 too. Each
test sends what such a page's browser would send: another site's Origin, or (DNS rebinding) the
page's own host name in Host. Pages of the shop itself, the AWS CLI and the `shop` command are
answered as before.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from shop.adapters.stack import LOCAL_STACK_PATH
from shop.local.http_adapter import FUNCTION_URL_MAX_BODY, HTTP_API_MAX_BODY, LOCAL_MAX_BODY
from tests.support import order_body, running_shop

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def shop(synthesized):
    """Feedback is asked after a minute, so an approved order rests at SHIPPED."""
    with running_shop(synthesized, approval_timeout_seconds=120, feedback_delay_seconds=60) as shop:
        yield shop


def awaiting(shop) -> str:
    order_id = shop.place_ok()["orderId"]
    shop.wait_for_status(order_id, "AWAITING_APPROVAL")
    return order_id


def port_of(url: str) -> int:
    return urlsplit(url).port


def aws_client(shop, service: str, origin: str | None = None):
    """A client of the AWS endpoint with keys local mode never issued (the developer's own), whose
    requests carry `origin` as a browser page's would."""
    client = boto3.client(service, endpoint_url=shop.shop.aws_endpoint, region_name="us-east-1",
                          aws_access_key_id="AKIAMYOWNKEY00000000", aws_secret_access_key="x")
    if origin is not None:
        def add_origin(request, **_):
            request.headers["Origin"] = origin

        client.meta.events.register("before-sign", add_origin)
    return client


# -- 1. the AWS endpoint: no CORS, no page of another site ------------------------------------------


def test_the_aws_endpoint_answers_no_cors_even_to_its_own_origin(shop):
    """moto's server answered every origin's preflight with Access-Control-Allow-Origin."""
    response = requests.options(f"{shop.shop.aws_endpoint}/", timeout=10, headers={
        "Origin": shop.shop.aws_endpoint, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,x-amz-target,content-type"})

    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_the_aws_endpoint_refuses_pages_of_other_sites(shop, origin):
    origin = origin.format(port=port_of(shop.shop.aws_endpoint))
    preflight = requests.options(f"{shop.shop.aws_endpoint}/", timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers

    table = shop.shop.stack.outputs["OrdersTableName"]
    with pytest.raises(ClientError) as refused:  # the Orders table holds the task tokens
        aws_client(shop, "dynamodb", origin).scan(TableName=table)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as refused:
        aws_client(shop, "secretsmanager", origin).get_secret_value(
            SecretId=shop.shop.stack.outputs["LinkSigningSecretArn"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_page_of_another_site_cannot_fail_a_waiting_task(shop):
    order_id = awaiting(shop)
    token = boto3.client("dynamodb").get_item(
        TableName=shop.shop.stack.outputs["OrdersTableName"], Key={"orderId": {"S": order_id}},
    )["Item"]["approvalTaskToken"]["S"]

    with pytest.raises(ClientError) as refused:
        aws_client(shop, "stepfunctions", EVIL).send_task_failure(taskToken=token, error="OrderRejected")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert shop.status(order_id) == "AWAITING_APPROVAL"


def test_the_aws_cli_with_any_credentials_still_works(shop):
    """No Origin (not a browser), a loopback Host: the developer's own tools."""
    tables = aws_client(shop, "dynamodb").list_tables()["TableNames"]

    assert shop.shop.stack.outputs["OrdersTableName"] in tables


# -- 2. DNS rebinding: only loopback names in Host, on both ports ------------------------------------


def test_a_rebound_page_cannot_approve_from_the_console(shop):
    order_id = awaiting(shop)
    evil = f"evil.example:{port_of(shop.url)}"

    response = requests.post(f"{shop.url}/console/orders/{order_id}/approve", allow_redirects=False,
                             headers={"Host": evil, "Origin": f"http://{evil}"}, timeout=10)

    assert response.status_code == 421
    assert shop.status(order_id) == "AWAITING_APPROVAL"


@pytest.mark.parametrize("path", ["/outbox.json", "/outbox", LOCAL_STACK_PATH, "/console/approvals", "/orders"])
def test_a_foreign_host_is_misdirected_on_the_shops_port(shop, path):
    awaiting(shop)  # the outbox holds signed links

    for host in (f"evil.example:{port_of(shop.url)}", "evil.example", f"127.0.0.1.evil.example:{port_of(shop.url)}",
                 f"127.0.0.1:{port_of(shop.url) + 2}"):
        response = requests.get(shop.url + path, headers={"Host": host}, timeout=10)
        assert response.status_code == 421, host
        assert "approve" not in response.text and "ownerCredentials" not in response.text


def test_a_foreign_host_is_misdirected_on_the_aws_port(shop):
    client = aws_client(shop, "dynamodb")

    def rebind(request, **_):
        request.headers["Host"] = f"evil.example:{port_of(shop.shop.aws_endpoint)}"

    client.meta.events.register("before-sign", rebind)
    with pytest.raises(ClientError) as refused:
        client.scan(TableName=shop.shop.stack.outputs["OrdersTableName"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 421


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]", "LOCALHOST"])
def test_every_loopback_name_is_answered_on_both_ports(shop, name):
    shop_host = f"{name}:{port_of(shop.url)}"
    assert requests.get(f"{shop.url}/outbox.json", headers={"Host": shop_host}, timeout=10).status_code == 200

    client = aws_client(shop, "dynamodb")
    client.meta.events.register("before-sign", lambda request, **_: request.headers.__setitem__(
        "Host", f"{name}:{port_of(shop.shop.aws_endpoint)}"))
    assert shop.shop.stack.outputs["OrdersTableName"] in client.list_tables()["TableNames"]


@pytest.mark.parametrize("origin", ["https://{host}", "ftp://{host}", "http://{host}.evil.example", "null",
                                    "http://localhost:{port}"])
def test_the_consoles_origin_check_compares_scheme_host_and_port(shop, origin):
    order_id = awaiting(shop)
    host = urlsplit(shop.url).netloc

    response = requests.post(f"{shop.url}/console/orders/{order_id}/approve", allow_redirects=False, timeout=10,
                             headers={"Origin": origin.format(host=host, port=port_of(shop.url))})

    assert response.status_code == 403
    assert shop.status(order_id) == "AWAITING_APPROVAL"


def test_local_pages_refuse_other_sites_but_the_apis_stay_public_as_on_aws(shop):
    assert requests.get(f"{shop.url}/outbox.json", headers={"Origin": EVIL}, timeout=10).status_code == 403
    assert requests.get(f"{shop.url}{LOCAL_STACK_PATH}", headers={"Origin": EVIL}, timeout=10).status_code == 403
    # The order API and the approval Function URL take requests from anywhere on AWS (an email's link
    # opened from a webmail site is a cross-site GET); the shop's own pages still work.
    order = requests.post(f"{shop.url}/orders", json=order_body(), headers={"Origin": EVIL}, timeout=10)
    assert order.status_code == 201
    link = shop.links(order.json()["orderId"])["approve"]
    assert requests.get(link, headers={"Sec-Fetch-Site": "cross-site"}, timeout=10).status_code == 200
    assert requests.get(f"{shop.url}/outbox.json", headers={"Origin": shop.url}, timeout=10).status_code == 200



# -- 12. where a console action returns to ----------------------------------------------------------


@pytest.mark.parametrize("next_page", ["/console/approvals\r\nX-Injected: yes", "/console/approvals\n",
                                       "/console/orders/\u20ac", "/console/../outbox.json"])
def test_a_console_action_with_a_broken_next_is_done_and_says_so(shop, next_page):
    order_id = awaiting(shop)

    response = requests.post(f"{shop.url}/console/orders/{order_id}/approve", data={"next": next_page},
                             allow_redirects=False, timeout=10)

    assert response.status_code == 303, response.text
    assert response.headers["Location"] == f"/console/orders/{order_id}?done=approve"
    assert "X-Injected" not in response.headers
    shop.wait_for_status(order_id, "SHIPPED")


# -- 13. bodies past the limit ---------------------------------------------------------------------


def _front(shop, which: str) -> tuple[str, int]:
    """A path of each kind the shop's port serves, with the largest body it takes."""
    if which == "api":
        return "/orders", HTTP_API_MAX_BODY
    if which == "url":
        return f"/{shop.shop.stack.function_urls[0].prefix}/", FUNCTION_URL_MAX_BODY
    return "/console/orders/01JDF12740C1HB5QE4DT9TWB3Z/approve", LOCAL_MAX_BODY


@pytest.mark.parametrize("which", ["api", "url", "console"])
def test_a_declared_body_past_the_limit_is_refused_before_it_is_sent(shop, which):
    """Only the headers go out: a server that reads the body first never answers (the timeout)."""
    path, limit = _front(shop, which)
    connection = http.client.HTTPConnection("127.0.0.1", port_of(shop.url), timeout=10)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(200 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert b"Too Large" in response.read()
    finally:
        connection.close()


def test_a_streamed_body_is_read_no_further_than_the_limit(shop):
    """Chunked, with no length to refuse up front: one byte past the limit is sent and the body left
    open; a server that reads on until the body ends never answers."""
    path, limit = _front(shop, "console")
    connection = http.client.HTTPConnection("127.0.0.1", port_of(shop.url), timeout=10)
    try:
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for size in (limit // 2, limit - limit // 2 + 1):
            connection.send(b"%x\r\n%s\r\n" % (size, b"a" * size))
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()


def test_a_body_within_the_limit_still_reaches_the_handler(shop):
    """The order handler's own 64 KiB rule answers 400 as on AWS, where API Gateway passes such a
    body on; so does the Function URL."""
    body = b" " * (LOCAL_MAX_BODY * 2)
    response = requests.post(f"{shop.url}/orders", data=body, timeout=10, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "larger than" in response.json()["message"], response.text

    path, _ = _front(shop, "url")
    response = requests.post(f"{shop.url}{path}", data=body, timeout=10)
    assert response.status_code == 400 and "Too Large" not in response.text  # the handler: parameters missing
