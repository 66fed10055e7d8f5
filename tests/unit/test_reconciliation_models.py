"""Reconciliation runs and breaks as the API spells them, and read back by the HTTP
facade into the same values the in-process facade hands out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from paycon.domain.reconcile import BreakRecord, CurrencyTotals, RunRecord
from paycon.models.reconciliation import ReconciliationBreakOut, ReconciliationRunOut

AT = datetime(2026, 12, 3, 4, 40, 28, 123456, tzinfo=UTC)


def run() -> RunRecord:
    return RunRecord(
        id=4, gateway="gateway_a", report_date="2026-12-03", at=AT, actor="cli:alice",
        source="r.csv", lines=3, matched=2, booked=1, new_breaks=1, open_breaks=2,
        breaks={"reversal": 1},
        totals={"EUR": CurrencyTotals(2, 1300, 25, -725), "JPY": CurrencyTotals(1, 700, 0, 700)},
    )  # fmt: skip


def a_break() -> BreakRecord:
    return BreakRecord(
        id=9, gateway="gateway_b", kind="amount_differs", state="open",
        transaction_id="tx_01JDXK3M6Y8Q2R4T6V8X0Z2B4D", gateway_reference=None, type="deposit",
        currency="EUR", value_date="2026-12-03", report_says="deposit 10.01 EUR",
        paycon_says="completed deposit 10.00 EUR", suspense_minor=-1, booked=True,
        first_run_id=3, last_run_id=4,
    )  # fmt: skip


def test_a_run_is_spelt_to_the_millisecond_at_each_currencys_scale() -> None:
    spelt = json.loads(ReconciliationRunOut.of(run()).model_dump_json())
    assert spelt["at"] == "2026-12-03T04:40:28.123Z"
    assert spelt["totals"] == {
        "EUR": {"lines": 2, "gross": "13.00", "fee": "0.25", "net": "-7.25"},
        "JPY": {"lines": 1, "gross": "700", "fee": "0", "net": "700"},
    }


def test_a_break_is_spelt_with_its_suspense_as_a_signed_amount() -> None:
    spelt = json.loads(ReconciliationBreakOut.of(a_break()).model_dump_json())
    assert (spelt["suspense"], spelt["gateway_reference"], spelt["resolution"]) == (
        "-0.01", None, None,
    )  # fmt: skip


def test_answers_parsed_back_equal_the_models_built_in_the_process() -> None:
    for model in (ReconciliationRunOut.of(run()), ReconciliationBreakOut.of(a_break())):
        assert type(model).model_validate_json(model.model_dump_json()) == model
