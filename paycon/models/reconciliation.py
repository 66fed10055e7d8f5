"""Reconciliation runs against the gateways' settlement reports, and the breaks they found,
as the operators' reconciliation API answers them."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from paycon.domain.money import Money
from paycon.domain.reconcile import BreakKind, BreakRecord, CurrencyTotals, RunRecord
from paycon.models.fields import DecimalText, Out, Time, ms

BreakKindName = Literal[
    "unknown_transaction", "other_gateway", "not_final", "status_differs", "reversal",
    "amount_differs", "missing_from_report",
]  # fmt: skip
assert set(get_args(BreakKindName)) == {k.value for k in BreakKind}  # one list of kinds


class CurrencyTotalsOut(Out):
    """A report's lines in one currency, summed (gross and fee unsigned, net signed)."""

    lines: int
    gross: DecimalText
    fee: DecimalText
    net: DecimalText

    @classmethod
    def of(cls, totals: CurrencyTotals, currency: str) -> CurrencyTotalsOut:
        return cls.model_validate(
            {
                "lines": totals.lines,
                "gross": Money(totals.gross_minor, currency).amount,
                "fee": Money(totals.fee_minor, currency).amount,
                "net": Money(totals.net_minor, currency).amount,
            }
        )


class ReconciliationRunOut(Out):
    """One run of ``paycon reconcile`` (or the demo's), as stored."""

    id: int
    gateway: str
    report_date: str = Field(description="YYYY-MM-DD")
    at: Time = Field(description="RFC 3339, UTC")
    actor: str
    source: str = Field(description="the report's file or URL")
    lines: int
    matched: int = Field(description="lines matching paycon, booked now or before")
    booked: int = Field(description="lines this run booked")
    new_breaks: int
    open_breaks: int = Field(description="the gateway's open breaks after the run")
    breaks: dict[str, int] = Field(description="this report's open breaks by kind")
    totals: dict[str, CurrencyTotalsOut] = Field(description="per currency")

    @classmethod
    def of(cls, run: RunRecord) -> ReconciliationRunOut:
        return cls.model_validate(
            {
                "id": run.id,
                "gateway": run.gateway,
                "report_date": run.report_date,
                "at": ms(run.at),
                "actor": run.actor,
                "source": run.source,
                "lines": run.lines,
                "matched": run.matched,
                "booked": run.booked,
                "new_breaks": run.new_breaks,
                "open_breaks": run.open_breaks,
                "breaks": dict(run.breaks),
                "totals": {
                    currency: CurrencyTotalsOut.of(totals, currency)
                    for currency, totals in run.totals.items()
                },
            }
        )


class ReconciliationRunsOut(Out):
    items: list[ReconciliationRunOut]


class ReconciliationBreakOut(Out):
    """A report line (or a payment missing from a report) that does not match paycon."""

    id: int
    gateway: str
    kind: BreakKindName
    state: Literal["open", "resolved"]
    transaction_id: str = Field(description="as the report names it (paycon's for a missing one)")
    gateway_reference: str | None
    type: Literal["deposit", "withdrawal", "reversal", "missing"]
    currency: str
    value_date: str
    report_says: str
    paycon_says: str
    suspense: DecimalText = Field(
        description="what the break put in the gateway's suspense account (debit positive)"
    )
    booked: bool = Field(description="whether its money is booked (partly to suspense)")
    first_run_id: int
    last_run_id: int
    resolution: str | None

    @classmethod
    def of(cls, found: BreakRecord) -> ReconciliationBreakOut:
        return cls.model_validate(
            {
                "id": found.id,
                "gateway": found.gateway,
                "kind": found.kind,
                "state": found.state,
                "transaction_id": found.transaction_id,
                "gateway_reference": found.gateway_reference,
                "type": found.type,
                "currency": found.currency,
                "value_date": found.value_date,
                "report_says": found.report_says,
                "paycon_says": found.paycon_says,
                "suspense": Money(found.suspense_minor, found.currency).amount,
                "booked": found.booked,
                "first_run_id": found.first_run_id,
                "last_run_id": found.last_run_id,
                "resolution": found.resolution,
            }
        )


class ReconciliationBreaksOut(Out):
    items: list[ReconciliationBreakOut]
