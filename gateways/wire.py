"""What both wire formats share: reading statuses, ids and money out of a decoded document.

Each gateway module decodes its own format into plain fields and checks them
here, raising ``WireFormatError``; the client turns that into
``GatewayProtocolError`` (an answer) or ``CallbackMalformed`` (a callback).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from gateways.base import CURRENCY, PAYMENT_STATUSES, TRANSACTION_ID, PaymentStatus

_MAX_EVENT_ID_CHARS = 255
_MAX_REASON_CHARS = 500
# Plain decimal notation, as the gateways write amounts: no sign, exponent or spaces.
_AMOUNT = re.compile(r"[0-9]{1,30}(\.[0-9]{1,18})?")


class WireFormatError(ValueError):
    """A decoded document does not have the shape the protocol promises."""


@dataclass(frozen=True)
class WireRequest:
    """One HTTP request a gateway needs, before it meets a client: pure data."""

    method: str
    path: str
    content: bytes | None = None
    content_type: str | None = None
    params: tuple[tuple[str, str], ...] = ()


def status_field(value: object) -> PaymentStatus:
    """``value`` as a payment status; raises ``WireFormatError`` for anything else."""
    if not isinstance(value, str) or value not in PAYMENT_STATUSES:
        raise WireFormatError(f"unknown status {_show(value)}")
    return cast(PaymentStatus, value)


def transaction_id_field(value: object) -> str:
    """``value`` as a transaction id; raises ``WireFormatError`` if it is not one."""
    if not isinstance(value, str) or not TRANSACTION_ID.fullmatch(value):
        raise WireFormatError(f"transaction id {_show(value)} is missing or malformed")
    return value


def event_id_field(value: object) -> str:
    """``value`` as a callback event id (1-255 printable characters)."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > _MAX_EVENT_ID_CHARS
        or not value.isprintable()
    ):
        raise WireFormatError(f"event id {_show(value)} is missing or malformed")
    return value


def amount_field(value: object) -> Decimal:
    """``value`` as an amount: a plain decimal string (``"10.50"``), never a number.

    A JSON number has been through a float on the way; it is refused like
    anything that is not plain decimal notation (``WireFormatError``).
    """
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        raise WireFormatError(f"amount {_show(value)} is missing or not a plain decimal string")
    return Decimal(value)


def currency_field(value: object) -> str:
    """``value`` as a currency code: three capital letters (``WireFormatError`` otherwise)."""
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise WireFormatError(f"currency {_show(value)} is missing or not three capital letters")
    return value


def reason_field(value: object) -> str | None:
    """``value`` as an optional reason: ``None`` for absent, null or empty."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _MAX_REASON_CHARS:
        raise WireFormatError(f"reason {_show(value)} must be a short string")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
