"""The order API as a customer's client calls it: the CLI places orders the way the shop's
customers do, through API Gateway, so validation, pricing and idempotency are the API's own."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

# The API's error statuses, as the CLI's exit-code kinds.
_KIND = {400: "invalid", 404: "not_found", 409: "conflict", 413: "invalid", 422: "invalid"}


class ApiError(Exception):
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
        raise ApiError(_KIND.get(error.code, "failed"), f"the order API said {error.code}: {_message(error)}") from None
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
