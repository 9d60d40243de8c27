"""The local front door on 127.0.0.1: the order API's routes and the Function URLs, taken from
the deployed template and served as AWS events to the same handlers, plus the outbox."""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache

from markupsafe import Markup, escape
from werkzeug.wrappers import Request, Response

from shop.adapters.stack import LOCAL_STACK_PATH
from shop.domain.approval import past_tense
from shop.local.console.app import PREFIX as CONSOLE
from shop.local.console.app import Console, age, graph_json, time_left
from shop.local.deployer import LocalStack
from shop.local.events import http_event, to_response
from shop.local.lambda_hook import invoke_handler
from shop.local.outbox import Outbox
from shop.rendering import environment

logger = logging.getLogger(__name__)
_URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text: str) -> Markup:
    """Escape plain text, then make its URLs clickable (the owner's approve/reject links)."""
    escaped = str(escape(text))
    return Markup(_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


class HttpAdapter:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.stack: LocalStack | None = None  # set once the template is deployed
        self.aws_endpoint = ""
        self.curl = ""
        self.console = None  # the owner's console, set with the stack

    def serve_console(self, resources) -> None:
        """Mount the owner's console for the deployed stack's resources."""
        self.console = Console(resources, self.outbox, render=render_page)

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/favicon.ico":
            return Response(status=204)
        if path == "/outbox.json":
            return Response(json.dumps(self.outbox.entries(), indent=2), content_type="application/json")
        if path == "/outbox":
            return self._page("local/outbox.html", entries=list(reversed(self.outbox.entries())),
                              watch=request.args.get("watch") == "1")
        if self.stack is None:
            return Response("starting", status=503)
        if path == "/":
            return self._page("local/index.html", stack=self.stack, aws_endpoint=self.aws_endpoint, curl=self.curl)
        if self.console and (path == CONSOLE or path.startswith(CONSOLE + "/")):
            return self.console.dispatch(request)
        if path == LOCAL_STACK_PATH:  # how the `shop` CLI finds this shop, as it would a stack on AWS
            described = {"outputs": self.stack.outputs, "awsEndpoint": self.aws_endpoint}
            return Response(json.dumps(described, indent=2), content_type="application/json")
        for url in self.stack.function_urls:
            prefix = f"/{url.prefix}"
            if path == prefix or path.startswith(prefix + "/"):
                event = http_event(request, raw_path=path[len(prefix):] or "/")
                return self._invoke(url.handler, url.function_name, event)
        for route in self.stack.routes:
            parameters = route.match(request.method, path)
            if parameters is not None:
                event = http_event(
                    request, raw_path=path, route_key=f"{route.method} {route.path}", path_parameters=parameters
                )
                return self._invoke(route.handler, route.function_name, event)
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")

    @staticmethod
    def _invoke(handler: str, function_name: str, event: dict) -> Response:
        try:
            return to_response(invoke_handler(handler, event, function_name=function_name))
        except Exception:
            # What API Gateway answers when the function itself fails.
            logger.exception("handler %s failed", handler)
            return Response(json.dumps({"message": "Internal Server Error"}), status=500,
                            content_type="application/json")

    @staticmethod
    def _page(template: str, **context) -> Response:
        return Response(render_page(template, **context), content_type="text/html; charset=utf-8")


@lru_cache(maxsize=1)
def _pages():
    """The shop's template environment plus the filters of the pages only local mode serves."""
    env = environment().overlay()
    env.filters.update(linkify=linkify, age=age, time_left=time_left, graph_json=graph_json, past_tense=past_tense)
    return env


def render_page(template: str, **context) -> str:
    return _pages().get_template(template).render(**context)
