"""The owner's console, served by local mode under `/console/`: orders, pending approvals, one
order's workflow drawn from the state machine Step Functions runs, and the owner's actions.

Pages are rendered on the server (Jinja2, autoescaped). Each has one live region that htmx
polls every second; the server answers 204 when the region has not changed, so htmx swaps only
on a change and a button is never replaced under the owner's pointer. Actions are plain form
POSTs that redirect back (post/redirect/get), so a reload never repeats one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from shop.adapters.stack import ShopResources
from shop.domain.approval import Decision
from shop.domain.errors import LinkRefused, ShopError
from shop.domain.orders import PENDING_PAGE
from shop.error_answers import answer_for
from shop.local.guard import from_another_site
from shop.local.outbox import Outbox
from shop.logic import owner
from shop.logic.clock import parse_iso, utc_now

logger = logging.getLogger(__name__)
PREFIX = "/console"
STATIC = Path(__file__).with_name("static")
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"
# Browser libraries from npm (package.json), served as they were installed.
VENDOR = {
    "htmx.min.js": NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js",
    "dagre.min.js": NODE_MODULES / "@dagrejs" / "dagre" / "dist" / "dagre.min.js",
}
ACTIONS = {"approve": Decision.APPROVE, "reject": Decision.REJECT, "cancel": Decision.CANCEL, "resend": None,
           "deliver": None}
DONE = {
    "approve": "Approved: the order ships now.",
    "reject": "Rejected: the customer is told and the order deleted.",
    "cancel": "Cancelled: the customer is told and the order deleted.",
    "resend": "Sent the owner new links; the earlier ones no longer work.",
    "deliver": "Delivered: the order's workflow has the decision now.",
}
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it, browsers send `Origin: null` on the console's own form posts.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


# Where an action may send the owner back to: a console page, as the console's own forms name one
# (`/console/approvals`, `/console/orders/ID`, a status filter). Nothing else reaches the Location
# header: no other site, no `//`, `..` or `%` (which browsers resolve), no CR/LF (a header broken
# after the order was decided answered "Nothing was changed"), nothing outside ASCII.
_NEXT = re.compile(r"/console(?:/[A-Za-z0-9_-]+)+/?(?:\?[A-Za-z0-9_.=&-]*)?")


# The live regions poll every second; the approvals page's costs grow with what it lists (at 3,000
# waiting orders one open tab polling it every second used a core: issue 18, item 9), so it polls
# a second less often per this many orders, up to the longest interval.
_ORDERS_PER_POLL_SECOND = 100
_LONGEST_POLL_SECONDS = 30


def poll_seconds(listed: int) -> int:
    """How often a live region listing `listed` orders polls: every second for a few, less often
    for many, so that one open tab costs the shop about the same whatever waits."""
    return max(1, min(_LONGEST_POLL_SECONDS, listed // _ORDERS_PER_POLL_SECOND))


def back_to(value: str | None, *, default: str) -> str:
    """The console page an action returns to: `value` if it names one, else `default`."""
    return value if value is not None and _NEXT.fullmatch(value) else default


def age(moment: str | None, now: datetime) -> str:
    """How long ago, to the minute: the live regions change at most once a minute for it."""
    if not moment:
        return ""
    minutes = int((now - parse_iso(moment)).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min ago" if hours < 24 else f"{hours // 24} d ago"


def time_left(seconds: int | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return "under a minute"
    minutes = seconds // 60
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


class Console:
    def __init__(self, resources: ShopResources, outbox: Outbox, render: Callable[..., str]) -> None:
        self.shop = resources
        self.outbox = outbox
        self.render = render
        self._graph: dict[str, Any] | None = None

    # -- routing -------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        parts = [part for part in request.path[len(PREFIX):].split("/") if part]
        try:
            if request.method == "POST":
                if len(parts) == 3 and parts[0] == "orders" and parts[2] in ACTIONS:
                    return self._act(request, parts[1], parts[2])
                return self._message(405, "Not here", "Actions are buttons on an order or on the approvals page.")
            if request.method not in ("GET", "HEAD"):
                return self._message(405, "Not here", "The console only shows pages and takes its own buttons.")
            if not parts:
                return Response(status=303, headers={"Location": f"{PREFIX}/orders"})
            if parts[0] in ("static", "vendor") and len(parts) == 2:
                return self._file(parts[0], parts[1])
            if parts == ["orders"]:
                return self._orders(request)
            if parts == ["approvals"]:
                return self._approvals(request)
            if len(parts) == 2 and parts[0] == "orders":
                return self._order(request, parts[1])
            return self._message(404, "Not found", "There is no such page in the console.")
        except ShopError as error:  # no such order, a bad status filter
            answer = answer_for(error)
            return self._message(answer.status, answer.title, error.message)
        except Exception:
            logger.exception("console request failed")
            return self._message(503, "Please try again", "The console could not reach the shop's AWS "
                                 "services just now. Nothing was changed.")

    # -- pages ---------------------------------------------------------------------------------
    def _orders(self, request: Request) -> Response:
        status = owner.check_status(request.args.get("status"))
        now = utc_now()
        orders = owner.list_orders(orders=self.shop.orders, workflow=self.shop.workflow, status=status, limit=200)
        return self._live(request, "console/orders.html", "console/_orders_live.html",
                          orders=orders, status_filter=status, statuses=owner.STATUSES, now=now)

    def _approvals(self, request: Request) -> Response:
        pending = owner.pending_approvals(orders=self.shop.orders, decisions=self.shop.decisions,
                                          workflow=self.shop.workflow, now=utc_now())
        return self._live(request, "console/approvals.html", "console/_approvals_live.html", pending=pending,
                          page_size=PENDING_PAGE, poll_seconds=poll_seconds(len(pending)))

    def _order(self, request: Request, order_id: str, *, problem: str = "", status: int = 200) -> Response:
        detail = owner.order_detail(order_id, orders=self.shop.orders, decisions=self.shop.decisions,
                                    workflow=self.shop.workflow)
        messages = [entry for entry in reversed(self.outbox.entries())
                    if order_id in entry["subject"] or order_id in entry["body"]]
        # After a refused action this renders at the action's URL; the live region polls the page's.
        return self._live(request, "console/order.html", "console/_order_live.html", status=status,
                          path=f"{PREFIX}/orders/{order_id}", detail=detail, messages=messages,
                          graph=self.graph(), problem=problem)

    def graph(self) -> dict[str, Any]:
        if self._graph is None:  # the definition does not change while the shop runs
            self._graph = owner.workflow_picture(workflow=self.shop.workflow)
        return self._graph

    # -- actions -------------------------------------------------------------------------------
    def _act(self, request: Request, order_id: str, action: str) -> Response:
        if from_another_site(request.headers, request.host):
            return self._message(403, "Refused", "Console actions are only taken from the console's own pages.")
        # Where to go back to is settled before acting: once the order is decided, nothing may fail.
        back = back_to(request.form.get("next"), default=f"{PREFIX}/orders/{quote(order_id, safe='')}")
        try:
            shop = self.shop
            if action == "resend":
                owner.resend(order_id, approval_url=shop.approval_url, topic_arn=shop.topic_arn,
                             signing_key=shop.signing_key, orders=shop.orders, decisions=shop.decisions,
                             workflow=shop.workflow, publish=shop.publish, now=utc_now())
            elif action == "deliver":
                owner.deliver(order_id, orders=shop.orders, decisions=shop.decisions, workflow=shop.workflow,
                              now=utc_now())
            elif (decision := ACTIONS[action]) is not None:
                owner.decide(order_id, decision, orders=shop.orders, decisions=shop.decisions,
                             workflow=shop.workflow, now=utc_now())
        except LinkRefused as error:  # already decided, not awaiting approval, too late, not delivered
            answer = answer_for(error)
            response = self._order(request, order_id, problem=error.message, status=answer.status)
            if answer.retry_after:  # recorded, not yet delivered: come back soon
                response.headers["Retry-After"] = str(answer.retry_after)
            return response
        separator = "&" if "?" in back else "?"
        return Response(status=303, headers={"Location": back + separator + urlencode({"done": action})})

    # -- responses -----------------------------------------------------------------------------
    def _live(self, request: Request, page: str, region: str, *, status: int = 200, path: str | None = None,
              poll_seconds: int = 1, **context: Any) -> Response:
        """A page, or only its live region when htmx polls (`?live=VERSION`): 204 if unchanged."""
        context.setdefault("problem", "")
        context["done"] = DONE.get(request.args.get("done", ""), "")  # after an action's redirect
        inner = self.render(region, **context)
        version = hashlib.sha256(inner.encode()).hexdigest()[:16]
        poll = request.args.get("live")
        if poll is not None:
            if poll == version:
                return Response(status=204, headers=_SECURITY_HEADERS)
            return self._html(self._region(request, path, inner, version, poll_seconds), status)
        return self._html(self.render(page, live=self._region(request, path, inner, version, poll_seconds),
                                      **context), status)

    @staticmethod
    def _region(request: Request, path: str | None, inner: str, version: str, poll_seconds: int = 1) -> str:
        from markupsafe import Markup, escape

        query = {key: value for key, value in request.args.items() if key not in ("live", "done")}
        url = f"{path or request.path}?{urlencode({**query, 'live': version})}"
        return Markup(f'<div id="live" data-version="{version}" hx-get="{escape(url)}" hx-trigger="every {poll_seconds}s" '
                      f'hx-swap="outerHTML">{inner}</div>')

    def _message(self, status: int, title: str, message: str) -> Response:
        return self._html(self.render("console/message.html", title=title, message=message), status)

    @staticmethod
    def _html(body: str, status: int) -> Response:
        return Response(body, status=status, content_type="text/html; charset=utf-8", headers=_SECURITY_HEADERS)

    def _file(self, kind: str, name: str) -> Response:
        files = VENDOR if kind == "vendor" else {path.name: path for path in STATIC.iterdir()}
        path = files.get(name)  # only files we name: no path from the URL reaches the disk
        if path is None or not path.is_file():
            hint = " (run `make run`, which installs the console's npm packages)" if kind == "vendor" else ""
            return Response(f"not found{hint}", status=404, content_type="text/plain")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(path.read_bytes(), content_type=content_type,
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


def graph_json(graph: dict[str, Any]) -> str:
    """JSON safe inside a <script type="application/json"> element."""
    return json.dumps(graph).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
