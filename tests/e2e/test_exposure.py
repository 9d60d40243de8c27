"""What a web page the developer visits can do to local mode's two ports (README, "Security").

A browser runs that page on the developer's machine, so its requests reach 127.0.0.1 too. Each
test sends what such a page's browser would send: another site's Origin, or (DNS rebinding) the
page's own host name in Host. Pages of the shop itself, the AWS CLI and the `shop` command are
answered as before.
"""

from __future__ import annotations

import http.client
import http.server
import json
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from shop.adapters.stack import LOCAL_STACK_PATH
from shop.local.http_adapter import FUNCTION_URL_MAX_BODY, HTTP_API_MAX_BODY, LOCAL_MAX_BODY
from tests.e2e.test_console import browser  # noqa: F401 (the fixture: Debian's Chromium)
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


@pytest.fixture
def recorder(tmp_path):
    """moto's recorder, writing to a file of the test's own: if a request switches it on, the
    checkout stays clean, and the recorder is off again after the test."""
    from moto.moto_api import recorder

    location, recorder._location = recorder._location, str(tmp_path / "moto_recording")
    try:
        yield recorder
    finally:
        recorder._user_enabled = False
        recorder._location = location


@pytest.fixture
def attack_page():
    """Serve `html` from http://localhost:PORT/, another site than 127.0.0.1 to the browser, and
    loopback, so that no local-network rule of the browser's holds its requests back."""
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        pages["/"] = html.encode()
        return f"http://localhost:{server.server_port}/"

    try:
        yield serve
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_page_of_another_site_cannot_switch_on_motos_recorder(shop, recorder, attack_page, browser):  # noqa: F811
    """The issue's attack: an <img> GET, which Chromium sends with Sec-Fetch-Site: cross-site and
    no Origin. The recorder would append every later AWS request, task tokens included, to a file."""
    aws = shop.shop.aws_endpoint
    url = attack_page(f"""<!doctype html><body><script>
      window.settled = 0;
      for (const path of ["/moto-api/recorder/start-recording", "/moto-api/data.json"]) {{
        const img = new Image();
        img.onload = img.onerror = () => {{ window.settled += 1; }};
        img.src = "{aws}" + path;
      }}
    </script></body>""")
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.settled === 2", timeout=20_000)  # both requests answered
    finally:
        context.close()

    awaiting(shop)  # AWS traffic a switched-on recorder would write down
    assert not recorder._user_enabled
    assert not Path(recorder._location).exists()


@pytest.mark.parametrize("path", ["/moto-api/recorder/start-recording", "/moto-api/recorder/replay-recording",
                                  "/moto-api/data.json", "/moto-api/reset"])
def test_the_aws_port_serves_no_moto_api_to_anyone(shop, recorder, path):
    """Not to curl either, signed or not: nothing of local mode needs moto's own pages, and they
    record, replay and wipe what the shop holds."""
    signed = {"Authorization": "AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/s3/aws4_request, "
                               "SignedHeaders=host, Signature=00"}
    for headers in ({}, signed):
        for method in (requests.get, requests.post):
            response = method(f"{shop.shop.aws_endpoint}{path}", headers=headers, timeout=10)
            assert response.status_code == 404, (method, headers, response.text)
    assert not recorder._user_enabled
    assert shop.shop.stack.outputs["OrdersTableName"] in aws_client(shop, "dynamodb").list_tables()["TableNames"]


def test_the_aws_port_refuses_what_no_sdk_sends(shop):
    """SDKs sign every request and never say Sec-Fetch-Site; a browser cannot send the one and
    always sends the other (or, if older, sends neither: the unsigned GET an <img> makes)."""
    topic = shop.shop.stack.outputs["OwnerTopicArn"]
    unsigned = requests.get(f"{shop.shop.aws_endpoint}/", timeout=10,
                            params={"Action": "Publish", "TopicArn": topic, "Message": "hello"})
    assert unsigned.status_code == 403

    for site in ("cross-site", "same-site"):
        client = aws_client(shop, "dynamodb")
        client.meta.events.register("before-sign", lambda request, site=site, **_: request.headers.__setitem__(
            "Sec-Fetch-Site", site))
        with pytest.raises(ClientError) as refused:
            client.list_tables()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("path", ["/outbox.json", "/outbox", LOCAL_STACK_PATH, "/console/approvals", "/"])
@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_local_pages_refuse_a_get_of_another_site(shop, path, site):
    """An <img> or a link of another page is a GET with no Origin: refused on local mode's own
    pages (a GET changes nothing, and these are not for other sites to load either)."""
    response = requests.get(shop.url + path, headers={"Sec-Fetch-Site": site}, timeout=10)

    assert response.status_code == 403
    assert requests.get(shop.url + path, headers={"Sec-Fetch-Site": "none"}, timeout=10).status_code == 200


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


def _post_chunked(shop, path: str, body: bytes, content_type: str = "application/json") -> http.client.HTTPResponse:
    """`curl -H 'Transfer-Encoding: chunked' --data-binary @file`: the body in a few chunks, no length."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(shop.url), timeout=10)
    connection.putrequest("POST", path)
    connection.putheader("Content-Type", content_type)
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    third = max(1, len(body) // 3)
    for start in range(0, len(body), third):
        piece = body[start:start + third]
        connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_a_chunked_order_is_placed(shop):
    """The re-buffered body kept Transfer-Encoding, so werkzeug read none of it: 400 "a JSON object
    is required"."""
    response = _post_chunked(shop, "/orders", json.dumps(order_body()).encode())

    assert response.status == 201


@pytest.mark.parametrize("which", ["api", "url"])
def test_a_chunked_body_reaches_the_function_whole(shop, monkeypatch, which):
    path, _ = _front(shop, which)
    body = json.dumps({"pad": "x" * 70_000}).encode()  # past the local pages' limit, within both fronts'
    events: list[dict] = []
    invoke = shop.shop.adapter._invoke
    monkeypatch.setattr(shop.shop.adapter, "_invoke",
                        lambda name, event, **how: events.append(event) or invoke(name, event, **how))

    response = _post_chunked(shop, path, body)

    assert response.status != 413
    [event] = events
    assert event["body"].encode() == body and not event.get("isBase64Encoded")


def test_a_chunked_console_form_is_read(shop):
    """Where the console goes back to is the form's `next`: read only if the body arrived."""
    order_id = awaiting(shop)

    response = _post_chunked(shop, f"/console/orders/{order_id}/approve", b"next=%2Fconsole%2Fapprovals",
                             content_type="application/x-www-form-urlencoded")

    assert response.status == 303 and response.getheader("Location") == "/console/approvals?done=approve"
    shop.wait_for_status(order_id, "SHIPPED")


@pytest.mark.parametrize("which", ["api", "url", "console"])
def test_a_chunked_body_past_the_limit_is_refused_on_every_front(shop, which):
    path, limit = _front(shop, which)

    assert _post_chunked(shop, path, b"a" * (limit + 1)).status == 413


@pytest.mark.parametrize("chunked", [False, True])
def test_a_client_gone_mid_body_is_answered_quietly(shop, caplog, chunked):
    """Half a body, then the connection closes: werkzeug logged "Error on request" with a traceback."""
    connection = http.client.HTTPConnection("127.0.0.1", port_of(shop.url), timeout=10)
    connection.putrequest("POST", "/orders")
    connection.putheader("Content-Type", "application/json")
    connection.putheader(*(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", "1000")))
    connection.endheaders()
    connection.send(b"64\r\n" + b"{" * 10 if chunked else b"{" * 10)
    connection.sock.shutdown(socket.SHUT_WR)  # the client is done sending; the body is not
    response = connection.getresponse()
    assert response.status == 400
    connection.close()

    assert not [record for record in caplog.records if record.exc_info or "Error on request" in record.getMessage()]
