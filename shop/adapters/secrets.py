"""The approval-link signing key, read from Secrets Manager once per Lambda container."""

from __future__ import annotations

from typing import Any

from shop.adapters.aws import client
from shop.container import per_container


def read_signing_key(secret_id: str, secretsmanager: Any) -> bytes:
    if not secret_id:
        raise RuntimeError("no link signing secret configured")
    return secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"].encode()


@per_container
def signing_key(secret_id: str) -> bytes:
    return read_signing_key(secret_id, client("secretsmanager"))
