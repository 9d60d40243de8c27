"""Fault injection: chosen backend operations answer a throttling error the next N times, so tests
(and `FAULTS=... make run`) exercise every retry and recovery path."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from functools import wraps
from typing import Any

from moto.core.exceptions import ServiceException

from shop.local.patches import Patch


class InjectedFault(ServiceException):
    """Serialized in the protocol of whichever service raised it (it is not moto's own)."""


def _query_throttle() -> Exception:
    return InjectedFault("Throttling", "Rate exceeded (injected fault)")


def _json_throttle() -> Exception:
    return InjectedFault("ThrottlingException", "Rate exceeded (injected fault)")


def _dynamodb_throttle() -> Exception:
    return InjectedFault("ProvisionedThroughputExceededException", "Throughput exceeded (injected fault)")


_SFN = "moto.stepfunctions.parser.models:StepFunctionsParserBackend"
_DYNAMODB = "moto.dynamodb.models:DynamoDBBackend"
# `service.operation` -> (moto backend, method, the throttling error AWS would send).
TARGETS: dict[str, tuple[str, str, Callable[[], Exception]]] = {
    "ses.send_email": ("moto.ses.models:SESBackend", "send_email", _query_throttle),
    "sns.publish": ("moto.sns.models:SNSBackend", "publish", _query_throttle),
    "stepfunctions.send_task_success": (_SFN, "send_task_success", _json_throttle),
    "stepfunctions.send_task_failure": (_SFN, "send_task_failure", _json_throttle),
    "dynamodb.put_item": (_DYNAMODB, "put_item", _dynamodb_throttle),
    "dynamodb.update_item": (_DYNAMODB, "update_item", _dynamodb_throttle),
    "dynamodb.delete_item": (_DYNAMODB, "delete_item", _dynamodb_throttle),
    "dynamodb.get_item": (_DYNAMODB, "get_item", _dynamodb_throttle),
}


class Faults:
    """Armed faults: `arm("ses.send_email", 3)` makes the next 3 sends fail with throttling."""

    def __init__(self) -> None:
        # AWS's throttling codes are not in every service's error model; moto warns, harmlessly.
        warnings.filterwarnings("ignore", message=r"Exception\(InjectedFault\)")
        self._remaining: dict[str, int] = {}
        self.injected: dict[str, int] = {}  # how many were actually raised, per operation
        self._lock = threading.Lock()

    @staticmethod
    def parse(spec: str) -> dict[str, int]:
        """`ses.send_email=3,stepfunctions.send_task_success=1` -> {name: count}."""
        faults = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            name, _, count = part.partition("=")
            if name not in TARGETS or not count.strip().isdigit():
                raise ValueError(f"bad fault {part!r}: use one of {sorted(TARGETS)} as name=count")
            faults[name] = int(count)
        return faults

    def arm(self, name: str, count: int) -> None:
        if name not in TARGETS:
            raise ValueError(f"unknown fault {name!r}: one of {sorted(TARGETS)}")
        with self._lock:
            self._remaining[name] = count

    def patches(self) -> list[Patch]:
        """Every target answers normally until armed."""
        return [Patch(owner, method, self._failing(name, error))
                for name, (owner, method, error) in TARGETS.items()]

    def _failing(self, name: str, error: Callable[[], Exception]) -> Callable[[Any], Any]:
        def wrap(original: Any) -> Any:
            @wraps(original)
            def maybe_fail(*args, **kwargs):
                if self._remaining.get(name):  # unlocked read: the common case, nothing armed
                    with self._lock:
                        remaining = self._remaining.get(name, 0)
                        if remaining > 0:
                            self._remaining[name] = remaining - 1
                            self.injected[name] = self.injected.get(name, 0) + 1
                            raise error()
                return original(*args, **kwargs)

            return maybe_fail

        return wrap
