"""A gateway's daily settlement report, read from its CSV text (no I/O).

The format is the mock gateways' (``mock_gateways/README.md``, "Settlement
reports"): a header naming at least ``REPORT_COLUMNS`` (more columns may
follow; they are ignored), then one line per settled or reversed payment.
Amounts are decimal strings in the currency's scale; they become integer
minor units here, exactly, or the report is refused.

``net`` must agree with ``gross`` and ``fee``: a deposit nets ``gross - fee``,
a withdrawal ``-(gross + fee)``, a reversal ``±gross - fee`` (minus for a
reversed deposit). So ``net + fee`` is always the gross amount signed from
paycon's side: what the gateway paid (+) or took (-) for the payment itself.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from paycon.domain.money import CURRENCY_EXPONENTS, Money

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
_AMOUNT = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,8})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_FIELD_CHARS = 128


class LineType(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    REVERSAL = "reversal"


class MalformedReport(ValueError):
    """The report cannot be read; ``line_no`` is the CSV line at fault (1 is the header)."""

    def __init__(self, line_no: int, message: str) -> None:
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One line of a settlement report, amounts in minor units."""

    line_no: int
    gateway_reference: str
    transaction_id: str
    type: LineType
    gross_minor: int
    fee_minor: int
    net_minor: int
    currency: str
    value_date: date

    @property
    def key(self) -> str:
        """What identifies the line among all of a gateway's lines, ever: reference and type."""
        return f"{self.gateway_reference}:{self.type.value}"

    @property
    def signed_gross_minor(self) -> int:
        """The payment's own amount from paycon's side: + paid to paycon, - paid out."""
        return self.net_minor + self.fee_minor

    def describe(self) -> str:
        """``deposit 10.01 EUR (fee 0.15, net 9.86), GA0000000003, value date 2026-12-03``."""

        def money(minor: int) -> str:
            return Money(minor, self.currency).wire()

        return (
            f"{self.type.value} {money(self.gross_minor)} {self.currency} "
            f"(fee {money(self.fee_minor)}, net {money(self.net_minor)}), "
            f"{self.gateway_reference}, value date {self.value_date.isoformat()}"
        )


def parse_report(text: str) -> list[ReportLine]:
    """The report's lines, in order.

    Raises MalformedReport naming the first line at fault: a missing column,
    a field that is empty or not what its column holds, an unsupported
    currency, an amount with more decimals than its currency has, a net that
    does not follow from gross and fee, or the same line (reference and type)
    twice.
    """
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(rows, None)
        if header is None:
            raise MalformedReport(1, "the report is empty: no header line")
        index = _column_index(header)
        lines: list[ReportLine] = []
        seen: dict[str, int] = {}
        for row in rows:
            if not row:  # a blank line
                continue
            line_no = rows.line_num
            line = _line(row, index, line_no)
            if line.key in seen:
                raise MalformedReport(
                    line_no, f"{line.key} repeats the line {seen[line.key]} (same reference, type)"
                )
            seen[line.key] = line_no
            lines.append(line)
    except csv.Error as exc:
        raise MalformedReport(rows.line_num, f"not CSV: {exc}") from None
    return lines


def _column_index(header: list[str]) -> dict[str, int]:
    names = [name.strip().lstrip("\ufeff") for name in header]
    missing = [name for name in REPORT_COLUMNS if name not in names]
    if missing:
        raise MalformedReport(1, f"the header lacks the column(s) {', '.join(missing)}")
    return {name: names.index(name) for name in REPORT_COLUMNS}


def _line(row: list[str], index: dict[str, int], line_no: int) -> ReportLine:
    if len(row) < len(index) or len(row) <= max(index.values()):
        raise MalformedReport(line_no, f"{len(row)} fields, the header has more")
    field = {name: row[i].strip() for name, i in index.items()}
    for name, value in field.items():
        if not value:
            raise MalformedReport(line_no, f"{name} is empty")
        if len(value) > MAX_FIELD_CHARS:
            raise MalformedReport(line_no, f"{name} is longer than {MAX_FIELD_CHARS} characters")
    try:
        kind = LineType(field["type"])
    except ValueError:
        raise MalformedReport(
            line_no, f"type {field['type']!r} is none of deposit, withdrawal, reversal"
        ) from None
    currency = field["currency"]
    if currency not in CURRENCY_EXPONENTS:
        raise MalformedReport(line_no, f"currency {currency!r} is not one paycon supports")
    gross, fee, net = (
        _minor(field[name], name, currency, line_no) for name in ("gross", "fee", "net")
    )
    if gross < 0 or fee < 0:
        raise MalformedReport(line_no, "gross and fee are never negative")
    _check_net(kind, gross, fee, net, currency, line_no)
    return ReportLine(
        line_no=line_no,
        gateway_reference=field["gateway_reference"],
        transaction_id=field["transaction_id"],
        type=kind,
        gross_minor=gross,
        fee_minor=fee,
        net_minor=net,
        currency=currency,
        value_date=_date(field["value_date"], line_no),
    )


def _minor(text: str, name: str, currency: str, line_no: int) -> int:
    if not _AMOUNT.fullmatch(text):
        raise MalformedReport(line_no, f"{name} {text!r} is not a decimal amount")
    try:
        value = Decimal(text).scaleb(CURRENCY_EXPONENTS[currency])
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise MalformedReport(line_no, f"{name} {text!r} is not a decimal amount") from None
    if value != value.to_integral_value():
        raise MalformedReport(
            line_no,
            f"{name} {text} has more decimals than {currency}'s {CURRENCY_EXPONENTS[currency]}",
        )
    return int(value)


def _check_net(kind: LineType, gross: int, fee: int, net: int, currency: str, line_no: int) -> None:
    if kind is LineType.DEPOSIT:
        wanted = [gross - fee]
    elif kind is LineType.WITHDRAWAL:
        wanted = [-(gross + fee)]
    else:
        wanted = [-gross - fee, gross - fee]
    if net not in wanted:
        shown = " or ".join(Money(w, currency).wire() for w in wanted)
        raise MalformedReport(
            line_no,
            f"net {Money(net, currency).wire()} does not follow from gross and fee "
            f"({shown} for a {kind.value})",
        )


def _date(text: str, line_no: int) -> date:
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise MalformedReport(line_no, f"value_date {text!r} is not a date (YYYY-MM-DD)")
