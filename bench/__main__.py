"""`python -m bench` (`make bench`): every measurement of the issue in one run, in this order:

  5. cost per order, from the synthesized definition (instant)
  4. cold start proxy of each handler (fresh interpreters, before any load heats the machine)
  1. the order API under load, at each concurrency level
  2. the ceiling, at the same levels
  3. workflow completion (500 orders), then 3,000 pending approvals and the approvals listings' times
  6. set-up time: the first `make run` and `make test` from fresh clones, old set-up against new
     (10-20 minutes on its own: `python -m bench setup` runs only this one and rewrites only its
     section of BENCHMARKS.md)

Progress goes to stderr, the result table to stdout; every figure to bench/results/latest.json,
and, after a full run, BENCHMARKS.md and docs/bench-throughput.png are rewritten (a run of every
item but `setup`, e.g. `--only cost,cold,api,ceiling,workflow`, counts as full and keeps the set-up
section already there).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import RESULTS, ROOT, BenchFailed, progress, report

ITEMS = ("cost", "cold", "api", "ceiling", "workflow", "setup")
OPTIONAL = ("ceiling_inprocess",)  # only with --only: see bench/ceiling.py


def machine() -> dict[str, Any]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    os_name = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = f"{line.split('=', 1)[1].strip(chr(34))}, Linux {platform.release()}"
    except OSError:
        pass
    cores = os.cpu_count() or 0
    return {
        "cpu": cpu,
        "cores": cores,
        "memory_gb": round(memory_gb, 1),
        "os": os_name,
        "python": platform.python_version(),
        "summary": f"{cores} cores ({cpu}), {memory_gb:.0f} GiB",
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders-per-client", type=int, default=50)
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels (default 1,8,32)")
    parser.add_argument("--completion-orders", type=int, default=500)
    parser.add_argument("--pending-orders", type=int, default=3000,
                        help="orders left waiting for approval, then the listings timed (default 3000)")
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--setup-old", default=None, metavar="COMMIT",
                        help="the old set-up to compare with (default: the last commit before uv)")
    parser.add_argument("--only", default=",".join(ITEMS),
                        help=f"comma-separated subset of {','.join(ITEMS + OPTIONAL)} (default: {','.join(ITEMS)})")
    parser.add_argument("--template", type=Path, default=ROOT / "cdk.out" / "OrderShop.template.json")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--report-from", type=Path, metavar="JSON",
                        help="measure nothing: rewrite BENCHMARKS.md and the chart from a results file")
    parser.add_argument("--no-docs", action="store_true",
                        help="do not rewrite BENCHMARKS.md and the chart (implied by a partial run)")
    args = parser.parse_args(argv)
    args.levels = [int(level) for level in args.levels.split(",")]
    args.only = [item.strip() for item in args.only.split(",") if item.strip()]
    unknown = set(args.only) - set(ITEMS + OPTIONAL)
    if unknown:
        parser.error(f"unknown items {sorted(unknown)}; choose from {ITEMS + OPTIONAL}")
    return args


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except BenchFailed as failure:  # what the bench could not measure, and why: no traceback needed
        progress(f"FAILED: {failure}")
        return 1


def _main(argv: list[str]) -> int:
    if argv[:1] == ["setup"]:
        return setup_only(argv[1:])
    args = parse_args(argv)
    if args.report_from:
        import json

        results = json.loads(args.report_from.read_text())
        results["targets"] = report.targets(results)
        written = report.write_all(results, args.report_from, docs=True)
        print(report.terminal(results))
        progress("rewrote " + ", ".join(_shown(p) for p in written))
        return 0
    if set(args.only) - {"setup"} and not args.template.exists():
        sys.exit(f"{args.template} is missing: run `make synth` (or `make bench`, which does)")
    from bench import ceiling, cold_start, cost, load, workflow

    began, started = time.monotonic(), datetime.now(UTC)
    log_level = "INFO"  # what the stack deploys (shop/infra/lambda_bundle.py); the shop applies it locally too
    shop_env: dict[str, str] = {}
    results: dict[str, Any] = {
        "meta": {
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "command": "make bench",
            "argv": argv,
            "machine": machine(),
            "log_level": log_level,
            "params": {
                "orders_per_client": args.orders_per_client, "levels": args.levels,
                "completion_orders": args.completion_orders, "pending_orders": args.pending_orders,
                "import_runs": args.import_runs,
            },
        },
    }
    progress(f"bench: {', '.join(args.only)}; results to {_shown(args.out)}")
    from bench.shop_process import LOGS

    for old_log in LOGS.glob("*.log"):  # the shops' logs of this run only
        old_log.unlink()
    if "cost" in args.only:
        progress("cost: counting the state machine's paths")
        results["cost"] = cost.analyse(args.template)
    if "cold" in args.only:
        results["cold_start"] = cold_start.run(args.template.parent, args.template, runs=args.import_runs)
    if {"api", "ceiling", "ceiling_inprocess"} & set(args.only):
        results["load"] = {}
        if "api" in args.only:
            results["load"]["api"] = [r.to_json() for r in load.run(args.levels, args.orders_per_client, shop_env)]
        if "ceiling" in args.only:
            results["load"]["ceiling"] = [r.to_json() for r in ceiling.run(args.levels, args.orders_per_client,
                                                                            shop_env)]
        if "ceiling_inprocess" in args.only:
            results["load"]["ceiling_inprocess"] = [
                r.to_json() for r in ceiling.run_inprocess(args.levels, args.orders_per_client, shop_env)]
    if "workflow" in args.only:
        results["workflow"] = {
            "completion": workflow.completion(args.completion_orders, shop_env=shop_env),
            "pending": workflow.pending(args.pending_orders, shop_env=shop_env),
        }
    if "setup" in args.only:
        from bench import setup_time

        load_average = os.getloadavg()[0]
        results["setup"] = {**setup_time.run(**({"old": args.setup_old} if args.setup_old else {})),
                            "load_average": load_average}
    results["targets"] = report.targets(results)
    results["meta"]["duration_seconds"] = time.monotonic() - began
    # Set-up time takes longer than everything else together and changes only with the set-up: a run
    # of every other item rewrites the docs too, keeping the set-up section of its last run (dated).
    full = set(ITEMS) - {"setup"} <= set(args.only)
    written = report.write_all(results, args.out, docs=full and not args.no_docs)
    print(report.terminal(results))
    progress(f"done in {results['meta']['duration_seconds'] / 60:.1f} min; wrote "
             + ", ".join(_shown(p) for p in written))
    for missed in report.failed_targets(results):
        progress(f"FAILED: target not met: {missed['target']}: {missed['value']}")
    return 1 if report.failed_targets(results) else 0


def setup_only(argv: list[str]) -> int:
    """`python -m bench setup [--setup-old COMMIT]`: the set-up time alone, into its own results
    file and its own section of BENCHMARKS.md."""
    from bench import setup_time

    parser = argparse.ArgumentParser(prog="python -m bench setup", description=setup_time.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setup-old", default=setup_time.OLD_COMMIT, metavar="COMMIT")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite BENCHMARKS.md")
    args = parser.parse_args(argv)
    began, started = time.monotonic(), datetime.now(UTC)
    results: dict[str, Any] = {"meta": {"started": started.strftime("%Y-%m-%d %H:%M UTC"),
                                        "command": "python -m bench setup", "argv": argv, "machine": machine()}}
    load_average = os.getloadavg()[0]
    results["setup"] = {**setup_time.run(old=args.setup_old), "load_average": load_average}
    results["meta"]["duration_seconds"] = time.monotonic() - began
    report.write_json(results, setup_time.RESULTS_FILE)
    written = [setup_time.RESULTS_FILE]
    if not args.no_docs:
        written.append(report.write_setup_section(results))
    print(report.terminal(results))
    progress(f"done in {results['meta']['duration_seconds'] / 60:.1f} min; wrote "
             + ", ".join(_shown(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
