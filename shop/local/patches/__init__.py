"""Every change local mode makes to moto's internals, declared as data and applied by one mechanism.

Each module here is named for what it patches and exposes `patches(...) -> list[Patch]`. `applied()`
installs a list and undoes it in reverse order when the block ends, so seams stack (the outbox
capture and the SES sandbox both wrap `SESBackend.send_email`) and unwind cleanly. A target that moto
renamed or moved fails loudly when the shop starts, never silently; `tests/integration/
test_moto_hooks.py` resolves the same declarations without starting anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any


class MissingTarget(RuntimeError):
    """moto no longer has what a patch replaces: the pinned version changed under local mode."""


@dataclass(frozen=True)
class Patch:
    """Replace `owner.name` (owner as `module:Class` or `module`) with `wrap(original)`."""

    owner: str
    name: str
    wrap: Callable[[Any], Any]
    why: str = ""

    def resolve_owner(self) -> Any:
        module_name, _, attribute_path = self.owner.partition(":")
        try:
            value: Any = importlib.import_module(module_name)
            for attribute in filter(None, attribute_path.split(".")):
                value = getattr(value, attribute)
        except (ImportError, AttributeError) as error:
            raise MissingTarget(f"{self.owner} is gone from moto ({error}); local mode needs it") from None
        return value

    def original(self) -> Any:
        owner = self.resolve_owner()
        try:
            return getattr(owner, self.name)
        except AttributeError:
            raise MissingTarget(f"{self.owner}.{self.name} is gone from moto; local mode patches it") from None


@contextmanager
def applied(patches: Iterable[Patch]) -> Iterator[None]:
    """Install every patch (in order), and undo them all (in reverse) when the block ends."""
    with ExitStack() as undo:
        for patch in patches:
            owner, original = patch.resolve_owner(), patch.original()
            # The owner's own attribute, not an inherited one: undoing must restore exactly that.
            had_own = patch.name in vars(owner)
            setattr(owner, patch.name, patch.wrap(original))
            if had_own:
                undo.callback(setattr, owner, patch.name, original)
            else:
                undo.callback(delattr, owner, patch.name)
        yield
