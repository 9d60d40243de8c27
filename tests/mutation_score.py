"""`make mutation`'s verdict: the share of mutants the tests killed, per file, from mutmut's own
records (mutants/**/*.py.meta); each file must reach THRESHOLD. Not a test module: run it after
`mutmut run`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

THRESHOLD = 0.90
ROOT = Path(__file__).resolve().parents[1]
# mutmut's exit codes of the test run per mutant: 1 the tests failed (killed), 0 they passed
# (survived); a timeout (-24 / 36 / 152) also counts as killed, as mutmut counts it.
KILLED = {1, 3, -24, 24, 36, 152, 255}
SURVIVED = {0, 5}


def scores(mutants: Path = ROOT / "mutants") -> dict[str, tuple[int, int, int]]:
    """file -> (killed, survived, not run)"""
    found = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"].values()
        killed = sum(code in KILLED for code in codes)
        survived = sum(code in SURVIVED for code in codes)
        found[str(meta.relative_to(mutants)).removesuffix(".meta")] = (killed, survived, len(codes) - killed - survived)
    return found


def main() -> int:
    found = scores()
    if not found:
        print("no mutmut results under mutants/: run `make mutation`")
        return 1
    failing = []
    print(f"{'file':32} {'killed':>7} {'survived':>9} {'not run':>8} {'score':>6}")
    for path, (killed, survived, other) in found.items():
        score = killed / max(1, killed + survived + other)
        print(f"{path:32} {killed:7} {survived:9} {other:8} {score:6.1%}")
        if score < THRESHOLD:
            failing.append(path)
    if failing:
        print(f"below {THRESHOLD:.0%}: {', '.join(failing)}; `.venv/bin/mutmut results` lists the survivors")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
