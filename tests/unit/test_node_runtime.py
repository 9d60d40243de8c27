"""The Node.js that jsii and the CDK CLI run on: one the CDK supports, so no end-of-life banner."""

from __future__ import annotations

import re
import subprocess

from shop.infra import node_runtime
from tests.unit.samples import ROOT


def _supported_majors() -> set[str]:
    """The Makefile's NODE_SUPPORTED_MAJORS: below them, make installs its pinned LTS into .node/."""
    [line] = re.findall(r"^NODE_SUPPORTED_MAJORS := (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    return set(line.split())


def test_the_tests_synthesize_with_a_node_the_cdk_supports():
    # conftest put the project's Node first on PATH if make installed one; jsii starts `node` from PATH.
    version = subprocess.run(["node", "-p", "process.versions.node"], capture_output=True, text=True, check=True).stdout
    assert version.split(".")[0] in _supported_majors(), (
        f"node {version.strip()} would print jsii's end-of-life banner: run the tests with `make test`, "
        "which installs the pinned Node LTS into .node/")


def test_the_pinned_lts_is_a_supported_one():
    [pinned] = re.findall(r"^NODE_LTS := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert pinned.split(".")[0] in _supported_majors()


def test_the_project_node_goes_first_on_path_once(tmp_path, monkeypatch):
    monkeypatch.setattr(node_runtime, "PROJECT_NODE_BIN", tmp_path)
    environ = {"PATH": "/usr/bin:/bin"}
    assert not node_runtime.use_project_node(environ)
    assert environ == {"PATH": "/usr/bin:/bin"}

    (tmp_path / "node").write_text("")
    assert node_runtime.use_project_node(environ)
    assert node_runtime.use_project_node(environ)
    assert environ["PATH"] == f"{tmp_path}:/usr/bin:/bin"
