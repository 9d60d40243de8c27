"""Werkzeug requests as the events AWS sends, and handler results back as responses.

API Gateway HTTP APIs (payload format 2.0) and Lambda Function URLs send the same event shape
and differ only where the source shows: `function_url_event` and `http_api_event` say which.
What each field holds follows AWS's documented sample events (copied, with their addresses, under
tests/unit/samples/aws_events/) and the "Request payload format" table of "Invoking Lambda function
URLs" (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads). Query
parameters arrive URL-decoded once, with repeated keys joined by commas, as on AWS.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.wrappers import Request, Response

from shop.local.template import ACCOUNT_ID

# A Function URL with auth type NONE (the shop's) has no caller to name, and Lambda sends this in
# place of the account id: so in events captured from real NONE URLs. The docs' table ("the AWS
# account ID of the function owner") shows an AWS_IAM URL. An HTTP API route sends its owner's
# account id even without an authorizer, as the shop's routes are.
ANONYMOUS_ACCOUNT = "anonymous"
# The id of the local stand-in for the HTTP API; on AWS it is the first label of the API's
# execute-api host. Local mode serves one API, on the local server's own host.
LOCAL_API_ID = "local"

# Which bodies arrive base64-encoded. AWS's docs give the rule only as "If the content type of the
# request is binary, the body is base64-encoded", isBase64Encoded "TRUE if the body is a binary
# payload" (Function URLs:
#   https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads ;
# the HTTP API page names no rule, and HTTP APIs have no binaryMediaTypes setting to change it:
#   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html ).
# Neither page lists what counts as binary. Measured on AWS (HTTP API, payload 2.0; reported in
# github.com/ministackorg/ministack/pull/766): only `text/*` and the three types below arrive as
# text; everything else is base64, form posts (application/x-www-form-urlencoded) and bodies with no
# content type included. Function URLs base64-encode form posts the same way (seen in production:
# github.com/LeanerCloud/CUDly/pull/1483), so both sources share this rule. It decides by the media
# type alone, parameters such as `; charset=utf-8` aside.
_TEXT_MEDIA_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})


def function_url_event(request: Request, *, raw_path: str, url_id: str) -> dict[str, Any]:
    """The event a Lambda Function URL with auth type NONE sends for `request`.

    `raw_path` is the path under the URL; `url_id` names the URL (locally its path prefix, on AWS
    the first label of `<url-id>.lambda-url.<region>.on.aws`). Lambda fills `routeKey` and `stage`
    with the placeholder `$default` and sends no `pathParameters`, `stageVariables` or, under NONE,
    `authorizer`.
    """
    return _event(request, raw_path=raw_path, route_key="$default", account_id=ANONYMOUS_ACCOUNT,
                  api_id=url_id)


def http_api_event(
    request: Request, *, raw_path: str, route_key: str, path_parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """The event an API Gateway HTTP API route (payload format 2.0, no authorizer) sends."""
    event = _event(request, raw_path=raw_path, route_key=route_key, account_id=ACCOUNT_ID,
                   api_id=LOCAL_API_ID)
    if path_parameters:  # absent, not empty, for a route without parameters
        event["pathParameters"] = path_parameters
    return event


def _event(
    request: Request, *, raw_path: str, route_key: str, account_id: str, api_id: str
) -> dict[str, Any]:
    raw_query = request.query_string.decode("latin-1")
    body, encoded = _body(request)
    # The Host header's name without its port: AWS's domainName is a DNS name (its port, 443, is
    # only in x-forwarded-port), and domainPrefix is that name's first label.
    domain = urlsplit(f"//{request.host}").hostname or request.host
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": _headers(request),
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    cookies = _cookies(request)
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        event["queryStringParameters"] = _joined(parse_qsl(raw_query, keep_blank_values=True))
    if body is not None:
        event["body"] = body
    return event


def _body(request: Request) -> tuple[str | None, bool]:
    """The body as the event carries it, and whether it is base64-encoded; None without a body."""
    data = request.get_data(cache=True)
    if not data:
        return None, False
    if request.mimetype.startswith("text/") or request.mimetype in _TEXT_MEDIA_TYPES:
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            # Text that is not UTF-8 cannot go into a JSON string intact; base64 keeps the bytes
            # exactly, so the handler (not local mode) decides what is wrong with them.
            pass
    return base64.b64encode(data).decode("ascii"), True


def _headers(request: Request) -> dict[str, str]:
    """Lower-cased names, repeats joined by commas, the Cookie header moved to `cookies`, and the
    x-forwarded-* headers AWS adds in front of every function."""
    headers = _joined([(name.lower(), value) for name, value in request.headers.items()
                       if name.lower() != "cookie"])
    source_ip = request.remote_addr or "127.0.0.1"
    # AWS appends the caller's address to any x-forwarded-for the client sent, and sets the rest.
    forwarded_for = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip
    # The port and scheme the local server really answered on (on AWS: 443 and https). A handler
    # that builds a URL back to itself from these must get one that works here, and the local
    # server speaks plain HTTP; claiming https would send the browser to a port with no TLS.
    headers["x-forwarded-port"] = str(request.environ.get("SERVER_PORT") or "80")
    headers["x-forwarded-proto"] = request.scheme
    return headers


def _cookies(request: Request) -> list[str]:
    """Each `name=value` of the Cookie header(s), as sent (not unquoted or decoded)."""
    return [
        cookie.strip()
        for header in request.headers.getlist("Cookie")
        for cookie in header.split(";")
        if cookie.strip()
    ]


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def to_response(result: Any) -> Response:
    """A handler's result as HTTP, with HTTP API's rule: no statusCode means 200 JSON."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(json.dumps(result), status=200, content_type="application/json")
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    response = Response(data, status=int(result["statusCode"]))
    response.headers.clear()
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", cookie)
    return response
