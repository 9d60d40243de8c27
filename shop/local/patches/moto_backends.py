"""Looking up a service's backend without moto's global lock, once the backend exists.

moto finds the backend of every request with `BackendDict[account][region]`, and
`BackendDict.__getitem__` takes moto's one global `backend_lock` (an RLock) and copies the dict's
keys on every look-up, to create the account's backend when it is missing. Under a burst, a thread
holding that lock loses the interpreter lock like any other, and every request of every service
queues behind it: a stack dump of the shop falling behind (issue 18, item 10) had ~40 threads
waiting there. An account's backend is never removed while the shop runs (moto's reset, which
clears them, takes the same lock and happens at stop), so one that is already there is returned
without the lock; a missing one is still created under it, by moto. `warm` creates the backends
the deployed stack's principals use when the stack deploys, so that no burst creates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shop.local.patches import Patch


def patches() -> list[Patch]:
    def wrap(locked_getitem: Any) -> Any:
        def getitem_unlocked_when_present(self: Any, account_id: str) -> Any:
            try:
                return dict.__getitem__(self, account_id)
            except KeyError:
                return locked_getitem(self, account_id)  # created under moto's lock, as moto does

        return getitem_unlocked_when_present

    return [Patch("moto.core.base_backend:BackendDict", "__getitem__", wrap)]


def warm(services: Iterable[str], *, account_id: str, region: str) -> None:
    """Create the backend of each botocore service (moto's backends are named alike) in the
    account and region, where moto has one."""
    from moto.backends import get_backend

    for service in services:
        try:
            backends = get_backend(service)  # type: ignore[call-overload]
        except ModuleNotFoundError:
            continue  # a service moto does not emulate: its calls fail as they would without this
        backends[account_id][region]
