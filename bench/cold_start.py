"""Item 4: a cold start proxy for each Lambda handler, and its deployment package.

Import time: `python -X importtime -c "import shop.handlers.<name>"` in a fresh interpreter, run
like Lambda runs it: from a copy of the function's code asset as CDK bundled it (cdk.out/asset.*,
the working directory, as /var/task) with the dependency layer's `python/` on PYTHONPATH (as
/opt/python), the function's environment variables from the template (references replaced by
placeholders), AWS_REGION and AWS_LAMBDA_FUNCTION_NAME set, and nothing else of the project on the
path. boto3, which the Lambda runtime provides, comes from the bench's environment (its
site-packages stand in for the runtime's); moto is never imported (checked). The figure is the sum of the cumulative times of the top-level imports the
statement triggers (`shop`, `shop.handlers`, `shop.handlers.<name>`, as -X importtime reports
them), median of `runs` runs, nothing written (PYTHONDONTWRITEBYTECODE: /var/task and /opt are
read-only on Lambda), measured twice, side by side:

- with bytecode: the copy compiled by this interpreter (unchecked-hash .pyc, as the bundles
  once shipped them). That is the python3.11 runtime running an asset built on this 3.11 machine;
- without bytecode: every .pyc removed, so each cold start compiles what it imports in memory.
  That is what the python3.13 runtime does with any asset built here: it ignores 3.11's .pyc
  (another cache tag), and shop/infra/lambda_bundle.py now ships none.

"as deployed" is whichever of the two the function's runtime gets from the asset as CDK bundled
it: with bytecode only when the asset ships .pyc for the runtime's Python and the bench runs it.

Package size: the code asset and the layer, as files on disk and as a zip (deflate, level 6,
built in memory, roughly what CDK uploads), and whether either contains boto3 or botocore.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench import progress

IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( +)(\S+)\s*$")
FORBIDDEN = ("boto3", "botocore")
LAMBDA_REGION = "us-east-1"  # any region Lambda sets: importing a handler calls nothing


def _placeholder(value: Any) -> str:
    return value if isinstance(value, str) else "placeholder"


def _asset_dirs(cdk_out: Path, template: dict[str, Any]) -> dict[str, Path]:
    """Asset hash (the S3 key without .zip) -> its directory in cdk.out."""
    manifest = json.loads((cdk_out / "OrderShop.assets.json").read_text())
    return {h: cdk_out / f["source"]["path"] for h, f in manifest["files"].items() if f["source"]["packaging"] == "zip"}


def functions(cdk_out: Path, template: dict[str, Any]) -> list[dict[str, Any]]:
    """Each function of the template: handler, code directory, layer directories, environment."""
    assets = _asset_dirs(cdk_out, template)
    resources = template["Resources"]
    found = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        code = assets[props["Code"]["S3Key"].removesuffix(".zip")]
        layers = [assets[resources[layer["Ref"]]["Properties"]["Content"]["S3Key"].removesuffix(".zip")]
                  for layer in props.get("Layers", [])]
        variables = props.get("Environment", {}).get("Variables", {})
        found.append({
            "logical_id": logical_id,
            "handler": props["Handler"],
            "runtime": props["Runtime"],
            "module": props["Handler"].rpartition(".")[0],
            "code": code,
            "layers": layers,
            "environment": {key: _placeholder(value) for key, value in variables.items()},
            "memory_mb": props.get("MemorySize", 128),
        })
    return sorted(found, key=lambda f: f["module"])


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def package_size(directory: Path) -> dict[str, Any]:
    files = _files(directory)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for file in files:
            archive.write(file, file.relative_to(directory).as_posix())
    top = {part for file in files for part in file.relative_to(directory).parts[:2]}
    bundled = sorted(name for name in FORBIDDEN if any(p == name or p.startswith(f"{name}-") for p in top))
    return {
        "path": directory.name,
        "files": len(files),
        "bytes": sum(f.stat().st_size for f in files),
        "zipped_bytes": len(buffer.getvalue()),
        "bundles": bundled,
    }


def _lambda_like_copy(function: dict[str, Any], into: Path, *, bytecode: bool) -> tuple[Path, list[Path]]:
    """The code asset and the layers as bundled, then compiled by this interpreter (`bytecode`)
    or stripped of every .pyc."""
    task = into / "task"
    shutil.copytree(function["code"], task, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    layers = []
    for index, layer in enumerate(function["layers"]):
        target = into / f"opt{index}"
        shutil.copytree(layer, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        layers.append(target / "python")
    if bytecode:
        for directory in (task, *layers):
            subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",
                            str(directory)], check=True)
    return task, layers


def _import_once(module: str, task: Path, layers: list[Path], environment: dict[str, str]) -> tuple[float, list[str]]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join(str(p) for p in layers),
        "PYTHONDONTWRITEBYTECODE": "1",  # read-only on Lambda: nothing compiled is kept
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_REGION": LAMBDA_REGION,
        "AWS_DEFAULT_REGION": LAMBDA_REGION,
        "AWS_LAMBDA_FUNCTION_NAME": module.rpartition(".")[2],
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        **environment,
    }
    completed = subprocess.run(
        # The import, then a check that it came from the bundle (exit 3 otherwise): the statement
        # after the import adds nothing to what -X importtime reports.
        [sys.executable, "-X", "importtime", "-c",
         f"import sys, {module} as m; sys.exit(0 if m.__file__.startswith({str(task)!r}) else 3)"],
        cwd=task, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    if completed.returncode == 3:
        raise RuntimeError(f"{module} was not imported from the bundle in {task}")
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed: {completed.stderr[-2000:]}")
    lines = [m for m in map(IMPORT_LINE.match, completed.stderr.splitlines()) if m]
    names = [m.group(4) for m in lines]
    # Top-level entries (one space of indentation) after the interpreter's own start-up, which
    # ends with `site`: what `import module` costs (its parents are nested inside it).
    top = [m for m in lines if len(m.group(3)) == 1]
    start = max((i + 1 for i, m in enumerate(top) if m.group(4) == "site"), default=0)
    total_us = sum(int(m.group(2)) for m in top[start:])
    return total_us / 1000, names


def ships_bytecode_for(function: dict[str, Any], runtime: str) -> bool:
    """Whether the function's code asset or layers, as bundled, hold .pyc for the runtime's Python."""
    tag = "cpython-" + runtime.removeprefix("python").replace(".", "")
    return any(any(directory.rglob(f"*.{tag}.pyc")) for directory in [function["code"], *function["layers"]])


def import_times(function: dict[str, Any], runs: int) -> dict[str, Any]:
    module, environment = function["module"], function["environment"]
    timings: dict[str, list[tuple[float, list[str]]]] = {}
    for kind, bytecode in (("with_bytecode", True), ("without_bytecode", False)):
        with tempfile.TemporaryDirectory(prefix="bench-coldstart-") as tmp:
            task, layers = _lambda_like_copy(function, Path(tmp), bytecode=bytecode)
            timings[kind] = [_import_once(module, task, layers, environment) for _ in range(runs)]
    names = timings["with_bytecode"][-1][1]
    if any(n == "moto" or n.startswith("moto.") for n in names):
        raise RuntimeError(f"importing {module} imported moto: not what a Lambda would run")
    with_ms = [ms for ms, _ in timings["with_bytecode"]]
    without_ms = [ms for ms, _ in timings["without_bytecode"]]
    runtime_python = function["runtime"].removeprefix("python")
    deployed_with_bytecode = (ships_bytecode_for(function, function["runtime"])
                              and f"{sys.version_info.major}.{sys.version_info.minor}" == runtime_python)
    return {
        "module": module,
        "runs": runs,
        "runtime": function["runtime"],
        "median_ms_with_bytecode": statistics.median(with_ms),
        "median_ms_without_bytecode": statistics.median(without_ms),
        "without_over_with": statistics.median(without_ms) / statistics.median(with_ms),
        "as_deployed": "with_bytecode" if deployed_with_bytecode else "without_bytecode",
        "median_ms_as_deployed": statistics.median(with_ms if deployed_with_bytecode else without_ms),
        "all_ms_with_bytecode": with_ms,
        "all_ms_without_bytecode": without_ms,
        "modules_imported": len(names),
        "imports_boto3_at_import": any(n == "boto3" or n.startswith("boto3.") for n in names),
    }


# What the handlers import before any tracing (Powertools' Logger and event handler, boto3), and
# what tracing would add: Powertools' Tracer, which imports the X-Ray SDK (not in the layer).
TRACER_BASELINE = "import aws_lambda_powertools.logging, aws_lambda_powertools.event_handler, boto3"
TRACER_STATEMENT = "from aws_lambda_powertools import Tracer; Tracer(service='bench')"
# Issue 13, item 7: the functions get X-Ray tracing only if it costs less than this at import.
TRACER_MS_LIMIT = 20


def _self_times_us(statement: str) -> dict[str, int]:
    """Each module `statement` imports in a fresh interpreter -> its own (self) import time."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "AWS_REGION": LAMBDA_REGION,
           "AWS_DEFAULT_REGION": LAMBDA_REGION, "AWS_LAMBDA_FUNCTION_NAME": "bench", "PYTHONDONTWRITEBYTECODE": "1"}
    completed = subprocess.run([sys.executable, "-X", "importtime", "-c", statement], env=env,
                               capture_output=True, text=True, timeout=120, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{statement!r} failed: {completed.stderr[-2000:]}")
    return {m.group(4): int(m.group(1)) for m in map(IMPORT_LINE.match, completed.stderr.splitlines()) if m}


def marginal_ms(baseline: dict[str, int], extended: dict[str, int]) -> float:
    """What `extended` costs beyond `baseline`: the self times of the modules only it imports."""
    return sum(us for name, us in extended.items() if name not in baseline) / 1000


def tracer_import_cost(runs: int = 7) -> dict[str, Any]:
    """The import time Powertools' Tracer (and the X-Ray SDK it brings) would add to a handler:
    median over `runs` pairs of fresh interpreters, from the bench's environment (the layer does not
    ship aws_xray_sdk). Creating the Tracer is part of it: that is when the SDK is imported, and the
    SDK builds a botocore X-Ray client (for sampling rules) while it is imported."""
    costs = []
    for _ in range(runs):
        baseline = _self_times_us(TRACER_BASELINE)
        costs.append(marginal_ms(baseline, _self_times_us(f"{TRACER_BASELINE}; {TRACER_STATEMENT}")))
    median = statistics.median(costs)
    return {"runs": runs, "median_ms": median, "all_ms": costs, "limit_ms": TRACER_MS_LIMIT,
            "traced": median < TRACER_MS_LIMIT}


def run(cdk_out: Path, template_path: Path, runs: int = 7) -> dict[str, Any]:
    template = json.loads(template_path.read_text())
    found = functions(cdk_out, template)
    sizes: dict[str, dict[str, Any]] = {}
    handlers = []
    for function in found:
        for directory in [function["code"], *function["layers"]]:
            if directory.name not in sizes:
                sizes[directory.name] = package_size(directory)
        code, layers = sizes[function["code"].name], [sizes[layer.name] for layer in function["layers"]]
        progress(f"cold start: {function['module']} on {function['runtime']} ({runs} fresh interpreters "
                 f"with this Python's bytecode, then {runs} without any)")
        timing = import_times(function, runs)
        handlers.append({
            **timing,
            "handler": function["handler"],
            "logical_id": function["logical_id"],
            "code_asset": code["path"],
            "layers": [layer["path"] for layer in layers],
            "package_bytes": code["bytes"] + sum(layer["bytes"] for layer in layers),
            "package_zipped_bytes": code["zipped_bytes"] + sum(layer["zipped_bytes"] for layer in layers),
            "bundles_boto3": sorted({name for part in [code, *layers] for name in part["bundles"]}),
        })
    progress(f"cold start: Powertools Tracer ({runs} x 2 fresh interpreters)")
    tracer = tracer_import_cost(runs)
    return {"python": sys.version.split()[0], "runtimes": sorted({h["runtime"] for h in handlers}),
            "handlers": handlers, "assets": sizes, "tracer": tracer}
