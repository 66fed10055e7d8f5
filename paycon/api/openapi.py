"""The OpenAPI 3.1 document, generated from the endpoint table and its models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from paycon.api.auth import Role
from paycon.api.endpoints import Endpoint
from paycon.domain.actors import OPERATOR_NAME_HEADER, OPERATOR_NAME_PATTERN

_REF = "#/components/schemas/{model}"
_STATUS_TEXT = {
    200: "OK", 202: "Accepted", 400: "Invalid request", 401: "Missing or invalid API key",
    403: "The key's role may not call this", 404: "Not found",
    409: "A request with this Idempotency-Key is still running", 413: "Body too large",
    415: "Unsupported media type", 422: "Cannot be accepted (see code)",
    503: "Unavailable",
}  # fmt: skip


def _models(endpoints: tuple[Endpoint, ...]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for endpoint in endpoints:
        for model in (endpoint.request, *endpoint.responses.values()):
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    return [
        {"name": name, "in": "query", "required": False, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _operation(endpoint: Endpoint, schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "tags": list(endpoint.tags),
        "responses": {},
    }
    if endpoint.role is None:
        operation["security"] = []
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
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
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
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
    if endpoint.request is not None:
        content: dict[str, Any] = {
            "application/json": {"schema": {"$ref": _REF.format(model=endpoint.request.__name__)}}
        }
        if endpoint.soap_operation:
            soap = {
                "schema": {
                    "type": "string",
                    "description": f"SOAP 1.1 envelope whose Body holds <{endpoint.soap_operation}>"
                    " with the same fields as the JSON body",
                }
            }
            content["text/xml"] = soap
            content["application/soap+xml"] = soap
        operation["requestBody"] = {"required": True, "content": content}
    if endpoint.raw_body is not None:
        text = {"schema": {"type": "string", "description": endpoint.raw_body}}
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": text, "text/xml": text, "application/xml": text},
        }
    for status, model in endpoint.responses.items():
        response: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "")}
        if model is not None:
            media = (
                "application/problem+json"
                if model.__name__ == "ProblemOut"
                else ("application/json")
            )
            response["content"] = {media: {"schema": {"$ref": _REF.format(model=model.__name__)}}}
        if status == 202 and endpoint.idempotent:
            response["headers"] = {
                "Idempotent-Replayed": {
                    "description": "true when this answer replays an earlier one",
                    "schema": {"type": "string", "enum": ["true"]},
                }
            }
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
            "decimal strings; errors are application/problem+json.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
