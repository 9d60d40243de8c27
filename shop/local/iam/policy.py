"""AWS's policy evaluation logic for callers of one account, for local mode's IAM checks.

It follows IAM's "Policy evaluation logic" and "Determining whether a request is allowed or denied
within an account": an explicit Deny in any applicable policy wins; otherwise the request is allowed
when an identity policy allows it or the resource policy allows it for that principal. A resource
policy that names the account only delegates to the principal's identity policies. A resource of
another account (the account field of its ARN) follows "Cross-account policy evaluation logic"
instead: both the identity policy and the resource policy must allow the request.

It is strict on purpose: any condition operator, policy element, principal type or policy variable it
does not implement raises `UnsupportedPolicy`, so a policy local mode cannot judge never silently
allows or denies. `evaluate` runs on every AWS call of the local shop, so a caller compiles each
document once with `compile_policy` (a plain dict is accepted too, and compiled on every call).
"""

from __future__ import annotations

import enum
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from shop.local.template import ACCOUNT_ID

DEFAULT_ACCOUNT_ID = ACCOUNT_ID  # moto's default account
# A document without Version is read as 2008-10-17, as IAM does.
VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_POLICY_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
_ACCOUNT_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")


class UnsupportedPolicy(Exception):
    """The policy uses something this evaluator does not implement, or that AWS itself rejects."""


@dataclass(frozen=True)
class Request:
    """One authorization request: who calls, which IAM action, on which resource, in which context.

    `principal` is a role ARN, a service principal such as "cloudwatch.amazonaws.com", or "*" for an
    anonymous caller. `context` holds the condition keys; their names are case-insensitive, as in AWS.
    """

    principal: str
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


class Effect(enum.Enum):
    ALLOW = "Allow"
    IMPLICIT_DENY = "ImplicitDeny"
    EXPLICIT_DENY = "ExplicitDeny"


@dataclass(frozen=True)
class Decision:
    effect: Effect
    reason: str  # which statement decided, or why nothing allowed it: what an AccessDenied should say

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOW


# --- patterns ---------------------------------------------------------------------------------------


def _wildcards(pattern: str, *, star: str = ".*", one: str = ".") -> str:
    """The regex of an IAM pattern: `*` is any run of characters, `?` exactly one, the rest literal."""
    return "".join(star if char == "*" else one if char == "?" else re.escape(char) for char in pattern)


def _arn_wildcards(pattern: str) -> str:
    """The regex of a Resource element's ARN: "You can use wildcard characters (* and ?) within the
    individual segments of an ARN (the parts separated by colons) ... If the * wildcard is the last
    character of a resource ARN segment, it can expand to match beyond the colon boundaries" (IAM
    User Guide, "IAM JSON policy elements: Resource"). So `...:*function:fn` stays in its segment,
    while `arn:aws:lambda:*` and `...:function*` match across colons."""
    segments = []
    for segment in pattern.split(":"):
        regex = _wildcards(segment, star="[^:]*", one="[^:]")
        segments.append(regex.removesuffix("[^:]*") + ".*" if segment.endswith("*") else regex)
    return ":".join(segments)


@dataclass(frozen=True, slots=True)
class _Patterns:
    """The values of an Action or Resource element; those without wildcards are a set lookup."""

    everything: bool
    exact: frozenset[str]
    wildcard: re.Pattern[str] | None

    @classmethod
    def of(cls, patterns: Sequence[str], *, arns: bool = False) -> _Patterns:
        """`arns`: a Resource element, whose wildcards keep to their ARN segment (`_arn_wildcards`)."""
        exact = frozenset(p for p in patterns if "*" not in p and "?" not in p)
        wild = [p for p in patterns if p not in exact]
        translate = _arn_wildcards if arns else _wildcards
        regex = "|".join(f"(?:{translate(p)})" for p in wild)
        return cls("*" in patterns, exact, re.compile(regex, re.DOTALL) if wild else None)

    def match(self, value: str) -> bool:
        return (
            self.everything
            or value in self.exact
            or (self.wildcard is not None and self.wildcard.fullmatch(value) is not None)
        )


# --- principals -------------------------------------------------------------------------------------


class _Kind(enum.Enum):
    IAM = "IAM"  # a role (or user): has identity policies
    SERVICE = "service"
    ANONYMOUS = "anonymous"


_WHO = {_Kind.SERVICE: "a service principal", _Kind.ANONYMOUS: "an anonymous caller"}


@dataclass(frozen=True, slots=True)
class _Caller:
    kind: _Kind
    name: str
    account: str | None


def _caller(principal: str, account_id: str) -> _Caller:
    if principal == "*":
        return _Caller(_Kind.ANONYMOUS, principal, None)
    if principal.startswith("arn:"):
        parts = principal.split(":", 5)
        if len(parts) != 6 or parts[2] != "iam":
            raise ValueError(f"principal {principal!r} is not an IAM role or user ARN")
        if parts[4] != account_id:
            # Across accounts both sides must allow; this evaluator covers one account only.
            raise ValueError(f"principal {principal!r} is not in account {account_id}")
        return _Caller(_Kind.IAM, principal, parts[4])
    return _Caller(_Kind.SERVICE, principal.lower(), None)


def resource_account(resource: str, default: str) -> str:
    """The account that owns a resource: its ARN's account field ("arn:partition:service:region:
    account-id:..."); `default` (the caller's) for "*" and for ARNs without one, such as S3 buckets'
    (or with "aws" there, as AWS managed policies have)."""
    parts = resource.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and len(parts[4]) == 12 and parts[4].isdigit():
        return parts[4]
    return default


class _Grant(enum.Enum):
    NONE = "none"
    DIRECT = "direct"  # the statement names this caller (or everyone)
    ACCOUNT = "account"  # the statement names the caller's account: an Allow delegates to identity policies


@dataclass(frozen=True, slots=True)
class _Principals:
    everyone: bool
    accounts: frozenset[str]
    arns: frozenset[str]
    services: frozenset[str]

    def grant(self, caller: _Caller) -> _Grant:
        if self.everyone:
            return _Grant.DIRECT
        if caller.kind is _Kind.IAM:
            if caller.name in self.arns:
                return _Grant.DIRECT
            if caller.account in self.accounts:
                return _Grant.ACCOUNT
        elif caller.kind is _Kind.SERVICE and caller.name in self.services:
            return _Grant.DIRECT
        return _Grant.NONE

    def excludes(self, caller: _Caller) -> bool:
        """Whether NotPrincipal spares this caller: only when every identity it has is listed.

        AWS checks a role's account, then the role ("NotPrincipal" in the IAM User Guide: "you must
        also specify the account ARN of the principal that should not be denied"), so listing the
        role without its account still denies it.
        """
        if self.everyone:
            return True
        if caller.kind is _Kind.IAM:
            return caller.name in self.arns and caller.account in self.accounts
        return caller.kind is _Kind.SERVICE and caller.name in self.services


def _principals(element: Any) -> _Principals:
    if element == "*":
        return _Principals(True, frozenset(), frozenset(), frozenset())
    if not isinstance(element, dict) or not element:
        raise UnsupportedPolicy(f'Principal must be "*" or a map of principal types, not {element!r}')
    everyone = False
    accounts: set[str] = set()
    arns: set[str] = set()
    services: set[str] = set()
    for kind, values in element.items():
        for value in _strings(values, f"Principal {kind}"):
            if kind == "AWS":
                if value == "*":
                    everyone = True
                elif len(value) == 12 and value.isdigit():
                    accounts.add(value)
                elif root := _ACCOUNT_ROOT.fullmatch(value):
                    accounts.add(root[1])
                elif value.startswith("arn:") and "*" not in value and "?" not in value:
                    arns.add(value)
                else:
                    raise UnsupportedPolicy(f'AWS principal {value!r}: wildcards are only allowed as "*"')
            elif kind == "Service" and "*" not in value and "?" not in value:
                services.add(value.lower())
            else:
                raise UnsupportedPolicy(f"principal {kind}: {value!r} is not supported")
    return _Principals(everyone, frozenset(accounts), frozenset(arns), frozenset(services))


# --- conditions -------------------------------------------------------------------------------------

# A condition operator's positive form, ORed over the policy's values. None: the request's value is not
# of the operator's type (a NumericEquals on "ten"), so neither the operator nor its negation matches.
Test = Callable[[str], bool | None]


def _string_equals(values: list[str]) -> Test:
    return frozenset(values).__contains__


def _string_equals_ignore_case(values: list[str]) -> Test:
    allowed = frozenset(value.lower() for value in values)
    return lambda value: value.lower() in allowed


def _string_like(values: list[str]) -> Test:
    regex = re.compile("|".join(f"(?:{_wildcards(value)})" for value in values), re.DOTALL)
    return lambda value: regex.fullmatch(value) is not None


def _arn_like(values: list[str]) -> Test:
    """ArnEquals and ArnLike alike: "each of the six colon-delimited components of the ARN is checked
    separately and each can include multi-character match wildcards (*) or single-character match
    wildcards (?)" (IAM User Guide, "Condition operators", ARN). So `*` never spans a colon before
    the resource component; within the resource (the sixth component) it may."""
    regexes = []
    for value in values:
        parts = value.split(":", 5)
        if len(parts) != 6:
            raise UnsupportedPolicy(f"ARN condition value {value!r} does not have six components")
        head = ":".join(_wildcards(part, star="[^:]*", one="[^:]") for part in parts[:5])
        regexes.append(f"(?:{head}:{_wildcards(parts[5])})")
    regex = re.compile("|".join(regexes), re.DOTALL)
    return lambda value: regex.fullmatch(value) is not None


def _bool(values: list[str]) -> Test:
    allowed = frozenset(value.lower() for value in values)
    if not allowed <= {"true", "false"}:
        raise UnsupportedPolicy(f"Bool condition values must be true or false, not {values!r}")
    return lambda value: value.lower() in allowed


def _number(value: str) -> Decimal | None:
    """A condition value as a number; None when it is not one (NaN and infinities are not either)."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _numeric(compare: Callable[[Decimal, Decimal], bool]) -> Callable[[list[str]], Test]:
    """A request value that is not a number matches no numeric operator, negated ones included: the
    comparison cannot be made, so the condition does not match (as for a missing key, where only
    ...IfExists holds). A policy value that is not a number is the policy's error: UnsupportedPolicy."""

    def factory(values: list[str]) -> Test:
        bounds = []
        for value in values:
            bound = _number(value)
            if bound is None:
                raise UnsupportedPolicy(f"numeric condition: {value!r} is not a number")
            bounds.append(bound)

        def test(value: str) -> bool | None:
            number = _number(value)
            return None if number is None else any(compare(number, bound) for bound in bounds)

        return test

    return factory


# operator -> (its positive test, whether the operator negates it)
_OPERATORS: dict[str, tuple[Callable[[list[str]], Test], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (_string_equals_ignore_case, False),
    "StringNotEqualsIgnoreCase": (_string_equals_ignore_case, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric(operator.eq), False),
    "NumericNotEquals": (_numeric(operator.eq), True),
    "NumericLessThan": (_numeric(operator.lt), False),
    "NumericLessThanEquals": (_numeric(operator.le), False),
    "NumericGreaterThan": (_numeric(operator.gt), False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False),
}
_ANY_VALUE = "ForAnyValue"
_ALL_VALUES = "ForAllValues"


def _values_of(context: Mapping[str, str | Sequence[str]], key: str) -> tuple[str, ...]:
    """A context key's values; a missing key and an empty set are both "no value"."""
    value = context.get(key)
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _multivalued(context: Mapping[str, str | Sequence[str]], key: str) -> bool:
    """Whether the request gives the key as a set of values (a multivalued key, such as ses:Recipients,
    whatever the number of its values) rather than as one string (a single-valued key)."""
    value = context.get(key)
    return value is not None and not isinstance(value, str)


@dataclass(frozen=True, slots=True)
class _Match:
    """One key under a matching operator, with AWS's rules for values and missing keys:

    - values listed for one key are ORed, and NORed under a negated operator ("Conditions with multiple
      context keys or values": "If a single negated matching condition operator includes multiple
      values for a context key, those values are evaluated using a logical NOR");
    - a missing key: "If the key that you specify in a policy condition is not present in the request
      context, the values do not match and the condition is false. If the policy condition requires
      that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
      present, the condition is true. This logic applies to all condition operators except
      ...IfExists and Null check" ("Condition operators"); ...IfExists is true when the key is
      missing; ForAllValues "also returns true if there are no context keys in the request",
      ForAnyValue is then false ("Set operators for multivalued context keys");
    - a request value the operator cannot read (`Test` answers None) matches neither the operator nor
      its negation;
    - "Multivalued context keys require a condition set operator" ("Single-valued vs. multivalued
      context keys"): whether a key is multivalued "depends on the number of values in the request
      context", so a key the request gives as a set, even of one value, under an operator without
      ForAnyValue/ForAllValues has no documented result, and this raises UnsupportedPolicy.
    """

    operator: str
    key: str  # lower-cased: condition keys are case-insensitive
    test: Test
    negated: bool
    qualifier: str  # "", ForAnyValue or ForAllValues
    if_exists: bool

    def holds(self, context: Mapping[str, str | Sequence[str]]) -> bool:
        if not self.qualifier and _multivalued(context, self.key):
            raise UnsupportedPolicy(
                f"{self.operator} on {self.key}, a multivalued context key: use ForAnyValue or ForAllValues"
            )
        values = _values_of(context, self.key)
        if not values:
            if self.if_exists or self.qualifier == _ALL_VALUES:
                return True
            return self.negated and self.qualifier != _ANY_VALUE
        if self.qualifier == _ALL_VALUES:
            return all(self._matches(value) for value in values)
        return any(self._matches(value) for value in values)

    def _matches(self, value: str) -> bool:
        positive = self.test(value)
        return positive is not None and positive != self.negated


@dataclass(frozen=True, slots=True)
class _Null:
    """`"Null": {"key": "true"}` holds when the key is absent, `"false"` when it is present."""

    key: str
    when_absent: frozenset[bool]

    def holds(self, context: Mapping[str, str | Sequence[str]]) -> bool:
        return (not _values_of(context, self.key)) in self.when_absent


def _condition(name: str, key: str, values: list[str]) -> _Match | _Null:
    qualifier, _, base = name.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base == "Null" and not qualifier and not if_exists:
        if not {value.lower() for value in values} <= {"true", "false"}:
            raise UnsupportedPolicy(f"Null condition values must be true or false, not {values!r}")
        return _Null(key.lower(), frozenset(value.lower() == "true" for value in values))
    if base not in _OPERATORS or qualifier not in ("", _ANY_VALUE, _ALL_VALUES):
        raise UnsupportedPolicy(f"condition operator {name!r} is not supported")
    factory, negated = _OPERATORS[base]
    return _Match(name, key.lower(), factory(values), negated, qualifier, if_exists)


def _condition_values(values: Any, where: str) -> list[str]:
    listed = values if isinstance(values, list) else [values]
    if not listed:
        raise UnsupportedPolicy(f"{where}: no values")
    out = []
    for value in listed:
        if isinstance(value, bool):
            out.append("true" if value else "false")
        elif isinstance(value, int | float | str):
            out.append(_no_variables(str(value), where))
        else:
            raise UnsupportedPolicy(f"{where}: {value!r} is not a condition value")
    return out


def _conditions(block: Any) -> tuple[_Match | _Null, ...]:
    if not isinstance(block, dict):
        raise UnsupportedPolicy(f"Condition must be a map of operators, not {block!r}")
    conditions = []
    for name, keys in block.items():
        if not isinstance(keys, dict) or not keys:
            raise UnsupportedPolicy(f"condition {name!r} must map condition keys to values")
        for key, values in keys.items():
            conditions.append(_condition(name, key, _condition_values(values, f"condition {name} {key}")))
    return tuple(conditions)


# --- statements and policies ------------------------------------------------------------------------


def _no_variables(value: str, where: str) -> str:
    if "${" in value:
        raise UnsupportedPolicy(f"{where}: policy variables such as {value!r} are not supported")
    return value


def _strings(values: Any, where: str) -> list[str]:
    listed = values if isinstance(values, list) else [values]
    if not listed or not all(isinstance(value, str) for value in listed):
        raise UnsupportedPolicy(f"{where} must be a string or a non-empty list of strings, not {values!r}")
    return listed


@dataclass(frozen=True, slots=True)
class _Statement:
    label: str  # "'Sid'", or "#n" for a statement without one
    deny: bool
    actions: _Patterns  # lower-cased: actions are case-insensitive
    not_action: bool
    resources: _Patterns | None  # None: a resource policy's statement without Resource (a trust policy)
    not_resource: bool
    principals: _Principals | None  # None in identity policies
    not_principal: bool
    conditions: tuple[_Match | _Null, ...]

    def covers(self, action: str, resource: str, context: Mapping[str, str | Sequence[str]]) -> bool:
        if self.actions.match(action) == self.not_action:
            return False
        if self.resources is not None and self.resources.match(resource) == self.not_resource:
            return False
        return all(condition.holds(context) for condition in self.conditions)

    def grant(self, caller: _Caller) -> _Grant:
        assert self.principals is not None
        if self.not_principal:
            return _Grant.NONE if self.principals.excludes(caller) else _Grant.DIRECT
        return self.principals.grant(caller)


def _one_of(statement: Mapping[str, Any], element: str, where: str) -> tuple[Any, bool] | None:
    """The value of Element or NotElement, and whether it is the Not form; None when neither is there."""
    if element in statement and f"Not{element}" in statement:
        raise UnsupportedPolicy(f"{where} has both {element} and Not{element}")
    if element in statement:
        return statement[element], False
    if f"Not{element}" in statement:
        return statement[f"Not{element}"], True
    return None


def _statement(statement: Any, number: int) -> _Statement:
    if not isinstance(statement, dict):
        raise UnsupportedPolicy(f"statement #{number} is not a map")
    sid = statement.get("Sid")
    label = f"'{sid}'" if sid else f"#{number}"
    where = f"statement {label}"
    if unknown := set(statement) - _STATEMENT_ELEMENTS:
        raise UnsupportedPolicy(f"{where}: elements {sorted(unknown)} are not supported")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise UnsupportedPolicy(f"{where}: Effect must be Allow or Deny, not {effect!r}")

    action = _one_of(statement, "Action", where)
    if action is None:
        raise UnsupportedPolicy(f"{where} has neither Action nor NotAction")
    actions = [a.lower() for a in _strings(action[0], f"{where} Action")]
    if any(a != "*" and ":" not in a for a in actions):
        raise UnsupportedPolicy(f'{where}: actions must be "*" or service:action, not {actions!r}')

    resource = _one_of(statement, "Resource", where)
    resources = None
    if resource is not None:
        listed = [_no_variables(r, f"{where} Resource") for r in _strings(resource[0], f"{where} Resource")]
        resources = _Patterns.of(listed, arns=True)

    principal = _one_of(statement, "Principal", where)
    if principal is not None and principal[1] and effect == "Allow":
        raise UnsupportedPolicy(f"{where}: NotPrincipal is only supported with Deny, as in AWS")

    return _Statement(
        label=label,
        deny=effect == "Deny",
        actions=_Patterns.of(actions),
        not_action=action[1],
        resources=resources,
        not_resource=resource is not None and resource[1],
        principals=_principals(principal[0]) if principal is not None else None,
        not_principal=principal is not None and principal[1],
        conditions=_conditions(statement["Condition"]) if "Condition" in statement else (),
    )


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy document parsed and checked once; `evaluate` takes it as it takes the document."""

    statements: tuple[_Statement, ...]
    is_resource_policy: bool  # its statements name principals
    name: str | None = None  # for decisions' reasons, e.g. the policy's logical id in the template


def compile_policy(policy: Mapping[str, Any], *, name: str | None = None) -> CompiledPolicy:
    """Parse a policy document; raises UnsupportedPolicy for anything `evaluate` could not judge."""
    if not isinstance(policy, Mapping):
        raise UnsupportedPolicy(f"a policy is a JSON object, not {policy!r}")
    if unknown := set(policy) - _POLICY_ELEMENTS:
        raise UnsupportedPolicy(f"policy elements {sorted(unknown)} are not supported")
    version = policy.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise UnsupportedPolicy(f"policy Version {version!r} is not one of {sorted(VERSIONS)}")
    body = policy.get("Statement")
    listed = body if isinstance(body, list) else [body] if body is not None else []
    if not listed:
        raise UnsupportedPolicy("a policy needs at least one statement")
    statements = tuple(_statement(statement, number) for number, statement in enumerate(listed, 1))

    with_principals = {statement.principals is not None for statement in statements}
    if len(with_principals) > 1:
        raise UnsupportedPolicy("some statements name a Principal and others do not")
    is_resource_policy = with_principals == {True}
    if not is_resource_policy and any(statement.resources is None for statement in statements):
        raise UnsupportedPolicy("an identity policy's statements need Resource or NotResource")
    return CompiledPolicy(statements, is_resource_policy, name)


def validate(policy: Mapping[str, Any]) -> None:
    """Raise UnsupportedPolicy for anything `evaluate` could not handle (for the deployer to check
    every policy at deploy time). One thing depends on the request and is only caught by `evaluate`:
    a multivalued context key under an operator without ForAnyValue/ForAllValues."""
    compile_policy(policy)


# --- evaluation -------------------------------------------------------------------------------------


def _compiled(policy: Mapping[str, Any] | CompiledPolicy) -> CompiledPolicy:
    return policy if isinstance(policy, CompiledPolicy) else compile_policy(policy)


def evaluate(
    request: Request,
    *,
    identity_policies: Sequence[Mapping[str, Any] | CompiledPolicy],
    resource_policy: Mapping[str, Any] | CompiledPolicy | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> Decision:
    """Whether AWS allows `request`, given the caller's identity policies and the resource's policy.

    The caller is of `account_id`; a principal from another account raises ValueError. A resource of
    another account is a cross-account request: the identity policies and the resource policy must
    both allow it (so without a resource policy it is denied). Service principals and anonymous
    callers have no identity policies: passing some is a mistake and raises ValueError.
    """
    caller = _caller(request.principal, account_id)
    identity = [_compiled(policy) for policy in identity_policies]
    if identity and caller.kind is not _Kind.IAM:
        raise ValueError(f"{request.principal!r} is {_WHO[caller.kind]}: it has no identity policies")
    action = request.action.lower()
    context = {key.lower(): value for key, value in request.context.items()}

    allowed_by = None
    for number, policy in enumerate(identity, 1):
        if policy.is_resource_policy:
            raise UnsupportedPolicy(
                f"{_label(policy, number)} names principals: it is not an identity policy"
            )
        for statement in policy.statements:
            if statement.covers(action, request.resource, context):
                where = f"statement {statement.label} of {_label(policy, number)}"
                if statement.deny:
                    return Decision(Effect.EXPLICIT_DENY, f"explicitly denied by {where}")
                allowed_by = allowed_by or f"allowed by {where}"

    cross_account = caller.kind is _Kind.IAM and resource_account(request.resource, account_id) != account_id
    identity_allowed_by, resource_allowed_by = allowed_by, None
    delegated = False
    if resource_policy is not None:
        policy = _compiled(resource_policy)
        if not policy.is_resource_policy:
            raise UnsupportedPolicy(
                f"{_label(policy, None)} names no principals: it is not a resource policy"
            )
        for statement in policy.statements:
            grant = statement.grant(caller)
            if grant is _Grant.NONE or not statement.covers(action, request.resource, context):
                continue
            where = f"statement {statement.label} of {_label(policy, None)}"
            if statement.deny:
                return Decision(Effect.EXPLICIT_DENY, f"explicitly denied by {where}")
            if grant is _Grant.DIRECT or cross_account:
                # Across accounts, naming the caller's account trusts it: its identity policies decide.
                resource_allowed_by = resource_allowed_by or f"allowed by {where}"
                allowed_by = allowed_by or resource_allowed_by
            else:
                delegated = True

    if cross_account:
        if identity_allowed_by and resource_allowed_by:
            return Decision(Effect.ALLOW, f"{identity_allowed_by} and {resource_allowed_by}")
        return Decision(Effect.IMPLICIT_DENY, _cross_account_denial(
            request.resource, account_id, identity_allowed_by is not None, resource_policy is not None))
    if allowed_by:
        return Decision(Effect.ALLOW, allowed_by)
    return Decision(Effect.IMPLICIT_DENY, _nothing_allows(caller, resource_policy is not None, delegated))


def _label(policy: CompiledPolicy, number: int | None) -> str:
    """A policy as a reason names it: identity policy 'Name' or #2, or the resource policy (number None)."""
    kind = "the resource policy" if number is None else "identity policy"
    if policy.name:
        return f"{kind} '{policy.name}'"
    return kind if number is None else f"{kind} #{number}"


def _cross_account_denial(resource: str, account_id: str, identity_allows: bool, has_resource_policy: bool) -> str:
    where = f"the resource is in account {resource_account(resource, account_id)}, not {account_id}"
    if not has_resource_policy:
        missing = "it has no resource policy"
    elif identity_allows:
        missing = "its resource policy does not allow it"
    else:
        missing = "no identity policy allows it"
    return f"{where}: across accounts both an identity policy and the resource policy must allow it, and {missing}"


def _nothing_allows(caller: _Caller, has_resource_policy: bool, delegated: bool) -> str:
    if caller.kind is not _Kind.IAM:
        who = f"{_WHO[caller.kind]} has no identity policies"
        if has_resource_policy:
            return f"the resource policy does not allow it, and {who}"
        return f"there is no resource policy, and {who}"
    if delegated:
        return "no identity policy allows it (the resource policy only delegates to them, naming the account)"
    if has_resource_policy:
        return "neither an identity policy nor the resource policy allows it"
    return "no identity policy allows it"
