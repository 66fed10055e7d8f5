"""A payment request as both gateways understand it, and its validation.

The wire formats differ (JSON for A, XML for B); each gateway module pulls
the raw values out of its format and hands them here under canonical names,
with the names its own clients know for error messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from yarl import URL

from mock_gateways.errors import InvalidRequest

PaymentType = Literal["deposit", "withdrawal"]
PaymentStatus = Literal["pending", "success", "failure"]

FIELDS = ("transaction_id", "amount", "currency", "type", "callback_url")

# No "/" so the id can sit in a URL path (A's GET /status/{transactionId}).
_TRANSACTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
# Plain decimal notation only: no sign, exponent, spaces or thousands separators.
_AMOUNT = re.compile(r"[0-9]{1,18}(\.[0-9]{1,8})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class PaymentRequest:
    """One validated submission: what the gateway is asked to move, and where to call back."""

    transaction_id: str
    amount: Decimal
    currency: str
    type: PaymentType
    callback_url: str

    def same_terms(self, other: PaymentRequest) -> bool:
        """Whether ``other`` asks for the same payment (the callback URL may differ)."""
        return (self.amount, self.currency, self.type) == (other.amount, other.currency, other.type)


def payment_request(raw: Mapping[str, object], wire_names: Mapping[str, str]) -> PaymentRequest:
    """Validate raw values keyed by ``FIELDS`` and build a ``PaymentRequest``.

    ``wire_names`` maps each canonical field to the name the client used, so
    errors speak the client's language. Raises ``InvalidRequest`` for the
    first missing or malformed field.
    """
    values = {field: _required(raw, field, wire_names[field]) for field in FIELDS}
    return PaymentRequest(
        transaction_id=transaction_id(values["transaction_id"], wire_names["transaction_id"]),
        amount=_amount(values["amount"], wire_names["amount"]),
        currency=_currency(values["currency"], wire_names["currency"]),
        type=_type(values["type"], wire_names["type"]),
        callback_url=_callback_url(values["callback_url"], wire_names["callback_url"]),
    )


def transaction_id(value: object, wire_name: str) -> str:
    """Return ``value`` if it is a well-formed transaction id, else raise ``InvalidRequest``."""
    if not isinstance(value, str) or not _TRANSACTION_ID.fullmatch(value):
        raise InvalidRequest(
            "invalid_transaction_id",
            f"{wire_name} must be 1-128 characters of A-Z a-z 0-9 _ . : -",
        )
    return value


def _required(raw: Mapping[str, object], field: str, wire_name: str) -> object:
    value = raw.get(field)
    if value is None or value == "":
        raise InvalidRequest("missing_field", f"{wire_name} is required")
    return value


def _amount(value: object, wire_name: str) -> Decimal:
    # Strings only: a JSON number has already been through a float somewhere.
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value) or Decimal(value) <= 0:
        raise InvalidRequest(
            "invalid_amount", f'{wire_name} must be a decimal string greater than 0, like "10.50"'
        )
    return Decimal(value)


def _currency(value: object, wire_name: str) -> str:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise InvalidRequest(
            "invalid_currency", f'{wire_name} must be a three-letter ISO 4217 code, like "EUR"'
        )
    return value


def _type(value: object, wire_name: str) -> PaymentType:
    if value == "deposit":
        return "deposit"
    if value == "withdrawal":
        return "withdrawal"
    raise InvalidRequest("invalid_type", f'{wire_name} must be "deposit" or "withdrawal"')


def _callback_url(value: object, wire_name: str) -> str:
    problem = f"{wire_name} must be an absolute http(s) URL"
    if not isinstance(value, str) or len(value) > _MAX_URL_CHARS:
        raise InvalidRequest("invalid_callback_url", problem)
    try:
        url = URL(value)
    except ValueError:
        raise InvalidRequest("invalid_callback_url", problem) from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise InvalidRequest("invalid_callback_url", problem)
    return value
