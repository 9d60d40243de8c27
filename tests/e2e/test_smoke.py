"""`make smoke`'s own code, run against local mode: only deploying and destroying differ from AWS.
The scenarios, the SQS capture of the owner's notification and the clicks are the AWS run's."""

from __future__ import annotations

import io
import json
from typing import Any

from shop.deploy.smoke import LOCAL_PATHS, Durations, LocalTarget, RecordedPaths, run
from shop.local.runtime import LocalConfig

# The owner has 15 s per order (the no-answer scenario waits them out while the others run; each
# click takes well under a second, the margin is for a loaded machine), and feedback is asked
# after 1 s: the whole run takes about the approval timeout.
DURATIONS = Durations(approval_timeout=15, feedback_delay=1, step_timeout=30)
SCENARIOS = ("approve", "reject", "second-click", "no-answer")


class WatchedLocalTarget(LocalTarget):
    """Local mode's target, noting what is left in the account just before the stack goes."""

    def __init__(self, config: LocalConfig) -> None:
        super().__init__(config)
        self.left: dict[str, Any] | None = None
        self.destroyed = False

    def destroy(self) -> None:
        if self.shop is not None:
            topic = self.shop.stack.outputs["OwnerTopicArn"]
            subscriptions = self.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
            self.left = {
                "queues": self.client("sqs").list_queues().get("QueueUrls", []),
                "protocols": sorted(s["Protocol"] for s in subscriptions),
            }
        super().destroy()
        self.destroyed = True


def _target(synthesized, **config: Any) -> WatchedLocalTarget:
    return WatchedLocalTarget(LocalConfig(
        port=0, aws_port=0, template_path=synthesized.template_path,
        approval_timeout_seconds=DURATIONS.approval_timeout, feedback_delay_seconds=DURATIONS.feedback_delay,
        **config,
    ))


def test_the_smoke_run_passes_every_scenario_and_leaves_nothing_behind(synthesized, tmp_path):
    """As `make smoke-local` runs it: it records each scenario's path, and the committed record,
    which `make smoke` compares AWS's paths with, is what local mode does now."""
    target, out, recorded = _target(synthesized), io.StringIO(), tmp_path / "local_paths.json"

    assert run(target, DURATIONS, out=out, paths=RecordedPaths(recorded, record=True)), out.getvalue()

    assert json.loads(recorded.read_text())["paths"].keys() == {"approve", "reject", "no-answer"}
    assert recorded.read_text() == LOCAL_PATHS.read_text(), "run `make smoke-local` and commit its record"

    printed = out.getvalue()
    for scenario in SCENARIOS:
        assert f"{scenario:<12} PASS" in printed, printed
    assert "approve      pressed the approve button: 200" in printed
    assert "a second" not in printed and "second-click approve link of decided order" in printed
    assert "execution SUCCEEDED, outcome TIMED_OUT" in printed
    assert "token=" not in printed and "sig=" not in printed  # the links' secrets are not for a log
    # The owner's email subscription stays (the stack's own); the smoke's queue and subscription are gone.
    assert target.left == {"queues": [], "protocols": ["email"]}
    assert target.destroyed


def test_a_run_failing_halfway_still_cleans_up_and_fails(synthesized, tmp_path):
    """Step Functions refuses every approval: the approve scenario (and the second click, which
    needs its order) fail, the others still run, and the queue and stack are removed all the same.
    And the rejection takes another path than the one recorded (doctored here) for local mode: it
    fails too, saying both."""
    recorded = json.loads(LOCAL_PATHS.read_text())
    recorded["paths"]["reject"].remove("Rejected")
    (tmp_path / "local_paths.json").write_text(json.dumps(recorded))
    target, out = _target(synthesized, faults={"stepfunctions.send_task_success": 1000}), io.StringIO()

    assert not run(target, DURATIONS, out=out, paths=RecordedPaths(tmp_path / "local_paths.json"))

    printed = out.getvalue()
    assert "approve      FAIL: pressing the approve button answered 503" in printed, printed
    assert "second-click FAIL: not run" in printed
    assert "no-answer    PASS" in printed
    assert ("reject       FAIL: the execution's path is not local mode's:\n"
            "      this run:   OrderReceivedEmail > RequestApproval > Rejected > DeleteOrder > CancellationEmail"
            " > OrderCancelled\n"
            "      local mode: OrderReceivedEmail > RequestApproval > DeleteOrder > CancellationEmail"
            " > OrderCancelled\n") in printed
    assert "FAILED: approve, reject, second-click" in printed
    assert json.loads((tmp_path / "local_paths.json").read_text()) == recorded  # compared with, not written
    assert target.left == {"queues": [], "protocols": ["email"]}
    assert target.destroyed and target.shop is None
