"""Approval callback (Lambda Function URL): the owner's approve/reject links land here.

GET and HEAD only show a confirmation page: mail security scanners open every link in an
email, so a link must never decide by being opened. The page's button POSTs to the same URL, and
only that POST resumes the workflow.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shop.adapters.secrets import signing_key
from shop.adapters.tables import DecisionsTable, OrdersTable
from shop.adapters.workflow import Workflow
from shop.domain.approval import Decision, parse_callback
from shop.domain.errors import ShopError
from shop.error_answers import link_answer_for
from shop.logic import approvals
from shop.logic.clock import utc_now
from shop.rendering import render
from shop.settings import Env, SettingsNeeding

logger = Logger(service="approval-callback")
# Its function's settings, checked at its cold start: a variable missing here fails then, by name.
runtime_settings = SettingsNeeding(Env.ORDERS_TABLE, Env.DECISIONS_TABLE, Env.STATE_MACHINE_ARN,
                                    Env.LINK_SIGNING_SECRET)
app = LambdaFunctionUrlResolver()

# The token is in the page's URL: no referrer may carry it away, no cache may keep it.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


def _page(status: int, template: str, *, headers: dict[str, str] | None = None, **context: Any) -> Response:
    body = render(f"pages/{template}", **context).body
    if app.current_event.request_context.http.method == "HEAD":
        body = ""
    return Response(status_code=status, content_type=content_types.TEXT_HTML, body=body,
                    headers={**_PAGE_HEADERS, **(headers or {})})


def _request():
    request = parse_callback(app.current_event.query_string_parameters)
    logger.append_keys(order_id=request.order_id, decision=request.decision.value)
    return request


@app.route("/", method=["GET", "HEAD"])
def confirm_page() -> Response:
    settings = runtime_settings()
    review = approvals.review(
        _request(),
        key=signing_key(settings.link_signing_secret),
        orders=OrdersTable(settings.orders_table),
        decisions=DecisionsTable(settings.decisions_table),
        workflow=Workflow(settings.state_machine_arn),
        now=utc_now(),
    )
    return _page(200, "approval_review.html", order=review.order, approve=review.decision is Decision.APPROVE,
                 deadline=review.deadline, recorded=review.recorded)


@app.post("/")
def decide() -> Response:
    request = _request()
    settings = runtime_settings()
    order = approvals.decide(
        request,
        key=signing_key(settings.link_signing_secret),
        orders=OrdersTable(settings.orders_table),
        decisions=DecisionsTable(settings.decisions_table),
        workflow=Workflow(settings.state_machine_arn),
        now=utc_now(),
    )
    logger.info("order decided")
    return _page(200, "approval_done.html", order=order, approve=request.decision is Decision.APPROVE)


@app.exception_handler(ShopError)
def refused(error: ShopError) -> Response:
    answer = link_answer_for(error)
    logger.info("link refused", status=answer.status, reason=error.message)
    # Recorded, not yet delivered: come back soon.
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else None
    return _page(answer.status, "message.html", title=answer.title, message=error.message, headers=headers)


@app.exception_handler(Exception)
def failed(error: Exception) -> Response:
    # An AWS fault before this click recorded anything (one after it is NotDelivered, above): say
    # only that, since another click may have decided, and let the owner try the same link again.
    logger.exception("approval failed")
    return _page(503, "message.html", title="Please try again",
                 message="The shop could not reach its records just now, and this click changed nothing. "
                 "Open the link again in a minute.", headers={"Retry-After": "60"})


@app.not_found
def no_route(_: Exception) -> Response:
    return _page(405, "message.html", title="Not here",
                 message="Open the approve or reject link from the email.")


# The correlation id: the Function URL request's id.
@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
