"""Reconciliation through the operator facade: runs, breaks and resolving a break.

The console reads the domain's own records (``RunRecord``, ``BreakRecord``),
from the use case (local) or from the operator API's JSON (remote, read here),
so both facades hand it the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from paycon.domain.money import exponent
from paycon.domain.reconcile import BreakRecord, CurrencyTotals, RunRecord

RUNS_SHOWN = 50
BREAKS_SHOWN = 200


def _minor(text: str, currency: str) -> int:
    return int(Decimal(text).scaleb(exponent(currency)))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_from_json(body: Mapping[str, Any]) -> RunRecord:
    """A run as ``GET /v1/reconciliation/runs`` lists it."""
    return RunRecord(
        id=int(body["id"]),
        gateway=str(body["gateway"]),
        report_date=str(body["report_date"]),
        at=_at(str(body["at"])),
        actor=str(body["actor"]),
        source=str(body["source"]),
        lines=int(body["lines"]),
        matched=int(body["matched"]),
        booked=int(body["booked"]),
        new_breaks=int(body["new_breaks"]),
        open_breaks=int(body["open_breaks"]),
        breaks={str(k): int(v) for k, v in body["breaks"].items()},
        totals={
            currency: CurrencyTotals(
                lines=int(t["lines"]),
                gross_minor=_minor(t["gross"], currency),
                fee_minor=_minor(t["fee"], currency),
                net_minor=_minor(t["net"], currency),
            )
            for currency, t in body["totals"].items()
        },
    )


def break_from_json(body: Mapping[str, Any]) -> BreakRecord:
    """A break as ``GET /v1/reconciliation/breaks`` lists it."""
    currency = str(body["currency"])
    return BreakRecord(
        id=int(body["id"]),
        gateway=str(body["gateway"]),
        kind=str(body["kind"]),
        state=str(body["state"]),
        transaction_id=str(body["transaction_id"]),
        gateway_reference=body["gateway_reference"],
        type=str(body["type"]),
        currency=currency,
        value_date=str(body["value_date"]),
        report_says=str(body["report_says"]),
        paycon_says=str(body["paycon_says"]),
        suspense_minor=_minor(str(body["suspense"]), currency),
        booked=bool(body["booked"]),
        first_run_id=int(body["first_run_id"]),
        last_run_id=int(body["last_run_id"]),
        resolution=body["resolution"],
    )
