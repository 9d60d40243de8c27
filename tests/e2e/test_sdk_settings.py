"""The developer's SDK settings reach every AWS client local mode runs, the console's included."""

from __future__ import annotations

import os

import pytest

from shop.adapters import aws
from tests.support import running_shop


@pytest.fixture(scope="module")
def shop(synthesized):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_MAX_ATTEMPTS", "1")
        with running_shop(synthesized, approval_timeout_seconds=60, feedback_delay_seconds=60) as shop:
            yield shop


def test_the_consoles_clients_honour_aws_max_attempts(shop):
    """The console runs as the owner in an environment of the owner's own, which had only the
    owner's credentials and region: its calls made 3 attempts whatever AWS_MAX_ATTEMPTS said."""
    with shop.shop.as_owner():
        assert os.environ.get("AWS_MAX_ATTEMPTS") == "1"
        retries = aws.session().client("dynamodb", config=aws.client_config()).meta.config.retries
    assert retries == {"mode": "standard", "total_max_attempts": 1}
