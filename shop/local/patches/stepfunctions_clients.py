"""The AWS clients moto's state machine uses for its tasks (Lambda invokes, DynamoDB items).

moto signs them all with the made-up key "ak": every call of every state machine would look like
one anonymous caller. Here each is signed with the local credentials of the role the execution
runs as (`StateCredentials.role_arn`, the state machine's role), so IAM enforcement attributes it
to that role, as AWS does. They are also made once per role and service, not per task: moto built
a new boto3 client (~10 ms) for every Lambda invoke and DynamoDB task (found by `make bench`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from shop.local.patches import Patch

_TASKS = "moto.stepfunctions.parser.asl.component.state.exec.state_task"


def patches(credentials_for: Callable[[str], Mapping[str, str]]) -> list[Patch]:
    """`credentials_for(role_arn)` -> {"aws_access_key_id": ..., ...} for boto3.client."""
    lock = threading.Lock()
    clients: dict[tuple, Any] = {}

    def wrap(original: Any) -> Any:
        import boto3
        from moto.core.models import botocore_stubber
        from moto.settings import moto_server_port

        @wraps(original)
        def role_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            role_arn = state_credentials.role_arn if state_credentials is not None else ""
            # moto's choice of endpoint depends on the last two.
            key = (region, service, role_arn, botocore_stubber.enabled, moto_server_port())
            with lock:
                client = clients.get(key)
                if client is None:
                    made = original(region, service, state_credentials)
                    client = clients[key] = boto3.client(
                        service, region_name=region, endpoint_url=made.meta.endpoint_url,
                        config=made.meta.config, **credentials_for(role_arn),
                    )
            return client

        return role_client_for

    return [
        Patch(f"{_TASKS}.lambda_eval_utils", "boto_client_for", wrap),
        Patch(f"{_TASKS}.service.state_task_service_dynamodb", "boto_client_for", wrap),
    ]
