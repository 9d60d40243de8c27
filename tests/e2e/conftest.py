"""End-to-end fixtures: a whole local shop on 127.0.0.1, driven over HTTP like a user would.

Each shop runs in this process (moto is process-global, so one at a time) and is stopped by the
fixture that started it. Durations are short through configuration, never by patching time.
"""

from __future__ import annotations

import pytest

from tests.support import running_shop


@pytest.fixture(scope="module")
def shop(synthesized):
    """A shop where the owner has a minute to decide and feedback is asked after one second."""
    with running_shop(synthesized, approval_timeout_seconds=60, feedback_delay_seconds=1) as shop:
        yield shop
