"""The owner's approve/reject links: built, signed with an HMAC key, parsed and verified."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from shop.domain.errors import InvalidRequest, LinkExpired, LinkForged

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
    expires: int  # epoch seconds: the approval deadline
    signature: str


def sign(key: bytes, *, order_id: str, decision: Decision, task_token: str, expires: int) -> str:
    """HMAC-SHA256 over everything a link asserts, URL-safe base64 without padding."""
    message = "\n".join(["approval-link/v1", order_id, decision.value, task_token, str(expires)])
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def approval_links(
    base_url: str, order_id: str, task_token: str, *, key: bytes, expires: int
) -> dict[Decision, str]:
    """One signed link per decision. The token is URL-encoded exactly once (`+`, `/`, `=`)."""
    separator = "&" if "?" in base_url else "?"
    links = {}
    for decision in Decision:
        query = {
            "orderId": order_id,
            "result": decision.value,
            "expires": str(expires),
            "token": task_token,
            "sig": sign(key, order_id=order_id, decision=decision, task_token=task_token, expires=expires),
        }
        links[decision] = base_url + separator + urlencode(query, quote_via=quote, safe="")
    return links


def verify(request: CallbackRequest, *, key: bytes, now: float) -> None:
    """Refuse a link we did not sign (403) or whose deadline passed (410), before any I/O."""
    expected = sign(
        key,
        order_id=request.order_id,
        decision=request.decision,
        task_token=request.task_token,
        expires=request.expires,
    )
    if not request.signature or not hmac.compare_digest(expected, request.signature):
        raise LinkForged("This link was not issued by the shop, or was changed. Use the link from the email.")
    if now >= request.expires:
        raise LinkExpired("The time to decide on this order ran out; it is being cancelled.")


def parse_callback(params: Mapping[str, str] | None) -> CallbackRequest:
    """Query parameters of an approval link, already URL-decoded once by the platform."""
    params = params or {}
    order_id = (params.get("orderId") or "").strip()
    token = params.get("token") or ""
    result = (params.get("result") or "").strip()
    expires = (params.get("expires") or "").strip()
    signature = (params.get("sig") or "").strip()
    if not order_id or len(order_id) > MAX_ORDER_ID_LENGTH:
        raise InvalidRequest("The link has no valid order id.", field="orderId")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidRequest("The link has no valid approval token.", field="token")
    try:
        decision = Decision(result)
    except ValueError:
        raise InvalidRequest("The link must say approve or reject.", field="result") from None
    if not re.fullmatch(r"[0-9]{1,12}", expires):  # ASCII digits only: int() refuses "²"
        raise InvalidRequest("The link has no valid expiry.", field="expires")
    if len(signature) > 128:
        raise InvalidRequest("The link has no valid signature.", field="sig")
    return CallbackRequest(
        order_id=order_id, task_token=token, decision=decision, expires=int(expires), signature=signature
    )


def token_fingerprint(task_token: str) -> str:
    """What we store to recognise a token without keeping it: its SHA-256."""
    return hashlib.sha256(task_token.encode()).hexdigest()
