"""What a Lambda function keeps for the life of one container (execution environment).

On AWS a function's container keeps its module-level state between invocations: boto3 clients,
the settings read from its environment, the link-signing key. A cold start begins with none of
them, and no two functions ever share one. `per_container` caches a value for the container it
was made in: on AWS a process is one container, so it is a plain cache.

Local mode runs every function in one process. It says whose code runs in this thread
(`running_as`), which gives each function caches of its own, and `cold_start()` drops every
cached value at once, which stands for new containers. Every container-lived value goes through
this one decorator, so there is no list of caches to keep in step with the code.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

# The function whose code runs in this thread; "" outside local mode's invocations (on AWS the
# whole process is that function's container).
_container: ContextVar[str] = ContextVar("lambda_container", default="")
_caches: list[dict[Any, Any]] = []
_lock = threading.Lock()


def per_container(function: Callable[P, R]) -> Callable[P, R]:
    """Cache `function`'s result per container and arguments (which must be hashable)."""
    values: dict[Any, Any] = {}
    making: dict[Any, threading.Lock] = {}
    with _lock:
        _caches.append(values)

    @functools.wraps(function)
    def cached(*args: P.args, **kwargs: P.kwargs) -> R:
        key = (_container.get(), args, tuple(sorted(kwargs.items())))
        try:
            return values[key]
        except KeyError:
            pass
        # Made once per container, as in a Lambda container (which runs one request at a time):
        # local mode's concurrent invocations of one function wait for the first to make it.
        with _lock:
            lock = making.setdefault(key, threading.Lock())
        with lock:
            if key not in values:
                values[key] = function(*args, **kwargs)
            return values[key]

    return cached


def current() -> str:
    return _container.get()


@contextmanager
def running_as(container: str) -> Iterator[None]:
    """Run the block as code of `container` (a function's name): its own cached values."""
    token = _container.set(container)
    try:
        yield
    finally:
        _container.reset(token)


def cold_start() -> None:
    """Forget every container's cached values: the next call of any function starts cold."""
    with _lock:
        for values in _caches:
            values.clear()
