"""The domain's words: one list of order statuses and of the workflow's names, used everywhere."""

from __future__ import annotations

import json
from pathlib import Path

from shop.domain.status import OrderStatus
from shop.domain.workflow_contract import Outcome
from shop.logic import owner

ROOT = Path(__file__).resolve().parents[2]


def test_statuses_are_their_strings_when_stored_and_sent():
    assert json.dumps({"status": OrderStatus.AWAITING_APPROVAL}) == '{"status": "AWAITING_APPROVAL"}'
    assert OrderStatus("SHIPPED") is OrderStatus.SHIPPED and f"{OrderStatus.SHIPPED}" == "SHIPPED"


def test_the_owner_lists_every_status_and_each_outcome_of_a_deleted_order_is_one():
    assert set(owner.STATUSES) == set(OrderStatus)
    # A deleted order shows its execution's outcome as its status.
    assert {Outcome.REJECTED, Outcome.CANCELLED, Outcome.TIMED_OUT} <= set(OrderStatus)


def test_no_template_compares_with_a_status_or_outcome_literal():
    literals = {f'"{word}"' for word in {*OrderStatus, *Outcome}} | {f"'{word}'" for word in {*OrderStatus, *Outcome}}
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert not [literal for literal in literals if literal in text], template

