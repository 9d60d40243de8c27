"""Each function sees exactly its own environment, while every function runs in this one process.

`os.environ` is one mapping for the whole process; on AWS each function has its own. While
`of_function(variables)` is active in a thread, `os.environ` (and so `os.getenv`, botocore's
credential and region lookups, Powertools' settings) reads and writes `variables` in that thread
only; every other thread, and this one afterwards, sees the process's own environment, untouched.
It works by giving the one `os.environ` object a subclass of its own class, so every reference to
it that a library already holds sees the same thing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar

_ProcessEnviron = type(os.environ)
_function_environment: ContextVar[MutableMapping[str, str] | None] = ContextVar("function_environment",
                                                                                default=None)


class _PerFunctionEnviron(_ProcessEnviron):  # type: ignore[misc, valid-type]
    def __getitem__(self, key: str) -> str:
        variables = _function_environment.get()
        return super().__getitem__(key) if variables is None else variables[key]

    def __setitem__(self, key: str, value: str) -> None:
        variables = _function_environment.get()
        if variables is None:
            super().__setitem__(key, value)
        else:
            variables[key] = str(value)

    def __delitem__(self, key: str) -> None:
        variables = _function_environment.get()
        if variables is None:
            super().__delitem__(key)
        else:
            del variables[key]

    def __iter__(self) -> Iterator[str]:
        variables = _function_environment.get()
        return super().__iter__() if variables is None else iter(list(variables))

    def __len__(self) -> int:
        variables = _function_environment.get()
        return super().__len__() if variables is None else len(variables)

    def copy(self) -> dict[str, str]:
        return dict(self)


@contextmanager
def per_function() -> Iterator[None]:
    """Make `os.environ` follow the running function for the duration of the block."""
    os.environ.__class__ = _PerFunctionEnviron
    try:
        yield
    finally:
        os.environ.__class__ = _ProcessEnviron


@contextmanager
def of_function(variables: MutableMapping[str, str]) -> Iterator[None]:
    """In this thread, `os.environ` is `variables` until the block ends."""
    token = _function_environment.set(variables)
    try:
        yield
    finally:
        _function_environment.reset(token)
