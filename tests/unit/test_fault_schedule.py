"""`FAULTS` as local mode reads it at start: each entry's fault, and a bad entry named, not guessed."""

from __future__ import annotations

import pytest

from shop.local.patches.faults import Fault, Faults
from shop.local.runtime import LocalConfig


def test_each_kind_of_fault_is_read_and_written_back_the_same():
    spec = "ses.send_email=3, dynamodb.put_item=lost:1,stepfunctions.send_task_success=slow:2.5"

    faults = Faults.parse(spec)

    assert faults == {"ses.send_email": Fault("throttle", 3), "dynamodb.put_item": Fault("lost", 1),
                      "stepfunctions.send_task_success": Fault("slow", 1, 2.5)}
    assert [f"{name}={fault}" for name, fault in faults.items()] == [p.strip() for p in spec.split(",")]


def test_a_schedule_counts_down_and_lists_only_what_is_pending():
    faults = Faults()
    faults.arm_all({"ses.send_email": 2, "dynamodb.put_item": Fault.parse("lost:1")})
    assert faults.pending() == {"dynamodb.put_item": "lost:1", "ses.send_email": "2"}

    assert faults._take("ses.send_email", ("throttle", "lost")) == Fault("throttle", 2)
    assert faults._take("ses.send_email", ("slow",)) is None  # a throttle is not a delay
    assert faults._take("dynamodb.put_item", ("throttle", "lost")) == Fault("lost", 1)
    assert faults.pending() == {"ses.send_email": "1"}
    assert faults.injected == {"ses.send_email": 1, "dynamodb.put_item": 1}


@pytest.mark.parametrize(("spec", "named"), [
    ("ses.send_email=three", "ses.send_email=three"),
    ("ses.send_email", "ses.send_email="),
    ("ses.send_mail=1", "ses.send_mail=1"),
    ("dynamodb.put_item=lost:", "dynamodb.put_item=lost:"),
    ("dynamodb.put_item=lost:-1", "dynamodb.put_item=lost:-1"),
    ("dynamodb.put_item=slow:soon", "dynamodb.put_item=slow:soon"),
    ("dynamodb.put_item=slow:inf", "dynamodb.put_item=slow:inf"),
    ("dynamodb.put_item=1,dynamodb.put_item=lost:1", "named twice"),
    ("ses.send_email=\u0663", "ses.send_email=\u0663"),  # an Arabic-Indic three: a digit, not a number here
])
def test_a_bad_entry_stops_the_start_naming_it(spec, named):
    with pytest.raises(SystemExit) as stopped:
        LocalConfig.from_environment({"FAULTS": f"sns.publish=1,{spec}"})

    assert str(stopped.value).startswith("FAULTS: bad fault") and named in str(stopped.value)


def test_an_unknown_operation_arms_nothing():
    faults = Faults()
    with pytest.raises(ValueError, match="dynamodb.scan"):
        faults.arm_all({"ses.send_email": 1, "dynamodb.scan": 1})
    assert faults.pending() == {}
