"""IAM enforcement in moto's request path: every request, in-process or through the moto server,
passes `BaseResponse._authenticate_and_authorize_normal_action` before moto acts on it. moto's own
check there evaluates actions only (its access_control.py says Resource, Condition and resource
policies are not done); ours evaluates all of them (shop/local/iam/)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from moto.core.exceptions import ServiceException
from werkzeug.exceptions import HTTPException

from shop.local.iam.actions import FilledOnce
from shop.local.iam.enforcer import AccessDenied, Enforcer, access_denied_code
from shop.local.iam.principals import DEVELOPER
from shop.local.patches import Patch


class _AccessDenied(ServiceException):
    """Serialized with the code the service uses (defined outside moto's packages, so moto looks
    its shape up in the called service's model only)."""


class _Refused(HTTPException):
    """How a refusal leaves moto's `call_action`: it answers an HTTPException from this hook with the
    exception's description as the body and its code as the status."""


def _load_service_model(service: str) -> Any:
    """moto reads the model from disk on every call (~50 ms); it never changes."""
    from moto.core.utils import get_service_model

    return get_service_model(service)


_service_model = FilledOnce(_load_service_model)


def warm(services: Iterable[str]) -> None:
    """Load now the models that parsing these services' requests needs (the enforcer's services,
    once the stack is deployed), not in the burst of requests that first needs them."""
    for service in services:
        _service_model(service)


def _operation_and_params(response: Any) -> tuple[str, dict[str, Any]]:
    """The API operation and its parameters, parsed from the request with the service's own model
    (what `BaseResponse.parse_parameters` does, without storing them on the response)."""
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.request import determine_request_protocol

    operation = response._get_action()
    service_model = _service_model(response.boto3_service_name)
    request = response.normalized_request
    protocol = determine_request_protocol(service_model, request.content_type)
    parser = PROTOCOL_PARSERS[protocol](service_model.operation_model(operation), map_type=dict)
    params = parser.parse({
        "method": request.method, "values": request.values, "headers": request.headers,
        "body": request.data, "url_path": request.path, "url_params": response.uri_match,
    })
    return operation, params


def patches(enforcer: Enforcer) -> list[Patch]:
    # Some services' models lack the AccessDenied shape AWS answers with; moto warns, harmlessly.
    warnings.filterwarnings("ignore", message=r"Exception\(_AccessDenied\)")
    def wrap(_moto_check: Any) -> Any:
        from moto.core.responses import ActionResult

        def enforce(self: Any, resource: str = "*") -> None:
            principal = enforcer.principals.of_authorization(self.headers.get("Authorization"))
            if principal == DEVELOPER:
                return  # the administrator: nothing to evaluate, no need to parse the call
            operation, params = _operation_and_params(self)
            try:
                enforcer.authorize_call(principal, self.boto3_service_name, operation, params)
            except AccessDenied as denied:
                error = _AccessDenied(access_denied_code(self.boto3_service_name), str(denied))
                status, headers, body = self.serialized(ActionResult(error))
                self.response_headers.update(headers)
                refusal = _Refused(description=body)
                refusal.code = status
                raise refusal from None

        return enforce

    return [Patch("moto.core.responses:BaseResponse", "_authenticate_and_authorize_normal_action", wrap)]
