from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paycon.domain.balances import (
    Balance,
    Bucket,
    LedgerEntry,
    acceptance_entries,
    settlement_entries,
)
from paycon.domain.errors import InsufficientFunds
from paycon.domain.status import Kind, Status


def test_withdrawal_moves_amount_from_available_to_held() -> None:
    balance = Balance(available_minor=1000).apply(acceptance_entries(Kind.WITHDRAWAL, 300))
    assert balance == Balance(available_minor=700, held_minor=300)


def test_withdrawal_beyond_available_is_refused() -> None:
    with pytest.raises(InsufficientFunds):
        Balance(available_minor=299).apply(acceptance_entries(Kind.WITHDRAWAL, 300))


def test_deposit_credits_only_when_completed() -> None:
    assert acceptance_entries(Kind.DEPOSIT, 500) == ()
    assert settlement_entries(Kind.DEPOSIT, Status.FAILED, 500) == ()
    assert Balance().apply(settlement_entries(Kind.DEPOSIT, Status.COMPLETED, 500)) == Balance(
        available_minor=500
    )


def test_withdrawal_completion_removes_hold_and_failure_releases_it() -> None:
    held = Balance(available_minor=700, held_minor=300)
    assert held.apply(settlement_entries(Kind.WITHDRAWAL, Status.COMPLETED, 300)) == Balance(700)
    assert held.apply(settlement_entries(Kind.WITHDRAWAL, Status.FAILED, 300)) == Balance(1000)


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.REVERSED])
def test_settlement_needs_a_gateways_final_status(status: Status) -> None:
    # A reversal is an operator's decision, booked by paycon.domain.review, never settled.
    with pytest.raises(ValueError, match="not a gateway's final status"):
        settlement_entries(Kind.DEPOSIT, status, 1)


steps = st.lists(
    st.tuples(
        st.sampled_from(["deposit", "withdraw"]),
        st.integers(min_value=1, max_value=10_000),
        st.sampled_from([Status.COMPLETED, Status.FAILED]),
    ),
    max_size=60,
)


@given(steps)
def test_any_sequence_keeps_balance_equal_to_entries_and_never_negative(
    sequence: list[tuple[str, int, Status]],
) -> None:
    balance = Balance()
    ledger: list[LedgerEntry] = []
    for action, amount, outcome in sequence:
        kind = Kind.DEPOSIT if action == "deposit" else Kind.WITHDRAWAL
        try:
            accepted = acceptance_entries(kind, amount)
            balance = balance.apply(accepted)
        except InsufficientFunds:
            continue
        ledger += accepted
        settled = settlement_entries(kind, outcome, amount)
        balance = balance.apply(settled)
        ledger += settled
        assert balance.available_minor >= 0
        assert balance.held_minor == 0
    assert balance.available_minor == sum(
        e.delta_minor for e in ledger if e.bucket is Bucket.AVAILABLE
    )
    assert balance.held_minor == sum(e.delta_minor for e in ledger if e.bucket is Bucket.HELD)
