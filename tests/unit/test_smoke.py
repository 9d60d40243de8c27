"""The smoke test's own parts: its clean-up on every way out, the refused stack names and the
browser's form posting. The AWS target is tested in tests/integration/test_smoke_aws_target.py,
the scenarios in tests/e2e/test_smoke.py."""

from __future__ import annotations

import io
import json

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


# -- the queue's subscription, proven before any order -------------------------------------------------

TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:OrderShopSmoke-Owner"
ORDER_ID = "01JQ8Z5X3N4M7K2P9R6T0VWXYZ"


class PropagatingTopicAndQueue:
    """The owner's topic and the smoke's queue (both clients in one fake): the queue's policy is in
    force only `propagation` publishes after it was set (on AWS, up to 60 s after), and SNS drops
    each delivery the queue refuses meanwhile, as AWS does: it does not retry a permissions refusal."""

    def __init__(self, propagation: int | None) -> None:
        self.propagation, self.policy_set, self.published, self.dropped = propagation, None, 0, []
        self.queue: list[dict] = []
        self.deleted = False

    def create_queue(self, QueueName):
        return {"QueueUrl": f"https://sqs.eu-west-1.amazonaws.com/123456789012/{QueueName}"}

    def get_queue_attributes(self, QueueUrl, AttributeNames):
        return {"Attributes": {"QueueArn": "arn:aws:sqs:eu-west-1:123456789012:smoke"}}

    def set_queue_attributes(self, QueueUrl, Attributes):
        self.policy_set = self.published

    def subscribe(self, **_):
        return {"SubscriptionArn": f"{TOPIC_ARN}:1"}

    def publish(self, TopicArn, Subject, Message):
        in_force = (self.policy_set is not None and self.propagation is not None
                    and self.published - self.policy_set >= self.propagation)
        self.published += 1
        envelope = {"Subject": Subject, "Message": Message}
        if in_force:
            self.queue.append({"Body": json.dumps(envelope), "ReceiptHandle": str(self.published)})
        else:
            self.dropped.append(Subject)

    def receive_message(self, QueueUrl, MaxNumberOfMessages, WaitTimeSeconds):
        return {"Messages": self.queue[:MaxNumberOfMessages]}

    def delete_message(self, QueueUrl, ReceiptHandle):
        self.queue = [m for m in self.queue if m["ReceiptHandle"] != ReceiptHandle]

    def unsubscribe(self, SubscriptionArn):
        pass

    def delete_queue(self, QueueUrl):
        self.deleted = True


class QueueTarget(FailingTarget):
    def __init__(self, aws: PropagatingTopicAndQueue) -> None:
        super().__init__(RuntimeError("not raised"))
        self.aws = aws

    def deploy(self):
        return {"ApiUrl": "https://api.example", "OwnerTopicArn": TOPIC_ARN}

    def client(self, service):
        return self.aws


def _first_order(monkeypatch, aws: PropagatingTopicAndQueue) -> list[str]:
    """Scenarios reduced to the first order: the shop notifies the owner through the topic, and the
    scenario looks for that notification in the queue. What they saw, in order."""
    seen: list[str] = []

    def scenarios(ctx):
        seen.append(f"order placed after {aws.published} publishes, {len(aws.dropped)} dropped")
        aws.publish(TopicArn=TOPIC_ARN, Subject=f"Approve order {ORDER_ID}?",
                    Message=f"Please decide on order {ORDER_ID}.\nApprove it:\nhttps://x/a\nReject it:\nhttps://x/r")
        try:
            note = ctx.capture.notification(ORDER_ID, timeout=0.2)
        except smoke_scenarios.StepFailed as error:
            seen.append(str(error))
            return {"approve": False}
        seen.append(note["subject"])
        return {"approve": True}

    monkeypatch.setattr(smoke.Shop, "load_catalog", lambda shop: "product")
    monkeypatch.setattr(smoke, "run_scenarios", scenarios)
    return seen


def test_no_order_is_placed_before_a_probe_came_through_the_topic_so_its_notification_is_not_lost(monkeypatch):
    aws = PropagatingTopicAndQueue(propagation=3)
    seen, out = _first_order(monkeypatch, aws), io.StringIO()

    assert run(QueueTarget(aws), DURATIONS, out=out), (seen, out.getvalue())

    assert aws.dropped == [smoke_scenarios.PROBE_SUBJECT] * 3  # refused while the policy was not in force
    assert seen == ["order placed after 4 publishes, 3 dropped", f"Approve order {ORDER_ID}?"]
    assert "the queue receives what the owner's topic sends (4 probe(s) published)" in out.getvalue()


def test_a_late_probe_is_no_notification():
    aws = PropagatingTopicAndQueue(propagation=0)
    capture = smoke_scenarios.NotificationCapture.create(sqs=aws, sns=aws, topic_arn=TOPIC_ARN, name="smoke")
    assert capture.await_delivery(timeout=1) == 1
    aws.publish(TopicArn=TOPIC_ARN, Subject=smoke_scenarios.PROBE_SUBJECT, Message=f"probe, not order {ORDER_ID}")
    with pytest.raises(smoke_scenarios.StepFailed, match=f"owner's notification for {ORDER_ID}"):
        capture.notification(ORDER_ID, timeout=0)
    assert capture.probes_arrived == 2 and aws.queue == []


def test_a_policy_never_in_force_fails_the_run_before_any_order_and_cleans_up(monkeypatch):
    aws = PropagatingTopicAndQueue(propagation=None)
    seen, out, target = _first_order(monkeypatch, aws), io.StringIO(), QueueTarget(aws)

    assert not run(target, Durations(approval_timeout=10, feedback_delay=1, step_timeout=0.2), out=out)

    assert seen == [] and aws.published == len(aws.dropped) > 0
    assert f"FAILED: StepFailed: none of the {aws.published} probes published through the owner's topic" in out.getvalue()
    assert aws.deleted and target.destroyed == 1


def test_paths_are_recorded_only_from_local_mode(capsys):
    with pytest.raises(SystemExit) as exited:
        smoke.main(["--record-paths"])
    assert exited.value.code == 2 and "use it with --local" in capsys.readouterr().err


def test_a_failed_run_records_no_paths(monkeypatch, tmp_path):
    aws, recorded = PropagatingTopicAndQueue(propagation=None), tmp_path / "local_paths.json"
    _first_order(monkeypatch, aws)
    out = io.StringIO()

    assert not run(QueueTarget(aws), Durations(approval_timeout=10, feedback_delay=1, step_timeout=0.2), out=out,
                   paths=smoke.RecordedPaths(recorded, record=True))
    assert not recorded.exists()


def test_without_a_record_of_local_mode_nothing_is_deployed(tmp_path):
    target, out = FailingTarget(AssertionError("deployed")), io.StringIO()

    assert not run(target, DURATIONS, out=out, paths=smoke.RecordedPaths(tmp_path / "none.json"))
    assert "no recorded paths of local mode" in out.getvalue() and "run `make smoke-local`" in out.getvalue()
