"""Who local mode answers on its two ports (the shop's and the AWS endpoint's).

Both listen on 127.0.0.1 only and ask for no credentials (the AWS endpoint takes any key as the
administrator's, as `cdk deploy` would be). What else runs on the machine can reach them, and so
can every web page the developer visits: a browser sends that page's requests to 127.0.0.1 too.
Without CORS (local mode answers none) the page cannot read what comes back, but it can still
send a form post, and with DNS rebinding (its own name re-pointed at 127.0.0.1 after the page
loaded) its requests become same-origin to the browser, answers included. Two checks close that:

- **Host.** A rebound request still names the page's host. Only `127.0.0.1:PORT`,
  `localhost:PORT` and `[::1]:PORT` are answered; any other gets 421 Misdirected Request, the
  status for "this server does not serve that name" (RFC 9110, 15.5.20): nothing about the request
  is refused but where it was sent, and a proxy or a typo shows as exactly that.
- **Origin.** A browser names the page behind every cross-origin request but a plain GET, and
  says `Sec-Fetch-Site` on every request, a plain GET's included. A request from another origin
  (another site, another port, `null`) is refused with 403 on every surface only local mode has,
  GETs included: no tool but a browser sends `Sec-Fetch-Site`, and an `<img>` is a GET. The order
  API and the Function URL are public on AWS, posts from anywhere included, and stay so here.
- **The AWS endpoint serves the AWS APIs only, to signed requests.** moto's own `/moto-api/` pages
  (its recorder, which writes every later request, tokens included, to a file in the checkout; its
  reset; its dashboard) are not AWS's and nothing of local mode's uses them: 404. And every AWS
  SDK and the AWS CLI sign each request with an `Authorization` header, which a browser cannot
  send to another origin without a preflight, itself refused: a request without one is a
  browser's (or a browser older than `Sec-Fetch-Site`), and gets 403.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(port: int) -> frozenset[str]:
    """The Host values a request to this port may carry, lower-cased."""
    hosts = {f"{name}:{port}" for name in LOOPBACK_NAMES}
    if port == 80:  # browsers leave the scheme's default port out of Host
        hosts.update(LOOPBACK_NAMES)
    return frozenset(hosts)


def host_allowed(host: str | None, port: int | None) -> bool:
    """Whether a request naming `host` was meant for this server. No Host at all (HTTP/1.0 tools)
    is allowed: a browser always sends one, and a rebound request carries the attacker's."""
    if host is None:
        return True
    return port is not None and host.strip().lower() in allowed_hosts(port)


def same_origin(origin: str | None, host: str) -> bool:
    """An `Origin` header that is this server's own (or none: not a browser's cross-origin request).
    Scheme and host:port both count: local mode speaks plain http only."""
    return origin is None or origin.strip().lower() == f"http://{host.strip().lower()}"


def from_another_site(headers: Headers | Mapping[str, str], host: str) -> bool:
    """Whether a browser sent this request for a page of another origin. A browser that knows
    Sec-Fetch-Site sends it on every request, GETs included (an `<img>`, a link followed from
    another site): `cross-site` or `same-site` (another port of 127.0.0.1) is another page's, for
    every method. `none` is the developer's own: typed into the address bar, a bookmark, a link
    opened from the terminal."""
    if not same_origin(headers.get("Origin"), host):
        return True
    fetch_site = headers.get("Sec-Fetch-Site", "same-origin").strip().lower()
    return fetch_site not in ("same-origin", "none")


def signed_by_an_sdk(headers: Headers | Mapping[str, str]) -> bool:
    """Whether the request carries an AWS signature in its `Authorization` header (SigV4's
    `AWS4-HMAC-SHA256 Credential=...`, SigV4a's `AWS4-ECDSA-P256-SHA256`, S3's old `AWS key:sig`).
    The value is not checked (any key is the administrator's): what counts is that a page of another
    origin cannot send the header at all. A presigned URL's query is no such proof: a page can
    forge any query."""
    scheme, _, rest = headers.get("Authorization", "").strip().partition(" ")
    return scheme.upper().startswith("AWS") and bool(rest.strip())


def moto_own_path(path: str) -> bool:
    """moto's own pages on its server (`/moto-api/...`: recorder, reset, state, dashboard, and its
    `/favicon.ico`), which AWS does not have."""
    return path == "/moto-api" or path.startswith("/moto-api/") or path == "/favicon.ico"


def _refusal(status: int, message: str) -> Response:
    # No Access-Control-* header: a page of another site reads nothing of it either.
    return Response(json.dumps({"message": message}), status=status, content_type="application/json",
                    headers={"Cache-Control": "no-store"})


class Guard:
    """WSGI middleware in front of one port: the Host check on every request, the Origin check
    on the requests `local_only` names (all of them unless told otherwise). `port` is set once the
    server is bound; until then every request is misdirected."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, port: int | None = None,
                 local_only: Callable[[Request], bool] = lambda request: True,
                 aws_apis_only: bool = False) -> None:
        self.app = app
        self.port = port
        self.local_only = local_only
        self.aws_apis_only = aws_apis_only  # the AWS endpoint's port: signed AWS API calls only

    def __call__(self, environ, start_response):
        request = Request(environ)
        refusal = self.refusal(request)
        if refusal is not None:
            return refusal(environ, start_response)
        return self.app(environ, start_response)

    def refusal(self, request: Request) -> Response | None:
        host = request.environ.get("HTTP_HOST")
        if not host_allowed(host, self.port):
            return _refusal(421, f"This server answers to {', '.join(sorted(allowed_hosts(self.port or 0)))} only.")
        own_host = host or f"{request.environ.get('SERVER_NAME')}:{self.port}"
        if self.local_only(request) and from_another_site(request.headers, own_host):
            return _refusal(403, "Refused: local mode does not answer pages of other sites.")
        if self.aws_apis_only:
            if moto_own_path(request.path):
                return _refusal(404, "This port serves the AWS APIs only; moto's own /moto-api/ pages are off.")
            if not signed_by_an_sdk(request.headers):
                return _refusal(403, "Refused: the AWS endpoint answers signed requests only, as AWS does "
                                     "(the AWS CLI and SDKs sign every request; a web page cannot).")
        return None
