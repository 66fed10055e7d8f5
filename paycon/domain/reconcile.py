"""Reconciliation rules: a settlement report's line against paycon's record, and what to book.

A line **matches** when paycon holds the payment on the reporting gateway, of
the line's type (a reversal: of a payment paycon reversed too), final, for the
same amount and currency. A matched line books its settlement: the payment's
gross from the gateway's ``clearing`` to ``settled``, and the fee from
``settled`` to ``fees`` — so ``settled`` moves by the line's net.

Every other line is a **break**, with what each side says. Where money moved
and paycon will never book it otherwise, the settlement is booked all the
same with the part nobody can attribute in the gateway's ``suspense``:

- ``unknown_transaction``: paycon has no such payment — the whole gross;
- ``other_gateway``: paycon holds it on another gateway — the whole gross;
- ``amount_differs``: paycon's amount leaves ``clearing``, the difference
  goes to ``suspense``.

A line about a payment whose status in paycon may still change —
``not_final`` (in flight), ``status_differs`` (paycon failed it, or its type
differs), ``reversal`` (the report reverses a payment paycon holds as
completed) — books nothing: once an operator resolves the payment (the review
list), the next run of the report matches the line and books it.

``missing_from_report``: a payment paycon completed through the gateway that
no report line settles. It books nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from paycon.domain.balances import Account, AccountName, EntryReason, JournalEntry, Posting
from paycon.domain.money import Money
from paycon.domain.settlement_report import LineType, ReportLine
from paycon.domain.status import Kind, Status


class BreakKind(StrEnum):
    UNKNOWN_TRANSACTION = "unknown_transaction"
    OTHER_GATEWAY = "other_gateway"
    NOT_FINAL = "not_final"
    STATUS_DIFFERS = "status_differs"
    REVERSAL = "reversal"
    AMOUNT_DIFFERS = "amount_differs"
    MISSING_FROM_REPORT = "missing_from_report"


class LineState(StrEnum):
    """A reconciled line: booked (matched), an open break, or a break an operator resolved."""

    BOOKED = "booked"
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class PayconRecord:
    """What paycon says about a payment a report names."""

    transaction_id: str
    kind: Kind
    status: Status
    gateway: str
    amount_minor: int
    currency: str

    def describe(self) -> str:
        """``completed deposit 10.00 EUR through gateway_a``."""
        amount = Money(self.amount_minor, self.currency).wire()
        return (
            f"{self.status.value} {self.kind.value} {amount} {self.currency} through {self.gateway}"
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one line: the break (None when matched), what to book, and why."""

    break_kind: BreakKind | None
    entries: tuple[JournalEntry, ...] = ()
    suspense_minor: int = 0  # the entries' posting on suspense (debit positive, as stored)
    paycon_says: str = ""

    @property
    def books(self) -> bool:
        return bool(self.entries)


NO_SUCH_PAYMENT = "no such payment"


def decide(line: ReportLine, record: PayconRecord | None, gateway: str) -> Decision:
    """What reconciling ``line`` of ``gateway``'s report with paycon's ``record`` does."""
    if record is None:
        return _to_suspense(BreakKind.UNKNOWN_TRANSACTION, line, gateway, NO_SUCH_PAYMENT)
    says = record.describe()
    if record.gateway != gateway:
        return _to_suspense(BreakKind.OTHER_GATEWAY, line, gateway, says)
    if not record.status.is_final:
        return Decision(BreakKind.NOT_FINAL, paycon_says=says)
    status_break = _status_break(line, record)
    if status_break is not None:
        return Decision(status_break, paycon_says=says)
    if line.currency != record.currency:
        return Decision(BreakKind.AMOUNT_DIFFERS, paycon_says=says)
    signed_paycon = _signed(line, record.amount_minor)
    entries = settlement_entries(line, gateway, cleared_minor=signed_paycon)
    if line.gross_minor != record.amount_minor:
        return Decision(
            BreakKind.AMOUNT_DIFFERS, entries, signed_paycon - line.signed_gross_minor, says
        )
    return Decision(None, entries, 0, says)


def _paycon_kind(line: ReportLine) -> Kind:
    """The kind of payment a line is about (a reversal's sign tells which)."""
    if line.type is LineType.DEPOSIT:
        return Kind.DEPOSIT
    if line.type is LineType.WITHDRAWAL:
        return Kind.WITHDRAWAL
    # A reversed deposit is taken back (-), a reversed payout comes back (+).
    return Kind.DEPOSIT if line.signed_gross_minor < 0 else Kind.WITHDRAWAL


def _status_break(line: ReportLine, record: PayconRecord) -> BreakKind | None:
    """A final payment's status against the line: a settlement needs one paycon completed
    (and may have reversed since), a reversal one paycon reversed."""
    if _paycon_kind(line) is not record.kind:
        return BreakKind.STATUS_DIFFERS
    if line.type is LineType.REVERSAL:
        if record.status is Status.REVERSED:
            return None
        return BreakKind.REVERSAL if record.status is Status.COMPLETED else BreakKind.STATUS_DIFFERS
    if record.status in (Status.COMPLETED, Status.REVERSED):
        return None
    return BreakKind.STATUS_DIFFERS


def _signed(line: ReportLine, amount_minor: int) -> int:
    return amount_minor if line.signed_gross_minor >= 0 else -amount_minor


def _to_suspense(kind: BreakKind, line: ReportLine, gateway: str, says: str) -> Decision:
    entries = settlement_entries(line, gateway, cleared_minor=0)
    return Decision(kind, entries, -line.signed_gross_minor, says)


def settlement_entries(
    line: ReportLine, gateway: str, *, cleared_minor: int
) -> tuple[JournalEntry, ...]:
    """The settlement of ``line``: ``cleared_minor`` (signed from paycon's side) out of
    ``clearing``, what the gateway settled beyond it into ``suspense``, the line's
    signed gross into ``settled``; then its fee from ``settled`` to ``fees``."""

    def account(name: AccountName) -> Account:
        return Account.gateway(gateway, name, line.currency)

    gross = line.signed_gross_minor
    settlement = [
        Posting(account(AccountName.SETTLED), gross),
        Posting(account(AccountName.CLEARING), -cleared_minor),
        Posting(account(AccountName.SUSPENSE), -(gross - cleared_minor)),
    ]
    entries = [JournalEntry(EntryReason.SETTLEMENT, _nonzero(settlement))]
    if line.fee_minor:
        fee = [
            Posting(account(AccountName.FEES), line.fee_minor),
            Posting(account(AccountName.SETTLED), -line.fee_minor),
        ]
        entries.append(JournalEntry(EntryReason.SETTLEMENT_FEE, tuple(fee)))
    return tuple(entry for entry in entries if entry.postings)


def _nonzero(postings: list[Posting]) -> tuple[Posting, ...]:
    return tuple(p for p in postings if p.delta_minor)


def missing_says(gateway: str, on: date) -> str:
    """What the report says of a payment it does not list."""
    return f"not in {gateway}'s report of {on.isoformat()}"


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    """A report's lines in one currency, summed in minor units."""

    lines: int = 0
    gross_minor: int = 0
    fee_minor: int = 0
    net_minor: int = 0


def totals(lines: list[ReportLine]) -> dict[str, CurrencyTotals]:
    """The report's lines summed per currency (gross unsigned, net signed)."""
    found: dict[str, CurrencyTotals] = {}
    for line in lines:
        t = found.get(line.currency, CurrencyTotals())
        found[line.currency] = CurrencyTotals(
            t.lines + 1,
            t.gross_minor + line.gross_minor,
            t.fee_minor + line.fee_minor,
            t.net_minor + line.net_minor,
        )
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class RunSummary:
    """What one run of ``paycon reconcile`` did."""

    run_id: int
    gateway: str
    report_date: date
    lines: int
    matched: int  # lines that match paycon (booked now or by an earlier run)
    booked: int  # lines booked by this run
    breaks: dict[str, int] = field(default_factory=dict)  # this report's open breaks by kind
    new_breaks: int = 0
    open_breaks: int = 0  # the gateway's open breaks after the run, from every report
    totals: dict[str, CurrencyTotals] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """A stored run, as operators read it."""

    id: int
    gateway: str
    report_date: str
    at: datetime
    actor: str
    source: str
    lines: int
    matched: int
    booked: int
    new_breaks: int
    open_breaks: int
    breaks: dict[str, int] = field(default_factory=dict)
    totals: dict[str, CurrencyTotals] = field(default_factory=dict)


@dataclass(frozen=True)
class BreakRecord:
    """A break (a line that did not match), with what each side says."""

    id: int
    gateway: str
    kind: str
    state: str
    transaction_id: str
    gateway_reference: str | None
    type: str
    currency: str
    value_date: str
    report_says: str
    paycon_says: str
    suspense_minor: int
    booked: bool
    first_run_id: int
    last_run_id: int
    resolution: str | None = None
