"""Every command the banner (`make run`) and the start page print runs exactly as printed, from the
repository, on a machine with no AWS configuration: no AWS variables, an empty home (no ~/.aws),
against a shop on a port other than the default. Each exits 0 and prints nothing like an error.

The commands are read from what is printed, not from the code that prints them: a new hint is
run as soon as it is printed. `ID` on the start page stands for an order's id; it is the only
thing replaced, by a fresh order awaiting approval for each command that takes one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from shop.settings import LOCAL_DEFAULT_PORT
from tests.support import poll, start_shop

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's: `aws` (awscli, requirements/dev.txt) and `shop`
# A command as people copy it: optional VAR=value assignments, then the program.
COMMAND = re.compile(r"(?<![\w/.-])(?:[A-Z_]+=\S+ )*(?:curl|aws|\.venv/bin/shop) .*")
# What an error or a warning looks like in any of them (the AWS CLI's "An error occurred (...)",
# "Unable to locate credentials", "You must specify a region", a log line, a traceback). Case matters:
# `order show` has an ERROR column for the history's errors, empty here.
LOOKS_LIKE_AN_ERROR = re.compile(r"Traceback|Exception|\b[Ee]rror\b|\bERROR:|\b[Uu]nable to\b|must specify"
                                 r"|[Dd]enied|[Nn]ot found|[Rr]efused|[Ww]arning|WARNING")


def banner_commands(banner: str) -> list[str]:
    """Commands on the banner's lines; a line's parts are set apart by three or more spaces, and a
    command in parentheses ends with them."""
    found = []
    for line in banner.splitlines():
        for part in re.split(r" {3,}", line.strip()):
            match = COMMAND.search(part)
            if match:
                found.append(match.group(0).removesuffix(")") if part.endswith(")") else match.group(0))
    return found


class _Code(HTMLParser):
    """The text of every <pre> and <code> of a page, character references resolved."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._open = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("pre", "code"):
            self._open += 1
            self.texts.append("")

    def handle_endtag(self, tag):
        if tag in ("pre", "code"):
            self._open -= 1

    def handle_data(self, data):
        if self._open:
            self.texts[-1] += data


def page_commands(html: str) -> list[str]:
    parser = _Code()
    parser.feed(html)
    return [line.strip() for text in parser.texts for line in text.splitlines()
            if COMMAND.fullmatch(line.strip())]


@pytest.fixture(scope="module")
def shop(synthesized):
    running = start_shop(synthesized, approval_timeout_seconds=120, feedback_delay_seconds=1)
    assert running.http.server_port != LOCAL_DEFAULT_PORT
    yield running
    running.stop()


@pytest.fixture
def clean_environment(tmp_path) -> dict[str, str]:
    """A newcomer's shell: no AWS variables, no AWS config, no SHOP_URL; the venv's tools on PATH."""
    home = tmp_path / "home"
    home.mkdir()
    return {"PATH": f"{BIN}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(home),
            "LANG": "C.UTF-8"}


def program(command: str) -> str:
    """The program a command runs: `.venv/bin/shop` is `shop`; VAR=value assignments skipped."""
    return Path(next(word for word in command.split() if "=" not in word)).name


def run_as_printed(command: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120)


def awaiting_approval(shop, environment: dict[str, str]) -> str:
    """A new order, once the owner's notification is out (then it can be approved or cancelled)."""
    response = requests.post(f"{shop.base_url}/orders", json=json.loads(re.search(r"-d '(.*)'$",
                             shop.sample_curl()).group(1)), timeout=10)
    assert response.status_code == 201, response.text
    order_id = response.json()["orderId"]
    listing = [str(BIN / "shop"), "--local", shop.base_url, "approvals", "list", "--json"]

    def notified():
        result = subprocess.run(listing, env=environment, capture_output=True, text=True, timeout=60, check=True)
        return any(o["orderId"] == order_id and o["notified"] for o in json.loads(result.stdout))

    poll(notified, what=f"{order_id} awaiting approval")
    return order_id


def test_every_printed_command_works_as_printed(shop, clean_environment):
    assert not any(name.startswith("AWS_") for name in clean_environment)
    from_banner = banner_commands(shop.banner())
    from_page = page_commands(requests.get(f"{shop.base_url}/", timeout=10).text)
    # What each prints now: a hint dropped by mistake fails here, a new one is run below.
    assert [program(c) for c in from_banner] == ["shop", "shop", "aws", "curl"], from_banner
    assert [program(c) for c in from_page] == ["curl", "shop", "shop", "shop", "shop", "shop", "aws"], from_page
    for command in from_banner + from_page:  # what makes them work on this port, without AWS configuration
        if program(command) == "aws":
            assert command.startswith("AWS_ACCESS_KEY_ID=") and " --region " in command, command
        if program(command) == "shop" and "--help" not in command:
            assert command.startswith(f"SHOP_URL={shop.base_url} "), command

    for command in from_banner + from_page:
        if re.search(r"\bID\b", command):
            command = re.sub(r"\bID\b", awaiting_approval(shop, clean_environment), command)
        result = run_as_printed(command, clean_environment)
        printed = result.stdout + result.stderr
        assert result.returncode == 0, f"{command}\n{printed}"
        assert result.stderr == "", f"{command}\n{printed}"
        if "--help" not in command:  # the help explains the errors and exit codes, in those words
            assert not LOOKS_LIKE_AN_ERROR.search(printed), f"{command}\n{printed}"
