"""Everything the shop sent, as a person or a script wants to read it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any


class Outbox:
    """Thread-safe, in sending order. Entries follow the `/outbox.json` format:
    {"channel": "email" | "sns", "to": [...], "subject": ..., "body": ..., "sentAt": ISO 8601}."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, *, channel: str, to: list[str], subject: str, body: str) -> None:
        entry = {
            "channel": channel,
            "to": list(to),
            "subject": subject,
            "body": body,
            "sentAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
