"""The shop's settings, declared once: names, durations and environment variables.

Domain words (order statuses, the workflow's outcomes and error names) are not settings: they live
in shop/domain/status.py and shop/domain/workflow_contract.py.

The CDK stack reads the deploy-parameter defaults from here and writes the values into each
Lambda's environment; handlers read them back through `RuntimeSettings`. Local mode overrides the
same environment variables, so AWS and local runs differ only in values, never in code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shop.container import per_container

STACK_NAME = "OrderShop"
# CDK context key naming the stack (`cdk deploy -c stackName=...`), so a second, throwaway copy of the
# shop (the smoke test's) can live next to the real one. Local mode reads the name back from the
# template's file name, which CDK derives from it.
STACK_NAME_CONTEXT_KEY = "stackName"
# CloudFormation's rule for stack names; state machine and other physical names derive from it.
_STACK_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
# The state machine is named `<stack name>-OrderWorkflow-<the stack instance's suffix>`
# (shop/infra/naming.py), and Step Functions allows a state machine name 80 characters: that, not
# CloudFormation's rule, bounds the stack's name (53 characters).
STATE_MACHINE_NAME_LIMIT = 80
WORKFLOW_NAME = "OrderWorkflow"
STACK_INSTANCE_SUFFIX_LENGTH = 12  # 12 hex digits: the last group of the UUID in AWS::StackId
LONGEST_STACK_NAME = STATE_MACHINE_NAME_LIMIT - len(f"-{WORKFLOW_NAME}-") - STACK_INSTANCE_SUFFIX_LENGTH


def check_stack_name(name: str) -> str:
    """`name`, if CloudFormation accepts it as a stack name and the state machine's name it makes
    fits Step Functions' limit; a ValueError saying which rule it breaks otherwise."""
    if not _STACK_NAME_PATTERN.fullmatch(name):
        raise ValueError(f"{STACK_NAME_CONTEXT_KEY} {name!r} is not a stack name: a letter, then letters, "
                         "digits and hyphens, at most 64 characters")
    if len(name) > LONGEST_STACK_NAME:
        raise ValueError(
            f"{STACK_NAME_CONTEXT_KEY} {name!r} is too long: {len(name)} characters, at most {LONGEST_STACK_NAME}. "
            f"The state machine is named {name}-{WORKFLOW_NAME}-<{STACK_INSTANCE_SUFFIX_LENGTH} hex digits>, "
            f"and Step Functions allows {STATE_MACHINE_NAME_LIMIT} characters")
    return name


def stack_name_from_context(value: object) -> str:
    """The stack's name: `STACK_NAME` unless the context names another, which must be a valid one."""
    if value is None or str(value).strip() == "":
        return STACK_NAME
    return check_stack_name(str(value).strip())

@dataclass(frozen=True)
class DeployParameters:
    """Deploy-time parameters. Their values live in one place: the `context` of `cdk.json`,
    overridable per deploy with `cdk deploy -c ownerEmail=...`."""

    owner_email: str
    sender_email: str
    approval_timeout_seconds: int
    feedback_delay_seconds: int

    CONTEXT_KEYS = {
        "ownerEmail": "owner_email",
        "senderEmail": "sender_email",
        "approvalTimeoutSeconds": "approval_timeout_seconds",
        "feedbackDelaySeconds": "feedback_delay_seconds",
    }

    @classmethod
    def from_context(cls, get_context) -> DeployParameters:
        """Build from a CDK `node.try_get_context`-like callable; every key is required."""
        values: dict[str, Any] = {}
        for key, field in cls.CONTEXT_KEYS.items():
            value = get_context(key)
            if value is None or str(value).strip() == "":
                raise ValueError(f"deploy parameter {key} is missing: set it in cdk.json or with -c {key}=...")
            if field.endswith("_seconds"):
                # An int, or digits in a string (`-c key=60`); never a float or a bool that
                # int() would quietly truncate.
                if isinstance(value, bool) or not re.fullmatch(r"-?[0-9]+", str(value).strip()):
                    raise ValueError(f"deploy parameter {key} must be a whole number of seconds")
                value = int(str(value).strip())
                if value <= 0:
                    raise ValueError(f"deploy parameter {key} must be a positive number of seconds")
            values[field] = value if field.endswith("_seconds") else str(value).strip()
        return cls(**values)


# Local mode: short durations so a person can watch a whole order go through.
LOCAL_DEFAULT_APPROVAL_TIMEOUT_SECONDS = 300
LOCAL_DEFAULT_FEEDBACK_DELAY_SECONDS = 30
LOCAL_DEFAULT_PORT = 8000


class Env:
    """Names of the environment variables the stack gives the Lambda functions."""

    ORDERS_TABLE = "ORDERS_TABLE_NAME"
    PRODUCTS_TABLE = "PRODUCTS_TABLE_NAME"
    DECISIONS_TABLE = "DECISIONS_TABLE_NAME"
    IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE_NAME"
    LINK_SIGNING_SECRET = "LINK_SIGNING_SECRET_ID"
    STATE_MACHINE_ARN = "ORDER_WORKFLOW_ARN"
    OWNER_TOPIC_ARN = "OWNER_TOPIC_ARN"
    SENDER_EMAIL = "SENDER_EMAIL"
    APPROVAL_URL = "APPROVAL_URL"
    APPROVAL_TIMEOUT = "APPROVAL_TIMEOUT_SECONDS"
    FEEDBACK_DELAY = "FEEDBACK_DELAY_SECONDS"


class MissingSetting(RuntimeError):
    """A function was not given a variable it needs (or was given it empty or malformed)."""


def _seconds(value: str) -> int:
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


# How each variable is read: a string unless named here.
_PARSE: dict[str, Callable[[str], Any]] = {Env.APPROVAL_TIMEOUT: _seconds, Env.FEEDBACK_DELAY: _seconds}
_VARIABLES = frozenset(value for name, value in vars(Env).items() if name.isupper())


class _Variable:
    """One setting, as parsed when the settings were made. Each function is given only the
    variables it uses: asking for another fails here, naming the variable, instead of later as an
    AWS error about an empty table name."""

    def __init__(self, variable: str) -> None:
        self.variable = variable

    def __get__(self, settings: RuntimeSettings | None, owner: type) -> Any:
        if settings is None:
            return self
        try:
            return settings.values[self.variable]
        except KeyError:
            raise MissingSetting(f"{self.variable} is not in this function's environment") from None


class RuntimeSettings:
    """What a handler needs at run time, from its function's environment as it was at the cold
    start (the environment of a Lambda function does not change while its container lives).

    Made once per cold start, and made whole or not at all: every variable of the shop the function
    was given is parsed then, and every one it `needs` must be there, so a missing or malformed one
    fails the first invocation, naming the variable, before any AWS call."""

    orders_table: str = _Variable(Env.ORDERS_TABLE)  # type: ignore[assignment]
    products_table: str = _Variable(Env.PRODUCTS_TABLE)  # type: ignore[assignment]
    decisions_table: str = _Variable(Env.DECISIONS_TABLE)  # type: ignore[assignment]
    idempotency_table: str = _Variable(Env.IDEMPOTENCY_TABLE)  # type: ignore[assignment]
    link_signing_secret: str = _Variable(Env.LINK_SIGNING_SECRET)  # type: ignore[assignment]
    state_machine_arn: str = _Variable(Env.STATE_MACHINE_ARN)  # type: ignore[assignment]
    owner_topic_arn: str = _Variable(Env.OWNER_TOPIC_ARN)  # type: ignore[assignment]
    sender_email: str = _Variable(Env.SENDER_EMAIL)  # type: ignore[assignment]
    approval_url: str = _Variable(Env.APPROVAL_URL)  # type: ignore[assignment]
    approval_timeout_seconds: int = _Variable(Env.APPROVAL_TIMEOUT)  # type: ignore[assignment]
    feedback_delay_seconds: int = _Variable(Env.FEEDBACK_DELAY)  # type: ignore[assignment]

    def __init__(self, environ: Mapping[str, str], needs: Iterable[str] = ()) -> None:
        needs = _known(needs)
        self.values: dict[str, Any] = {}
        for variable in sorted(_VARIABLES & (set(environ) | set(needs))):
            value = environ.get(variable, "").strip()
            if not value:
                raise MissingSetting(f"{variable} is not in this function's environment")
            try:
                self.values[variable] = _PARSE.get(variable, str)(value)
            except ValueError:
                raise MissingSetting(f"{variable} is malformed: {value!r}") from None


@per_container
def runtime_settings(needs: frozenset[str] = frozenset()) -> RuntimeSettings:
    """The running function's settings, made once per container."""
    return RuntimeSettings(os.environ, needs)


def _known(needs: Iterable[str]) -> frozenset[str]:
    needs = frozenset(needs)
    if unknown := sorted(needs - _VARIABLES):
        raise ValueError(f"not variables of the shop: {', '.join(unknown)}")
    return needs


class SettingsNeeding:
    """A handler module's settings: `runtime_settings()` that also fails, naming it, when any of
    `needs` (the variables of `Env` its function uses) is missing. The stack's test checks that it
    gives each function what its handler needs."""

    def __init__(self, *needs: str) -> None:
        self.needs = _known(needs)  # a typo fails at import, not at the first order

    def __call__(self) -> RuntimeSettings:
        return runtime_settings(self.needs)
