"""Gateway B: XML over HTTP.

- ``POST {base}/ProcessPayment`` with
  ``<Payment><TransactionId/><Amount/><Currency/><Type/><CallbackUrl/></Payment>``
  → ``<PaymentResponse><Status/><TransactionId/><Amount/><Currency/></PaymentResponse>``
- ``GET {base}/GetStatus?TransactionId=``
  → ``<StatusResponse><Status/><TransactionId/><Amount/><Currency/></StatusResponse>``;
  404 if unknown.
- Errors: ``<Error><Code/><Message/></Error>`` with a 4xx/5xx status.
- Callbacks:
  ``<Callback><EventId/><TransactionId/><Status/><Amount/><Currency/><Reason/></Callback>``,
  signed.

Amounts are plain decimal text; an answer or callback without its amount and
currency is refused.

Documents are built with every text escaped and read with ``defusedxml``
(see ``gateways.xmldoc``): a DTD, entity or external reference in an answer
or callback is refused, never expanded or fetched.
"""

from __future__ import annotations

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
from gateways.xmldoc import XmlRejected, read_fields, render

CONTENT_TYPE = "application/xml; charset=utf-8"
_ANSWER_ROOTS: dict[Operation, str] = {"submit": "PaymentResponse", "status": "StatusResponse"}
_ANSWER_FIELDS = ("Status", "TransactionId", "Amount", "Currency", "Reason")


class GatewayB(HttpGateway):
    """Gateway B's client (protocol ``xml``)."""

    protocol = "xml"

    def encode_submit(self, request: SubmitRequest) -> WireRequest:
        """``POST /ProcessPayment`` with a ``<Payment>`` document."""
        body = render(
            "Payment",
            [
                ("TransactionId", request.transaction_id),
                ("Amount", request.wire_amount),
                ("Currency", request.currency),
                ("Type", request.kind),
                ("CallbackUrl", request.callback_url),
            ],
        )
        return WireRequest("POST", "/ProcessPayment", body, CONTENT_TYPE)

    def encode_status(self, transaction_id: str) -> WireRequest:
        """``GET /GetStatus?TransactionId=...``."""
        return WireRequest("GET", "/GetStatus", params=(("TransactionId", transaction_id),))

    def decode_answer(self, operation: Operation, body: bytes) -> GatewayAnswer:
        """``<PaymentResponse>`` (submit) or ``<StatusResponse>`` (status)."""
        fields = _read(body, _ANSWER_ROOTS[operation], _ANSWER_FIELDS)
        return GatewayAnswer(
            transaction_id=transaction_id_field(fields["TransactionId"]),
            status=status_field(fields["Status"]),
            reason=reason_field(fields["Reason"]),
            amount=amount_field(fields["Amount"]),
            currency=currency_field(fields["Currency"]),
        )

    def decode_error(self, body: bytes) -> tuple[str | None, str | None]:
        """``<Error><Code/><Message/></Error>``; whatever of it can be read."""
        try:
            fields = _read(body, "Error", ("Code", "Message"))
        except WireFormatError:
            return None, None
        return fields["Code"] or None, fields["Message"] or None

    def decode_callback(self, body: bytes) -> CallbackEvent:
        """``<Callback>``; an empty or missing ``<Reason/>`` means no reason."""
        fields = _read(body, "Callback", ("EventId", *_ANSWER_FIELDS))
        return CallbackEvent(
            event_id=event_id_field(fields["EventId"]),
            transaction_id=transaction_id_field(fields["TransactionId"]),
            status=status_field(fields["Status"]),
            amount=amount_field(fields["Amount"]),
            currency=currency_field(fields["Currency"]),
            reason=reason_field(fields["Reason"]),
        )


def _read(body: bytes, root: str, names: tuple[str, ...]) -> dict[str, str | None]:
    try:
        return dict(read_fields(body, root, names))
    except XmlRejected as exc:
        raise WireFormatError(str(exc)) from exc
