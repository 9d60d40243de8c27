"""The smoke test's own parts: its clean-up on every way out, the refused stack names and the
browser's form posting. The AWS target is tested in tests/integration/test_smoke_aws_target.py,
the scenarios in tests/e2e/test_smoke.py."""

from __future__ import annotations

import io

import pytest
import requests

from shop.deploy import smoke, smoke_scenarios
from shop.deploy.smoke import Durations, run

DURATIONS = Durations(approval_timeout=10, feedback_delay=1, step_timeout=5)


class FailingTarget:
    stack_name = "OrderShopSmoke"

    def __init__(self, error: BaseException) -> None:
        self.error, self.destroyed, self.left = error, 0, 0

    def deploy(self):
        raise self.error

    def destroy(self):
        self.destroyed += 1

    def client(self, service):
        raise AssertionError("not reached")

    def leave(self, out):
        self.left += 1


def test_ctrl_c_during_the_deploy_still_destroys_the_stack():
    target, out = FailingTarget(KeyboardInterrupt()), io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        run(target, DURATIONS, out=out)
    assert target.destroyed == 1
    assert "interrupted" in out.getvalue() and "destroyed stack OrderShopSmoke" in out.getvalue()


def test_a_failed_deploy_is_a_failed_run_and_is_destroyed():
    target, out = FailingTarget(RuntimeError("CREATE_FAILED")), io.StringIO()
    assert run(target, DURATIONS, out=out) is False
    assert target.destroyed == 1 and "FAILED: RuntimeError: CREATE_FAILED" in out.getvalue()


def test_keep_leaves_the_stack():
    target = FailingTarget(RuntimeError("no"))
    assert run(target, DURATIONS, keep=True, out=io.StringIO()) is False
    assert (target.destroyed, target.left) == (0, 1)


@pytest.mark.parametrize("name", ["OrderShop", "1abc", "with space", "x" * 65])
def test_the_real_stack_and_invalid_names_are_refused(name, capsys):
    with pytest.raises(SystemExit) as exited:
        smoke.main(["--stack-name", name])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert ("needs a throwaway one" if name == "OrderShop" else "is not a stack name") in error


def _page(html: str, url: str) -> requests.Response:
    page = requests.Response()
    page.status_code, page._content, page.url, page.encoding = 200, html.encode(), url, "utf-8"
    return page


def test_the_button_posts_its_form_as_a_browser_does(monkeypatch):
    posted = []
    monkeypatch.setattr(smoke_scenarios.requests, "post", lambda url, data, timeout: posted.append((url, data)))
    url = "https://x.lambda-url.eu-west-1.on.aws/?orderId=1&sig=abc"

    smoke_scenarios.press_button(_page('<form method="post"><button type="submit">Approve</button></form>', url))
    smoke_scenarios.press_button(_page(
        '<form method="get" action="/search"><input name="q"></form>'
        '<form method="POST" action="decide"><input type="hidden" name="csrf" value="t1">'
        '<input type="checkbox" name="sure" value="y"><button name="go" value="1">Go</button>'
        '<button name="other" value="2">Other</button></form>', url))

    assert posted == [(url, {}), ("https://x.lambda-url.eu-west-1.on.aws/decide", {"csrf": "t1", "go": "1"})]
    with pytest.raises(smoke_scenarios.StepFailed, match="0 forms to post") as failed:
        smoke_scenarios.press_button(_page("<p>gone</p>", url))
    assert "sig=" not in str(failed.value)  # the link's secret stays out of the report
