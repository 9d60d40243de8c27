"""IAM for every AWS call local mode makes: each call is attributed to its principal and evaluated
against the template's identity and resource policies, as AWS would, before moto acts on it.

A denied call fails with the error botocore raises on AWS (`AccessDeniedException`,
`AccessDenied` or `AuthorizationError`, as the service names it) and a log line naming the
principal, action and resource. Every denial is also kept in `denials`, for the tests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from shop.local.iam.account import AccountPolicies
from shop.local.iam.actions import (
    Authorization,
    FilledOnce,
    UnknownOperation,
    authorizations,
    botocore_session,
    warm,
)
from shop.local.iam.policy import Request, compile_policy, evaluate, validate
from shop.local.iam.principals import ADMINISTRATOR_POLICY, DEVELOPER, Principals, display_name
from shop.local.template import ACCOUNT_ID, REGION

logger = logging.getLogger("shop.local.iam")


@dataclass(frozen=True)
class Recorded:
    """One request as `authorize` judged it, with the policies that applied: for comparing the
    evaluator with another (tests/e2e/test_lifecycles_enforced.py)."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, Any]
    identity_policies: tuple[Mapping[str, Any], ...]
    resource_policy: Mapping[str, Any] | None
    allowed: bool


@dataclass(frozen=True)
class Denial:
    principal: str
    action: str
    resource: str
    reason: str

    def __str__(self) -> str:
        return (f"User: {display_name(self.principal)} is not authorized to perform: {self.action} "
                f"on resource: {self.resource} because {self.reason}")


class AccessDenied(Exception):
    def __init__(self, denial: Denial) -> None:
        super().__init__(str(denial))
        self.denial = denial


class Enforcer:
    def __init__(
        self,
        principals: Principals,
        *,
        task_token_owner: Callable[[str], str | None],
        ses_identity: Callable[[str], str],
        ses_sandbox: bool,
    ) -> None:
        self.principals = principals
        self._task_token_owner = task_token_owner
        self._ses_identity = ses_identity
        self.ses_sandbox = ses_sandbox
        self.denials: list[Denial] = []
        self.allowed: set[tuple[str, str]] = set()  # (principal, action) pairs that were used
        self.recorded: list[Recorded] | None = None  # a list: every request from now on is kept there
        self._lock = threading.Lock()
        self.services: tuple[str, ...] = ()  # the botocore services the policies' actions belong to
        self.load(AccountPolicies())

    def load(self, policies: AccountPolicies) -> None:
        """Evaluate against these policies from now on (the deployed stack's), with what evaluating
        their calls needs resolved now (see `warm`), not by the burst of calls that first needs it."""
        for documents in policies.identity.values():
            for document in documents:
                validate(document)
        for document in policies.resource.values():
            validate(document)
        self.policies = policies
        self._identity = {arn: [compile_policy(p) for p in docs] for arn, docs in policies.identity.items()}
        self._identity[DEVELOPER] = [compile_policy(ADMINISTRATOR_POLICY)]
        self._resource = {arn: compile_policy(p) for arn, p in policies.resource.items()}
        self.warm([*(d for docs in policies.identity.values() for d in docs), *policies.resource.values()])

    def warm(self, documents: list[Mapping[str, Any]]) -> None:
        """Resolve every action these policies name, every operation of their services, and each
        service's refusal code (see actions.warm)."""
        services = warm(_actions_named(documents))
        for service in services:
            access_denied_code(service)
        self.services = tuple(dict.fromkeys((*self.services, *services)))

    def attach(self, principal_arn: str, document: Mapping[str, Any]) -> None:
        """Give a principal that is not in the template (the owner) its identity policy."""
        self.policies.attach(principal_arn, dict(document), "local mode")
        self._identity.setdefault(principal_arn, []).append(compile_policy(dict(document)))
        self.warm([document])

    # -- one request --------------------------------------------------------------------------
    def authorize(self, principal: str, action: str, resource: str,
                  context: Mapping[str, Any] | None = None) -> None:
        """Raise AccessDenied unless `principal` may perform `action` on `resource`."""
        full_context = {
            "aws:SecureTransport": "true",  # every SDK call and every URL of the stack is HTTPS on AWS
            "aws:PrincipalArn": principal,
            "aws:PrincipalAccount": ACCOUNT_ID if principal.startswith("arn:") else "",
            **(context or {}),
        }
        resource_policy = self._resource_policy(resource)
        decision = evaluate(
            Request(principal=principal, action=action, resource=resource, context=full_context),
            identity_policies=self._identity.get(principal, []),
            resource_policy=resource_policy,
            account_id=ACCOUNT_ID,
        )
        if self.recorded is not None:
            self._record(principal, action, resource, full_context, decision.allowed)
        if not decision.allowed:
            self._deny(Denial(principal, action, resource, decision.reason))
        self.allowed.add((principal, action))

    def _record(self, principal: str, action: str, resource: str, context: Mapping[str, Any], allowed: bool) -> None:
        identity = self.policies.identity.get(principal, []) if principal != DEVELOPER else [ADMINISTRATOR_POLICY]
        document = self.policies.resource.get(self._governed_by(resource))
        recorded = Recorded(principal, action, resource, dict(context), tuple(identity), document, allowed)
        with self._lock:
            if self.recorded is not None:
                self.recorded.append(recorded)

    def _deny(self, denial: Denial) -> NoReturn:
        """Keep, log (principal, action, resource) and raise a refusal."""
        with self._lock:
            self.denials.append(denial)
        logger.warning("AccessDenied: %s may not %s on %s (%s)", denial.principal, denial.action, denial.resource,
                       denial.reason)
        raise AccessDenied(denial)

    def _resource_policy(self, resource: str) -> Any:
        return self._resource.get(self._governed_by(resource))

    def _governed_by(self, resource: str) -> str:
        """The resource whose policy governs this one."""
        if resource not in self._resource and resource.startswith("arn:aws:lambda:"):
            # A qualified function ARN (`...:function:NAME:ALIAS`) is governed by the function's policy.
            return ":".join(resource.split(":")[:7])
        return resource

    def authorize_call(self, principal: str, service: str, operation: str, params: Mapping[str, Any]) -> None:
        """One API call: every IAM request it makes must be allowed."""
        if principal == DEVELOPER:
            return  # the administrator: nothing to evaluate (and no need to parse the call)
        try:
            needed = self._authorizations(service, operation, params)
        except UnknownOperation as unknown:
            # Refused, not guessed: a call local mode cannot check is one it cannot vouch for.
            self._deny(Denial(principal, f"{service}:{operation}", "*",
                              f"local mode cannot tell which IAM permission this call needs ({unknown})"))
        for authorization in needed:
            for resource in authorization.resources:
                self.authorize(principal, authorization.action, resource, authorization.context)

    def _authorizations(self, service: str, operation: str, params: Mapping[str, Any]) -> list[Authorization]:
        return authorizations(service, operation, params, region=REGION, account_id=ACCOUNT_ID,
                              task_token_owner=self._task_token_owner, ses_identity=self._ses_identity,
                              ses_sandbox=self.ses_sandbox)


def _actions_named(documents: list[Mapping[str, Any]]) -> list[str]:
    """Every Action (and NotAction) string of these policy documents."""
    found = []
    for document in documents:
        statements = document.get("Statement", [])
        for statement in [statements] if isinstance(statements, Mapping) else statements:
            for element in ("Action", "NotAction"):
                named = statement.get(element, [])
                found += [named] if isinstance(named, str) else list(named)
    return found


def _access_denied_code(service: str) -> str:
    """The error code this service answers a denied call with, from botocore's model of it."""
    model = botocore_session().get_service_model(service)
    codes = {shape.metadata.get("error", {}).get("code", shape.name) for shape in model.error_shapes}
    for code in ("AccessDeniedException", "AccessDenied", "AuthorizationError"):
        if code in codes:
            return code
    return "AccessDenied" if model.protocol in ("query", "rest-xml", "ec2") else "AccessDeniedException"


access_denied_code: Callable[[str], str] = FilledOnce(_access_denied_code)
