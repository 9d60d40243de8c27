"""The owner's policy is written once: the README shows the same policy local mode enforces."""

from __future__ import annotations

import json
import re

from shop.owner_policy import PLACEHOLDER_OUTPUTS, owner_policy
from tests.support import ROOT


def test_the_readme_shows_the_policy_local_mode_enforces():
    readme = (ROOT / "README.md").read_text()
    shown = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", readme, re.S)
             if '"Statement"' in block]
    assert shown == [owner_policy(PLACEHOLDER_OUTPUTS)]


def test_the_policy_names_only_this_stacks_resources():
    outputs = {
        "StateMachineArn": "arn:aws:states:eu-west-1:111122223333:stateMachine:OrderShop-OrderWorkflow",
        "OrdersTableName": "Orders", "DecisionsTableName": "Decisions", "ProductsTableName": "Products",
        "OwnerTopicArn": "arn:aws:sns:eu-west-1:111122223333:Owner",
        "LinkSigningSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:Key-AbCdEf",
    }
    resources = [r for s in owner_policy(outputs)["Statement"]
                 for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])]
    assert "*" not in resources
    assert "arn:aws:dynamodb:eu-west-1:111122223333:table/Orders" in resources
    assert "arn:aws:states:eu-west-1:111122223333:execution:OrderShop-OrderWorkflow:*" in resources
    assert "arn:aws:cloudformation:eu-west-1:111122223333:stack/OrderShop/*" in resources
