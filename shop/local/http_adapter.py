"""The local front door on 127.0.0.1: the order API's routes and the Function URLs, taken from
the deployed template and served as AWS events to the same handlers, plus the outbox."""

from __future__ import annotations

import contextlib
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
from shop.local.events import function_url_event, http_api_event, to_response
from shop.local.functions import Functions
from shop.local.iam.enforcer import AccessDenied, Enforcer
from shop.local.outbox import Outbox
from shop.local.template import ACCOUNT_ID, REGION
from shop.rendering import environment

logger = logging.getLogger(__name__)
# A URL that is a whole line. The owner's notification gives each of its links a line of its own,
# and customer text never starts a line there (one-line fields, quoted after a label), so a URL a
# customer typed into their name stays text instead of becoming a link next to the real ones.
_OWN_LINE_URL = re.compile(r"^https?://[^\s<>\"']+$", flags=re.M)


def linkify(text: str) -> Markup:
    """Escape plain text, then make clickable the URLs that stand on a line of their own (the
    owner's approve and reject links); a URL inside a line is left as text."""
    escaped = str(escape(text))
    return Markup(_OWN_LINE_URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


class HttpAdapter:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.stack: LocalStack | None = None  # set once the template is deployed
        self.aws_endpoint = ""
        self.curl = ""
        self.console = None  # the owner's console, set with the stack
        self.functions: Functions | None = None
        self.enforcer: Enforcer | None = None
        self.as_owner = contextlib.nullcontext  # the console's AWS calls are the owner's
        self.owner_credentials: dict[str, str] = {}  # handed to the `shop` CLI with the outputs

    def serve_console(self, resources, as_owner) -> None:
        """Mount the owner's console for the deployed stack's resources; it runs `as_owner()`."""
        self.console = Console(resources, self.outbox, render=render_page)
        self.as_owner = as_owner

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
            with self.as_owner():
                return self.console.dispatch(request)
        if path == LOCAL_STACK_PATH:  # how the `shop` CLI finds this shop, as it would a stack on AWS
            described = {"outputs": self.stack.outputs, "awsEndpoint": self.aws_endpoint,
                         "ownerCredentials": self.owner_credentials}
            return Response(json.dumps(described, indent=2), content_type="application/json")
        for url in self.stack.function_urls:
            prefix = f"/{url.prefix}"
            if path == prefix or path.startswith(prefix + "/"):
                event = function_url_event(request, raw_path=path[len(prefix):] or "/", url_id=url.prefix)
                return self._invoke_through_url(url, event)
        for route in self.stack.routes:
            parameters = route.match(request.method, path)
            if parameters is not None:
                event = http_api_event(
                    request, raw_path=path, route_key=f"{route.method} {route.path}", path_parameters=parameters
                )
                return self._invoke_through_api(route, event)
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")

    def _invoke_through_url(self, url, event: dict) -> Response:
        """A Function URL invokes as nobody: the function's policy must let anyone in, by URL."""
        function = self.functions[url.function_name]
        try:
            self.enforcer.authorize("*", "lambda:InvokeFunctionUrl", function.arn,
                                    {"lambda:FunctionUrlAuthType": url.auth_type})
            self.enforcer.authorize("*", "lambda:InvokeFunction", function.arn,
                                    {"lambda:FunctionUrlAuthType": url.auth_type,
                                     "lambda:InvokedViaFunctionUrl": "true"})
        except AccessDenied:
            return Response(json.dumps({"Message": "Forbidden"}), status=403, content_type="application/json")
        return self._invoke(url.function_name, event)

    def _invoke_through_api(self, route, event: dict) -> Response:
        """API Gateway invokes as its service, for this API's route (the permission's SourceArn)."""
        function = self.functions[route.function_name]
        source_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{self.stack.api_id}/$default/{route.method}{route.path}"
        try:
            self.enforcer.authorize("apigateway.amazonaws.com", "lambda:InvokeFunction", function.arn,
                                    {"aws:SourceArn": source_arn, "aws:SourceAccount": ACCOUNT_ID})
        except AccessDenied:
            return _internal_server_error()  # what API Gateway answers when it may not invoke
        return self._invoke(route.function_name, event)

    def _invoke(self, function_name: str, event: dict) -> Response:
        try:
            return to_response(self.functions.invoke(function_name, event))
        except Exception:
            # What API Gateway and Function URLs answer when the function itself fails.
            logger.exception("function %s failed", function_name)
            return _internal_server_error()

    @staticmethod
    def _page(template: str, **context) -> Response:
        return Response(render_page(template, **context), content_type="text/html; charset=utf-8")


def _internal_server_error() -> Response:
    return Response(json.dumps({"message": "Internal Server Error"}), status=500, content_type="application/json")


@lru_cache(maxsize=1)
def _pages():
    """The shop's template environment plus the filters of the pages only local mode serves."""
    env = environment().overlay()
    env.filters.update(linkify=linkify, age=age, time_left=time_left, graph_json=graph_json, past_tense=past_tense)
    return env


def render_page(template: str, **context) -> str:
    return _pages().get_template(template).render(**context)
