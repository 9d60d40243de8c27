"""boto3 clients, created on first use and shared per container, and AWS error classification.

Created lazily so importing a handler stays cheap (cold starts), and configured once: standard
retry mode with backoff for throttling. Endpoints come from the environment (`AWS_ENDPOINT_URL`)
or, in local mode, from moto's in-process interception; the code is the same in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shop.container import per_container


@per_container
def session() -> Any:
    """The container's boto3 session: credentials and region as its environment gives them. Not
    boto3's process-wide default session, which keeps the first credentials it ever found."""
    import boto3

    return boto3.session.Session()


def client_config() -> Any:
    """How every client of the shop's retries, the functions', the console's and the CLI's: standard
    mode, whatever the installed botocore's default; the attempt count is AWS_MAX_ATTEMPTS (default
    3), so local fault tests can hand retries to the state machine."""
    from botocore.config import Config

    return Config(retries={"mode": "standard"})


@per_container
def client(service: str) -> Any:
    return session().client(service, config=client_config())


def error_code(error: Exception) -> str:
    """The AWS error code of a botocore ClientError, '' for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def refused(error: Exception) -> bool:
    """AWS answered the call with a 4xx (throttled, invalid, a failed condition): it certainly did
    not take effect. Any other failure (a 5xx, a timeout, a lost connection) leaves that unknown."""
    response = getattr(error, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) if isinstance(response, dict) else 0
    return bool(error_code(error)) and isinstance(status, int) and 400 <= status < 500


# Codes that mean "try again later": throttling and AWS-side faults.
_TRANSIENT_CODES = {
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "ProvisionedThroughputExceededException", "ServiceUnavailable",
    "ServiceUnavailableException", "InternalFailure", "InternalServerError", "InternalError",
    "RequestTimeout", "RequestTimeoutException", "SlowDown",
}


class TransientError(Exception):
    """An AWS call still failing after the SDK's retries, for a reason that may pass. Lambda
    steps raise it so the state machine retries them with backoff (its name is the contract)."""


def is_transient(error: Exception) -> bool:
    if error_code(error) in _TRANSIENT_CODES:
        return True
    status = getattr(error, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if isinstance(status, int) and status >= 500:
        return True
    from botocore.exceptions import ConnectionError as BotocoreConnectionError

    return isinstance(error, BotocoreConnectionError)


@contextmanager
def retryable_when_transient() -> Iterator[None]:
    """Around a Lambda step's work: an AWS fault that may pass leaves as TransientError, which
    the state machine retries with backoff; any other error leaves as it is."""
    try:
        yield
    except Exception as error:
        if is_transient(error):
            raise TransientError(f"AWS call failed: {type(error).__name__}") from error
        raise


# AWS's answers to credentials it cannot accept: trying again never helps, fixing them does.
_REFUSED_CREDENTIALS = {"InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken",
                        "ExpiredTokenException", "SignatureDoesNotMatch", "InvalidSignatureException"}


def configuration_problem(error: Exception, *, region_option: str = "") -> str | None:
    """What to set when AWS cannot be called as configured (no region, no usable credentials), or
    None for any other error. `region_option` names the caller's own option for the region."""
    from botocore.exceptions import (
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(error, NoRegionError):
        option = f"pass {region_option} (e.g. {region_option} eu-west-1), " if region_option else ""
        return f"no AWS region: {option}set AWS_REGION, or give your AWS profile a region (aws configure)"
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return ("no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(aws configure writes a profile)")
    if isinstance(error, ProfileNotFound):
        return f"{error}: set AWS_PROFILE to a profile of your AWS config (aws configure), or unset it"
    if error_code(error) in _REFUSED_CREDENTIALS:
        return (f"AWS refused your credentials ({error_code(error)}): renew them, or set AWS_PROFILE "
                "to a profile whose credentials are current")
    return None
