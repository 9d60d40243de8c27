"""The one place local mode reaches into moto's internals. Pinned moto; tested in
tests/integration/test_moto_hooks.py so an upgrade that moves these fails loudly.

1. moto runs Lambda code in Docker (absent here). `LambdaFunction._invoke_lambda` is replaced
   with an in-process call of the function's own handler (its `Handler` from the template).
2. moto keeps sent emails and notifications without timestamps. `SESBackend.send_email` and
   `Topic.publish` are wrapped to copy each message into the outbox as it is sent.
3. Fault injection: `Faults` makes chosen backend operations answer a throttling error the
   next N times, so tests (and `FAULTS=... make run`) exercise every retry and recovery path.
4. StopExecution does not wake a task waiting for its token: its thread would sleep until the
   approval timeout and then act on whatever emulator is running. `release_waiting_tasks` fails
   those waits so the threads of stopped executions end at once.
"""

from __future__ import annotations

import importlib
import json
import threading
import traceback
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from shop.local.outbox import Outbox

HANDLER_PACKAGE = "shop.handlers."


@dataclass
class LocalLambdaContext:
    """The attributes of AWS's LambdaContext that Powertools and our handlers read."""

    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_handler(handler_path: str) -> Callable[[Any, Any], Any]:
    """`shop.handlers.order_api.lambda_handler` -> the function. Only the shop's handlers."""
    if not handler_path.startswith(HANDLER_PACKAGE):
        raise ValueError(f"local mode only runs handlers under {HANDLER_PACKAGE}: {handler_path}")
    module_name, _, attribute = handler_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def invoke_handler(handler_path: str, event: Any, function_name: str) -> Any:
    return load_handler(handler_path)(event, LocalLambdaContext(function_name=function_name))


def _invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    """Stands in for moto's `LambdaFunction._invoke_lambda(event) -> (payload, errored, logs)`."""
    if isinstance(event, (str, bytes)):
        event = json.loads(event or "{}")
    try:
        result = invoke_handler(self.handler, event if event is not None else {}, self.function_name)
        return json.dumps(result), False, ""
    except Exception as error:  # reported to the caller as a Lambda function error, as AWS does
        payload = {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
        return json.dumps(payload), True, ""


def install(outbox: Outbox) -> Callable[[], None]:
    """Patch moto; returns a function that undoes it."""
    from moto.awslambda.models import LambdaFunction
    from moto.ses.models import SESBackend
    from moto.sns.models import Topic

    originals = {
        (LambdaFunction, "_invoke_lambda"): LambdaFunction._invoke_lambda,
        (SESBackend, "send_email"): SESBackend.send_email,
        (Topic, "publish"): Topic.publish,
    }
    send_email, publish = SESBackend.send_email, Topic.publish

    @wraps(send_email)
    def recording_send_email(self, source, subject, body, destinations):
        message = send_email(self, source, subject, body, destinations)
        recipients = [address for addresses in destinations.values() for address in addresses]
        outbox.record(channel="email", to=recipients, subject=subject, body=body)
        return message

    @wraps(publish)
    def recording_publish(self, message, subject=None, *args, **kwargs):
        message_id = publish(self, message, subject, *args, **kwargs)
        subscriptions, _ = self.sns_backend.list_subscriptions_by_topic(topic_arn=self.arn)
        recipients = [s.endpoint for s in subscriptions] or [self.arn]
        outbox.record(channel="sns", to=recipients, subject=subject or "", body=message)
        return message_id

    LambdaFunction._invoke_lambda = _invoke_in_process
    SESBackend.send_email = recording_send_email
    Topic.publish = recording_publish

    def uninstall() -> None:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)

    return uninstall


def _fault_targets() -> dict[str, tuple[type, str, Callable[[], Exception]]]:
    """`service.operation` -> (moto backend class, method, the throttling error AWS would send)."""
    from moto.core.exceptions import ServiceException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.ses.models import SESBackend
    from moto.sns.models import SNSBackend
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    class InjectedFault(ServiceException):
        """Serialized in the protocol of whichever service raised it (it is not moto's own)."""

    def query_throttle() -> Exception:
        return InjectedFault("Throttling", "Rate exceeded (injected fault)")

    def json_throttle() -> Exception:
        return InjectedFault("ThrottlingException", "Rate exceeded (injected fault)")

    def dynamodb_throttle() -> Exception:
        return InjectedFault("ProvisionedThroughputExceededException", "Throughput exceeded (injected fault)")

    return {
        "ses.send_email": (SESBackend, "send_email", query_throttle),
        "sns.publish": (SNSBackend, "publish", query_throttle),
        "stepfunctions.send_task_success": (StepFunctionsParserBackend, "send_task_success", json_throttle),
        "stepfunctions.send_task_failure": (StepFunctionsParserBackend, "send_task_failure", json_throttle),
        "dynamodb.put_item": (DynamoDBBackend, "put_item", dynamodb_throttle),
        "dynamodb.update_item": (DynamoDBBackend, "update_item", dynamodb_throttle),
        "dynamodb.delete_item": (DynamoDBBackend, "delete_item", dynamodb_throttle),
        "dynamodb.get_item": (DynamoDBBackend, "get_item", dynamodb_throttle),
    }


class Faults:
    """Armed faults: `arm("ses.send_email", 3)` makes the next 3 sends fail with throttling."""

    def __init__(self) -> None:
        # AWS's throttling codes are not in every service's error model; moto warns, harmlessly.
        warnings.filterwarnings("ignore", message=r"Exception\(InjectedFault\)")
        self._remaining: dict[str, int] = {}
        self.injected: dict[str, int] = {}  # how many were actually raised, per operation
        self._lock = threading.Lock()
        self._originals: dict[str, Callable] = {}

    @staticmethod
    def parse(spec: str) -> dict[str, int]:
        """`ses.send_email=3,stepfunctions.send_task_success=1` -> {name: count}."""
        faults = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, count = part.partition("=")
            if name not in _fault_targets() or not count.strip().isdigit():
                raise ValueError(f"bad fault {part!r}: use one of {sorted(_fault_targets())} as name=count")
            faults[name] = int(count)
        return faults

    def arm(self, name: str, count: int) -> None:
        targets = _fault_targets()
        if name not in targets:
            raise ValueError(f"unknown fault {name!r}: one of {sorted(targets)}")
        with self._lock:
            self._remaining[name] = count
            if name not in self._originals:
                owner, method, _ = targets[name]
                self._originals[name] = getattr(owner, method)
                setattr(owner, method, self._failing(name, self._originals[name], targets[name][2]))

    def _failing(self, name: str, original: Callable, error: Callable[[], Exception]) -> Callable:
        @wraps(original)
        def maybe_fail(*args, **kwargs):
            with self._lock:
                remaining = self._remaining.get(name, 0)
                if remaining > 0:
                    self._remaining[name] = remaining - 1
                    self.injected[name] = self.injected.get(name, 0) + 1
                    raise error()
            return original(*args, **kwargs)

        return maybe_fail

    def uninstall(self) -> None:
        targets = _fault_targets()
        with self._lock:
            for name, original in self._originals.items():
                owner, method, _ = targets[name]
                setattr(owner, method, original)
            self._originals.clear()
            self._remaining.clear()


def release_waiting_tasks() -> int:
    """Fail every task token still awaited in moto's Step Functions; returns how many."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeFailure
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    released = 0
    for regions in list(stepfunctions_parser_backends.values()):
        for backend in list(regions.values()):
            for machine in list(backend.state_machines):
                for execution in list(machine.executions):
                    worker = getattr(execution, "exec_worker", None)
                    if worker is None:
                        continue
                    pool = worker.env.callback_pool_manager._pool
                    for callback_id, endpoint in list(pool.items()):
                        if endpoint.get_outcome() is None:
                            endpoint.notify(CallbackOutcomeFailure(callback_id, "ShopStopped", "local shop stopped"))
                            released += 1
    return released
