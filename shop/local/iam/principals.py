"""Who makes each AWS call in local mode, told apart as AWS does: by the access key that signs it.

Local mode issues each role (a function's, the state machine's, the owner's) credentials of its
own; a function's environment carries its role's, as on Lambda. A key that local mode did not
issue is the developer's own: the account's administrator, who deploys the stack (and whose
`boto3` in a test or an `aws` command inspects it), exactly as with `cdk deploy`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from dataclasses import dataclass

from shop.local.template import ACCOUNT_ID

DEVELOPER = f"arn:aws:iam::{ACCOUNT_ID}:user/developer"
# The developer's rights: everything, as the administrator who runs `cdk deploy`.
ADMINISTRATOR_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def as_environment(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
                "AWS_SESSION_TOKEN": self.session_token}

    def as_client_arguments(self) -> dict[str, str]:
        return {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key,
                "aws_session_token": self.session_token}


class Principals:
    def __init__(self) -> None:
        self._by_key: dict[str, str] = {}
        self._lock = threading.Lock()

    def issue(self, principal_arn: str) -> Credentials:
        """The same credentials every time for one principal (an assumed role's, shaped like STS's)."""
        digest = hashlib.sha256(principal_arn.encode()).digest()
        access_key = "ASIA" + base64.b32encode(digest).decode()[:16]
        with self._lock:
            self._by_key[access_key] = principal_arn
        return Credentials(access_key, base64.b64encode(digest).decode(), f"local-session-{digest.hex()[:32]}")

    def of_key(self, access_key_id: str) -> str:
        return self._by_key.get(access_key_id, DEVELOPER)

    def of_authorization(self, authorization: str | None) -> str:
        """The principal of a SigV4 `Authorization` header (the developer's when unsigned)."""
        found = _CREDENTIAL.search(authorization or "")
        return self.of_key(found.group(1)) if found else DEVELOPER


def display_name(principal_arn: str) -> str:
    """How AWS names the caller in an AccessDenied message: a role acts as an assumed-role session."""
    if ":role/" in principal_arn:
        role = principal_arn.rpartition("/")[2]
        return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role}/{role}"
    return principal_arn
