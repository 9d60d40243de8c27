"""Thread safety: one DynamoDB request at a time.

moto's DynamoDB changes an item in place, and copies and serializes items, without a lock: two
requests on one item at once can fail with "RuntimeError: dictionary changed size during
iteration". `make bench` hit it (1 approval in 500) when the approval callback's UpdateItem of an
order met the state machine's MarkShipped on the same order: the owner got "please try again"
for a decision that had been delivered. DynamoDB applies the writes to an item one after the
other; here one lock around each DynamoDB request (the in-process mock's and the moto server's:
both go through DynamoHandler.call_action) does it. The requests are short and share one
interpreter lock anyway: no measurable cost.
"""

from __future__ import annotations

import threading
from functools import wraps
from typing import Any

from shop.local.patches import Patch


def patches() -> list[Patch]:
    lock = threading.RLock()

    def wrap(call_action: Any) -> Any:
        @wraps(call_action)
        def serialized_call_action(self):
            with lock:
                return call_action(self)

        return serialized_call_action

    return [Patch("moto.dynamodb.responses:DynamoHandler", "call_action", wrap)]
