"""The stack's Lambda functions, run in this process, each as itself.

An invocation runs the function's handler (its `Handler` in the template) with exactly the
environment Lambda would give that function: the template's variables, the runtime's reserved
ones, and its role's credentials (so IAM sees the call as that role's). It runs in the function's
own container (`shop.container`): clients, settings and the signing key are that function's.
"""

from __future__ import annotations

import contextvars
import importlib
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shop import container
from shop.local import environment
from shop.local.template import ACCOUNT_ID, REGION

HANDLER_PACKAGE = "shop.handlers."
# The SDK's retry knobs, which a developer may set for a local run (fault tests hand retries to the
# state machine with AWS_MAX_ATTEMPTS=1); on AWS they would be variables of the function.
SDK_SETTINGS_FROM_PROCESS = ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE")


@dataclass(frozen=True)
class LocalFunction:
    name: str
    handler: str
    role_arn: str
    memory_mb: int = 128
    timeout_seconds: int = 3
    environment: Mapping[str, str] = field(default_factory=dict)  # as Lambda gives it, complete
    log_group_name: str = ""  # its LoggingConfig's, or Lambda's default group

    def __post_init__(self) -> None:
        if not self.log_group_name:
            object.__setattr__(self, "log_group_name", default_log_group_name(self.name))

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"


def default_log_group_name(function_name: str) -> str:
    """The log group Lambda writes to when the function's LoggingConfig names none."""
    return f"/aws/lambda/{function_name}"


def lambda_environment(name: str, handler: str, variables: Mapping[str, str], *, runtime: str, memory_mb: int,
                       credentials: Mapping[str, str], log_group_name: str = "") -> dict[str, str]:
    """The function's variables plus those its Lambda runtime (the template's `Runtime`, e.g.
    python3.13) sets (AWS's "Defined runtime environment variables"), with local credentials of
    its role."""
    reserved = {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": log_group_name or default_log_group_name(name),
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "_HANDLER": handler,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
    }
    sdk = {key: os.environ[key] for key in SDK_SETTINGS_FROM_PROCESS if key in os.environ}
    return {**reserved, **sdk, **credentials, **variables}


class FunctionTimedOut(Exception):
    """The invocation ran past its function's `Timeout`. Lambda then ends it and answers its caller
    with this error (a Function URL answers 502; a state machine's task fails with the error type).
    Local mode cannot stop the handler's thread, so the rest of its run is abandoned: nothing waits
    for it, and the shop must not count on it (as on AWS, where it never runs)."""

    error_type = "Sandbox.Timedout"  # the errorType Lambda's Python runtimes report for a timeout

    def __init__(self, function_name: str, request_id: str, seconds: int):
        super().__init__(f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds")
        self.function_name = function_name


@dataclass
class LocalLambdaContext:
    """The attributes of AWS's LambdaContext that Powertools and our handlers read."""

    function_name: str
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.log_group_name = self.log_group_name or default_log_group_name(self.function_name)
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_handler(handler_path: str) -> Callable[[Any, Any], Any]:
    """`shop.handlers.order_api.lambda_handler` -> the function. Only the shop's handlers."""
    if not handler_path.startswith(HANDLER_PACKAGE):
        raise ValueError(f"local mode only runs handlers under {HANDLER_PACKAGE}: {handler_path}")
    module_name, _, attribute = handler_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


class Functions:
    """The deployed functions by name; `invoke` runs one as itself."""

    def __init__(self, *, timeouts: bool = True) -> None:
        self.timeouts = timeouts  # whether an invocation ends at its function's Timeout
        self._by_name: dict[str, LocalFunction] = {}
        self._environments: dict[str, dict[str, str]] = {}  # a container's environment lives with it

    def add(self, function: LocalFunction) -> None:
        self._by_name[function.name] = function
        self._environments[function.name] = dict(function.environment)

    def __getitem__(self, name: str) -> LocalFunction:
        return self._by_name[name]

    def __iter__(self):
        return iter(self._by_name.values())

    def invoke(self, name: str, event: Any) -> Any:
        """Run one invocation and answer its result, or FunctionTimedOut at the function's timeout."""
        function = self._by_name[name]
        context = LocalLambdaContext(function_name=name, memory_limit_in_mb=function.memory_mb,
                                     log_group_name=function.log_group_name)
        outcome: dict[str, Any] = {}

        def run() -> None:
            with container.running_as(name), environment.of_function(self._environments[name]):
                try:
                    handler = load_handler(function.handler)  # imported with the function's environment
                    outcome["result"] = handler(event, context)
                except BaseException as error:  # handed to the caller, as Lambda reports it
                    outcome["error"] = error

        # In a thread of its own, so that the caller hears of the timeout when Lambda would say it.
        thread = threading.Thread(target=contextvars.copy_context().run, args=(run,), daemon=True,
                                  name=f"lambda-{name}")
        thread.start()
        thread.join(function.timeout_seconds if self.timeouts else None)
        if thread.is_alive():
            raise FunctionTimedOut(name, context.aws_request_id, function.timeout_seconds)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    def cold_start(self) -> None:
        """New containers for every function: fresh caches and environments."""
        container.cold_start()
        for function in self._by_name.values():
            self._environments[function.name] = dict(function.environment)
