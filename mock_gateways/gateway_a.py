"""Gateway A: JSON over REST.

- ``POST /payments`` ``{"transactionId", "amount", "currency", "type", "callbackUrl"}``
  → ``{"status": "pending"|"success"|"failure", "transactionId", "amount", "currency"}``
- ``GET /status/{transactionId}`` → the same shape; 404 if unknown.
- Errors: ``{"error": code, "message": text}`` with a 4xx/5xx status.
- Callbacks: ``{"eventId", "transactionId", "status", "amount", "currency", "reason"?}``.

Amounts are plain decimal strings, never JSON numbers.
"""

from __future__ import annotations

import json

from aiohttp import web

from mock_gateways.callbacks import CallbackEvent, EncodedBody
from mock_gateways.dialect import Dialect
from mock_gateways.jsonbody import read_json_object
from mock_gateways.keys import GATEWAY, ROLL
from mock_gateways.ledger import LedgerEntry
from mock_gateways.payments import payment_request, transaction_id

WIRE_NAMES = {
    "transaction_id": "transactionId",
    "amount": "amount",
    "currency": "currency",
    "type": "type",
    "callback_url": "callbackUrl",
}


async def submit_payment(request: web.Request) -> web.Response:
    """Take a payment (or a repeat of one) and answer its current state."""
    body = await read_json_object(request)
    raw = {field: body.get(wire_name) for field, wire_name in WIRE_NAMES.items()}
    entry = request.app[GATEWAY].submit(payment_request(raw, WIRE_NAMES), request[ROLL])
    return _state_response(entry)


async def payment_status(request: web.Request) -> web.Response:
    """Answer a payment's current state; 404 if the id is unknown."""
    wanted = transaction_id(request.match_info["transaction_id"], "transactionId")
    return _state_response(request.app[GATEWAY].status(wanted))


def error_response(status: int, code: str, message: str) -> web.Response:
    """An error in A's format."""
    return web.json_response({"error": code, "message": message}, status=status)


def encode_callback(event: CallbackEvent) -> EncodedBody:
    """A callback body in A's format (``reason`` only when there is one)."""
    document: dict[str, str] = {
        "eventId": event.event_id,
        "transactionId": event.transaction_id,
        "status": event.status,
        "amount": event.wire_amount,
        "currency": event.currency,
    }
    if event.reason is not None:
        document["reason"] = event.reason
    return EncodedBody(json.dumps(document).encode("utf-8"), "application/json")


def _state_response(entry: LedgerEntry) -> web.Response:
    payment = entry.request
    return web.json_response(
        {
            "status": entry.reported_status,
            "transactionId": payment.transaction_id,
            "amount": format(payment.amount, "f"),
            "currency": payment.currency,
        }
    )


GATEWAY_A = Dialect(
    name="gateway_a",
    routes=[
        web.post("/payments", submit_payment),
        web.get("/status/{transaction_id}", payment_status),
    ],
    error_response=error_response,
    encode_callback=encode_callback,
)
