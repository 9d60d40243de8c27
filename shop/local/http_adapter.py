"""The local front door on 127.0.0.1: the order API's routes and the Function URLs, taken from
the deployed template and served as AWS events to the same handlers, plus the outbox."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import get_content_length, get_input_stream

from shop.adapters.stack import LOCAL_STACK_PATH
from shop.domain.approval import past_tense
from shop.local.console.app import PREFIX as CONSOLE
from shop.local.console.app import Console, age, graph_json, time_left
from shop.local.deployer import FunctionUrl, LocalStack, Route
from shop.local.events import function_url_event, http_api_event, to_response
from shop.local.functions import Functions, FunctionTimedOut
from shop.local.iam.enforcer import AccessDenied, Enforcer
from shop.local.outbox import Outbox
from shop.local.patches.faults import Faults
from shop.local.template import ACCOUNT_ID, REGION
from shop.rendering import environment

logger = logging.getLogger(__name__)
# The largest body each front takes, refused with 413 before the function runs and before a byte
# past it is read (a 200 MB post used to be read whole, twice over, to be refused by the handler).
HTTP_API_MAX_BODY = 10 * 1024 * 1024  # the HTTP API quota "Payload size" (10 MB, not adjustable)
FUNCTION_URL_MAX_BODY = 6 * 1024 * 1024  # Lambda's synchronous invocation payload (6 MB): no other front
LOCAL_MAX_BODY = 64 * 1024  # local mode's own pages: the console's forms carry one short field
# Where faults are armed while the shop runs (shop/local/patches/faults.py; README, "FAULTS").
LOCAL_FAULTS_PATH = "/_local/faults"
_LOCAL_PAGES = frozenset({"/", "/favicon.ico", "/outbox", "/outbox.json", LOCAL_STACK_PATH, LOCAL_FAULTS_PATH})
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
        self.hints: dict[str, Any] = {}  # the commands the start page prints (LocalShop.hints)
        self.console: Console | None = None  # the owner's console, set with the stack
        self.functions: Functions | None = None
        self.enforcer: Enforcer | None = None
        self.faults: Faults | None = None  # the running shop's fault schedule
        self.as_owner = contextlib.nullcontext  # the console's AWS calls are the owner's
        self.owner_credentials: dict[str, str] = {}  # handed to the `shop` CLI with the outputs

    def serve_console(self, resources, as_owner) -> None:
        """Mount the owner's console for the deployed stack's resources; it runs `as_owner()`."""
        self.console = Console(resources, self.outbox, render=render_page)
        self.as_owner = as_owner

    def __call__(self, environ, start_response):
        front = self.aws_front(Request(environ))
        refusal = _read_body(environ, _max_body(front[0] if front else None))
        if refusal is not None:
            return refusal(environ, start_response)
        request = Request(environ)
        response = self.dispatch(request) if front is None else self._through(request, *front)
        return response(environ, start_response)

    def aws_front(self, request: Request) -> tuple[FunctionUrl | Route, dict[str, str] | None] | None:
        """The Function URL or API route (with its path parameters) a request is for, as AWS would
        route it; None for the pages only local mode serves."""
        path = request.path
        if self.stack is None or path in _LOCAL_PAGES or path == CONSOLE or path.startswith(CONSOLE + "/"):
            return None
        for url in self.stack.function_urls:
            prefix = f"/{url.prefix}"
            if path == prefix or path.startswith(prefix + "/"):
                return url, None
        for route in self.stack.routes:
            parameters = route.match(request.method, path)
            if parameters is not None:
                return route, parameters
        return None

    def local_only(self, request: Request) -> bool:
        """What AWS does not serve (the console, the outbox, the stack's description): the guard
        refuses other sites' pages here (shop/local/guard.py)."""
        return self.aws_front(request) is None

    def dispatch(self, request: Request) -> Response:
        """The pages only local mode serves."""
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
        if path == LOCAL_FAULTS_PATH and self.faults is not None:
            return self._faults_page(request, self.faults)
        if path == "/":
            return self._page("local/index.html", stack=self.stack, aws_endpoint=self.aws_endpoint, hints=self.hints)
        if self.console and (path == CONSOLE or path.startswith(CONSOLE + "/")):
            with self.as_owner():
                return self.console.dispatch(request)
        if path == LOCAL_STACK_PATH:  # how the `shop` CLI finds this shop, as it would a stack on AWS
            described = {"outputs": self.stack.outputs, "awsEndpoint": self.aws_endpoint,
                         "ownerCredentials": self.owner_credentials}
            return Response(json.dumps(described, indent=2), content_type="application/json")
        return Response(json.dumps({"message": "Not Found"}), status=404, content_type="application/json")

    @staticmethod
    def _faults_page(request: Request, faults: Faults) -> Response:
        """GET lists the pending faults; POST arms those of its JSON body, in `FAULTS` syntax
        (`{"dynamodb.update_item": "12"}`), all of them or, if one is bad, none; both answer the
        faults now pending."""
        if request.method == "POST":
            try:
                schedule = json.loads(request.get_data(as_text=True))
                if not isinstance(schedule, dict):
                    raise ValueError('the body is a JSON object, e.g. {"dynamodb.update_item": "12"}')
                faults.arm_all(Faults.parse_mapping(schedule))
            except ValueError as error:  # json.JSONDecodeError included
                message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
                return _json({"message": f"Nothing was armed: {message}"}, status=400)
        elif request.method not in ("GET", "HEAD"):
            return Response(json.dumps({"message": "Method Not Allowed"}), status=405,
                            content_type="application/json", headers={"Allow": "GET, HEAD, POST"})
        return _json(faults.pending())

    def _through(self, request: Request, front: FunctionUrl | Route, parameters: dict[str, str] | None) -> Response:
        if isinstance(front, FunctionUrl):
            prefix = f"/{front.prefix}"
            event = function_url_event(request, raw_path=request.path[len(prefix):] or "/", url_id=front.prefix)
            return self._invoke_through_url(front, event)
        event = http_api_event(request, raw_path=request.path, route_key=f"{front.method} {front.path}",
                               path_parameters=parameters)
        return self._invoke_through_api(front, event)

    def _deployed(self) -> tuple[LocalStack, Functions, Enforcer]:
        """The deployed stack's parts, all set together: a request reaches a function only after."""
        if self.stack is None or self.functions is None or self.enforcer is None:
            raise RuntimeError("no stack is deployed yet")
        return self.stack, self.functions, self.enforcer

    def _invoke_through_url(self, url, event: dict) -> Response:
        """A Function URL invokes as nobody: the function's policy must let anyone in, by URL."""
        _, functions, enforcer = self._deployed()
        function = functions[url.function_name]
        try:
            enforcer.authorize("*", "lambda:InvokeFunctionUrl", function.arn,
                               {"lambda:FunctionUrlAuthType": url.auth_type})
            enforcer.authorize("*", "lambda:InvokeFunction", function.arn,
                               {"lambda:FunctionUrlAuthType": url.auth_type,
                                "lambda:InvokedViaFunctionUrl": "true"})
        except AccessDenied:
            return Response(json.dumps({"Message": "Forbidden"}), status=403, content_type="application/json")
        return self._invoke(url.function_name, event, by_url=True)

    def _invoke_through_api(self, route, event: dict) -> Response:
        """API Gateway invokes as its service, for this API's route (the permission's SourceArn)."""
        stack, functions, enforcer = self._deployed()
        function = functions[route.function_name]
        source_arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{stack.api_id}/$default/{route.method}{route.path}"
        try:
            enforcer.authorize("apigateway.amazonaws.com", "lambda:InvokeFunction", function.arn,
                               {"aws:SourceArn": source_arn, "aws:SourceAccount": ACCOUNT_ID})
        except AccessDenied:
            return _internal_server_error()  # what API Gateway answers when it may not invoke
        return self._invoke(route.function_name, event)

    def _invoke(self, function_name: str, event: dict, *, by_url: bool = False) -> Response:
        try:
            return to_response(self._deployed()[1].invoke(function_name, event))
        except FunctionTimedOut as error:
            # A Function URL answers 502 for a function that timed out; API Gateway, 500 as for any
            # function error.
            logger.warning("function %s timed out: %s", function_name, error)
            return _bad_gateway() if by_url else _internal_server_error()
        except Exception:
            # What API Gateway and Function URLs answer when the function itself fails.
            logger.exception("function %s failed", function_name)
            return _internal_server_error()

    @staticmethod
    def _page(template: str, **context) -> Response:
        return Response(render_page(template, **context), content_type="text/html; charset=utf-8")


def _read_body(environ, limit: int) -> Response | None:
    """Read the request's body, if it is at most `limit` bytes, and leave it in `environ` as a body
    of known length; else the answer: 413 (having read no further than one byte past the limit) if
    it is longer, 400 if it ended before it was whole (the client went away mid-body, or sent
    broken chunks), without the traceback werkzeug would log for it.
    werkzeug's own `max_content_length` does not do for a chunked body: its reader stops at the
    limit without a word, and the handler would get the body cut short."""
    length = get_content_length(environ)
    if length is not None and length > limit:
        return _too_large()  # refused before a byte is read
    stream = get_input_stream(environ)  # chunked: the server's reader; neither length nor chunks: empty
    body = bytearray()
    try:
        while len(body) <= limit:
            piece = stream.read(limit + 1 - len(body))
            if not piece:
                break
            body += piece
    except (ClientDisconnected, OSError):  # a declared length not reached; chunks cut off or malformed
        return _message(400, "The request's body ended before it was whole.")
    if len(body) > limit:
        return _too_large()
    # Now a body of known length: werkzeug reads none of a body it still thinks is chunked.
    environ.pop("wsgi.input_terminated", None)
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ.update({"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))})
    return None


def _max_body(front: FunctionUrl | Route | None) -> int:
    if isinstance(front, FunctionUrl):
        return FUNCTION_URL_MAX_BODY
    return HTTP_API_MAX_BODY if isinstance(front, Route) else LOCAL_MAX_BODY


def _message(status: int, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, content_type="application/json")


def _too_large() -> Response:
    # The status AWS's fronts answer; the wording is API Gateway's (a Function URL's is not documented).
    return _message(413, "Request Entity Too Large")


def _json(body: object, *, status: int = 200) -> Response:
    return Response(json.dumps(body, indent=2), status=status, content_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _bad_gateway() -> Response:
    return Response(json.dumps({"message": "Internal Server Error"}), status=502, content_type="application/json")


def _internal_server_error() -> Response:
    return _message(500, "Internal Server Error")


@lru_cache(maxsize=1)
def _pages():
    """The shop's template environment plus the filters of the pages only local mode serves."""
    env = environment().overlay()
    env.filters.update(linkify=linkify, age=age, time_left=time_left, graph_json=graph_json, past_tense=past_tense)
    return env


def render_page(template: str, **context) -> str:
    return _pages().get_template(template).render(**context)
