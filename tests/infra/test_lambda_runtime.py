"""The functions' Lambda runtime (shop.infra.lambda_bundle.RUNTIME), whose Python is not the one
the project builds and tests on (3.11): what is shipped must run there too, and the runtime must
not be near its end.

- No bytecode of another Python in the code asset or the layer (3.13 ignores 3.11's .pyc; they
  would only be dead weight, or worse, be taken for a compiled package).
- Nothing the functions import (the code asset and the layer as synthesized) imports a module
  that the runtime's Python no longer has: an AST scan of every import statement.
- Every distribution in the layer says it supports the runtime's Python.
- The runtime is more than a year from its deprecation date in cfn-lint's lifecycle data, so
  the next move is announced by CI, not by AWS.

Each check is a function, tried here on a tiny fake asset with a planted counter-example too.
"""

from __future__ import annotations

import ast
import email
import json
import re
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from shop.infra.lambda_bundle import RUNTIME
from tests.infra.test_lambda_packaging import _assets

# The standard library modules gone from the runtime's Python (and so from any later one),
# checked against "What's New in Python 3.12" / "3.13" (Removed): a submodule is named in full.
REMOVED_MODULES = {
    (3, 12): {"asynchat", "asyncore", "distutils", "imp", "smtpd"},
    # PEP 594's remaining "dead batteries", then lib2to3 and tkinter.tix.
    (3, 13): {"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis",
              "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib",
              "lib2to3", "tkinter.tix"},
}
# What counts as "near its end": CI fails this long before the runtime's deprecation date.
DEPRECATION_NOTICE = timedelta(days=365)


def python_of(runtime: str) -> tuple[int, int]:
    """"python3.13" -> (3, 13)."""
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    if not match:
        raise ValueError(f"not a Python runtime: {runtime}")
    return int(match[1]), int(match[2])


def foreign_bytecode(directory: Path, runtime: str) -> list[Path]:
    """The .pyc files under `directory` that the runtime's Python would not load: another
    interpreter's cache tag, or no tag at all (a sourceless .pyc outside __pycache__)."""
    major, minor = python_of(runtime)
    own = f".cpython-{major}{minor}.pyc"
    return sorted(path for path in directory.rglob("*.pyc")
                  if path.parent.name != "__pycache__" or not path.name.endswith(own))


def removed_imports(directory: Path, runtime: str) -> list[str]:
    """Every import statement under `directory` of a standard library module that the runtime's
    Python no longer has, as "file:line module". Relative imports are the package's own."""
    gone = {name for version, names in REMOVED_MODULES.items() if python_of(runtime) >= version for name in names}
    found = []
    for source in sorted(directory.rglob("*.py")):
        tree = ast.parse(source.read_bytes(), filename=str(source))
        # In the order of the source (ast.walk goes breadth first: nested imports come last).
        for node in sorted(ast.walk(tree), key=lambda node: getattr(node, "lineno", 0)):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from tkinter import tix` imports tkinter.tix.
                imported = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for name in imported:
                parts = name.split(".")
                if any(".".join(parts[:length]) in gone for length in range(1, len(parts) + 1)):
                    found.append(f"{source.relative_to(directory)}:{node.lineno} {name}")
    return found


def undeclared_support(site: Path, runtime: str) -> list[str]:
    """The distributions installed in `site` (their *.dist-info/METADATA) that do not declare the
    runtime's Python: Requires-Python must admit it, and if the distribution lists Python
    versions in its classifiers at all, that version must be one of them (some list none:
    Requires-Python is then all they say)."""
    major, minor = python_of(runtime)
    problems = []
    for metadata_file in sorted(site.glob("*.dist-info/METADATA")):
        metadata = email.message_from_bytes(metadata_file.read_bytes())
        name = f"{metadata['Name']} {metadata['Version']}"
        requires_python = SpecifierSet(metadata.get("Requires-Python") or "")
        if not requires_python.contains(f"{major}.{minor}", prereleases=True):
            problems.append(f"{name}: Requires-Python {requires_python} excludes {major}.{minor}")
        listed = {match[1] for classifier in metadata.get_all("Classifier") or ()
                  if (match := re.fullmatch(r"Programming Language :: Python :: (\d+\.\d+)", classifier))}
        if listed and f"{major}.{minor}" not in listed:
            problems.append(f"{name}: its classifiers list Python {', '.join(sorted(listed))}, not {major}.{minor}")
    return problems


def lifecycle() -> dict[str, dict[str, str]]:
    """cfn-lint's Lambda runtime lifecycle data (its rule for deprecated runtimes reads the same)."""
    data = resources.files("cfnlint") / "data" / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    return json.loads(data.read_text())


def near_deprecation(runtimes: set[str], today: date) -> list[str]:
    """The runtimes deprecated within DEPRECATION_NOTICE of `today`, or unknown to cfn-lint."""
    known = lifecycle()
    problems = []
    for runtime in sorted(runtimes):
        if runtime not in known:
            problems.append(f"{runtime}: not in cfn-lint's lifecycle data (update cfn-lint)")
            continue
        deprecated = date.fromisoformat(known[runtime]["deprecated"])
        if deprecated - today <= DEPRECATION_NOTICE:
            problems.append(f"{runtime}: deprecated on {deprecated} (creating functions blocked from "
                            f"{known[runtime]['create-block']}); move to {known[runtime]['successor']} or "
                            f"another runtime more than {DEPRECATION_NOTICE.days} days from its end")
    return problems


def _runtimes(template: dict) -> set[str]:
    """Every function's Runtime and every layer's CompatibleRuntimes."""
    found = set()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            found.add(resource["Properties"]["Runtime"])
        elif resource["Type"] == "AWS::Lambda::LayerVersion":
            found.update(resource["Properties"]["CompatibleRuntimes"])
    return found


# --- the stack -------------------------------------------------------------------------------

def test_every_function_and_the_layer_are_on_the_one_runtime(synthesized):
    assert _runtimes(synthesized.template) == {RUNTIME.name}


def test_no_asset_ships_bytecode_the_runtime_would_not_load(synthesized):
    for kind, directory in _assets(synthesized).items():
        assert not foreign_bytecode(directory, RUNTIME.name), f"the {kind} asset ships another Python's bytecode"


def test_nothing_the_functions_import_uses_a_module_the_runtimes_python_removed(synthesized):
    for kind, directory in _assets(synthesized).items():
        assert list(directory.rglob("*.py")), f"the {kind} asset has no sources to scan"
        assert not removed_imports(directory, RUNTIME.name), kind


def test_every_distribution_of_the_layer_declares_the_runtimes_python(synthesized):
    site = _assets(synthesized)["layer"] / "python"
    assert list(site.glob("*.dist-info/METADATA"))
    assert not undeclared_support(site, RUNTIME.name)


def test_the_runtime_is_more_than_a_year_from_its_deprecation(synthesized):
    assert not near_deprecation(_runtimes(synthesized.template), date.today())


# --- the checks, on planted counter-examples ------------------------------------------------

def test_bytecode_of_another_python_or_without_a_tag_is_found(tmp_path):
    cache = tmp_path / "shop" / "__pycache__"
    cache.mkdir(parents=True)
    for name in ("api.cpython-311.pyc", "api.cpython-313.pyc"):
        (cache / name).write_bytes(b"")
    (tmp_path / "shop" / "legacy.pyc").write_bytes(b"")
    assert foreign_bytecode(tmp_path, "python3.13") == [cache / "api.cpython-311.pyc", tmp_path / "shop" / "legacy.pyc"]
    assert foreign_bytecode(tmp_path, "python3.11") == [cache / "api.cpython-313.pyc", tmp_path / "shop" / "legacy.pyc"]


def test_imports_of_removed_modules_are_found_however_written(tmp_path):
    package = tmp_path / "python" / "package"
    package.mkdir(parents=True)
    (package / "old.py").write_text(
        "import os, imp\n"
        "from distutils.version import LooseVersion\n"
        "def f():\n    import cgi.parse\n"
        "from tkinter import tix, ttk\n"
        "from . import uu  # the package's own uu\n"
        "import tkinter, pipesx\n"
    )
    assert removed_imports(tmp_path, "python3.13") == [
        "python/package/old.py:1 imp", "python/package/old.py:2 distutils.version",
        "python/package/old.py:2 distutils.version.LooseVersion", "python/package/old.py:4 cgi.parse",
        "python/package/old.py:5 tkinter.tix",
    ]
    # Python 3.12 still has cgi and tkinter.tix.
    assert removed_imports(tmp_path, "python3.12") == [
        "python/package/old.py:1 imp", "python/package/old.py:2 distutils.version",
        "python/package/old.py:2 distutils.version.LooseVersion",
    ]


def _dist_info(site: Path, name: str, *headers: str) -> None:
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("\n".join(["Metadata-Version: 2.1", f"Name: {name}", "Version: 1.0",
                                                   *headers]) + "\n")


def test_distributions_that_do_not_declare_the_runtimes_python_are_found(tmp_path):
    _dist_info(tmp_path, "capped", "Requires-Python: >=3.9,<3.13")
    _dist_info(tmp_path, "stale", "Requires-Python: >=3.9", "Classifier: Programming Language :: Python :: 3 :: Only",
               "Classifier: Programming Language :: Python :: 3.11", "Classifier: Programming Language :: Python :: 3.12")
    _dist_info(tmp_path, "current", "Requires-Python: >=3.9", "Classifier: Programming Language :: Python :: 3.13")
    _dist_info(tmp_path, "silent", "Classifier: Programming Language :: Python :: 3")  # no versions listed: fine
    assert undeclared_support(tmp_path, "python3.13") == [
        "capped 1.0: Requires-Python <3.13,>=3.9 excludes 3.13",
        "stale 1.0: its classifiers list Python 3.11, 3.12, not 3.13",
    ]


def test_python311_is_announced_today_and_python313_is_not():
    # 2026-12-08, the day of the move: python3.11 is deprecated on 2027-06-30, within the year.
    today = date(2026, 12, 8)
    [problem] = near_deprecation({"python3.11", "python3.13"}, today)
    assert problem.startswith("python3.11: deprecated on 2027-06-30")
    # python3.13 (deprecated 2029-06-30) gets its notice a year before.
    assert near_deprecation({"python3.13"}, date(2028, 6, 30))
    assert not near_deprecation({"python3.13"}, date(2028, 6, 29))
    assert near_deprecation({"python9.99"}, today) == ["python9.99: not in cfn-lint's lifecycle data (update cfn-lint)"]


@pytest.mark.parametrize("runtime", ["nodejs22.x", "python3"])
def test_only_python_runtimes_are_understood(runtime):
    with pytest.raises(ValueError, match="not a Python runtime"):
        python_of(runtime)
