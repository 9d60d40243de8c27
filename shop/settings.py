"""Every name, duration and environment variable of the shop, declared once.

The CDK stack reads the deploy-parameter defaults from here and writes the values into each
Lambda's environment; handlers read them back through `RuntimeSettings`. Local mode overrides the
same environment variables, so AWS and local runs differ only in values, never in code.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

STACK_NAME = "OrderShop"

# Order statuses, in the order the workflow moves through them.
STATUS_RECEIVED = "RECEIVED"
STATUS_AWAITING_APPROVAL = "AWAITING_APPROVAL"
STATUS_APPROVED = "APPROVED"
STATUS_REJECTED = "REJECTED"
STATUS_SHIPPED = "SHIPPED"
STATUS_FEEDBACK_REQUESTED = "FEEDBACK_REQUESTED"
STATUS_CANCELLED = "CANCELLED"  # the owner cancelled it; the workflow deletes it
STATUS_FAILED = "FAILED"  # a step kept failing after its retries; the owner must look

# Outcomes written to the execution's output: a rejection or a timeout is a business result.
OUTCOME_APPROVED = "APPROVED"
OUTCOME_REJECTED = "REJECTED"
OUTCOME_TIMED_OUT = "TIMED_OUT"
OUTCOME_CANCELLED = "CANCELLED"

# The error name the approval callback gives SendTaskFailure; the state machine catches it.
REJECTION_ERROR = "OrderRejected"
# ... and the one the owner's console and CLI give it to cancel an order awaiting approval.
CANCELLATION_ERROR = "OrderCancelled"
# The error a Lambda step raises when AWS throttled or failed it after the SDK's own retries;
# the state machine retries it with backoff.
TRANSIENT_ERROR = "TransientError"


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
        values = {}
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


@dataclass(frozen=True)
class RuntimeSettings:
    """What a handler needs at run time, read from its environment once per container."""

    orders_table: str
    products_table: str
    decisions_table: str
    idempotency_table: str
    link_signing_secret: str
    state_machine_arn: str
    owner_topic_arn: str
    sender_email: str
    approval_url: str
    approval_timeout_seconds: int
    feedback_delay_seconds: int


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


@lru_cache(maxsize=1)
def runtime_settings() -> RuntimeSettings:
    """Settings for the running handler. Each function only gets the variables it uses, so
    absent ones read as empty; a handler touching one it was not given fails on first use."""
    return RuntimeSettings(
        orders_table=_env(Env.ORDERS_TABLE),
        products_table=_env(Env.PRODUCTS_TABLE),
        decisions_table=_env(Env.DECISIONS_TABLE),
        idempotency_table=_env(Env.IDEMPOTENCY_TABLE),
        link_signing_secret=_env(Env.LINK_SIGNING_SECRET),
        state_machine_arn=_env(Env.STATE_MACHINE_ARN),
        owner_topic_arn=_env(Env.OWNER_TOPIC_ARN),
        sender_email=_env(Env.SENDER_EMAIL),
        approval_url=_env(Env.APPROVAL_URL),
        approval_timeout_seconds=int(_env(Env.APPROVAL_TIMEOUT, "0") or 0),
        feedback_delay_seconds=int(_env(Env.FEEDBACK_DELAY, "0") or 0),
    )
