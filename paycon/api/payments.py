"""``POST /v1/deposits`` and ``POST /v1/withdrawals`` (JSON or SOAP 1.1)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from paycon.api.bodies import JSON_TYPES, SOAP_TYPES, parse_json, read_body
from paycon.api.context import context, principal
from paycon.api.responses import PROBLEM_JSON, soap_response
from paycon.api.schemas import parse_payment
from paycon.api.soap import parse_envelope
from paycon.api.wsdl import OPERATIONS
from paycon.domain.errors import FieldError, InvalidInput, UnsupportedMediaType
from paycon.domain.status import Kind

# 1-255 visible ASCII characters.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_OPERATIONS = {Kind.DEPOSIT: "CreateDeposit", Kind.WITHDRAWAL: "CreateWithdrawal"}
_SOAP_PATHS = frozenset(operation.path for operation in OPERATIONS)


def idempotency_key(request: web.Request) -> str:
    """The request's Idempotency-Key. Raises InvalidInput if missing or malformed."""
    key = request.headers.get("Idempotency-Key")
    if key is None or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput(
            "send an Idempotency-Key header of 1-255 visible characters, unique per payment",
            errors=[FieldError("Idempotency-Key", "required: 1-255 visible ASCII characters")],
        )
    return key


def is_soap(request: web.Request) -> bool:
    """A SOAP envelope posted to one of the SOAP operations' endpoints (answered in SOAP)."""
    return (
        request.method == "POST"
        and request.path in _SOAP_PATHS
        and request.content_type in SOAP_TYPES
    )


async def _create(request: web.Request, kind: Kind) -> web.Response:
    ctx = context(request)
    caller = principal(request)
    key = idempotency_key(request)
    raw = await read_body(request, ctx.settings.server.max_body_bytes)
    fields: Any
    if is_soap(request):
        fields = parse_envelope(raw, _OPERATIONS[kind])
    elif request.content_type in JSON_TYPES:
        fields = parse_json(raw)
    else:
        raise UnsupportedMediaType(
            "send application/json, or a SOAP 1.1 envelope as text/xml or application/soap+xml"
        )
    payment = parse_payment(kind, fields, max_amount=ctx.settings.limits.max_for)
    answer = await ctx.intake.accept(payment, idempotency_key=key, client_id=caller.client_id)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    if is_soap(request):
        return soap_response(
            _OPERATIONS[kind],
            answer.body(),
            status=answer.status,
            headers=headers,
        )
    content_type = PROBLEM_JSON if answer.status >= 400 else "application/json"
    return web.Response(
        text=answer.text, status=answer.status, headers=headers, content_type=content_type
    )


async def create_deposit(request: web.Request) -> web.Response:
    return await _create(request, Kind.DEPOSIT)


async def create_withdrawal(request: web.Request) -> web.Response:
    return await _create(request, Kind.WITHDRAWAL)
