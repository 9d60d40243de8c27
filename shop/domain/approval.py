"""The owner's approve/reject links and the rules for deciding an order once."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from shop.domain.errors import InvalidRequest

MAX_TOKEN_LENGTH = 8192  # Step Functions task tokens are up to 1024 chars today; leave room.
MAX_ORDER_ID_LENGTH = 64


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class CallbackRequest:
    order_id: str
    task_token: str
    decision: Decision


def approval_links(base_url: str, order_id: str, task_token: str) -> dict[Decision, str]:
    """One link per decision. The token is URL-encoded exactly once (`+`, `/`, `=` escaped)."""
    separator = "&" if "?" in base_url else "?"
    return {
        decision: base_url
        + separator
        + urlencode(
            {"orderId": order_id, "token": task_token, "result": decision.value},
            quote_via=quote,
            safe="",
        )
        for decision in Decision
    }


def parse_callback(params: Mapping[str, str] | None) -> CallbackRequest:
    """Query parameters of an approval link, already URL-decoded once by the platform."""
    params = params or {}
    order_id = (params.get("orderId") or "").strip()
    token = params.get("token") or ""
    result = (params.get("result") or "").strip()
    if not order_id or len(order_id) > MAX_ORDER_ID_LENGTH:
        raise InvalidRequest("The link has no valid order id.", field="orderId")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidRequest("The link has no valid approval token.", field="token")
    try:
        decision = Decision(result)
    except ValueError:
        raise InvalidRequest("The link must say approve or reject.", field="result") from None
    return CallbackRequest(order_id=order_id, task_token=token, decision=decision)


def token_fingerprint(task_token: str) -> str:
    """What we store to recognise a token without keeping it: its SHA-256."""
    return hashlib.sha256(task_token.encode()).hexdigest()
