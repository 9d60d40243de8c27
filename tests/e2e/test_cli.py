"""The installed `shop` command against a running local shop, and against a "deployed" stack
(moto's CloudFormation, reached the way AWS would be): every command, its `--json` output and
its exit codes, the error paths included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from shop.cli import EXIT
from tests.support import DEMO_PRODUCT, DEMO_PRODUCT_2, poll

SHOP = Path(sys.executable).with_name("shop")  # the console script `pip install -e .` made
ROOT = Path(__file__).resolve().parents[2]
ADDRESS = ["--street", "12 St James Square", "--city", "London", "--county", "Greater London",
           "--country", "United Kingdom"]


def run(shop, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SHOP_URL": shop.url, **(env or {})}
    return subprocess.run([str(SHOP), *args], capture_output=True, text=True, env=environment, timeout=60)


def ok_json(shop, *args: str) -> Any:
    result = run(shop, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def place(shop, *items: str, email: str = "ada@example.com") -> str:
    order = ok_json(shop, "order", "place", "--email", email, "--name", "Ada Lovelace", *ADDRESS,
                    *[arg for item in (items or (f"{DEMO_PRODUCT}:2",)) for arg in ("--item", item)])
    return order["orderId"]


def pending(shop, order_id: str) -> dict[str, Any]:
    return poll(lambda: next((o for o in ok_json(shop, "approvals", "list") if o["orderId"] == order_id), None),
                what=f"{order_id} awaiting approval")


def detail(shop, order_id: str) -> dict[str, Any]:
    return ok_json(shop, "order", "show", order_id)


def finished(shop, order_id: str) -> dict[str, Any]:
    return poll(lambda: (d := detail(shop, order_id))["execution"]["status"] != "RUNNING" and d,
                what=f"{order_id}'s workflow to finish")


def test_the_installed_command_has_help_for_every_command(shop):
    for command in (["order", "place"], ["order", "show"], ["order", "list"], ["order", "cancel"],
                    ["approvals", "list"], ["approvals", "approve"], ["approvals", "reject"],
                    ["approvals", "resend"], ["approvals", "deliver"], ["catalog", "load"]):
        result = run(shop, *command, "--help")
        assert result.returncode == 0 and "usage: shop" in result.stdout, command


def test_place_prices_the_order_through_the_api(shop):
    order = ok_json(shop, "order", "place", "--email", "grace@example.com", "--name", "Grace Hopper", *ADDRESS,
                    "--item", f"{DEMO_PRODUCT}:2", "--item", f"{DEMO_PRODUCT_2}:1")

    assert order["status"] == "RECEIVED"
    assert (order["total"], order["currency"]) == ("39.30", "EUR")
    assert shop.order(order["orderId"]).status_code == 200


def test_place_prints_a_sentence_for_people(shop):
    result = run(shop, "order", "place", "--email", "ada@example.com", "--name", "Ada", *ADDRESS,
                 "--item", f"{DEMO_PRODUCT}:1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Order ") and "placed: 14.90 EUR" in result.stdout


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["nonsense"], "expected PRODUCT_ID:QUANTITY"),
        ([f"{DEMO_PRODUCT}:two"], "expected PRODUCT_ID:QUANTITY"),
        ([f"{DEMO_PRODUCT}:-1"], "expected PRODUCT_ID:QUANTITY"),
        ([f"{DEMO_PRODUCT}:0"], "items[0].quantity must be bigger than or equal to 1"),
        (["01JDF12740C1HB5QE4DT9TWB3Z:1"], "no product with id 01JDF12740C1HB5QE4DT9TWB3Z"),
    ],
)
def test_place_refuses_bad_items_and_places_nothing(shop, items, message):
    before = len(ok_json(shop, "order", "list", "--limit", "1000"))
    result = run(shop, "order", "place", "--email", "ada@example.com", "--name", "Ada", *ADDRESS,
                 *[arg for item in items for arg in ("--item", item)])

    assert result.returncode == EXIT["invalid"]
    assert message in result.stderr
    assert len(ok_json(shop, "order", "list", "--limit", "1000")) == before


def test_place_refuses_a_bad_email_with_the_apis_reason(shop):
    result = run(shop, "order", "place", "--email", "not-an-email", "--name", "Ada", *ADDRESS,
                 "--item", f"{DEMO_PRODUCT}:1", "--json")

    assert result.returncode == EXIT["invalid"]
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "invalid" and "customerEmail" in error["message"]


@pytest.mark.parametrize(("option", "value", "field", "named"), [
    ("--name", "Eve\n\nApprove and ship it:\nhttp://evil.example/", "customerName", "a line break (U+000A)"),
    ("--name", "Eve\x1b]0;pwned\x07", "customerName", "a control character (U+001B)"),
    ("--street", "1 Main St\u202e", "shippingAddress.streetAddress", "a bidirectional text control (U+202E)"),
    ("--email", "ada\x07@example.com", "customerEmail", "a control character (U+0007)"),
], ids=["name-fake-links", "name-terminal-title", "street-RLO", "email-BEL"])
def test_place_refuses_text_that_would_forge_lines_or_drive_a_terminal(shop, option, value, field, named):
    arguments = {"--email": "ada@example.com", "--name": "Ada", **dict(zip(ADDRESS[::2], ADDRESS[1::2], strict=True))}
    arguments[option] = value
    before = len(ok_json(shop, "order", "list", "--limit", "1000"))

    result = run(shop, "order", "place", *[part for pair in arguments.items() for part in pair],
                 "--item", f"{DEMO_PRODUCT}:1")

    assert result.returncode == EXIT["invalid"], result.stderr
    assert field in result.stderr and named in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and result.stderr.count("\n") == 1
    assert len(ok_json(shop, "order", "list", "--limit", "1000")) == before


def test_place_without_the_required_options_is_a_usage_error(shop):
    result = run(shop, "order", "place", "--email", "ada@example.com")

    assert result.returncode == 2
    assert "required" in result.stderr


def test_place_with_an_idempotency_key_places_one_order(shop):
    args = ["order", "place", "--email", "ada@example.com", "--name", "Ada", *ADDRESS, "--item", f"{DEMO_PRODUCT}:1",
            "--idempotency-key", "cli-test-key-1"]

    assert ok_json(shop, *args)["orderId"] == ok_json(shop, *args)["orderId"]


def test_approvals_list_shows_the_deadline_and_time_left(shop):
    order_id = place(shop)
    listed = pending(shop, order_id)

    assert listed["status"] == "AWAITING_APPROVAL"
    assert listed["approvalDeadline"].endswith("Z")
    assert 0 < listed["secondsLeft"] <= 60
    assert listed["total"] == "29.80" and listed["customerEmail"] == "ada@example.com"
    table = run(shop, "approvals", "list").stdout
    assert "DECIDE BY" in table and order_id in table


def test_approve_ships_the_order_and_a_second_decision_is_refused(shop):
    order_id = place(shop)
    pending(shop, order_id)

    approved = ok_json(shop, "approvals", "approve", order_id)
    assert (approved["status"], approved["decision"]) == ("APPROVED", "approve")
    assert "approvalTaskToken" not in approved and "approvalLinkId" not in approved

    for again in (["approvals", "approve"], ["approvals", "reject"], ["order", "cancel"], ["approvals", "resend"]):
        result = run(shop, *again, order_id)
        assert result.returncode == EXIT["conflict"], again
        assert "already approved" in result.stderr

    shown = finished(shop, order_id)
    assert shown["status"] == "FEEDBACK_REQUESTED" and shown["execution"]["outcome"] == "APPROVED"
    assert shown["decision"]["decision"] == "approve"
    assert shown["marks"]["ShipmentEmail"] == "passed" and shown["marks"]["End"] == "passed"
    assert {"ExecutionStarted", "ExecutionSucceeded"} <= {event["type"] for event in shown["events"]}


def test_reject_deletes_the_order_and_tells_the_customer(shop):
    order_id = place(shop)
    pending(shop, order_id)

    assert ok_json(shop, "approvals", "reject", order_id)["status"] == "REJECTED"

    shown = finished(shop, order_id)
    assert (shown["status"], shown["live"], shown["execution"]["outcome"]) == ("REJECTED", False, "REJECTED")
    assert shown["order"]["customerEmail"] == "ada@example.com"  # from the execution's input
    assert shop.order(order_id).status_code == 404
    assert order_id in [o["orderId"] for o in ok_json(shop, "order", "list", "--status", "rejected")]
    shop.wait_for_email(order_id, "was cancelled")


def test_cancel_goes_through_the_cancellation_path(shop):
    order_id = place(shop)
    pending(shop, order_id)
    approve_link = shop.links(order_id)["approve"]

    result = run(shop, "order", "cancel", order_id)
    assert result.returncode == 0, result.stderr
    assert "cancelled: the customer is told and the order deleted" in result.stdout

    shown = finished(shop, order_id)
    assert shown["execution"]["status"] == "SUCCEEDED"  # never a bare StopExecution
    assert (shown["status"], shown["execution"]["outcome"]) == ("CANCELLED", "CANCELLED")
    for state in ("Cancelled", "DeleteOrder", "CancellationEmail", "OrderCancelled"):
        assert shown["marks"][state] == "passed", state
    email = shop.wait_for_email(order_id, "was cancelled")
    assert "The shop has cancelled your order." in email["body"]
    # The emailed link now says so, and decides nothing.
    page = requests.post(approve_link, timeout=10)
    assert page.status_code == 409 and "already cancelled" in page.text


def test_resend_replaces_the_links_and_the_old_ones_stop_working(shop):
    order_id = place(shop)
    pending(shop, order_id)
    old = shop.links(order_id)

    resent = ok_json(shop, "approvals", "resend", order_id)
    assert resent["approvalDeadline"] == pending(shop, order_id)["approvalDeadline"]  # same deadline

    notifications = poll(lambda: [e for e in shop.outbox() if e["channel"] == "sns" and order_id in e["subject"]][1:],
                         what="the resent notification")
    assert "replace the ones sent before" in notifications[0]["body"]
    new_approve = next(line for line in notifications[0]["body"].split() if "result=approve" in line)
    assert new_approve != old["approve"]

    assert requests.get(old["approve"], timeout=10).status_code == 403
    assert requests.post(old["reject"], timeout=10).status_code == 403
    assert requests.get(new_approve, timeout=10).status_code == 200
    assert requests.post(new_approve, timeout=10).status_code == 200
    shop.wait_for_email(order_id, "is on its way")


def test_a_decision_that_did_not_reach_the_workflow_says_so_and_deliver_delivers_it(shop):
    order_id = place(shop)
    pending(shop, order_id)

    shop.shop.faults.arm("stepfunctions.send_task_success", 100)  # past the SDK's own retries
    try:
        failed = run(shop, "approvals", "approve", order_id)
    finally:
        shop.shop.faults.arm("stepfunctions.send_task_success", 0)

    assert failed.returncode == EXIT["failed"], failed.stderr  # trying again is the remedy
    assert "Your decision is recorded" in failed.stderr
    shown = run(shop, "order", "show", order_id).stdout
    assert "Decision: approved at" in shown and "not yet delivered: `shop approvals deliver ID`" in shown
    listed = run(shop, "approvals", "list").stdout
    assert next(line for line in listed.splitlines() if order_id in line).endswith("`shop approvals deliver ID` delivers it")
    assert run(shop, "approvals", "reject", order_id).returncode == EXIT["conflict"]

    delivered = run(shop, "approvals", "deliver", order_id)
    assert delivered.returncode == 0 and f"Order {order_id} approved" in delivered.stdout
    shop.wait_for_email(order_id, "is on its way")
    again = run(shop, "approvals", "deliver", order_id, "--json")
    assert again.returncode == EXIT["conflict"] and "already approved" in json.loads(again.stderr)["error"]["message"]


@pytest.mark.parametrize("command", [["order", "show"], ["approvals", "approve"], ["approvals", "reject"],
                                     ["approvals", "resend"], ["approvals", "deliver"], ["order", "cancel"]])
def test_an_unknown_order_is_not_found(shop, command):
    result = run(shop, *command, "01JDF12740C1HB5QE4DT9TWB3Z", "--json")

    assert result.returncode == EXIT["not_found"]
    assert json.loads(result.stderr)["error"]["kind"] == "not_found"
    assert result.stdout == ""


def test_list_is_newest_first_and_filters_by_status(shop):
    first, second = place(shop), place(shop)
    listed = [o["orderId"] for o in ok_json(shop, "order", "list", "--limit", "1000")]

    assert listed.index(second) < listed.index(first)
    assert len(ok_json(shop, "order", "list", "--limit", "1")) == 1
    pending(shop, second)
    awaiting = ok_json(shop, "order", "list", "--status", "AWAITING_APPROVAL", "--limit", "1000")
    assert second in [o["orderId"] for o in awaiting]
    assert {o["status"] for o in awaiting} == {"AWAITING_APPROVAL"}
    assert "ORDER" in run(shop, "order", "list").stdout


def test_an_unknown_status_is_refused_naming_the_known_ones(shop):
    result = run(shop, "order", "list", "--status", "lost")

    assert result.returncode == EXIT["invalid"]
    assert "unknown status 'lost'" in result.stderr and "AWAITING_APPROVAL" in result.stderr


def test_shared_options_work_before_and_after_the_command(shop):
    before = run(shop, "--json", "order", "list", "--limit", "2")
    after = run(shop, "order", "list", "--limit", "2", "--json")

    assert before.returncode == after.returncode == 0
    assert isinstance(json.loads(before.stdout), list) and isinstance(json.loads(after.stdout), list)


def test_catalog_load_writes_the_products(shop, tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps([{"Id": "01JDF12740C1HB5QE4DT9TWB3Y", "Name": "Teapot", "Price": "31.00",
                                    "Currency": "EUR"}]))

    assert ok_json(shop, "catalog", "load", str(catalog))["loaded"] == 1
    assert place(shop, "01JDF12740C1HB5QE4DT9TWB3Y:1")  # now orderable


def test_catalog_load_refuses_a_missing_or_bad_file(shop, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")

    for path in (tmp_path / "missing.json", bad):
        result = run(shop, "catalog", "load", str(path))
        assert result.returncode == EXIT["invalid"], result.stderr
        assert result.stderr.startswith("shop: ")


def test_no_local_shop_is_unreachable(shop):
    result = run(shop, "order", "list", "--local", "http://127.0.0.1:9")

    assert result.returncode == EXIT["unreachable"]
    assert "no local shop at http://127.0.0.1:9" in result.stderr and "make run" in result.stderr


def aws_env(shop) -> dict[str, str]:
    """The AWS SDK pointed at the shop's moto server, as if it were AWS."""
    return {"AWS_ENDPOINT_URL": shop.shop.aws_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1"}


def test_aws_without_the_stack_says_stack_not_found(shop):
    result = run(shop, "--aws", "--stack", "NoSuchShop", "order", "list", env=aws_env(shop))

    assert result.returncode == EXIT["unreachable"]
    assert "stack NoSuchShop not found" in result.stderr


def test_aws_reads_the_stack_outputs_from_cloudformation(shop):
    # A stack whose outputs are the running shop's: what `cdk deploy` leaves behind on AWS.
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {name: {"Value": value} for name, value in shop.shop.stack.outputs.items()}}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="DeployedShop", TemplateBody=json.dumps(template))
    order_id = place(shop)
    pending(shop, order_id)

    listed = run(shop, "--aws", "--stack", "DeployedShop", "approvals", "list", "--json", env=aws_env(shop))
    assert listed.returncode == 0, listed.stderr
    assert order_id in [o["orderId"] for o in json.loads(listed.stdout)]
    approved = run(shop, "--aws", "--stack", "DeployedShop", "approvals", "approve", order_id, env=aws_env(shop))
    assert approved.returncode == 0, approved.stderr
    shop.wait_for_email(order_id, "is on its way")


def unconfigured_aws(tmp_path, **variables: str) -> dict[str, str]:
    """A shell with no AWS configuration: no AWS variables but `variables`, an empty home (no ~/.aws),
    and no instance metadata to ask (this is no EC2 instance)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    kept = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return {**kept, "HOME": str(home), "AWS_EC2_METADATA_DISABLED": "true", **variables}


def run_bare(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(SHOP), *args], capture_output=True, text=True, env=env, timeout=60)


AWS_COMMANDS = [["order", "list"], ["approvals", "list"], ["order", "show", "01JDF12740C1HB5QE4DT9TWB3Z"],
                ["approvals", "approve", "01JDF12740C1HB5QE4DT9TWB3Z"],
                ["catalog", "load", str(ROOT / "data" / "demo-catalog.json")],
                ["order", "place", "--email", "ada@example.com", "--name", "Ada", *ADDRESS,
                 "--item", f"{DEMO_PRODUCT}:1"]]


@pytest.mark.parametrize("command", AWS_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_aws_without_a_region_is_a_configuration_problem_saying_what_to_set(tmp_path, command):
    env = unconfigured_aws(tmp_path, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret")

    result = run_bare("--aws", *command, "--json", env=env)

    assert result.returncode == EXIT["unreachable"], result.stderr
    error = json.loads(result.stderr)["error"]
    assert "no AWS region" in error["message"] and "--region" in error["message"]
    assert "AWS_REGION" in error["message"]


@pytest.mark.parametrize("command", AWS_COMMANDS[:2], ids=lambda c: " ".join(c[:2]))
def test_aws_without_credentials_is_a_configuration_problem_saying_what_to_set(tmp_path, command):
    result = run_bare("--aws", "--region", "eu-west-1", *command, env=unconfigured_aws(tmp_path))

    assert result.returncode == EXIT["unreachable"], result.stderr
    assert "no AWS credentials" in result.stderr and "AWS_ACCESS_KEY_ID" in result.stderr

