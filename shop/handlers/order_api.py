"""Order API (API Gateway HTTP API, payload v2): POST /orders, GET /orders/{orderId}, GET /products."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from ulid import ULID

from shop.adapters.tables import IdempotencyKeys, OrdersTable, ProductsTable
from shop.adapters.workflow import Workflow
from shop.domain.errors import ShopError
from shop.error_answers import answer_for
from shop.logic import orders as logic
from shop.logic.clock import utc_now
from shop.settings import Env, SettingsNeeding

logger = Logger(service="order-api")
# Its function's settings, checked at its cold start: a variable missing here fails then, by name.
runtime_settings = SettingsNeeding(Env.ORDERS_TABLE, Env.PRODUCTS_TABLE, Env.IDEMPOTENCY_TABLE, Env.STATE_MACHINE_ARN,
                                    Env.APPROVAL_TIMEOUT, Env.FEEDBACK_DELAY)
app = APIGatewayHttpResolver()

def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body),
        headers=headers,
    )


@app.post("/orders")
def create_order() -> Response:
    settings = runtime_settings()
    event = app.current_event
    # Bytes when API Gateway base64-encoded the body (any content type but text/*, JSON, XML and
    # JavaScript: a form post, or a JSON body sent without its content type). Not Powertools'
    # `decoded_body`: it decodes those bytes as UTF-8 itself and raises on a body that is not, which
    # would reach the catch-all below as a 503; decode_json_body answers the client with a 400.
    raw = base64.b64decode(event.body) if event.is_base64_encoded and event.body else event.body
    order, created = logic.place_order(
        logic.decode_json_body(raw),
        products=ProductsTable(settings.products_table),
        orders=OrdersTable(settings.orders_table),
        workflow=Workflow(settings.state_machine_arn),
        order_id=str(ULID()),
        now=utc_now(),
        approval_timeout_seconds=settings.approval_timeout_seconds,
        feedback_delay_seconds=settings.feedback_delay_seconds,
        idempotency=IdempotencyKeys(settings.idempotency_table),
        idempotency_key=event.headers.get("idempotency-key"),
    )
    logger.info("order placed" if created else "order replayed", order_id=order.order_id,
                total=str(order.total), currency=order.currency)
    headers = {"Location": f"/orders/{order.order_id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return _json(201, order.to_public(), headers)


@app.get("/orders/<order_id>")
def read_order(order_id: str) -> Response:
    return _json(200, logic.get_order(order_id, orders=OrdersTable(runtime_settings().orders_table)))


@app.get("/products")
def read_products() -> Response:
    products = logic.list_products(products=ProductsTable(runtime_settings().products_table))
    return _json(200, {"products": products})


@app.exception_handler(ShopError)
def client_error(error: ShopError) -> Response:
    answer = answer_for(error)
    logger.info("request refused", status=answer.status, field=error.field, reason=error.message)
    retry = {"Retry-After": str(answer.retry_after)} if answer.retry_after else None
    return _json(answer.status, {"message": error.message, "field": error.field}, retry)


@app.exception_handler(Exception)
def failed(error: Exception) -> Response:
    logger.exception("request failed")
    return _json(503, {"message": "The shop cannot answer right now; please try again.", "field": None})


@app.not_found
def no_route(_: Exception) -> Response:
    event = app.current_event
    return _json(404, {"message": f"no route for {event.request_context.http.method} {event.raw_path}"})


# The correlation id: API Gateway's request id, which its access log also records.
@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
