"""Money: ISO 4217 currencies, wire amounts, minor units.

Amounts travel as decimal strings (``"100.50"``), are ``Decimal`` in code and
integers of minor units in storage. A float never touches an amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 codes paycon accepts, with their minor-unit exponent.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2,
    "CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2,
    "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0,
    "JOD": 3, "JPY": 0, "KES": 2, "KRW": 0, "KWD": 3, "MAD": 2, "MXN": 2,
    "MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2,
    "QAR": 2, "RON": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TND": 3,
    "TRY": 2, "TWD": 2, "UAH": 2, "UGX": 0, "USD": 2, "VND": 0, "ZAR": 2,
}  # fmt: skip

# Plain positional notation only: no sign, exponent, spaces, NaN or Infinity.
_AMOUNT = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,6})?")


class MoneyError(ValueError):
    """An amount or currency is not acceptable; the message says why."""


class AmountOverMaximum(MoneyError):
    """A well-formed amount above the configured maximum for its currency."""


def exponent(currency: str) -> int:
    """The minor-unit exponent of a supported currency.

    Raises MoneyError for an unsupported code.
    """
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unsupported currency {currency!r}; use an ISO 4217 code") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency, held as integer minor units."""

    minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        """The amount in major units, at exactly the currency's scale."""
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def wire(self) -> str:
        """The amount as the API writes it: ``"100.50"``, ``"1000"`` for JPY."""
        return format(self.amount, "f")


def parse_amount(text: str, currency: str, *, max_amount: Decimal) -> Money:
    """Parse a wire amount for ``currency``.

    Promises a Money that is > 0, at most ``max_amount`` and whose scale fits
    the currency's exponent. Raises AmountOverMaximum (a MoneyError) over
    ``max_amount``, MoneyError for anything else.
    """
    places = exponent(currency)
    if not _AMOUNT.fullmatch(text):
        raise MoneyError('amount must be a positive decimal string such as "100.50"')
    value = Decimal(text)
    if value <= 0:
        raise MoneyError("amount must be greater than zero")
    digits_after_point = len(text.partition(".")[2])
    if digits_after_point > places:
        raise MoneyError(f"{currency} allows at most {places} decimal places")
    if value > max_amount:
        raise AmountOverMaximum(f"amount exceeds the maximum of {max_amount} {currency}")
    return Money(int(value.scaleb(places)), currency)
