"""The owner's approve/reject links: built, signed with an HMAC key, parsed and verified."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from shop.domain.errors import InvalidRequest, LinkExpired, LinkForged

MAX_TOKEN_LENGTH = 8192  # Step Functions task tokens are up to 1024 chars today; leave room.
MAX_ORDER_ID_LENGTH = 64


class Decision(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"  # the owner's console and CLI only: no link ever says cancel


LINK_DECISIONS = (Decision.APPROVE, Decision.REJECT)
# What a link used after its deadline is told, here and by the logic that finds the deadline
# passed in the tables: the workflow's timeout is taking the order down the cancellation path.
TIME_RAN_OUT = "The time to decide on this order ran out; it is being cancelled."
_PAST_TENSE: dict[str, str] = {Decision.APPROVE: "approved", Decision.REJECT: "rejected", Decision.CANCEL: "cancelled"}
_LINK_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class CallbackRequest:
    order_id: str
    task_token: str
    decision: Decision
    expires: int  # epoch seconds: the approval deadline
    link_id: str  # which notification the link came from: a resend replaces it
    signature: str


def past_tense(decision: str) -> str:
    """How pages and printouts say an order was decided: "approved", "rejected", "cancelled"."""
    return _PAST_TENSE.get(decision, "decided")


def new_link_id() -> str:
    """A fresh id for one notification's pair of links; only the newest one decides."""
    return secrets.token_urlsafe(16)


def sign(key: bytes, *, order_id: str, decision: Decision, task_token: str, expires: int, link_id: str) -> str:
    """HMAC-SHA256 over everything a link asserts, URL-safe base64 without padding."""
    message = "\n".join(["approval-link/v2", order_id, decision.value, task_token, str(expires), link_id])
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def approval_links(
    base_url: str, order_id: str, task_token: str, *, key: bytes, expires: int, link_id: str
) -> dict[Decision, str]:
    """One signed link per decision. The token is URL-encoded exactly once (`+`, `/`, `=`)."""
    separator = "&" if "?" in base_url else "?"
    links = {}
    for decision in LINK_DECISIONS:
        query = {
            "orderId": order_id,
            "result": decision.value,
            "expires": str(expires),
            "link": link_id,
            "token": task_token,
            "sig": sign(key, order_id=order_id, decision=decision, task_token=task_token, expires=expires,
                        link_id=link_id),
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
        link_id=request.link_id,
    )
    if not request.signature or not hmac.compare_digest(expected, request.signature):
        raise LinkForged("This link was not issued by the shop, or was changed. Use the link from the email.")
    if now >= request.expires:
        raise LinkExpired(TIME_RAN_OUT)


def parse_callback(params: Mapping[str, str] | None) -> CallbackRequest:
    """Query parameters of an approval link, already URL-decoded once by the platform."""
    params = params or {}
    order_id = (params.get("orderId") or "").strip()
    token = params.get("token") or ""
    result = (params.get("result") or "").strip()
    expires = (params.get("expires") or "").strip()
    link_id = (params.get("link") or "").strip()
    signature = (params.get("sig") or "").strip()
    if not order_id or len(order_id) > MAX_ORDER_ID_LENGTH:
        raise InvalidRequest("The link has no valid order id.", field="orderId")
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidRequest("The link has no valid approval token.", field="token")
    decision = next((d for d in LINK_DECISIONS if d.value == result), None)
    if decision is None:
        raise InvalidRequest("The link must say approve or reject.", field="result")
    if not re.fullmatch(r"[0-9]{1,12}", expires):  # ASCII digits only: int() refuses "²"
        raise InvalidRequest("The link has no valid expiry.", field="expires")
    if not _LINK_ID.fullmatch(link_id):
        raise InvalidRequest("The link has no valid link id.", field="link")
    if len(signature) > 128:
        raise InvalidRequest("The link has no valid signature.", field="sig")
    return CallbackRequest(
        order_id=order_id, task_token=token, decision=decision, expires=int(expires), link_id=link_id,
        signature=signature,
    )

