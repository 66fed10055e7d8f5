"""Settlement: what a mock gateway settled, day by day, and its daily report.

A payment that ends ``success`` is settled at that moment: one line of type
``deposit`` or ``withdrawal`` whose value date is the UTC date of the success
(same day, T+0). A later failure of that success (``late_failure_rate``) is a
``reversal`` line on the UTC date the failure happened. The report for a day
lists that day's lines in the order they were settled, as CSV with the
columns in ``REPORT_COLUMNS``.

Amounts are ``Decimal`` and written in plain notation with the currency's
number of decimals (more only when the payment's own amount has more: an
amount is never rounded). ``gross`` and ``fee`` are never negative; ``net`` is
signed from the account holder's side: what the gateway pays (+) or takes (-).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Literal

from mock_gateways.errors import InvalidRequest
from mock_gateways.payments import PaymentType

LineType = Literal["deposit", "withdrawal", "reversal"]

REPORT_COLUMNS = (
    "gateway_reference",
    "transaction_id",
    "type",
    "gross",
    "fee",
    "net",
    "currency",
    "value_date",
)
REPORT_CONTENT_TYPE = "text/csv"

# ISO 4217 currencies whose minor unit is not a hundredth; every other code has two decimals.
_EXPONENTS = {
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
            "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip
_BPS_PER_WHOLE = Decimal(10_000)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def currency_exponent(currency: str) -> int:
    """How many decimals ``currency`` has (``JPY`` 0, ``EUR`` 2, ``KWD`` 3; unknown codes 2)."""
    return _EXPONENTS.get(currency, 2)


def minor_unit(currency: str) -> Decimal:
    """One minor unit of ``currency``: ``0.01`` for EUR, ``1`` for JPY."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def at_scale(amount: Decimal, currency: str) -> str:
    """``amount`` in plain notation with the currency's decimals, or its own when it has more."""
    exponent = amount.as_tuple().exponent
    own_places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(currency_exponent(currency), own_places)
    text = format(amount.quantize(Decimal(1).scaleb(-places)), "f")
    return text[1:] if text.startswith("-") and amount.is_zero() else text


def settlement_fee(gross: Decimal, currency: str, *, fee_bps: int, fee_minor: int) -> Decimal:
    """The gateway's fee on ``gross``: ``fee_bps`` of it, rounded half up to a minor unit,
    plus ``fee_minor`` minor units."""
    unit = minor_unit(currency)
    with localcontext() as context:
        context.prec = 60  # 18 digits and 8 decimals times 10,000 must stay exact
        share = (gross * fee_bps / _BPS_PER_WHOLE).quantize(unit, rounding=ROUND_HALF_UP)
        return share + fee_minor * unit


def value_date(at_s: float) -> date:
    """The UTC calendar date of unix time ``at_s``."""
    return datetime.fromtimestamp(at_s, UTC).date()


@dataclass(frozen=True)
class SettlementLine:
    """One line of a settlement report.

    ``reported`` is false for a line the ``report_missing_rate`` fault leaves
    out of the report: settled all the same.
    """

    gateway_reference: str
    transaction_id: str
    type: LineType
    gross: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    value_date: date
    reported: bool = True

    def row(self) -> list[str]:
        """The line as the report's CSV fields, in ``REPORT_COLUMNS`` order."""
        return [
            self.gateway_reference,
            self.transaction_id,
            self.type,
            at_scale(self.gross, self.currency),
            at_scale(self.fee, self.currency),
            at_scale(self.net, self.currency),
            self.currency,
            self.value_date.isoformat(),
        ]


def settled_line(
    *,
    gateway_reference: str,
    transaction_id: str,
    payment_type: PaymentType,
    gross: Decimal,
    currency: str,
    on: date,
    fee_bps: int,
    fee_minor: int,
    reported: bool = True,
) -> SettlementLine:
    """The line of a payment settled ``on`` a day.

    A deposit nets ``gross - fee`` (the gateway pays it); a withdrawal nets
    ``-(gross + fee)`` (the gateway pays the customer and charges its fee).
    """
    fee = settlement_fee(gross, currency, fee_bps=fee_bps, fee_minor=fee_minor)
    net = gross - fee if payment_type == "deposit" else -(gross + fee)
    return SettlementLine(
        gateway_reference,
        transaction_id,
        payment_type,
        gross,
        fee,
        net,
        currency,
        on,
        reported,
    )


def reversal_line(original: SettlementLine, gross: Decimal, on: date) -> SettlementLine:
    """The line reversing ``original`` (``gross`` back, no fee) ``on`` a day.

    A reversed deposit nets ``-gross`` (taken back), a reversed withdrawal
    ``+gross`` (the payout came back). The settlement fee is not refunded.
    """
    net = -gross if original.type == "deposit" else gross
    return SettlementLine(
        original.gateway_reference,
        original.transaction_id,
        "reversal",
        gross,
        Decimal(0),
        net,
        original.currency,
        on,
    )


class SettlementBook:
    """Every settlement line of one gateway, by value date, in the order settled."""

    def __init__(self) -> None:
        self._by_day: defaultdict[date, list[SettlementLine]] = defaultdict(list)
        self._settled: dict[str, SettlementLine] = {}

    def add(self, line: SettlementLine) -> None:
        """Record one line."""
        self._by_day[line.value_date].append(line)
        if line.type != "reversal":
            self._settled[line.transaction_id] = line

    def settled(self, transaction_id: str) -> SettlementLine | None:
        """The line that settled ``transaction_id`` (not its reversal), if there is one."""
        return self._settled.get(transaction_id)

    def lines_on(self, day: date) -> list[SettlementLine]:
        """Every line with value date ``day``, the unreported ones included."""
        return list(self._by_day.get(day, ()))

    def report(self, day: date) -> list[SettlementLine]:
        """The lines the report for ``day`` lists."""
        return [line for line in self.lines_on(day) if line.reported]

    def clear(self) -> None:
        """Forget every line."""
        self._by_day.clear()
        self._settled.clear()


def report_csv(lines: Iterable[SettlementLine]) -> str:
    """A report as CSV text: the header, then one row per line (RFC 4180, CRLF endings)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    writer.writerows(line.row() for line in lines)
    return buffer.getvalue()


def report_date(raw: str | None) -> date:
    """The ``date`` query parameter as a date; raises ``InvalidRequest`` if missing or bad."""
    if raw is None or raw == "":
        raise InvalidRequest("missing_date", "date is required, as YYYY-MM-DD (like 2026-12-03)")
    if not _DATE.fullmatch(raw):
        raise InvalidRequest(
            "invalid_date", f"date must be YYYY-MM-DD (like 2026-12-03), got {raw[:40]!r}"
        )
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest("invalid_date", f"date {raw} is not a calendar date") from None
