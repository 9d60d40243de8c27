"""The requirements files keep their promises: every installed package is pinned by the lock, and
`requirements/run.txt`, all that a first `make run` installs, holds everything the shop imports.

The Makefile installs run.txt first and dev.txt (the tests' tools) on top, with uv, both
constrained by constraints.txt; these tests read the files and the installed distributions only.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
# Pinned elsewhere: uv by the Makefile's UV_VERSION; pip and setuptools only in a .venv made
# before uv (the Makefile now makes it without pip; the editable build's setuptools is pinned by
# --build-constraints).
INSTALLERS = {"pip", "setuptools", "uv"}
# Imported only when asked for: cdk-nag's rules run in the tests and on `cdk deploy -c nag=true`.
DEV_ONLY_IMPORTS = {"cdk_nag"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of one file, without comments and without -r/-c includes."""
    lines = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def requirements(path: Path) -> list[Requirement]:
    """One file's requirements, with the files it includes by -r."""
    found = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def lock() -> dict[str, str]:
    """Every pinned version: constraints.txt, and the bench's and mutation testing's own files."""
    pins = {}
    for name in ("constraints.txt", "bench.txt", "mutation.txt"):
        for requirement in requirements(REQUIREMENTS / name):
            (specifier,) = requirement.specifier
            pins[canonical(requirement.name)] = specifier.version
    return pins


def closure(roots: list[Requirement]) -> set[str]:
    """The distributions `roots` install, following each installed one's own requirements."""
    seen: set[str] = set()
    todo = [(root.name, frozenset(root.extras)) for root in roots]
    while todo:
        name, extras = todo.pop()
        key = (canonical(name), extras)
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.requires(name) or ():
            requirement = Requirement(line)
            if requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in extras | {""}
            ):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in seen}


def third_party_imports(paths: list[Path]) -> dict[str, Path]:
    """Top-level module names imported by these files, other than the standard library and shop."""
    found: dict[str, Path] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "shop":
                    found.setdefault(top, path)
    return found


def test_every_requirement_is_pinned_exactly():
    for path in sorted(REQUIREMENTS.glob("*.txt")):
        for line in requirement_lines(path):
            specifiers = list(Requirement(line).specifier)
            assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{path.name}: {line} is not pinned"


def test_the_requirement_files_agree_with_the_lock():
    pins = lock()
    for name in ("lambda.txt", "run.txt", "dev.txt"):
        for requirement in requirements(REQUIREMENTS / name):
            (specifier,) = requirement.specifier
            assert pins.get(canonical(requirement.name)) == specifier.version, (
                f"{name} pins {requirement} but constraints.txt has {pins.get(canonical(requirement.name))}")


def test_every_installed_distribution_is_pinned_at_its_version():
    pins = lock()
    unpinned = []
    for distribution in metadata.distributions():
        name = canonical(distribution.metadata["Name"])
        if name in INSTALLERS or name == "order-shop":
            continue
        if pins.get(name) != distribution.version:
            unpinned.append(f"{name}=={distribution.version} (lock: {pins.get(name)})")
    assert not unpinned, "installed but not pinned in requirements/constraints.txt: " + ", ".join(sorted(unpinned))


def test_run_txt_holds_everything_the_shop_imports():
    installed_by_run = closure(requirements(REQUIREMENTS / "run.txt"))
    modules = metadata.packages_distributions()
    sources = [ROOT / "app.py", *sorted((ROOT / "shop").rglob("*.py"))]
    missing = []
    for module, path in third_party_imports(sources).items():
        if module in DEV_ONLY_IMPORTS:
            continue
        distributions = {canonical(name) for name in modules.get(module, [])}
        if not distributions & installed_by_run:
            missing.append(f"{module} ({path.relative_to(ROOT)}; from {sorted(distributions) or 'nothing installed'})")
    assert not missing, "imported by the shop but not installed by requirements/run.txt: " + ", ".join(missing)


def test_the_dev_only_imports_are_not_in_run_txt_and_are_in_dev_txt():
    """The exemption above stays honest: what it exempts is a test tool, installed by dev.txt."""
    installed_by_run = closure(requirements(REQUIREMENTS / "run.txt"))
    installed_by_dev = closure(requirements(REQUIREMENTS / "dev.txt"))
    modules = metadata.packages_distributions()
    for module in DEV_ONLY_IMPORTS:
        distributions = {canonical(name) for name in modules[module]}
        assert distributions & installed_by_dev and not distributions & installed_by_run
