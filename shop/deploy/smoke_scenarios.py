"""The mission's test plan, run against a deployed shop: on AWS by `make smoke`, against local mode
by `make smoke-local` and the tests. Nothing here knows which: it gets the stack's outputs and a
`client(service)` factory, and reaches the shop only as its users do (the order API, the owner's
notification, the approval links) plus the AWS APIs a person would watch it with.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TextIO, TypeVar
from urllib.parse import urljoin

import requests

from shop import stack_outputs
from shop.adapters.workflow import execution_arn
from shop.domain.ids import ULID_PATTERN
from shop.domain.status import OrderStatus
from shop.domain.workflow_contract import Outcome
from shop.samples import SES_SIMULATOR_SUCCESS, sample_order_body

T = TypeVar("T")
CATALOG = Path(__file__).resolve().parents[2] / "data" / "demo-catalog.json"
# SES's mailbox simulator: accepted even while the account is in the SES sandbox, delivers nowhere.
CUSTOMER_EMAIL = SES_SIMULATOR_SUCCESS
HTTP_TIMEOUT = 30

# What the smoke publishes through the owner's topic to learn that the queue receives from it: no
# order's notification (the scenarios match theirs by order id) and not mistaken for one.
PROBE_SUBJECT = "Smoke test: probe of the owner's topic"
# The owner's notification puts each link on a line of its own, under a line saying what it does.
_LINK = re.compile(r"^(Approve|Reject)\b[^\n]*:\n(https?://\S+)$", flags=re.M)


class StepFailed(Exception):
    """A step of a scenario did not see what it should have."""


class Report:
    """Prints each step with the time since the run started."""

    def __init__(self, out: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.out, self.clock, self.started = out, clock, clock()

    def __call__(self, scenario: str, message: str) -> None:
        print(f"{self.clock() - self.started:7.1f}s  {scenario:<12} {message}", file=self.out, flush=True)


def poll(probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.5) -> T:
    """`probe()` until it returns something truthy, or StepFailed after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise StepFailed(f"no {what} within {timeout:.0f}s")
        time.sleep(interval)


# -- the owner's notifications, through a temporary SQS queue -----------------------------------------


@dataclass
class NotificationCapture:
    """A queue subscribed to the owner's topic: what the owner's mailbox would receive."""

    sqs: Any
    sns: Any
    queue_url: str
    queue_arn: str
    subscription_arn: str | None = None
    topic_arn: str = ""
    probes_arrived: int = 0
    _seen: dict[str, dict[str, str]] = field(default_factory=dict)  # order id -> {subject, message}

    @classmethod
    def create(cls, *, sqs: Any, sns: Any, topic_arn: str, name: str) -> NotificationCapture:
        """Create the queue, let the topic (and only it) send to it, subscribe it. If a step fails,
        what was created is already in the returned object's hands: call `delete()` regardless."""
        queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        capture = cls(sqs=sqs, sns=sns, queue_url=queue_url, queue_arn=queue_arn, topic_arn=topic_arn)
        try:
            # SNS delivers to a queue only if the queue's policy lets it, for this topic alone.
            policy = {"Version": "2012-10-17", "Statement": [{
                "Sid": "OwnerTopicOnly", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage", "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }]}
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
            # Not raw delivery: SNS's envelope keeps the subject, which names the order.
            capture.subscription_arn = sns.subscribe(
                TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
        except BaseException:
            capture.delete()
            raise
        return capture

    def await_delivery(self, *, timeout: float) -> int:
        """Publish probes through the topic until one arrives in the queue; how many were sent.

        A queue policy takes up to 60 s to be in force, and SNS does not retry a delivery the
        queue refused: it drops it. Without this, the first order's notification could be lost.
        One probe per wait, since each sent before the policy took effect is dropped for good."""
        deadline, sent = time.monotonic() + timeout, 0
        while not self.probes_arrived:
            if sent and time.monotonic() > deadline:
                raise StepFailed(f"none of the {sent} probes published through the owner's topic reached the queue "
                                 f"within {timeout:.0f}s: is the queue's policy (only the topic may send) in force?")
            sent += 1
            self.sns.publish(TopicArn=self.topic_arn, Subject=PROBE_SUBJECT,
                             Message=f"Probe {sent} of the smoke test's queue subscription; about no order.")
            self._receive(wait_seconds=max(0, min(5, int(timeout))))
        return sent

    def notification(self, order_id: str, *, timeout: float) -> dict[str, str]:
        """The owner's notification about `order_id`, once it arrived."""
        def arrived() -> dict[str, str] | None:
            self._receive(wait_seconds=max(0, min(5, int(timeout))))
            return self._seen.get(order_id)

        return poll(arrived, timeout=timeout, what=f"owner's notification for {order_id}", interval=0)

    def _receive(self, *, wait_seconds: int) -> None:
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10,
                                            WaitTimeSeconds=wait_seconds).get("Messages", [])
        for message in messages:
            envelope = json.loads(message["Body"])
            subject, text = envelope.get("Subject") or "", envelope.get("Message") or ""
            if subject == PROBE_SUBJECT:
                self.probes_arrived += 1
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                continue
            for order_id in set(re.findall(rf"\border ({ULID_PATTERN})\b", f"{subject}\n{text}")):
                self._seen.setdefault(order_id, {"subject": subject, "message": text})
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def delete(self) -> None:
        """Unsubscribe, then delete the queue; each is attempted even if the other fails."""
        try:
            if self.subscription_arn and self.subscription_arn.startswith("arn:"):
                self.sns.unsubscribe(SubscriptionArn=self.subscription_arn)
        finally:
            self.sqs.delete_queue(QueueUrl=self.queue_url)


def approval_links(message: str) -> dict[str, str]:
    """{"approve": url, "reject": url} from the text of the owner's notification."""
    return {label.lower(): url for label, url in _LINK.findall(message)}


# -- a person's browser ------------------------------------------------------------------------------


class _Forms(HTMLParser):
    """The page's forms: method, action and the fields a browser submits when the (first) button
    is pressed: its inputs with a value of their own, and the button's name, if it has one."""

    _UNSENT = frozenset({"checkbox", "radio", "submit", "button", "image", "reset", "file"})

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({"method": attributes.get("method", "get").lower(),
                               "action": attributes.get("action", ""), "fields": {}, "pressed": False})
            return
        if not self.forms or not attributes.get("name"):
            return
        form, kind = self.forms[-1], attributes.get("type", "submit" if tag == "button" else "text").lower()
        if tag == "input" and kind not in self._UNSENT:
            form["fields"][attributes["name"]] = attributes.get("value", "")
        elif tag in {"input", "button"} and kind == "submit" and not form["pressed"]:
            form["fields"][attributes["name"]] = attributes.get("value", "")
            form["pressed"] = True


def open_link(url: str) -> requests.Response:
    """GET the link, as a browser opening it from the email does."""
    return requests.get(url, timeout=HTTP_TIMEOUT)


def press_button(page: requests.Response) -> requests.Response:
    """Submit the page's one POST form: to its action (the page's own URL when it has none), with
    its fields, as a browser does when its button is pressed."""
    parser = _Forms()
    parser.feed(page.text)
    forms = [form for form in parser.forms if form["method"] == "post"]
    if len(forms) != 1:
        raise StepFailed(f"the page at {_redact(page.url)} has {len(forms)} forms to post, not one")
    action = urljoin(page.url, forms[0]["action"]) if forms[0]["action"] else page.url
    return requests.post(action, data=forms[0]["fields"], timeout=HTTP_TIMEOUT)


def _redact(url: str) -> str:
    """An approval link without its query: the token in it decides the order, it is not for logs."""
    return url.split("?", 1)[0]


# -- the shop as its customers and owner see it -------------------------------------------------------


@dataclass
class Shop:
    outputs: dict[str, str]
    client: Callable[[str], Any]
    timeout: float  # how long any one step may take to show its result

    @property
    def api_url(self) -> str:
        return self.outputs[stack_outputs.API_URL].rstrip("/")

    def load_catalog(self) -> str:
        """The demo catalog into the stack's Products table (a new stack's is empty); a product id."""
        from shop.adapters.tables import ProductsTable
        from shop.domain.catalog import parse_catalog

        products = parse_catalog(CATALOG.read_text())
        ProductsTable(self.outputs[stack_outputs.PRODUCTS_TABLE], dynamodb=self.client("dynamodb")).put_all(products)
        return products[0].product_id

    def place(self, product_id: str) -> str:
        body = sample_order_body(product_id, customer_email=CUSTOMER_EMAIL, quantity=1)
        response = requests.post(f"{self.api_url}/orders", json=body, timeout=HTTP_TIMEOUT)
        if response.status_code != 201:
            raise StepFailed(f"POST /orders answered {response.status_code}: {response.text[:300]}")
        return response.json()["orderId"]

    def status(self, order_id: str) -> str | None:
        """The order's status from the API; None once it is gone (404)."""
        response = requests.get(f"{self.api_url}/orders/{order_id}", timeout=HTTP_TIMEOUT)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise StepFailed(f"GET /orders/{order_id} answered {response.status_code}: {response.text[:300]}")
        return response.json()["status"]

    def statuses_until(self, order_id: str, final: str | None, report: Callable[[str], None],
                       timeout: float | None = None) -> None:
        """Poll the order's status, saying each new one, until it is `final` (None: deleted)."""
        seen: list[str | None] = []

        def reached() -> bool:
            status = self.status(order_id)
            if not seen or seen[-1] != status:
                seen.append(status)
                report(f"order status: {status or 'gone (404)'}")
            return status == final

        poll(reached, timeout=self.timeout if timeout is None else timeout, what=f"status {final or 'gone (404)'} (saw {seen})")

    def execution_arn(self, order_id: str) -> str:
        # Each order's execution is named after the order (shop/logic/orders.py).
        return execution_arn(self.outputs[stack_outputs.STATE_MACHINE_ARN], order_id)

    def history(self, order_id: str) -> list[dict[str, Any]]:
        pages = self.client("stepfunctions").get_paginator("get_execution_history").paginate(
            executionArn=self.execution_arn(order_id))
        return [event for page in pages for event in page["events"]]

    def finished_execution(self, order_id: str, *, timeout: float) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        return poll(lambda: (e := sfn.describe_execution(executionArn=self.execution_arn(order_id)))["status"]
                    != "RUNNING" and e, timeout=timeout, what=f"end of execution {order_id}")


def states_entered(history: list[dict[str, Any]]) -> list[str]:
    return [event["stateEnteredEventDetails"]["name"] for event in history if "stateEnteredEventDetails" in event]


def _failure(history: list[dict[str, Any]]) -> str:
    """The last error in the history, to say why an execution went elsewhere."""
    for event in reversed(history):
        for key, details in event.items():
            if key.endswith("FailedEventDetails") or key.endswith("TimedOutEventDetails"):
                return f"{event['type']}: {details.get('error', '')} {details.get('cause', '')[:300]}".strip()
    return "no failure in the history"


# -- the scenarios ---------------------------------------------------------------------------------


@dataclass
class Context:
    shop: Shop
    capture: NotificationCapture
    product_id: str
    report: Report
    approval_timeout: int  # the stack's, seconds: the no-answer scenario waits it out
    # Each scenario's path through the state machine (the states entered) in local mode, which this
    # run's must equal; empty when this run records them instead (`make smoke-local`).
    expected_paths: Mapping[str, list[str]] = field(default_factory=dict)
    paths: dict[str, list[str]] = field(default_factory=dict)  # this run's, by scenario
    approved: tuple[str, dict[str, str]] | None = None  # the approve scenario's order and links


def _await_links(ctx: Context, name: str, order_id: str) -> dict[str, str]:
    note = ctx.capture.notification(order_id, timeout=ctx.shop.timeout)
    links = approval_links(note["message"])
    if set(links) != {"approve", "reject"}:
        raise StepFailed(f"the notification '{note['subject']}' has links {sorted(links)}, not approve and reject")
    ctx.report(name, f"owner notified through SNS: '{note['subject']}'")
    return links


def _placed_and_awaiting(ctx: Context, name: str) -> tuple[str, dict[str, str]]:
    order_id = ctx.shop.place(ctx.product_id)
    ctx.report(name, f"placed order {order_id} for {CUSTOMER_EMAIL}")
    links = _await_links(ctx, name, order_id)
    ctx.shop.statuses_until(order_id, OrderStatus.AWAITING_APPROVAL, lambda m: ctx.report(name, m))
    return order_id, links


def _click(ctx: Context, name: str, link: str, verb: str) -> None:
    page = open_link(link)
    if page.status_code != 200:
        raise StepFailed(f"opening the {verb} link answered {page.status_code}: {page.text[:300]}")
    ctx.report(name, f"opened the {verb} link over {link.split(':', 1)[0].upper()}: the confirmation page (200)")
    done = press_button(page)
    if done.status_code != 200:
        raise StepFailed(f"pressing the {verb} button answered {done.status_code}: {done.text[:300]}")
    ctx.report(name, f"pressed the {verb} button: {done.status_code}")


def _check_execution(ctx: Context, name: str, order_id: str, outcome: Outcome, *, timeout: float) -> None:
    execution = ctx.shop.finished_execution(order_id, timeout=timeout)
    history = ctx.shop.history(order_id)
    path = ctx.paths[name] = states_entered(history)
    output = json.loads(execution.get("output") or "null")
    if execution["status"] != "SUCCEEDED" or output != {"orderId": order_id, "outcome": outcome}:
        raise StepFailed(f"execution {execution['status']} with output {output}, path {' > '.join(path)} "
                         f"({_failure(history)})")
    if ctx.expected_paths:
        expected = ctx.expected_paths.get(name)
        if path != expected:
            raise StepFailed(f"the execution's path is not local mode's:\n      this run:   {' > '.join(path)}\n"
                             f"      local mode: {' > '.join(expected) if expected else '(none recorded)'}")
    ctx.report(name, f"execution {execution['status']}, outcome {outcome}: {' > '.join(path)}")


def approve(ctx: Context) -> str:
    """place → approve: shipped, the feedback request sent after the delay. Returns the order id and
    links, for the second click."""
    name = "approve"
    order_id, links = _placed_and_awaiting(ctx, name)
    _click(ctx, name, links["approve"], "approve")
    ctx.shop.statuses_until(order_id, OrderStatus.FEEDBACK_REQUESTED, lambda m: ctx.report(name, m))
    _check_execution(ctx, name, order_id, Outcome.APPROVED, timeout=ctx.shop.timeout)
    ctx.approved = (order_id, links)
    return order_id


def reject(ctx: Context) -> str:
    """place → reject: the order deleted, the customer told."""
    name = "reject"
    order_id, links = _placed_and_awaiting(ctx, name)
    _click(ctx, name, links["reject"], "reject")
    ctx.shop.statuses_until(order_id, None, lambda m: ctx.report(name, m))
    _check_execution(ctx, name, order_id, Outcome.REJECTED, timeout=ctx.shop.timeout)
    return order_id


def second_click(ctx: Context) -> str:
    """Both links of the approved order, clicked again: 409, and nothing changes."""
    name = "second-click"
    if ctx.approved is None:
        raise StepFailed("not run: it needs the order the approve scenario approved")
    order_id, links = ctx.approved
    status, events = ctx.shop.status(order_id), len(ctx.shop.history(order_id))
    for verb in ("approve", "reject"):
        again = requests.post(links[verb], timeout=HTTP_TIMEOUT)
        if again.status_code != 409:
            raise StepFailed(f"a second {verb} click answered {again.status_code}, not 409: {again.text[:300]}")
        ctx.report(name, f"{verb} link of decided order {order_id} pressed again: 409")
    after = ctx.shop.status(order_id), len(ctx.shop.history(order_id))
    if after != (status, events):
        raise StepFailed(f"the second clicks changed the order: status {status} -> {after[0]}, "
                         f"{events} -> {after[1]} execution events")
    ctx.report(name, f"nothing changed: status {status}, {events} execution events")
    return order_id


def no_answer(ctx: Context) -> Iterator[None]:
    """place → no answer: the approval times out and the order is cancelled. A generator: it is
    started first and finished last, so its wait overlaps the other scenarios."""
    name = "no-answer"
    order_id, _ = _placed_and_awaiting(ctx, name)
    times_out = time.monotonic() + ctx.approval_timeout
    ctx.report(name, f"not answering; the approval times out after {ctx.approval_timeout}s")
    yield
    ctx.shop.statuses_until(order_id, None, lambda m: ctx.report(name, m),
                            timeout=max(0, times_out - time.monotonic()) + ctx.shop.timeout)
    _check_execution(ctx, name, order_id, Outcome.TIMED_OUT, timeout=ctx.shop.timeout)


def run_scenarios(ctx: Context) -> dict[str, bool]:
    """Every scenario, each reported PASS or FAIL; a failing one does not stop the others."""
    results: dict[str, bool] = {}

    def attempt(name: str, step: Callable[[], Any]) -> bool:
        try:
            step()
            return True
        except (StepFailed, requests.RequestException) as error:
            ctx.report(name, f"FAIL: {error}")
        except Exception as error:  # an AWS error: say which, and go on with the next scenario
            ctx.report(name, f"FAIL: {type(error).__name__}: {error}")
        results[name] = False
        return False

    waiting = no_answer(ctx)
    started = attempt("no-answer", lambda: next(waiting))
    for scenario, name in ((approve, "approve"), (reject, "reject"), (second_click, "second-click")):
        if attempt(name, functools.partial(scenario, ctx)):
            results[name] = True
            ctx.report(name, "PASS")
    if started and attempt("no-answer", lambda: next(waiting, None)):
        results["no-answer"] = True
        ctx.report("no-answer", "PASS")
    return results
