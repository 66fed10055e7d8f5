"""Ledger rules: each step's journal entry, signed the accountant's way, sums to zero."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paycon.domain.balances import (
    Account,
    AccountName,
    CustomerBalance,
    EntryReason,
    JournalEntry,
    Movement,
    Payment,
    Posting,
    acceptance_movement,
    balances_after,
    book,
    settlement_movement,
)
from paycon.domain.errors import InsufficientFunds
from paycon.domain.status import Kind, Status

PAYMENT = Payment("alice", "gateway_a", "EUR", 300)
AVAILABLE = Account.customer("alice", AccountName.AVAILABLE, "EUR")
HELD = Account.customer("alice", AccountName.HELD, "EUR")
OWED = Account.customer("alice", AccountName.OWED, "EUR")
CLEARING = Account.gateway("gateway_a", AccountName.CLEARING, "EUR")


def changes(entry: JournalEntry) -> dict[AccountName, int]:
    """Each account's change as people read it (positive: its balance grew)."""
    return {p.account.name: p.account.shown(p.delta_minor) for p in entry.postings}


def test_a_withdrawal_moves_its_amount_from_available_to_held() -> None:
    assert acceptance_movement(Kind.WITHDRAWAL) is Movement.WITHDRAWAL_HOLD
    entry = book(Movement.WITHDRAWAL_HOLD, PAYMENT, CustomerBalance(available_minor=1000))
    assert entry.postings == (Posting(AVAILABLE, 300), Posting(HELD, -300))
    assert changes(entry) == {AccountName.AVAILABLE: -300, AccountName.HELD: 300}


def test_a_withdrawal_beyond_available_is_refused() -> None:
    with pytest.raises(InsufficientFunds, match=r"^the available balance does not cover this "):
        book(Movement.WITHDRAWAL_HOLD, PAYMENT, CustomerBalance(available_minor=299))


def test_a_deposit_credits_available_against_the_gateways_clearing_when_completed() -> None:
    assert acceptance_movement(Kind.DEPOSIT) is None
    assert settlement_movement(Kind.DEPOSIT, Status.FAILED) is None
    entry = book(Movement.DEPOSIT_CREDIT, PAYMENT, CustomerBalance())
    assert entry.reason is EntryReason.DEPOSIT_CREDIT
    assert entry.postings == (Posting(CLEARING, 300), Posting(AVAILABLE, -300))


def test_a_deposit_pays_what_is_owed_first() -> None:
    entry = book(Movement.DEPOSIT_CREDIT, PAYMENT, CustomerBalance(owed_minor=200))
    assert changes(entry) == {AccountName.CLEARING: 300, AccountName.OWED: -200,
                              AccountName.AVAILABLE: 100}  # fmt: skip


def test_owed_is_booked_on_the_customers_own_account_in_the_payments_currency() -> None:
    """The changes above name accounts; these name whose and in which currency."""
    repaid = book(Movement.DEPOSIT_CREDIT, PAYMENT, CustomerBalance(owed_minor=200))
    assert repaid.postings == (Posting(CLEARING, 300), Posting(OWED, -200),
                               Posting(AVAILABLE, -100))  # fmt: skip
    reversed_ = book(Movement.DEPOSIT_REVERSAL, PAYMENT, CustomerBalance(available_minor=120))
    assert reversed_.postings == (Posting(AVAILABLE, 120), Posting(OWED, 180),
                                  Posting(CLEARING, -300))  # fmt: skip


def test_no_posting_of_nothing_when_owed_or_available_covers_it_all() -> None:
    """A journal entry lists only accounts that moved."""
    all_owed = book(Movement.DEPOSIT_CREDIT, PAYMENT, CustomerBalance(owed_minor=500))
    assert all_owed.postings == (Posting(CLEARING, 300), Posting(OWED, -300))
    all_available = book(Movement.LATE_PAYOUT, PAYMENT, CustomerBalance(available_minor=500))
    assert all_available.postings == (Posting(AVAILABLE, 300), Posting(CLEARING, -300))
    nothing_available = book(Movement.DEPOSIT_REVERSAL, PAYMENT, CustomerBalance())
    assert nothing_available.postings == (Posting(OWED, 300), Posting(CLEARING, -300))


def test_balances_after_adds_each_posting_to_its_account() -> None:
    before = {AVAILABLE: -1000, CLEARING: 1000}
    entries = [
        book(Movement.WITHDRAWAL_HOLD, PAYMENT, CustomerBalance(available_minor=1000)),
        book(Movement.WITHDRAWAL_SETTLE, PAYMENT, CustomerBalance(held_minor=300)),
    ]

    assert balances_after(before, entries) == {AVAILABLE: -700, HELD: 0, CLEARING: 700}
    assert before == {AVAILABLE: -1000, CLEARING: 1000}  # the given balances stay as they were


def test_a_reversal_takes_available_down_to_zero_and_the_rest_becomes_owed() -> None:
    entry = book(Movement.DEPOSIT_REVERSAL, PAYMENT, CustomerBalance(available_minor=120))
    assert changes(entry) == {AccountName.AVAILABLE: -120, AccountName.OWED: 180,
                              AccountName.CLEARING: -300}  # fmt: skip


def test_a_withdrawal_pays_its_hold_out_or_releases_it() -> None:
    assert settlement_movement(Kind.WITHDRAWAL, Status.COMPLETED) is Movement.WITHDRAWAL_SETTLE
    settled = book(Movement.WITHDRAWAL_SETTLE, PAYMENT, CustomerBalance(held_minor=300))
    assert settled.postings == (Posting(HELD, 300), Posting(CLEARING, -300))
    assert settlement_movement(Kind.WITHDRAWAL, Status.FAILED) is Movement.WITHDRAWAL_RELEASE
    released = book(Movement.WITHDRAWAL_RELEASE, PAYMENT, CustomerBalance(held_minor=300))
    assert changes(released) == {AccountName.HELD: -300, AccountName.AVAILABLE: 300}


def test_an_entry_that_does_not_balance_cannot_exist() -> None:
    with pytest.raises(ValueError, match="do not balance"):
        JournalEntry(EntryReason.DEPOSIT_CREDIT, (Posting(AVAILABLE, -1),))


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.REVERSED])
def test_settlement_needs_a_gateways_final_status(status: Status) -> None:
    # A reversal is an operator's decision, booked by paycon.domain.review, never settled.
    with pytest.raises(ValueError, match="not a gateway's final status"):
        settlement_movement(Kind.DEPOSIT, status)


@given(
    movement=st.sampled_from(list(Movement)),
    amount=st.integers(1, 10_000),
    available=st.integers(0, 10_000),
    owed=st.integers(0, 10_000),
)
def test_every_entry_sums_to_zero_and_keeps_balances_from_going_below_zero(
    movement: Movement, amount: int, available: int, owed: int
) -> None:
    balance = CustomerBalance(available_minor=available, held_minor=amount, owed_minor=owed)
    try:
        entry = book(movement, Payment("alice", "gateway_a", "EUR", amount), balance)
    except InsufficientFunds:
        assert movement is Movement.WITHDRAWAL_HOLD
        assert available < amount
        return
    assert sum(p.delta_minor for p in entry.postings) == 0
    moved = changes(entry)
    assert available + moved.get(AccountName.AVAILABLE, 0) >= 0
    assert owed + moved.get(AccountName.OWED, 0) >= 0
    assert amount + moved.get(AccountName.HELD, 0) >= 0
