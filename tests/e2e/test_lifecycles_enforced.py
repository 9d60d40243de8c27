"""Every lifecycle of an order, in both SES modes, with IAM enforced and no call denied."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.lifecycles import SCENARIOS
from tests.support import running_shop


@pytest.fixture(scope="module", params=[True, False], ids=["ses-sandbox", "ses-production"])
def shop(synthesized, request):
    with running_shop(synthesized, approval_timeout_seconds=8, feedback_delay_seconds=1,
                      ses_sandbox=request.param) as shop:
        yield shop


def test_every_lifecycle_passes_and_no_call_is_denied(shop):
    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        results = {name: pool.submit(scenario, shop) for name, scenario in SCENARIOS.items()}
        failures = {name: repr(future.exception()) for name, future in results.items() if future.exception()}
    assert failures == {}
    assert shop.shop.enforcer.denials == []
