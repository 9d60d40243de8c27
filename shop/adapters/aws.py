"""boto3 clients, created on first use and shared per container.

Created lazily so importing a handler stays cheap (cold starts), and configured once: standard
retry mode with backoff for throttling. Endpoints come from the environment (`AWS_ENDPOINT_URL`)
or, in local mode, from moto's in-process interception; the code is the same in both.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 4}))


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError, '' for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
