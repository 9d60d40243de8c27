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
  says `Sec-Fetch-Site` too. A request from another origin (another site, another port, `null`)
  is refused with 403 on every surface only local mode has. The order API and the Function URL
  are public on AWS, posts from anywhere included, and stay so here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# Methods a browser sends across sites without naming the page (no Origin header).
_SAFE_METHODS = frozenset({"GET", "HEAD"})


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


def from_another_site(method: str, headers: Headers | Mapping[str, str], host: str) -> bool:
    """Whether a browser sent this request for a page of another origin. Where a browser knows
    Sec-Fetch-Site it sends it on every request; a top-level GET from a link elsewhere is harmless
    (GET changes nothing) and a link must keep working, so it counts for unsafe methods only."""
    if not same_origin(headers.get("Origin"), host):
        return True
    fetch_site = headers.get("Sec-Fetch-Site", "same-origin").strip().lower()
    return method.upper() not in _SAFE_METHODS and fetch_site not in ("same-origin", "none")


def _refusal(status: int, message: str) -> Response:
    # No Access-Control-* header: a page of another site reads nothing of it either.
    return Response(json.dumps({"message": message}), status=status, content_type="application/json",
                    headers={"Cache-Control": "no-store"})


class Guard:
    """WSGI middleware in front of one port: the Host check on every request, the Origin check
    on the requests `local_only` names (all of them unless told otherwise). `port` is set once the
    server is bound; until then every request is misdirected."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, port: int | None = None,
                 local_only: Callable[[Request], bool] = lambda request: True) -> None:
        self.app = app
        self.port = port
        self.local_only = local_only

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
        if self.local_only(request) and from_another_site(request.method, request.headers, own_host):
            return _refusal(403, "Refused: local mode does not answer pages of other sites.")
        return None
