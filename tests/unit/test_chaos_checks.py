"""The chaos run's checks fail on the faults they exist to catch."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from paycon.domain.reconcile import RunSummary
from paycon.storage.migrate import upgrade_to_head
from tests.chaos import checks
from tests.chaos.load import Answer, PlannedPayment, iban_de

Json = dict[str, Any]


def tx(id_: str, status: str = "completed", *, kind: str = "deposit", amount: str = "10.00",
       gateway: str = "gateway_a", review: str | None = None) -> Json:  # fmt: skip
    return {
        "id": id_, "status": status, "kind": kind, "amount": amount, "currency": "EUR",
        "customer_id": "c0", "gateway": gateway, "reference": f"key-{id_}",
        "review": None if review is None else {"reason": review},
    }  # fmt: skip


def entry(id_: str, status: str = "success", *, charges: int = 1, amount: str = "10.00",
          callbacks: list[Json] | None = None, injected: Json | None = None) -> Json:  # fmt: skip
    return {
        "transaction_id": id_, "status": status, "charges": charges, "submissions": 1,
        "amount": amount, "callbacks": callbacks or [], "injected_faults": injected or {},
    }  # fmt: skip


def callback(
    amount: str = "10.00", *, delivered: bool = True, as_gateway: str | None = None
) -> Json:
    return {"status": "success", "amount": amount, "delivered": delivered, "as_gateway": as_gateway}


def test_a_valid_german_iban_is_generated() -> None:
    iban = iban_de(1_000_000)
    digits = int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4]))
    assert (len(iban), digits % 97) == (22, 1)


def test_accepted_fails_on_a_key_with_two_transactions_and_on_a_missing_one() -> None:
    payment = PlannedPayment("key-t1", "deposit", "c0", Decimal("10.00"))
    answer = Answer(payment, status=202, transaction_id="t1")
    assert checks.check_accepted([answer], [tx("t1")]).ok
    twin = {**tx("t2"), "reference": "key-t1"}
    assert not checks.check_accepted([answer], [tx("t1"), twin]).ok
    assert not checks.check_accepted([answer], []).ok
    assert not checks.check_accepted([Answer(payment)], [tx("t1")]).ok  # never answered


def test_final_fails_when_paycon_and_the_gateway_disagree_without_a_hold() -> None:
    ledgers = {"gateway_a": [entry("t1", "failure", charges=0)]}
    assert not checks.check_final([tx("t1", "completed")], ledgers).ok
    assert checks.check_final([tx("t1", "completed", review="conflicting_status")], ledgers).ok
    assert checks.check_final([tx("t1", "failed")], ledgers).ok
    assert not checks.check_final([tx("t1", "submitted")], ledgers).ok


def test_holds_must_match_the_misbehaviours_that_reached_paycon() -> None:
    skewed = {"gateway_a": [entry("t1", callbacks=[callback("10.01")])]}
    assert checks.check_holds([tx("t1", review="amount_mismatch")], skewed, []).ok
    assert not checks.check_holds([tx("t1")], skewed, []).ok  # missed
    undelivered = {"gateway_a": [entry("t1", callbacks=[callback("10.01", delivered=False)])]}
    assert checks.check_holds([tx("t1")], undelivered, []).ok
    plain = {"gateway_a": [entry("t1", callbacks=[callback()])]}
    assert not checks.check_holds([tx("t1", review="wrong_gateway")], plain, []).ok  # no cause
    assert checks.check_holds([tx("t1", review="task_dead")], plain, ["t1"]).ok
    routed = {"gateway_a": [entry("t1", callbacks=[callback(as_gateway="gateway_b")])]}
    assert not checks.check_holds([tx("t1")], routed, []).ok


def test_a_late_failure_holds_only_a_payment_paycon_had_completed() -> None:
    turned = [callback(), {**callback(), "status": "failure"}]
    late = {"gateway_a": [entry("t1", "failure", callbacks=turned, injected={"late_failure": 1})]}
    assert not checks.check_holds([tx("t1", "completed")], late, []).ok
    assert not checks.check_final([tx("t1", "completed")], late).ok
    assert checks.check_holds([tx("t1", "completed", review="conflicting_status")], late, []).ok
    assert checks.check_holds([tx("t1", "failed")], late, []).ok


def test_a_late_failure_that_never_reached_paycon_is_counted_apart() -> None:
    lost = [callback(), {**callback(delivered=False), "status": "failure"}]
    late = {"gateway_a": [entry("t1", "failure", callbacks=lost, injected={"late_failure": 1})]}
    final = checks.check_final([tx("t1", "completed")], late)
    assert final.ok
    assert "1 completed whose late failure never reached paycon" in final.numbers
    assert checks.check_holds([tx("t1", "completed")], late, []).ok
    plain = {"gateway_a": [entry("t1", "failure", charges=0, callbacks=lost)]}
    assert not checks.check_final([tx("t1", "completed")], plain).ok  # not a late failure


def test_charges_fail_on_a_double_charge_and_on_two_gateways() -> None:
    assert checks.check_charges({"gateway_a": [entry("t1")], "gateway_b": [entry("t2")]}).ok
    assert not checks.check_charges({"gateway_a": [entry("t1", charges=2)]}).ok
    assert not checks.check_charges({"gateway_a": [entry("t1")], "gateway_b": [entry("t1")]}).ok


def test_balances_follow_completed_deposits_and_withdrawals() -> None:
    transactions = [
        tx("d1", amount="50.00"), tx("d2", "failed", amount="7.00"),
        tx("w1", kind="withdrawal", amount="20.00"),
        tx("w2", "submitted", kind="withdrawal", amount="5.00"),
    ]  # fmt: skip
    right = {"c0": [{"currency": "EUR", "available": "25.00", "held": "5.00"}]}
    assert checks.check_balances(transactions, right).ok
    wrong = {"c0": [{"currency": "EUR", "available": "32.00", "held": "5.00"}]}
    assert not checks.check_balances(transactions, wrong).ok


def test_logs_fail_on_an_iban_in_either_spelling_or_a_secret() -> None:
    iban = iban_de(1_000_000)
    spaced = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert checks.check_logs(["ok DE89 **** **** 3000"], secrets=["s3cret"], ibans=[iban]).ok
    for line in (f"to {iban}", f"to {spaced}", "key s3cret"):
        assert not checks.check_logs([line], secrets=["s3cret"], ibans=[iban]).ok


def test_the_outbox_check_fails_on_work_due() -> None:
    idle = {"counts": {"done": 3}, "backlog": 0, "scheduled": 0}
    assert checks.check_outbox(idle).ok
    assert not checks.check_outbox({**idle, "backlog": 1}).ok


def test_the_ledger_check_fails_on_an_entry_that_does_not_balance(tmp_path: Path) -> None:
    db_path = tmp_path / "chaos.db"
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        upgrade_to_head(conn)
    engine.dispose()
    clean = checks.check_ledger(db_path)
    assert clean.ok is True
    assert "0 breaks" in clean.numbers
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO journal_entries (id, transaction_id, reason, currency, at)"
                " VALUES ('je_1', NULL, 'deposit_credit', 'EUR', '2026-01-01 00:00:00.000000')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO postings (entry_id, holder, owner, name, currency, delta_minor)"
                " VALUES ('je_1', 'customer', 'cus_1', 'available', 'EUR', 500)"
            )
        )
    engine.dispose()
    broken = checks.check_ledger(db_path)
    assert broken.ok is False
    assert "2 breaks" in broken.numbers  # the entry does not sum to zero, nor the balance


def _summary(*, booked: int = 0, new: int = 0, **breaks: int) -> RunSummary:
    return RunSummary(
        run_id=1, gateway="gateway_a", report_date=date(2026, 12, 3), lines=10, matched=8,
        booked=booked, breaks=breaks, new_breaks=new,
    )  # fmt: skip


def test_reconcile_fails_on_an_unexplained_break_and_on_a_second_run_that_books() -> None:
    explained = _summary(booked=8, new=2, reversal=1, other_gateway=1)
    assert checks.check_reconcile([explained], [_summary(reversal=1, other_gateway=1)]).ok
    for kind in checks.UNEXPLAINED_BREAKS:
        assert not checks.check_reconcile([_summary(**{kind: 1})], [_summary()]).ok
    assert not checks.check_reconcile([explained], [_summary(booked=1)]).ok
    assert not checks.check_reconcile([explained], [_summary(new=1)]).ok
    assert not checks.check_reconcile([], []).ok
