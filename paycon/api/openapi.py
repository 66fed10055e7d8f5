"""The OpenAPI 3.1 document, generated from the endpoint table and its models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from outbox import MAX_TASK_ID
from paycon.api.auth import Role
from paycon.api.endpoints import Endpoint
from paycon.api.payments import IDEMPOTENCY_KEY_PATTERN
from paycon.api.reconciliation import MAX_BREAK_ID
from paycon.api.schemas import ProblemOut
from paycon.domain.actors import OPERATOR_NAME_HEADER, OPERATOR_NAME_PATTERN
from paycon.domain.transactions import TRANSACTION_ID_PATTERN
from paycon.models.requests import CUSTOMER_ID_PATTERN

# Where the SOAP side of the payment routes is described.
WSDL_PATH = "/v1/soap?wsdl"

_REF = "#/components/schemas/{model}"
_STATUS_TEXT = {
    200: "OK", 202: "Accepted", 400: "Invalid request", 401: "Missing or invalid API key",
    403: "The key's role may not call this", 404: "Not found",
    409: "Conflict: a request with this Idempotency-Key still running, or the state of what"
         " it acts on (see code)",
    413: "Body too large",
    415: "Unsupported media type", 422: "Cannot be accepted (see code)",
    503: "Unavailable (see Retry-After where given)",
}  # fmt: skip


def _models(endpoints: tuple[Endpoint, ...]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {ProblemOut.__name__: ProblemOut}
    for endpoint in endpoints:
        for model in (endpoint.request, *endpoint.responses.values()):
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


# What each path parameter may be, by the collection it names an item of: the same rules
# the handlers check (400 otherwise); any other parameter is a name looked up (404).
_PATH_PARAMETERS: dict[tuple[str, str], dict[str, Any]] = {
    ("/v1/transactions/", "id"): {"type": "string", "pattern": TRANSACTION_ID_PATTERN},
    ("/v1/outbox/tasks/", "id"): {"type": "integer", "minimum": 1, "maximum": MAX_TASK_ID},
    ("/v1/customers/", "customer_id"): {"type": "string", "pattern": CUSTOMER_ID_PATTERN},
    ("/v1/reconciliation/breaks/", "id"): {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_BREAK_ID,
    },
}
_NAME_PARAMETER = {"type": "string", "minLength": 1}


def _path_parameter_schema(path: str, name: str) -> dict[str, Any]:
    for (prefix, param), schema in _PATH_PARAMETERS.items():
        if param == name and path.startswith(prefix):
            return schema
    return _NAME_PARAMETER


def _checks_path_parameters(endpoint: Endpoint) -> bool:
    return any(
        _path_parameter_schema(endpoint.path, name) is not _NAME_PARAMETER
        for name in endpoint.path_params
    )


def _responses(endpoint: Endpoint) -> dict[int, type[BaseModel] | None]:
    """The endpoint's own answers, and those every route of its kind can give."""
    implied: dict[int, type[BaseModel] | None] = {}
    if endpoint.query is not None or _checks_path_parameters(endpoint):
        implied[400] = ProblemOut
    if endpoint.role is not None:
        implied[401] = ProblemOut
    if endpoint.role is Role.OPERATOR:
        implied[403] = ProblemOut
    if endpoint.path_params:
        # An id that names nothing, or a path no route matches.
        implied[404] = ProblemOut
    if endpoint.request is not None or endpoint.raw_body is not None:
        implied.update({400: ProblemOut, 413: ProblemOut})
    return dict(sorted({**implied, **endpoint.responses}.items()))


def _headers(endpoint: Endpoint, status: int) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if endpoint.idempotent and status in (202, 422):
        headers["Idempotent-Replayed"] = {
            "description": "true when this answer replays an earlier one with the same key",
            "schema": {"type": "string", "enum": ["true"]},
        }
    if status == 401:
        headers["WWW-Authenticate"] = {
            "required": True,
            "schema": {"type": "string", "pattern": "^Bearer "},
        }
    if status == 503 and endpoint.idempotent:
        headers["Retry-After"] = {
            "description": "seconds after which the payment may be sent again",
            "required": True,
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        }
    return headers


def _content(model: type[BaseModel] | None, endpoint: Endpoint) -> dict[str, Any] | None:
    if model is not None:
        media = "application/problem+json" if model is ProblemOut else "application/json"
        return {media: {"schema": {"$ref": _REF.format(model=model.__name__)}}}
    return _RAW_CONTENT.get(endpoint.name)


_RAW_CONTENT: dict[str, dict[str, Any]] = {
    "metrics": {"text/plain": {"schema": {"type": "string"}}},
    "openapi": {"application/json": {"schema": {"type": "object"}}},
}


def _request_body(endpoint: Endpoint) -> dict[str, Any] | None:
    if endpoint.request is not None:
        # A body whose every field is optional may be left out (sent empty).
        required = bool(endpoint.request.model_json_schema().get("required"))
        return {
            "required": required,
            "content": {
                "application/json": {
                    "schema": {"$ref": _REF.format(model=endpoint.request.__name__)}
                }
            },
        }
    if endpoint.raw_body is not None:
        text = {"schema": {"type": "string", "description": endpoint.raw_body}}
        return {
            "required": True,
            "content": {"application/json": text, "text/xml": text, "application/xml": text},
        }
    return None


def _operation(endpoint: Endpoint, schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "tags": list(endpoint.tags),
        "responses": {},
    }
    if endpoint.role is None:
        operation["security"] = []
    if endpoint.soap_operation:
        operation["description"] = (
            f"JSON here. The same route takes a SOAP 1.1 envelope ({endpoint.soap_operation}, "
            "as text/xml or application/soap+xml) and answers in SOAP; the WSDL at "
            f"{WSDL_PATH} describes it."
        )
        operation["externalDocs"] = {"description": "The SOAP service (WSDL 1.1)", "url": WSDL_PATH}
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _path_parameter_schema(endpoint.path, name),
        }
        for name in endpoint.path_params
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query, schemas)
    if endpoint.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "description": "Unique per payment; a repeat with the same body replays the answer",
                "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
            }
        )
    if endpoint.role is Role.OPERATOR and endpoint.method != "GET":
        parameters.append(
            {
                "name": OPERATOR_NAME_HEADER,
                "in": "header",
                "required": False,
                "description": "Who is at the keyboard: the action is audited as "
                "operator:<key id>/<name> instead of operator:<key id>",
                "schema": {"type": "string", "pattern": OPERATOR_NAME_PATTERN},
            }
        )
    if parameters:
        operation["parameters"] = parameters
    request_body = _request_body(endpoint)
    if request_body is not None:
        operation["requestBody"] = request_body
    for status, model in _responses(endpoint).items():
        response: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "")}
        content = _content(model, endpoint)
        if content is not None:
            response["content"] = content
        headers = _headers(endpoint, status)
        if headers:
            response["headers"] = headers
        operation["responses"][str(status)] = response
    return operation


def build_document(endpoints: tuple[Endpoint, ...], *, version: str) -> dict[str, Any]:
    """An OpenAPI 3.1 document describing exactly ``endpoints``."""
    _, definitions = models_json_schema(
        [(model, "validation") for model in _models(endpoints)], ref_template=_REF
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "paycon",
            "version": version,
            "description": "Deposits, withdrawals, transactions and balances. Amounts are "
            "decimal strings; errors are application/problem+json. This document describes "
            f"the JSON API; the SOAP 1.1 service on the payment routes is described by the WSDL "
            f"at {WSDL_PATH}.",
        },
        "externalDocs": {"description": "The SOAP service (WSDL 1.1)", "url": WSDL_PATH},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
