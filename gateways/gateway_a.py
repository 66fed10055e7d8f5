"""Gateway A: JSON over REST.

- ``POST {base}/payments``
  ``{"transactionId", "amount", "currency", "type", "callbackUrl"}``
  → ``{"status": "pending"|"success"|"failure", "transactionId", "amount", "currency"}``
- ``GET {base}/status/{transactionId}`` → the same shape; 404 if unknown.
- Errors: ``{"error": code, "message": text}`` with a 4xx/5xx status.
- Callbacks: ``{"eventId", "transactionId", "status", "amount", "currency", "reason"?}``,
  signed.

Amounts travel as plain decimal strings, never JSON numbers, both ways; an
answer or callback without its amount and currency is refused. Answers and
callbacks must be UTF-8 JSON objects without repeated keys; unknown keys are
ignored so the gateway may add fields.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from gateways.base import CallbackEvent, GatewayAnswer, SubmitRequest
from gateways.errors import Operation
from gateways.http_gateway import HttpGateway
from gateways.wire import (
    WireFormatError,
    WireRequest,
    amount_field,
    currency_field,
    event_id_field,
    reason_field,
    status_field,
    transaction_id_field,
)

CONTENT_TYPE = "application/json"


class GatewayA(HttpGateway):
    """Gateway A's client (protocol ``json``)."""

    protocol = "json"

    def encode_submit(self, request: SubmitRequest) -> WireRequest:
        """``POST /payments`` with the payment as a JSON object, the amount as a string."""
        document = {
            "transactionId": request.transaction_id,
            "amount": request.wire_amount,
            "currency": request.currency,
            "type": request.kind,
            "callbackUrl": request.callback_url,
        }
        return WireRequest("POST", "/payments", json.dumps(document).encode("utf-8"), CONTENT_TYPE)

    def encode_status(self, transaction_id: str) -> WireRequest:
        """``GET /status/{transactionId}``, the id percent-encoded as one path segment."""
        return WireRequest("GET", f"/status/{quote(transaction_id, safe='')}")

    def decode_answer(self, operation: Operation, body: bytes) -> GatewayAnswer:
        """``{"status", "transactionId", "amount", "currency"}`` (and ``reason``, if added)."""
        document = _json_object(body)
        return GatewayAnswer(
            transaction_id=transaction_id_field(document.get("transactionId")),
            status=status_field(document.get("status")),
            reason=reason_field(document.get("reason")),
            amount=amount_field(document.get("amount")),
            currency=currency_field(document.get("currency")),
        )

    def decode_error(self, body: bytes) -> tuple[str | None, str | None]:
        """``{"error": code, "message": text}``; whatever of it can be read."""
        try:
            document = _json_object(body)
        except WireFormatError:
            return None, None
        code, message = document.get("error"), document.get("message")
        return (
            code if isinstance(code, str) and code else None,
            message if isinstance(message, str) and message else None,
        )

    def decode_callback(self, body: bytes) -> CallbackEvent:
        """``{"eventId", "transactionId", "status", "amount", "currency", "reason"?}``."""
        document = _json_object(body)
        return CallbackEvent(
            event_id=event_id_field(document.get("eventId")),
            transaction_id=transaction_id_field(document.get("transactionId")),
            status=status_field(document.get("status")),
            amount=amount_field(document.get("amount")),
            currency=currency_field(document.get("currency")),
            reason=reason_field(document.get("reason")),
        )


def _json_object(body: bytes) -> dict[str, Any]:
    """A UTF-8 JSON object; raises ``WireFormatError`` for anything else."""
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=_no_repeated_keys)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WireFormatError(f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise WireFormatError("not a JSON object")
    return document


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two "status" keys would let the reader pick which one counts; refuse instead.
    document = dict(pairs)
    if len(document) != len(pairs):
        raise WireFormatError("a key is repeated")
    return document
