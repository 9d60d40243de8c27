"""Placing and reading orders."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from shop.adapters.tables import IdempotencyConflict, IdempotencyKeys, OrdersTable, ProductsTable
from shop.adapters.workflow import Workflow
from shop.domain.errors import InvalidRequest, NotFound, UnprocessableOrder
from shop.domain.orders import Order, parse_order_request, price_order
from shop.logic.clock import iso

MAX_BODY_BYTES = 64 * 1024
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces; fullmatch, as `$` lets "\n" by


def decode_json_body(raw: str | bytes | None) -> Any:
    """The request body as JSON, with the errors a client can act on. Every failure of the
    parser is the client's: bad syntax, not UTF-8, nesting too deep, a number too long."""
    if raw is None or raw == "" or raw == b"":
        raise InvalidRequest("body: a JSON object is required", field="body")
    if len(raw.encode() if isinstance(raw, str) else raw) > MAX_BODY_BYTES:
        raise InvalidRequest(f"body: larger than {MAX_BODY_BYTES} bytes", field="body")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        body = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidRequest("body: not valid UTF-8", field="body") from None
    except RecursionError:
        raise InvalidRequest("body: not valid JSON (nested too deeply)", field="body") from None
    except ValueError as error:  # JSONDecodeError, and int() refusing a 5,000-digit number
        raise InvalidRequest(f"body: not valid JSON ({error})", field="body") from None
    where = _not_unicode(body)
    if where is not None:
        raise InvalidRequest(f"{where or 'body'} is not valid Unicode text", field=where or "body")
    return body


def _not_unicode(value: Any, path: str = "") -> str | None:
    """The path of the first string no UTF-8 can carry (a lone surrogate from a `\\ud800`
    escape), or None. JSON allows it; DynamoDB, SES and every page would fail on it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(value, dict):
        for key, inner in value.items():
            found = _not_unicode(key, path) or _not_unicode(inner, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found = _not_unicode(inner, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def workflow_input(order: Order, *, approval_timeout_seconds: int, feedback_delay_seconds: int) -> dict[str, Any]:
    """The execution's input: the order snapshot every step renders from, and its durations."""
    return {
        "order": order.to_public(),
        "approvalTimeoutSeconds": approval_timeout_seconds,
        "feedbackDelaySeconds": feedback_delay_seconds,
    }


def place_order(
    body: Any,
    *,
    products: ProductsTable,
    orders: OrdersTable,
    workflow: Workflow,
    order_id: str,
    now: datetime,
    approval_timeout_seconds: int,
    feedback_delay_seconds: int,
    idempotency: IdempotencyKeys | None = None,
    idempotency_key: str | None = None,
) -> tuple[Order, bool]:
    """Validate, price, store and start the workflow; returns the order and whether this call
    created it (False: an `Idempotency-Key` replay of an earlier request).

    Nothing is written for a bad request. With an idempotency key, the key is claimed before the
    order is stored, so a retry after a crash at any point finishes the same order, and the
    execution, named after the order id, can never start twice. Retries that arrive while the
    first request is still at work (a client retrying impatiently) finish it alongside: every
    one of them answers with the same order.
    """
    request = parse_order_request(body)
    catalog = products.get_many(product_id for product_id, _ in request.items)
    order = price_order(request, catalog, order_id=order_id, created_at=iso(now))
    created = True
    stored: Order | None = None
    if idempotency_key is not None:
        if idempotency is None:
            # A caller's mistake, not the client's: without the table the key would be ignored
            # and a retry would place a second order. Refused before anything is written.
            raise TypeError("place_order: an idempotency_key needs the idempotency table to claim it in")
        if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise InvalidRequest("Idempotency-Key must be 1 to 128 printable characters", field="Idempotency-Key")
        request_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        try:
            idempotency.claim(
                idempotency_key, order_id=order.order_id, request_hash=request_hash, now=int(now.timestamp()),
                expires_at=int((now + IDEMPOTENCY_KEY_LIFETIME).timestamp()),
            )
        except IdempotencyConflict as conflict:
            if conflict.record.get("requestHash") != request_hash:
                raise UnprocessableOrder(
                    "Idempotency-Key was already used for a different order", field="Idempotency-Key"
                ) from None
            created = False
            order = replace(order, order_id=conflict.record["orderId"])
            stored = _earlier_order(order.order_id, orders=orders, workflow=workflow)
    if stored is None:
        # Not stored yet: new, or an earlier request with this key stopped (or is still working)
        # before storing it. Whichever request stores it first, the others answer with that one.
        stored = order if orders.put_new(order) else _stored_meanwhile(order.order_id, orders=orders)
    workflow.start(
        name=stored.order_id,
        payload=workflow_input(
            stored,
            approval_timeout_seconds=approval_timeout_seconds,
            feedback_delay_seconds=feedback_delay_seconds,
        ),
    )
    return stored, created


def _cancelled(order_id: str) -> UnprocessableOrder:
    return UnprocessableOrder(f"Idempotency-Key belongs to order {order_id}, which was cancelled",
                              field="Idempotency-Key")


def _earlier_order(order_id: str, *, orders: OrdersTable, workflow: Workflow) -> Order | None:
    """The order an earlier request with the same key made; None if it is not stored yet.

    The execution is asked about before the order is read, because an order is always stored
    before its execution starts: an execution that exists while its order is missing from a later
    read means the workflow ran and deleted it (rejected, cancelled, timed out), and it must never
    come back. Read the other way round, a retry racing the first request could see no order, then
    the execution that request had just started, and call a live order cancelled.
    """
    started = workflow.exists(order_id)
    stored = orders.get(order_id)
    if stored is not None:
        return stored.order
    if started:
        raise _cancelled(order_id)
    return None


def _stored_meanwhile(order_id: str, *, orders: OrdersTable) -> Order:
    """The order another request with the same key stored first. Gone already: only its workflow
    deletes an order, so it ran and the order was cancelled."""
    stored = orders.get(order_id)
    if stored is None:
        raise _cancelled(order_id)
    return stored.order


def get_order(order_id: str, *, orders: OrdersTable) -> dict[str, Any]:
    stored = orders.get(order_id)
    if stored is None:
        raise NotFound(f"no order with id {order_id}", field="orderId")
    return stored.to_public()


def list_products(*, products: ProductsTable) -> list[dict[str, Any]]:
    return sorted((p.to_public() for p in products.scan()), key=lambda p: (p["name"], p["productId"]))
