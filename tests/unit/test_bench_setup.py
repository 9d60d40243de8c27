"""The set-up benchmark's bookkeeping: phases read from make's echoed commands, and its section of
BENCHMARKS.md rewritten in place (the measurement itself takes minutes: `python -m bench setup`)."""

from __future__ import annotations

import re

from bench import report, setup_time


class EchoedLines:
    """What setup_time.Make records: each output line with the seconds since make started."""

    def __init__(self, lines: list[tuple[float, str]]) -> None:
        self.lines = lines

    def first(self, pattern: re.Pattern[str]) -> float | None:
        return next((at for at, line in self.lines if pattern.search(line)), None)


def test_phases_run_from_one_echoed_command_to_the_next():
    make = EchoedLines([
        (0.1, "python3 -m venv --without-pip .venv"),
        (12.0, "npm install --prefix .node --no-save --no-audit --no-fund --loglevel=error node@24.21.0"),
        (20.0, "CDK_VALIDATION=false .venv/bin/python app.py"),
        (21.0, "Bundling asset OrderShop/Code/Dependencies/Code/Stage..."),
        (35.0, "npm ci --omit=dev --no-audit --no-fund --loglevel=error"),
        (38.0, ".venv/bin/python -m shop.local"),
    ])
    assert setup_time.phases(make, answered=50.0) == {
        "install_seconds": 12.0, "node_seconds": 8.0, "synth_seconds": 18.0, "shop_start_seconds": 12.0}


def test_a_phase_make_did_not_run_is_none_and_the_others_still_add_up():
    make = EchoedLines([(30.0, ".venv/bin/python app.py"), (40.0, ".venv/bin/python -m shop.local")])
    figures = setup_time.phases(make, answered=45.0)
    assert figures == {"install_seconds": 30.0, "node_seconds": None, "synth_seconds": 10.0, "shop_start_seconds": 5.0}


def results(run_seconds: float) -> dict:
    run = {"commit": "abc1234", "seconds_to_shop_answering": run_seconds, "install_seconds": 1.0,
           "node_seconds": None, "synth_seconds": 1.0, "shop_start_seconds": 1.0}
    return {
        "meta": {"started": "2026-12-01 04:00 UTC", "machine": {"summary": "2 cores"}},
        "setup": {"load_average": 1.0, "speedup": {"run": 2.0, "test": 2.0}, "setups": {
            "old": {"run": run, "test": {"commit": "abc1234", "seconds_to_pytest_start": 10.0}},
            "new": {"run": run, "test": {"commit": "abc1234", "seconds_to_pytest_start": 5.0}}}},
    }


def test_the_setup_section_goes_before_the_notes_once_and_is_then_replaced(tmp_path, monkeypatch):
    benchmarks, notes = tmp_path / "BENCHMARKS.md", tmp_path / "NOTES.md"
    notes.write_text("## What limited the local runtime\n\nprose\n")
    benchmarks.write_text("# Benchmarks\n\n## 5. Cost\n\ntable\n\n" + notes.read_text())
    monkeypatch.setattr(report, "BENCHMARKS", benchmarks)
    monkeypatch.setattr(report, "NOTES", notes)

    report.write_setup_section(results(run_seconds=111.0))
    report.write_setup_section(results(run_seconds=222.0))

    text = benchmarks.read_text()
    assert text.count(report.SETUP_BEGIN) == 1 and text.count(report.SETUP_END) == 1
    assert "222 s" in text and "111 s" not in text
    assert text.index("## 5. Cost") < text.index(report.SETUP_BEGIN) < text.index("## What limited")
