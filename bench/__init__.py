"""`make bench`: the order shop's benchmarks, run against the local mode (see BENCHMARKS.md).

Not part of `make test`. `python -m bench` runs everything and writes bench/results/latest.json,
BENCHMARKS.md and docs/bench-throughput.png; `python -m bench --help` lists the knobs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
_STARTED = time.monotonic()

# The demo catalog's "Stoneware mug" (14.90 EUR): every benchmark order is 2 of them.
BENCH_PRODUCT = "01JDF12740C1HB5QE4DT9TWB3R"


def progress(message: str) -> None:
    """One progress line on stderr, with the time since the bench started."""
    elapsed = time.monotonic() - _STARTED
    print(f"[bench {int(elapsed) // 60:2d}:{int(elapsed) % 60:02d}] {message}", file=sys.stderr, flush=True)


def order_body(n: int = 0) -> dict[str, Any]:
    """A valid order request, like a customer's (the README's example), for customer `n`."""
    from shop.samples import sample_order_body

    return sample_order_body(BENCH_PRODUCT, customer_email=f"customer{n}@example.com")


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), int(-(-fraction * len(sorted_values) // 1))))
    return sorted_values[rank - 1]
