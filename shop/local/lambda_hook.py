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
5. Speed and threads (found by `make bench`): moto parses the state machine's definition again
   for every execution, builds a boto3 client and JSONPath parsers for every step, and runs each
   execution's program in one more thread. `install` caches the first three and runs the program
   in the execution's own thread (see `_install_caches`).
6. Thread safety (found by `make bench`): moto's DynamoDB is not safe for two requests on one item
   at once. `install` runs DynamoDB requests one at a time (see `_serialize_dynamodb`).
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
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
    uninstall_caches = _install_caches()
    uninstall_dynamodb_lock = _serialize_dynamodb()

    def uninstall() -> None:
        uninstall_dynamodb_lock()
        uninstall_caches()
        for (owner, name), original in originals.items():
            setattr(owner, name, original)

    return uninstall


# -- 5. Speed: what moto redoes for every execution, done once ------------------------------------
# Profiled under `make bench` (py-spy, GIL holder): per order, moto re-parsed the state machine's
# definition with ANTLR at the start of every execution (~25 ms of CPU, and ~400 kB kept for the
# execution's lifetime, i.e. while it waits for the owner), built a new boto3 client for every
# Lambda invoke and DynamoDB task (~10 ms each), and built a new JSONPath parser (PLY tables) for
# every path it evaluated. Together over half of the local shop's CPU time. The cached versions
# behave the same: the parsed program is read-only during evaluation (each execution's state lives
# in its own Environment), botocore clients are thread-safe, JSONPath expressions are immutable.
# Threads: each execution ran its program in a second thread only to join it with the machine's
# TimeoutSeconds; without one (ours), the execution's own thread now runs it: an order waiting for
# its approval holds 2 threads instead of 3.
_PROGRAM_CACHE_SIZE = 16


def _heap_keys_primed(program: Any) -> Any:
    """Give every component of a shared program its heap key now: moto assigns it lazily on first
    use, which two executions sharing the program could otherwise race on (a retry counter read
    under one key and written under another)."""
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    seen: set[int] = set()
    pending = [program]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            _ = value.heap_key
        if isinstance(value, Component):
            pending.extend(vars(value).values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return program


def _install_caches() -> Callable[[], None]:
    """Patch moto with the three caches and the inline program; returns a function that undoes it."""
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb,
    )
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    lock = threading.Lock()
    programs: dict[str, Any] = {}
    clients: dict[tuple, Any] = {}
    original_client_for = lambda_eval_utils.boto_client_for

    def cached_entrypoint(self) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with lock:
            program = programs.get(definition)
            if program is None:
                if len(programs) >= _PROGRAM_CACHE_SIZE:
                    programs.clear()
                program = programs[definition] = _heap_keys_primed(
                    AmazonStateLanguageParser.parse(definition)[0])
        return program

    @wraps(original_client_for)
    def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto ignores the state's credentials; its choice of endpoint depends on these two.
        key = (region, service, botocore_stubber.enabled, moto_server_port())
        with lock:
            client = clients.get(key)
            if client is None:
                client = clients[key] = original_client_for(region, service, state_credentials)
        return client

    threaded_program_eval = Program.eval

    def program_eval(self, env: Any) -> None:
        if self.timeout_seconds is not None and self.timeout_seconds.timeout_seconds is not None:
            threaded_program_eval(self, env)  # the machine has a timeout: moto's thread enforces it
            return
        env.next_state_name = self.start_at.start_at_name
        try:
            super(Program, self).eval(env)
        except Exception:  # what ending moto's worker thread with an exception did: log, carry on
            logging.getLogger(__name__).exception("state machine program failed")

    patches = [
        (ExecutionWorker, "_get_evaluation_entrypoint", cached_entrypoint),
        (Program, "eval", program_eval),
        (lambda_eval_utils, "boto_client_for", cached_client_for),
        (state_task_service_dynamodb, "boto_client_for", cached_client_for),
        (json_path, "parse", functools.lru_cache(maxsize=1024)(json_path.parse)),
        (result_path, "parse", functools.lru_cache(maxsize=1024)(result_path.parse)),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)

    def uninstall() -> None:
        for owner, name, original in originals:
            setattr(owner, name, original)
        with lock:
            programs.clear()
            clients.clear()

    return uninstall


# -- 6. Thread safety: one DynamoDB request at a time ---------------------------------------------
# moto's DynamoDB changes an item in place, and copies and serializes items, without a lock: two
# requests on one item at once can fail with "RuntimeError: dictionary changed size during
# iteration". `make bench` hit it (1 approval in 500) when the approval callback's UpdateItem of an
# order met the state machine's MarkShipped on the same order: the owner got "please try again"
# for a decision that had been delivered. DynamoDB applies the writes to an item one after the
# other; here one lock around each DynamoDB request (the in-process mock's and the moto server's:
# both go through DynamoHandler.call_action) does it. The requests are short and share one
# interpreter lock anyway: no measurable cost.
def _serialize_dynamodb() -> Callable[[], None]:
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    lock = threading.RLock()

    @wraps(original)
    def call_action(self):
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action

    def uninstall() -> None:
        DynamoHandler.call_action = original

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
