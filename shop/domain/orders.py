"""Orders: validating a customer's request and pricing it against the catalog."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import Any

import fastjsonschema

from shop.domain.catalog import Product
from shop.domain.email_address import InvalidEmail, check_email, stored_form
from shop.domain.errors import InvalidRequest, UnprocessableOrder
from shop.domain.ids import ULID_PATTERN
from shop.domain.money import round_amount
from shop.domain.status import OrderStatus
from shop.domain.text import forbidden_character, invisible_only

MAX_ITEMS_PER_ORDER = 50
MAX_QUANTITY_PER_ITEM = 1000
_NOT_BLANK = r"\S"
_PRODUCT_ID = f"^{ULID_PATTERN}$"
_TEXT = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": _NOT_BLANK}
# What each pattern means, for the client: a 400 says it in words, never as a regular expression.
_PATTERN_MEANS = {
    _NOT_BLANK: "must not be blank",
    _PRODUCT_ID: "must be a product id: 26 capital letters and digits (a ULID)",
}
# The customer's one-line texts, as (field, path into the body): shown in emails, the owner's
# notification and pages, the console and the CLI.
_ONE_LINE_FIELDS = (
    ("customerName", ("customerName",)),
    *((f"shippingAddress.{key}", ("shippingAddress", key))
      for key in ("streetAddress", "city", "county", "country")),
)

# What an order holds only while its owner may decide it: the approval task's token, the id of the
# links that decide (`approvalLinkId`) and of links not yet confirmed sent (`pendingLinkId`). Private:
# no API answer, page or printout shows them, and every status past the approval removes them.
# The orders awaiting the owner's decision, most urgent first, are an index of the orders table
# (shop/infra/storage.py): its partition key is set only while the order awaits (one of the
# approval's fields, removed with them whatever ends the wait), its sort key is the deadline.
AWAITING_INDEX = "AwaitingApproval"
# How many awaiting orders one listing shows (the console's, the CLI's), the most urgent first.
PENDING_PAGE = 100
AWAITING_KEY = "awaitingApproval"
APPROVAL_FIELDS = ("approvalTaskToken", "approvalLinkId", "pendingLinkId", AWAITING_KEY)
PRIVATE_ORDER_FIELDS = frozenset(APPROVAL_FIELDS)


def without_private_fields(order: dict[str, Any]) -> dict[str, Any]:
    """A stored order as anything outside the workflow may see it."""
    return {key: value for key, value in order.items() if key not in PRIVATE_ORDER_FIELDS}


ORDER_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["customerEmail", "customerName", "shippingAddress", "items"],
    "properties": {
        # Checked by shop.domain.email_address, as SES will check it, with reasons in words.
        "customerEmail": {"type": "string"},
        "customerName": _TEXT,
        "shippingAddress": {
            "type": "object",
            "additionalProperties": False,
            "required": ["country", "city", "county", "streetAddress"],
            "properties": {
                "country": _TEXT,
                "city": _TEXT,
                "county": _TEXT,
                "streetAddress": _TEXT,
            },
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ITEMS_PER_ORDER,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["productId", "quantity"],
                "properties": {
                    "productId": {"type": "string", "pattern": _PRODUCT_ID},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY_PER_ITEM},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class OrderRequest:
    customer_email: str
    customer_name: str
    shipping_address: dict[str, str]
    items: list[tuple[str, int]]  # (product id, quantity), in the customer's order


@cache
def _order_request_validator():
    """The schema compiled once per container. fastjsonschema turns a schema into Python code;
    Powertools' `validate()` compiled it again on every call (~3 ms of each POST /orders)."""
    return fastjsonschema.compile(ORDER_REQUEST_SCHEMA)


def _field_of(error: fastjsonschema.JsonSchemaValueException) -> str:
    """`data.items[0].quantity` -> `items[0].quantity`; a missing property names itself."""
    name = (error.name or "data").removeprefix("data").lstrip(".")
    if error.rule == "additionalProperties" and isinstance(error.value, dict):
        allowed = (error.definition or {}).get("properties", {})
        extra = sorted(key for key in error.value if key not in allowed)
        if extra:
            return f"{name}.{extra[0]}" if name else str(extra[0])
    if error.rule == "required" and isinstance(error.rule_definition, list):
        present = error.value if isinstance(error.value, dict) else {}
        missing = [key for key in error.rule_definition if key not in present]
        if missing:
            return f"{name}.{missing[0]}" if name else missing[0]
    return name or "body"


def parse_order_request(body: Any) -> OrderRequest:
    """Validate a decoded JSON body; raises InvalidRequest naming the first bad field."""
    try:
        _order_request_validator()(body)
    except fastjsonschema.JsonSchemaValueException as error:
        field_name = _field_of(error)
        if error.rule == "required":
            message = f"{field_name} is required"
        elif error.rule == "additionalProperties":
            message = f"{field_name} is not a known field"
        elif error.rule == "pattern":
            message = f"{field_name} {_PATTERN_MEANS.get(error.rule_definition, 'is not in the expected form')}"
        else:
            message = re.sub(r"^data\.?", "", error.message or "is invalid").strip()
            message = message if message.startswith(field_name) else f"{field_name} {message}"
        raise InvalidRequest(message, field=field_name) from None
    seen: set[str] = set()
    for index, item in enumerate(body["items"]):
        if not isinstance(item["quantity"], int):  # the schema's "integer" lets 2.0 through
            raise InvalidRequest(f"items[{index}].quantity must be integer", field=f"items[{index}].quantity")
        if item["productId"] in seen:
            raise InvalidRequest(
                f"items[{index}].productId: product listed twice; add the quantities instead",
                field=f"items[{index}].productId",
            )
        seen.add(item["productId"])
    _check_texts(body)
    return OrderRequest(
        customer_email=stored_form(body["customerEmail"].strip()),
        customer_name=body["customerName"].strip(),
        shipping_address={key: value.strip() for key, value in body["shippingAddress"].items()},
        items=[(item["productId"], item["quantity"]) for item in body["items"]],
    )


def _check_texts(body: dict[str, Any]) -> None:
    """The texts the schema cannot judge: one line each, and an email SES can send to."""
    try:
        check_email(body["customerEmail"])
    except InvalidEmail as error:
        raise InvalidRequest(f"customerEmail is not an email address we can send to: {error}",
                             field="customerEmail") from None
    for field_name, path in _ONE_LINE_FIELDS:
        value: Any = body
        for step in path:
            value = value[step]
        # Judged as stored: a pasted name's trailing newline is stripped (below), not refused.
        problem = forbidden_character(value.strip())
        if problem:
            raise InvalidRequest(f"{field_name} must be one line of plain text, but it contains {problem}",
                                 field=field_name)
        invisible = invisible_only(value)
        if invisible:
            raise InvalidRequest(f"{field_name} must not be blank: it holds only invisible characters "
                                 f"(such as {invisible})", field=field_name)


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class Order:
    order_id: str
    created_at: str
    customer_name: str
    customer_email: str
    shipping_address: dict[str, str]
    lines: tuple[OrderLine, ...]
    currency: str
    total: Decimal
    status: OrderStatus = OrderStatus.RECEIVED

    def to_public(self) -> dict[str, Any]:
        """The order as the API returns it and the workflow carries it: JSON-safe, amounts as
        strings."""
        return {
            "orderId": self.order_id,
            "createdAt": self.created_at,
            "status": self.status,
            "customerName": self.customer_name,
            "customerEmail": self.customer_email,
            "shippingAddress": dict(self.shipping_address),
            "items": [
                {
                    "productId": line.product_id,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unitPrice": str(line.unit_price),
                    "lineTotal": str(line.line_total),
                }
                for line in self.lines
            ],
            "currency": self.currency,
            "total": str(self.total),
        }

    @classmethod
    def from_public(cls, data: dict[str, Any]) -> Order:
        """Inverse of `to_public`; other keys (the approval's bookkeeping) are not the order's."""
        return cls(
            order_id=data["orderId"],
            created_at=data["createdAt"],
            status=OrderStatus(data.get("status", OrderStatus.RECEIVED)),
            customer_name=data["customerName"],
            customer_email=data["customerEmail"],
            shipping_address=dict(data["shippingAddress"]),
            lines=tuple(
                OrderLine(
                    product_id=item["productId"],
                    name=item["name"],
                    quantity=int(item["quantity"]),
                    unit_price=Decimal(str(item["unitPrice"])),
                    line_total=Decimal(str(item["lineTotal"])),
                )
                for item in data["items"]
            ),
            currency=data["currency"],
            total=Decimal(str(data["total"])),
        )

    def with_status(self, status: OrderStatus) -> Order:
        return replace(self, status=status)


def price_order(
    request: OrderRequest, catalog: dict[str, Product], *, order_id: str, created_at: str
) -> Order:
    """Turn a request into an order with names and prices from the catalog.

    An order has one currency: the catalog prices products in many, and we hold no exchange
    rates, so an order mixing currencies is refused (422) rather than given a meaningless total.
    """
    lines: list[OrderLine] = []
    currency: str | None = None
    for index, (product_id, quantity) in enumerate(request.items):
        product = catalog.get(product_id)
        where = f"items[{index}].productId"
        if product is None:
            raise UnprocessableOrder(f"{where}: no product with id {product_id}", field=where)
        if currency is None:
            currency = product.currency
        elif product.currency != currency:
            raise UnprocessableOrder(
                f"{where}: priced in {product.currency} but the order is in {currency}; "
                "place one order per currency",
                field=where,
            )
        lines.append(
            OrderLine(
                product_id=product_id,
                name=product.name,
                quantity=quantity,
                unit_price=product.price,
                line_total=round_amount(product.price * quantity, product.currency),
            )
        )
    assert currency is not None  # the schema guarantees at least one item
    return Order(
        order_id=order_id,
        created_at=created_at,
        customer_name=request.customer_name,
        customer_email=request.customer_email,
        shipping_address=request.shipping_address,
        lines=tuple(lines),
        currency=currency,
        total=round_amount(sum((line.line_total for line in lines), Decimal(0)), currency),
    )


@dataclass(frozen=True)
class ApprovalState:
    """Where the owner's approval of a stored order stands. The token and the link ids are held only
    while the owner may decide (shop/adapters/tables.py sets and removes them); none is ever shown."""

    task_token: str | None = None  # the approval task's: resumes the workflow
    link_id: str | None = None  # of the links that decide, once their notification went out
    pending_link_id: str | None = None  # of links whose notification is not yet confirmed sent
    deadline: str | None = None  # until when the owner may decide (ISO 8601, UTC)
    decided_at: str | None = None  # when the owner decided, once the decision shows on the order

# ApprovalState's fields by their names in the orders table (and in `StoredOrder.to_public`).
_APPROVAL_KEYS = {"task_token": "approvalTaskToken", "link_id": "approvalLinkId",
                  "pending_link_id": "pendingLinkId", "deadline": "approvalDeadline", "decided_at": "decidedAt"}


@dataclass(frozen=True)
class StoredOrder:
    """An order as the orders table holds it: the order, and its approval's bookkeeping."""

    order: Order
    approval: ApprovalState = ApprovalState()
    updated_at: str | None = None  # when the workflow last set its status

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def status(self) -> OrderStatus:
        return self.order.status

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredOrder:
        """From the table's item, as plain Python values."""
        return cls(
            order=Order.from_public(item),
            approval=ApprovalState(**{field: item.get(key) for field, key in _APPROVAL_KEYS.items()}),
            updated_at=item.get("updatedAt"),
        )

    def to_public(self) -> dict[str, Any]:
        """The order as the API, pages and the owner's tools show it: its deadline and decision
        time with it, never the token or the link ids (PRIVATE_ORDER_FIELDS)."""
        shown = {"approvalDeadline": self.approval.deadline, "decidedAt": self.approval.decided_at,
                 "updatedAt": self.updated_at}
        return self.order.to_public() | {key: value for key, value in shown.items() if value is not None}
