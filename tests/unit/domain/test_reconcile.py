"""Reconciliation rules: which report lines match paycon, which break, and what each books."""

from __future__ import annotations

from datetime import date

import pytest

from paycon.domain.balances import Account, AccountName, EntryReason, balances_after
from paycon.domain.reconcile import BreakKind, PayconRecord, decide, totals
from paycon.domain.settlement_report import LineType, ReportLine
from paycon.domain.status import Kind, Status

GW = "gateway_a"


def line(
    kind: LineType, gross: int, fee: int = 0, *, net: int | None = None, currency: str = "EUR"
) -> ReportLine:
    if net is None:
        net = {LineType.DEPOSIT: gross - fee, LineType.WITHDRAWAL: -(gross + fee)}.get(kind, -gross)
    return ReportLine(2, "GA1", "tx_1", kind, gross, fee, net, currency, date(2026, 12, 3))


def record(kind: Kind, status: Status, amount: int = 1000, gateway: str = GW) -> PayconRecord:
    return PayconRecord("tx_1", kind, status, gateway, amount, "EUR")


def moved(line_: ReportLine, record_: PayconRecord | None) -> dict[str, int]:
    """What the decision books, per gateway account (debit positive), zeros left out."""
    decision = decide(line_, record_, GW)
    after = balances_after({}, decision.entries)
    return {account.name.value: v for account, v in sorted(after.items()) if v}


D, W, R = LineType.DEPOSIT, LineType.WITHDRAWAL, LineType.REVERSAL


@pytest.mark.parametrize(
    ("report", "paycon", "kind", "books"),
    [
        # matched: clearing -> settled (gross), settled -> fees (fee)
        (line(D, 1000, 30), record(Kind.DEPOSIT, Status.COMPLETED), None,
         {"clearing": -1000, "fees": 30, "settled": 970}),
        (line(W, 1000, 30), record(Kind.WITHDRAWAL, Status.COMPLETED), None,
         {"clearing": 1000, "fees": 30, "settled": -1030}),
        # a payment settled then reversed still matches its settlement line
        (line(D, 1000), record(Kind.DEPOSIT, Status.REVERSED), None,
         {"clearing": -1000, "settled": 1000}),
        # a reversal line matches a payment paycon reversed
        (line(R, 1000), record(Kind.DEPOSIT, Status.REVERSED), None,
         {"clearing": 1000, "settled": -1000}),
        (line(R, 1000, net=1000), record(Kind.WITHDRAWAL, Status.REVERSED), None,
         {"clearing": -1000, "settled": 1000}),
        # breaks where money moved that paycon books nowhere else: suspense
        (line(D, 1000, 30), None, BreakKind.UNKNOWN_TRANSACTION,
         {"suspense": -1000, "fees": 30, "settled": 970}),
        (line(D, 1000), record(Kind.DEPOSIT, Status.COMPLETED, gateway="gateway_b"),
         BreakKind.OTHER_GATEWAY, {"suspense": -1000, "settled": 1000}),
        (line(D, 1001, 30), record(Kind.DEPOSIT, Status.COMPLETED), BreakKind.AMOUNT_DIFFERS,
         {"clearing": -1000, "suspense": -1, "fees": 30, "settled": 971}),
        (line(W, 999), record(Kind.WITHDRAWAL, Status.COMPLETED), BreakKind.AMOUNT_DIFFERS,
         {"clearing": 1000, "suspense": -1, "settled": -999}),
        # breaks about a payment whose status may still change: nothing booked
        (line(D, 1000), record(Kind.DEPOSIT, Status.SUBMITTED), BreakKind.NOT_FINAL, {}),
        (line(D, 1000), record(Kind.DEPOSIT, Status.PENDING), BreakKind.NOT_FINAL, {}),
        (line(D, 1000), record(Kind.DEPOSIT, Status.FAILED), BreakKind.STATUS_DIFFERS, {}),
        (line(D, 1000), record(Kind.WITHDRAWAL, Status.COMPLETED), BreakKind.STATUS_DIFFERS, {}),
        (line(R, 1000), record(Kind.DEPOSIT, Status.COMPLETED), BreakKind.REVERSAL, {}),
        (line(R, 1000), record(Kind.DEPOSIT, Status.FAILED), BreakKind.STATUS_DIFFERS, {}),
        (line(R, 1000), record(Kind.WITHDRAWAL, Status.REVERSED), BreakKind.STATUS_DIFFERS, {}),
        (line(D, 1000, currency="USD"), record(Kind.DEPOSIT, Status.COMPLETED),
         BreakKind.AMOUNT_DIFFERS, {}),
    ],
)  # fmt: skip
def test_each_line_matches_or_breaks_and_books_what_it_should(
    report: ReportLine, paycon: PayconRecord | None, kind: BreakKind | None, books: dict[str, int]
) -> None:
    decision = decide(report, paycon, GW)
    assert decision.break_kind is kind
    assert moved(report, paycon) == books
    assert decision.suspense_minor == books.get("suspense", 0)
    # settled always moves by the line's net when anything is booked
    if books:
        assert books.get("settled", 0) == report.net_minor
    for entry in decision.entries:
        assert entry.reason in (EntryReason.SETTLEMENT, EntryReason.SETTLEMENT_FEE)
        assert {p.account.owner for p in entry.postings} == {GW}


def test_each_side_is_described() -> None:
    decision = decide(line(D, 1000), record(Kind.DEPOSIT, Status.SUBMITTED), GW)
    assert decision.paycon_says == "submitted deposit 10.00 EUR through gateway_a"
    assert line(D, 1001, 15).describe() == (
        "deposit 10.01 EUR (fee 0.15, net 9.86), GA1, value date 2026-12-03"
    )
    assert decide(line(D, 1000), None, GW).paycon_says == "no such payment"


def test_totals_are_per_currency() -> None:
    lines = [line(D, 1000, 30), line(W, 500, 10), line(D, 7, currency="JPY")]
    found = totals(lines)
    assert list(found) == ["EUR", "JPY"]
    assert (found["EUR"].lines, found["EUR"].gross_minor, found["EUR"].fee_minor) == (2, 1500, 40)
    assert found["EUR"].net_minor == 970 - 510
    assert found["JPY"].net_minor == 7


def test_the_fee_entry_is_left_out_when_there_is_no_fee() -> None:
    decision = decide(line(D, 1000), record(Kind.DEPOSIT, Status.COMPLETED), GW)
    assert [e.reason for e in decision.entries] == [EntryReason.SETTLEMENT]
    settled = Account.gateway(GW, AccountName.SETTLED, "EUR")
    assert balances_after({}, decision.entries)[settled] == 1000
