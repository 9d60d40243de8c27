"""The code asset and the dependency layer as Lambda will run them, and as CDK hashes them.

- The layer is self-contained: it ships every requirement of what it ships, and the handlers
  import in a clean interpreter that has only the code asset, the layer and the boto3/botocore
  the functions' runtime ships (requirements/lambda-runtime.txt, installed by `make test`).
- The assets are reproducible: the same sources built in another folder give the same hashes.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from shop.infra import lambda_bundle
from shop.infra.lambda_bundle import RUNTIME, lambda_requirements

# What the Lambda runtime provides on its own; anything else a function needs is in the layer.
RUNTIME_PROVIDED = {"boto3", "botocore"}
# Installed by the Makefile (`make test`) from requirements/lambda-runtime.txt, beside the venv's
# own packages: the SDK of the Lambda runtime, not the newer one the tests use with moto.
LAMBDA_RUNTIME_SDK = Path(sys.prefix) / "lambda-runtime"
# The environment markers of the functions' runtime on Graviton (ShopCode.ARCHITECTURE): its
# Python, not the one running the tests (a requirement may apply to one and not the other).
_RUNTIME_PYTHON = RUNTIME.name.removeprefix("python")
LAMBDA_MARKERS = {"python_version": _RUNTIME_PYTHON, "python_full_version": f"{_RUNTIME_PYTHON}.0", "sys_platform": "linux",
                  "platform_system": "Linux", "platform_machine": "aarch64", "os_name": "posix",
                  "implementation_name": "cpython", "platform_python_implementation": "CPython",
                  "extra": ""}


def _layer_requirements() -> dict[str, set[str]]:
    """Every distribution that a distribution of the layer requires on Lambda -> who requires it."""
    required: dict[str, set[str]] = {}
    for name in lambda_requirements():
        for line in metadata.requires(name) or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(LAMBDA_MARKERS):
                required.setdefault(canonicalize_name(requirement.name), set()).add(name)
    return required


def test_the_layer_ships_every_requirement_of_what_it_ships_at_a_version_it_accepts():
    shipped = {canonicalize_name(name) for name in lambda_requirements()}
    for name, requirers in _layer_requirements().items():
        if name in RUNTIME_PROVIDED:
            continue
        assert name in shipped, f"{name} (required by {sorted(requirers)}) is missing from requirements/lambda.txt"
        for requirer in requirers:
            [spec] = [Requirement(r) for r in metadata.requires(requirer) or () if canonicalize_name(Requirement(r).name) == name]
            assert spec.specifier.contains(metadata.version(name), prereleases=True), (requirer, str(spec))


def _assets(synthesized) -> dict[str, Path]:
    """The session's code asset and layer, found through the template's S3 keys."""
    found = {}
    for resource in synthesized.template["Resources"].values():
        key = {"AWS::Lambda::Function": ("Code", "code"), "AWS::Lambda::LayerVersion": ("Content", "layer")}.get(resource["Type"])
        if key:
            asset_hash = resource["Properties"][key[0]]["S3Key"].removesuffix(".zip")
            found[key[1]] = synthesized.outdir / f"asset.{asset_hash}"
    return found


def _functions(synthesized) -> dict[str, dict[str, Any]]:
    return {logical_id: resource["Properties"] for logical_id, resource in synthesized.template["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function"}


# Runs in the clean interpreter: imports one handler module, then reports where every module came from.
_IMPORT_HANDLER = """
import importlib, json, sys, traceback
paths, handler = json.loads(sys.argv[1])
sys.path[:0] = paths
module_name, _, function = handler.rpartition(".")
try:
    callable(getattr(importlib.import_module(module_name), function)) or sys.exit(f"{handler} is not callable")
except BaseException:
    traceback.print_exc()
    sys.exit(1)
print(json.dumps({name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}))
"""


def _runtime_distributions() -> dict[str, str]:
    """Top-level module name -> the distribution of the runtime SDK directory that provides it."""
    tops = {}
    for distribution in metadata.distributions(path=[str(LAMBDA_RUNTIME_SDK)]):
        for file in distribution.files or ():
            if file.suffix == ".py":
                tops[file.parts[0].removesuffix(".py")] = canonicalize_name(distribution.metadata["Name"])
    return tops


def test_every_handler_imports_with_only_the_code_asset_the_layer_and_the_runtimes_sdk(synthesized):
    if not (LAMBDA_RUNTIME_SDK / "boto3").is_dir():
        pytest.fail(f"the Lambda runtime's SDK is not installed in {LAMBDA_RUNTIME_SDK}: run `make test` "
                    "(it installs requirements/lambda-runtime.txt there)")
    assets = _assets(synthesized)
    # Lambda's order: the function's code (/var/task), the layer (/opt/python), then the runtime's SDK.
    places = {"code": assets["code"], "layer": assets["layer"] / "python", "runtime": LAMBDA_RUNTIME_SDK}
    stdlib = {Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib")}
    runtime_distributions = _runtime_distributions()
    needed_from_layer = set(_layer_requirements()) - RUNTIME_PROVIDED
    functions = _functions(synthesized)
    handler_modules = {path.stem for path in (assets["code"] / "shop" / "handlers").glob("*.py")} - {"__init__"}
    assert {properties["Handler"].split(".")[2] for properties in functions.values()} == handler_modules
    for logical_id, properties in functions.items():
        # The function's own variables: references to other resources become placeholders.
        environment = {name: value if isinstance(value, str) else f"placeholder-{name.lower()}"
                       for name, value in properties["Environment"]["Variables"].items()}
        environment |= {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_LAMBDA_FUNCTION_NAME": logical_id, "PATH": "/usr/bin:/bin"}
        # -I: no environment's PYTHON* variables, no user site, no script folder; -S: no site-packages
        # (the venv's). What is importable is the standard library and the three directories. -B: as
        # on Lambda's read-only /var/task, no bytecode written into the assets (the session's assets
        # must stay as synthesized: test_lambda_runtime checks they hold no bytecode).
        argument = json.dumps([[str(path) for path in places.values()], properties["Handler"]])
        done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", _IMPORT_HANDLER, argument],
                              capture_output=True, text=True, env=environment, timeout=120)
        assert done.returncode == 0, f"{properties['Handler']} does not import on Lambda:\n{done.stderr}"
        for module, file in json.loads(done.stdout.splitlines()[-1]).items():
            if file is None:
                continue  # built in, or a namespace package
            path = Path(file).resolve()
            origin = next((place for place, root in places.items() if path.is_relative_to(root.resolve())), None)
            if origin is None:
                assert any(path.is_relative_to(root) for root in stdlib), f"{module} came from {path}"
            elif origin == "runtime":
                # The layer must not lean on what the runtime's boto3 happens to bring along.
                distribution = runtime_distributions.get(module.partition(".")[0])
                assert distribution not in needed_from_layer, (
                    f"{module} ({distribution}), which the layer's distributions require, came from the runtime's SDK")


def _asset_hashes(template: dict[str, Any]) -> set[str]:
    return {
        resource["Properties"][prop]["S3Key"]
        for resource in template["Resources"].values()
        for kind, prop in (("AWS::Lambda::Function", "Code"), ("AWS::Lambda::LayerVersion", "Content"))
        if resource["Type"] == kind
    }


# Run in another interpreter, from the other checkout: builds the code asset and the layer alone.
_BUILD_ASSETS = """
import sys
import aws_cdk as cdk
from shop.infra.lambda_bundle import ROOT, ShopCode
checkout, outdir = sys.argv[1:]
assert str(ROOT) == checkout, f"shop was imported from {ROOT}"
app = cdk.App(outdir=outdir)
stack = cdk.Stack(app, "AnotherCheckout")
ShopCode(stack, "Code").function(stack, "Function", handler="order_api", description="code", environment={})
app.synth()
"""


def test_the_same_sources_built_in_another_folder_give_the_same_asset_hashes(synthesized, tmp_path):
    # Another checkout of the same commit, built by another process into another cdk.out; the
    # session's synthesis is the first build.
    checkout = tmp_path / "another" / "checkout"
    for name in ("shop", "templates", "requirements"):
        shutil.copytree(lambda_bundle.ROOT / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    outdir = tmp_path / "elsewhere" / "cdk.out"
    built = subprocess.run([sys.executable, "-c", _BUILD_ASSETS, str(checkout), str(outdir)],
                           cwd=checkout, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    template = json.loads((outdir / "AnotherCheckout.template.json").read_text())

    first, second = _asset_hashes(synthesized.template), _asset_hashes(template)
    assert len(first) == 2 and re.fullmatch(r"[0-9a-f]{64}\.zip", min(first))
    assert second == first


def test_the_layer_carries_nothing_that_the_installation_wrote(synthesized):
    # The other-folder build above shares this venv; another checkout has its own, installed
    # in its own order: what pip wrote about that installation must stay out.
    layer = _assets(synthesized)["layer"] / "python"
    dist_infos = list(layer.glob("*.dist-info"))
    assert len(dist_infos) == len(lambda_requirements())
    for dist_info in dist_infos:
        assert (dist_info / "METADATA").is_file()  # importlib.metadata.version() works on Lambda
        assert not {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"} & {f.name for f in dist_info.iterdir()}
    for path in (p for p in layer.rglob("*") if p.is_file()):
        assert str(Path(sys.prefix).parent).encode() not in path.read_bytes(), f"{path} names the build folder"
