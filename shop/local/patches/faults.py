"""Fault injection: chosen AWS operations meet what real networks and services do to a call, so
tests (and `FAULTS=... make run`, or `POST /_local/faults` while the shop runs) exercise every
retry and recovery path. Per operation, one fault at a time:

- `N`: the next N calls are throttled, a refusal that certainly changed nothing;
- `lost:N`: the next N calls take effect, then their caller gets a 500, as when the response is
  lost on its way back (the SDK retries a 500 on its own: the retry meets the effect);
- `slow:S`: the next call waits S seconds before it runs.

Throttles and lost responses hook the backend's method, behind IAM enforcement, so a lost call
really changed the backend. The delay hooks the request before it is dispatched: a slow
DynamoDB call must not hold the lock that serializes every DynamoDB request (dynamodb_lock.py).
Both apply to the handlers' in-process calls and to the state machine's own service integrations.
"""

from __future__ import annotations

import json
import math
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal
from xml.sax.saxutils import escape

from moto.core.exceptions import ServiceException
from moto.core.utils import camelcase_to_underscores
from werkzeug.exceptions import HTTPException

from shop.local.patches import Patch

FaultKind = Literal["throttle", "lost", "slow"]
_LOST = "lost:"
_SLOW = "slow:"


@dataclass(frozen=True)
class Fault:
    """What the next calls of one operation meet, written as in `FAULTS`: `12`, `lost:1`, `slow:2.5`."""

    kind: FaultKind
    count: int = 1  # calls still to meet it (a slow fault delays one call)
    seconds: float = 0.0  # the delay of a slow fault

    @classmethod
    def parse(cls, text: str) -> Fault:
        """`N`, `lost:N` or `slow:S`; ValueError saying what is wrong."""
        text = text.strip()
        if text.startswith(_SLOW):
            try:
                seconds = float(text[len(_SLOW):])
            except ValueError:
                seconds = math.nan
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError("slow:S needs S, the delay in seconds, a number of at least 0")
            return cls("slow", 1, seconds)
        kind: FaultKind = "lost" if text.startswith(_LOST) else "throttle"
        count = text.removeprefix(_LOST)
        if not (count.isascii() and count.isdigit()):
            raise ValueError("use N (throttle), lost:N (take effect, then answer 500) or slow:S (seconds)")
        return cls(kind, int(count))

    @property
    def pending(self) -> bool:
        return self.count > 0

    def __str__(self) -> str:
        if self.kind == "slow":
            return f"{_SLOW}{self.seconds:g}"
        return f"{_LOST}{self.count}" if self.kind == "lost" else str(self.count)


class InjectedFault(ServiceException):
    """Serialized in the protocol of whichever service raised it (it is not moto's own)."""


class LostResponse(HTTPException):
    """The 500 a caller gets when the response is lost: in the service's own error shape, with a
    5xx status, so botocore treats it as a server error and retries it (moto's error models have
    no 500 for most of these services, so a ServiceException would go out as a 400)."""

    code = 500

    def __init__(self, error_code: str, protocol: Literal["json", "query"]) -> None:
        super().__init__()
        self.error_code = error_code
        message = "We encountered an internal error. Please try again. (injected fault: lost response)"
        if protocol == "json":
            self.body = json.dumps({"__type": error_code, "message": message})
            self.content_type = "application/x-amz-json-1.0"
        else:
            self.body = (f"<ErrorResponse><Error><Type>Receiver</Type><Code>{error_code}</Code>"
                         f"<Message>{escape(message)}</Message></Error><RequestId>injected</RequestId></ErrorResponse>")
            self.content_type = "text/xml"
        self.description = self.body

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("X-Amzn-ErrorType", self.error_code), ("Content-Type", self.content_type)]

    def get_body(self, *args: Any, **kwargs: Any) -> str:
        return self.body


@dataclass(frozen=True)
class Target:
    """Where an operation is hooked, and the errors AWS would send for it."""

    owner: str  # the moto backend
    method: str
    throttle: Callable[[], Exception]
    lost: Callable[[], Exception]


def _query_throttle() -> Exception:
    return InjectedFault("Throttling", "Rate exceeded (injected fault)")


def _json_throttle() -> Exception:
    return InjectedFault("ThrottlingException", "Rate exceeded (injected fault)")


def _dynamodb_throttle() -> Exception:
    return InjectedFault("ProvisionedThroughputExceededException", "Throughput exceeded (injected fault)")


def _ses_lost() -> Exception:
    return LostResponse("InternalFailure", "query")  # AWS's common 500 code


def _sns_lost() -> Exception:
    return LostResponse("InternalError", "query")  # SNS's own, in its error model


def _sfn_lost() -> Exception:
    return LostResponse("InternalFailure", "json")


def _dynamodb_lost() -> Exception:
    return LostResponse("InternalServerError", "json")  # DynamoDB's own


_SFN = "moto.stepfunctions.parser.models:StepFunctionsParserBackend"
_DYNAMODB = "moto.dynamodb.models:DynamoDBBackend"
# `service.operation` (the service as moto's request handler names it) -> where it is hooked.
TARGETS: dict[str, Target] = {
    "ses.send_email": Target("moto.ses.models:SESBackend", "send_email", _query_throttle, _ses_lost),
    "sns.publish": Target("moto.sns.models:SNSBackend", "publish", _query_throttle, _sns_lost),
    "stepfunctions.send_task_success": Target(_SFN, "send_task_success", _json_throttle, _sfn_lost),
    "stepfunctions.send_task_failure": Target(_SFN, "send_task_failure", _json_throttle, _sfn_lost),
    "dynamodb.put_item": Target(_DYNAMODB, "put_item", _dynamodb_throttle, _dynamodb_lost),
    "dynamodb.update_item": Target(_DYNAMODB, "update_item", _dynamodb_throttle, _dynamodb_lost),
    "dynamodb.delete_item": Target(_DYNAMODB, "delete_item", _dynamodb_throttle, _dynamodb_lost),
    "dynamodb.get_item": Target(_DYNAMODB, "get_item", _dynamodb_throttle, _dynamodb_lost),
}


def _entry(name: str, value: object) -> Fault:
    """One `name=value` of a fault schedule; ValueError naming the entry."""
    if name not in TARGETS:
        raise ValueError(f"bad fault {name}={value}: {name!r} is not one of {sorted(TARGETS)}")
    if not isinstance(value, str):
        raise ValueError(f"bad fault {name}={value!r}: the value is a string, e.g. \"3\", \"lost:1\" or \"slow:2.5\"")
    try:
        return Fault.parse(value)
    except ValueError as error:
        raise ValueError(f"bad fault {name}={value}: {error}") from None


class Faults:
    """The fault schedule: `arm("ses.send_email", 3)` throttles the next 3 sends,
    `arm("dynamodb.put_item", Fault.parse("lost:1"))` loses the next put's response."""

    def __init__(self) -> None:
        # AWS's throttling codes are not in every service's error model; moto warns, harmlessly.
        warnings.filterwarnings("ignore", message=r"Exception\(InjectedFault\)")
        self._pending: dict[str, Fault] = {}
        self.injected: dict[str, int] = {}  # how many calls met a fault, per operation
        self._lock = threading.Lock()

    @staticmethod
    def parse(spec: str) -> dict[str, Fault]:
        """`ses.send_email=3,dynamodb.put_item=lost:1,sns.publish=slow:2` -> {name: fault}."""
        parts = (part.partition("=") for part in filter(None, (p.strip() for p in spec.split(","))))
        return Faults._schedule((name.strip(), value.strip()) for name, _, value in parts)

    @staticmethod
    def parse_mapping(schedule: Mapping[str, object]) -> dict[str, Fault]:
        """`{"dynamodb.update_item": "12"}` (as `POST /_local/faults` takes it) -> {name: fault}."""
        return Faults._schedule(schedule.items())

    @staticmethod
    def _schedule(pairs: Iterable[tuple[str, object]]) -> dict[str, Fault]:
        faults: dict[str, Fault] = {}
        for name, value in pairs:
            if name in faults:
                raise ValueError(f"bad fault {name}={value}: {name} is named twice")
            faults[name] = _entry(name, value)
        return faults

    def arm(self, name: str, fault: Fault | int) -> None:
        """Replace what `name` is armed with; a whole number throttles that many calls (0 disarms)."""
        self.arm_all({name: fault})

    def arm_all(self, faults: Mapping[str, Fault | int]) -> None:
        """Arm every one, or none if one is unknown."""
        armed = {name: Fault("throttle", fault) if isinstance(fault, int) else fault for name, fault in faults.items()}
        unknown = sorted(set(armed) - set(TARGETS))
        if unknown:
            raise ValueError(f"unknown fault {unknown[0]!r}: one of {sorted(TARGETS)}")
        with self._lock:
            for name, fault in armed.items():
                if fault.pending:
                    self._pending[name] = fault
                else:
                    self._pending.pop(name, None)

    def pending(self) -> dict[str, str]:
        """The faults still to happen, in `FAULTS` syntax: {"dynamodb.update_item": "12"}."""
        with self._lock:
            return {name: str(fault) for name, fault in sorted(self._pending.items())}

    def _take(self, name: str, kinds: tuple[FaultKind, ...]) -> Fault | None:
        """The fault this call of `name` meets, if it is of `kinds`, counted down."""
        if name not in self._pending:  # unlocked read: the common case, nothing armed
            return None
        with self._lock:
            fault = self._pending.get(name)
            if fault is None or fault.kind not in kinds:
                return None
            if fault.count > 1:
                self._pending[name] = Fault(fault.kind, fault.count - 1, fault.seconds)
            else:
                del self._pending[name]
            self.injected[name] = self.injected.get(name, 0) + 1
            return fault

    def patches(self) -> list[Patch]:
        """Every target answers normally until armed."""
        return [
            *(Patch(target.owner, target.method, self._faulty(name, target)) for name, target in TARGETS.items()),
            Patch("moto.core.responses:BaseResponse", "setup_class", self._delayed,
                  why="a slow call waits before it is dispatched, outside any lock of the service"),
        ]

    def _faulty(self, name: str, target: Target) -> Callable[[Any], Any]:
        def wrap(original: Any) -> Any:
            @wraps(original)
            def maybe_fail(*args, **kwargs):
                fault = self._take(name, ("throttle", "lost"))
                if fault is not None and fault.kind == "throttle":
                    raise target.throttle()
                result = original(*args, **kwargs)
                if fault is not None:  # lost: it took effect, and its caller never hears so
                    raise target.lost()
                return result

            return maybe_fail

        return wrap

    def _delayed(self, original: Any) -> Any:
        @wraps(original)
        def setup_then_maybe_wait(handler, *args, **kwargs):
            original(handler, *args, **kwargs)
            if self._pending:  # unlocked read: the common case, nothing armed
                name = f"{handler.service_name}.{camelcase_to_underscores(handler._get_action())}"
                fault = self._take(name, ("slow",))
                if fault is not None:
                    time.sleep(fault.seconds)

        return setup_then_maybe_wait
