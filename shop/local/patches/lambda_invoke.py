"""moto runs Lambda code in Docker (absent here): each invoke runs the function's own handler in
this process instead, as that function (see shop/local/functions.py)."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

from shop.local.patches import Patch

logger = logging.getLogger("shop.local.functions")


def patches(invoke: Callable[[str, Any], Any]) -> list[Patch]:
    """`invoke(function_name, event) -> result` runs one invocation."""

    def wrap(_docker_invoke: Any) -> Callable[..., tuple[str, bool, str]]:
        def invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
            """moto's contract: `_invoke_lambda(event) -> (payload, errored, logs)`."""
            if isinstance(event, (str, bytes)):
                event = json.loads(event or "{}")
            try:
                return json.dumps(invoke(self.function_name, {} if event is None else event)), False, ""
            except Exception as error:  # reported to the caller as a Lambda function error, as AWS does
                # ...and written to the function's log, as Lambda's runtime writes it to CloudWatch.
                logger.warning("function %s failed: %s: %s", self.function_name, type(error).__name__, error)
                payload = {  # a timeout is Lambda's own error type, not a class of the handler's
                    "errorType": getattr(error, "error_type", type(error).__name__),
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_tb(error.__traceback__),
                }
                return json.dumps(payload), True, ""

        return invoke_in_process

    return [Patch("moto.awslambda.models:LambdaFunction", "_invoke_lambda", wrap)]
