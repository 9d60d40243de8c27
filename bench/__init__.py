"""`make bench`: the order shop's benchmarks, run against the local mode (see BENCHMARKS.md).

Not part of `make test`. `python -m bench` runs everything and writes bench/results/latest.json,
BENCHMARKS.md and docs/bench-throughput.png; `python -m bench --help` lists the knobs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
_STARTED = time.monotonic()

# The demo catalog's "Stoneware mug" (14.90 EUR): every benchmark order is 2 of them.
BENCH_PRODUCT = "01JDF12740C1HB5QE4DT9TWB3R"
# The bench's customers are customerN@ this domain. Local mode's SES sandbox (on by default, as on a
# new AWS account) mails only verified recipients, so every shop the bench starts verifies the
# domain, as the README tells users to: otherwise each order fails at its first email.
CUSTOMER_DOMAIN = "example.com"
# And no invocation ends at its function's Timeout: under the bench's bursts every function, the
# engine and the emulator share one process, whose contention stretches an invocation's wall time
# far beyond its own container's on AWS (at 32 clients, 15 of 1,600 orders' emails passed 10 s).
SHOP_ENV = {"SES_VERIFIED": CUSTOMER_DOMAIN, "LAMBDA_TIMEOUTS": "off"}
# Seconds a wait may pass without one more order getting where it waits for: then the bench stops.
STALL_LIMIT = 60.0


class BenchFailed(RuntimeError):
    """The bench cannot measure what it set out to (orders failed, or stopped making progress);
    the message says why. `python -m bench` prints it and exits with 1."""


class ProgressDeadline:
    """A deadline on progress, not on total time: `check(count, note)` at each look raises
    BenchFailed once `count` has not grown for `limit` seconds."""

    def __init__(self, what: str, limit: float = STALL_LIMIT, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.limit, self.clock = what, limit, clock
        self.best, self.since = -1, clock()

    def check(self, count: int, note: str) -> None:
        now = self.clock()
        if count > self.best:
            self.best, self.since = count, now
        elif now - self.since > self.limit:
            raise BenchFailed(f"{self.what}: no progress for {self.limit:.0f}s ({note})")


def progress(message: str) -> None:
    """One progress line on stderr, with the time since the bench started."""
    elapsed = time.monotonic() - _STARTED
    print(f"[bench {int(elapsed) // 60:2d}:{int(elapsed) % 60:02d}] {message}", file=sys.stderr, flush=True)


def order_body(n: int = 0) -> dict[str, Any]:
    """A valid order request, like a customer's (the README's example), for customer `n`."""
    from shop.samples import sample_order_body

    return sample_order_body(BENCH_PRODUCT, customer_email=customer_email(n))


def customer_email(n: int) -> str:
    return f"customer{n}@{CUSTOMER_DOMAIN}"


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-fraction * len(sorted_values) // 1))))
    return sorted_values[rank - 1]
