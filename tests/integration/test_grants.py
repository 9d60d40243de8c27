"""Least privilege, checked by taking each grant away.

Every statement of every role's policies, every Lambda permission and every Allow of a topic
policy is removed in turn from a copy of the synthesized template; the copy is deployed locally and
the lifecycles (tests/lifecycles.py) run against it. Each removal must make a call fail with
AccessDenied naming what was removed: a grant whose removal breaks nothing is one nobody needs.
The grants that stay although local mode cannot need them are listed in `NOT_EXERCISED_LOCALLY`,
each with its reason.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shop.local.deployer import physical_name_prefix
from shop.local.iam.enforcer import Denial
from shop.local.runtime import LocalConfig, LocalShop, StackRefused
from tests.lifecycles import SCENARIOS
from tests.support import ShopClient

# (role's logical id prefix, action or action prefix) -> why it stays although no lifecycle uses it.
NOT_EXERCISED_LOCALLY = {
    ("WorkflowStateMachineRole", "logs:"):
        "Step Functions delivers the state machine's execution log to CloudWatch Logs; local mode "
        "keeps no CloudWatch logs (CDK adds these with `logs=`).",
    ("WorkflowStateMachineRole", "xray:"):
        "Step Functions sends X-Ray traces (`tracing_enabled`); local mode has no X-Ray.",
}


def _excused(role: str, action: str) -> bool:
    return any(role.startswith(prefix) and action.startswith(excused)
               for prefix, excused in NOT_EXERCISED_LOCALLY)


@dataclass(frozen=True)
class Grant:
    name: str
    excused: bool  # every action of it is in NOT_EXERCISED_LOCALLY
    remove: Callable[[dict[str, Any]], None]  # takes the grant out of a template copy
    names_it: Callable[[Denial], bool]  # whether a denial is for this grant


def _remove_statement(template: dict[str, Any], logical_id: str, index: int) -> None:
    """Take one statement out; a policy left without any goes whole (AWS accepts no empty one)."""
    statements = template["Resources"][logical_id]["Properties"]["PolicyDocument"]["Statement"]
    del statements[index]
    if not statements:
        del template["Resources"][logical_id]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def _statement_removed(logical_id: str, index: int) -> Callable[[dict[str, Any]], None]:
    return lambda template: _remove_statement(template, logical_id, index)


def _resource_removed(logical_id: str) -> Callable[[dict[str, Any]], None]:
    return lambda template: template["Resources"].pop(logical_id)


def _denied(*, actions: list[str], principals: list[str] | None = None,
            resource_part: str = "") -> Callable[[Denial], bool]:
    """A denial of one of `actions`, to one of the principals (by the start of their names, the
    part local mode does not draw at random), on a matching resource."""
    def names_it(denial: Denial) -> bool:
        return (denial.action in actions and resource_part in denial.resource
                and (principals is None or denial.principal.rpartition("/")[2].startswith(tuple(principals))))

    return names_it


def _grants(template: dict[str, Any], stack_name: str) -> list[Grant]:
    grants = []
    for logical_id, resource in template["Resources"].items():
        kind, props = resource["Type"], resource["Properties"]
        if kind == "AWS::IAM::Policy":
            role = props["Roles"][0]["Ref"]
            roles = [physical_name_prefix(stack_name, each["Ref"]) for each in props["Roles"]]
            for index, statement in enumerate(props["PolicyDocument"]["Statement"]):
                actions = _actions(statement)
                grants.append(Grant(f"{role}: {', '.join(actions)}",
                                    all(_excused(role, action) for action in actions),
                                    _statement_removed(logical_id, index), _denied(actions=actions, principals=roles)))
        elif kind == "AWS::Lambda::Permission":
            function = physical_name_prefix(stack_name, props["FunctionName"]["Fn::GetAtt"][0])
            grants.append(Grant(f"{logical_id}: {props['Action']} by {props['Principal']}", False,
                                _resource_removed(logical_id),
                                _denied(actions=[props["Action"]], resource_part=f":function:{function}")))
        elif kind == "AWS::SNS::TopicPolicy":
            for index, statement in enumerate(props["PolicyDocument"]["Statement"]):
                if statement["Effect"] != "Allow":
                    continue  # taking a Deny away cannot break a call; tests/infra checks it is there
                grants.append(Grant(f"{logical_id}: {statement.get('Sid')}", False,
                                    _statement_removed(logical_id, index),
                                    _denied(actions=_actions(statement), resource_part="arn:aws:sns:")))
    return grants


def _run(template_path: Path, until: Callable[[list[Denial]], bool] = lambda denials: False,
         timeout: float = 60) -> tuple[LocalShop | None, list[Denial], dict[str, str]]:
    """Deploy the template, run every lifecycle at once; stop early once `until(denials)` holds."""
    shop = LocalShop(LocalConfig(port=0, aws_port=0, template_path=template_path,
                                 approval_timeout_seconds=8, feedback_delay_seconds=1))
    try:
        shop.start()
    except StackRefused:
        return None, list(shop.enforcer.denials), {"deploy": "refused"}
    pool = ThreadPoolExecutor(max_workers=len(SCENARIOS))
    try:
        client = ShopClient(shop)
        futures = {name: pool.submit(scenario, client) for name, scenario in SCENARIOS.items()}
        deadline = time.monotonic() + timeout
        while not all(f.done() for f in futures.values()) and not until(shop.enforcer.denials):
            assert time.monotonic() < deadline, "the lifecycles did not end"
            time.sleep(0.05)
        failures = {n: repr(f.exception()) for n, f in futures.items() if f.done() and f.exception()}
        return shop, list(shop.enforcer.denials), failures
    finally:
        shop.stop()  # scenarios still running fail fast against a stopped shop
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def template(synthesized) -> dict[str, Any]:
    return synthesized.template


@pytest.fixture(scope="module")
def baseline(synthesized):
    shop, denials, failures = _run(synthesized.template_path)
    return shop, denials, failures


def test_the_stack_as_synthesized_passes_every_lifecycle_with_nothing_denied(baseline):
    _, denials, failures = baseline
    assert (failures, denials) == ({}, [])


def test_every_granted_action_is_used(baseline, template, synthesized):
    """Finer than a statement: every action of every statement was allowed for some call."""
    shop, _, _ = baseline
    used = {(principal.rpartition("/")[2], action) for principal, action in shop.enforcer.allowed}
    stack_name = synthesized.template_path.name.removesuffix(".template.json")
    unused = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        role_ids = [role["Ref"] for role in resource["Properties"]["Roles"]]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            for action in _actions(statement):
                if _excused(role_ids[0], action):
                    continue
                if not any(principal.startswith(physical_name_prefix(stack_name, role)) and allowed == action
                           for role in role_ids for principal, allowed in used):
                    unused.append(f"{role_ids[0]}: {action}")
    assert unused == []


def test_removing_any_grant_fails_a_lifecycle_with_access_denied_naming_it(template, synthesized, tmp_path):
    stack_name = synthesized.template_path.name.removesuffix(".template.json")
    grants = _grants(template, stack_name)
    assert len(grants) >= 10  # the stack's identity statements, Lambda permissions, the alarm's Allow
    unnoticed = []
    for number, grant in enumerate(grants):
        if grant.excused:
            continue
        mutant = copy.deepcopy(template)
        grant.remove(mutant)
        path = tmp_path / str(number) / f"{stack_name}.template.json"
        path.parent.mkdir()
        path.write_text(json.dumps(mutant))
        _, denials, _ = _run(path, until=lambda denials, grant=grant: any(map(grant.names_it, denials)))
        if not any(map(grant.names_it, denials)):
            unnoticed.append(grant.name)
    assert unnoticed == []


def test_every_excuse_still_names_a_grant_of_the_stack(template, synthesized):
    stack_name = synthesized.template_path.name.removesuffix(".template.json")
    names = [grant.name for grant in _grants(template, stack_name)]
    for role, action in NOT_EXERCISED_LOCALLY:
        assert any(name.startswith(role) and action in name for name in names), (role, action)
