"""The order API as a customer's client calls it: the CLI places orders the way the shop's
customers do, through API Gateway, so validation, pricing and idempotency are the API's own."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from shop.domain.errors import AlreadyDecided, InvalidRequest, NotFound, ShopError, UnprocessableOrder
from shop.error_answers import answer_for

# The order API's refusals, back as the domain errors it answers with (shop/error_answers.py gives
# each its status), so that the CLI's one table of exit codes takes them as any other error. 413
# is the front's own refusal of a body too large: bad input as well. Any other status is a failure.
ERROR_FOR_STATUS: dict[int, type[ShopError]] = {
    **{answer_for(kind).status: kind for kind in (InvalidRequest, NotFound, AlreadyDecided, UnprocessableOrder)},
    413: InvalidRequest,
}


class ApiError(Exception):
    """The order API could not be reached, or failed: `kind` is the exit code's name."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


def post_order(api_url: str, body: dict[str, Any], *, idempotency_key: str | None = None,
               timeout: float = 30) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(f"{api_url}/orders", data=json.dumps(body).encode(), headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        said = f"the order API said {error.code}: {_message(error)}"
        refused = ERROR_FOR_STATUS.get(error.code)
        raise (refused(said) if refused else ApiError("failed", said)) from None
    except (urllib.error.URLError, OSError) as error:
        raise ApiError("unreachable", f"cannot reach the order API at {api_url}: {error}") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(error.read())
    except ValueError:
        return error.reason
    message = payload.get("message") or error.reason
    field = payload.get("field")
    return f"{message} ({field})" if field and field not in message else message
