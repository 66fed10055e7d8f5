"""Ledger rules: the accounts, and the journal entry each payment step books.

The ledger is double-entry. Accounts exist per currency: each customer has
``available``, ``held`` and ``owed`` (what the customer owes paycon after a
reversal larger than ``available``); each gateway has ``clearing`` (money in
transit with that gateway), ``fees``, ``suspense`` (what cannot be attributed
yet) and ``settled`` (what reached the bank). Every movement is a journal
entry whose postings sum to zero; an account's balance is the sum of its
postings.

Postings are signed the accountant's way: a debit is positive, a credit
negative. What paycon owes (a customer's ``available`` and ``held``) has a
credit balance; what is owed to paycon or spent (``owed``, ``clearing``,
``settled``, ``fees``, ``suspense``) has a debit balance. ``Account.shown``
turns a stored balance into the positive figure people read.

These functions decide the postings; storage writes them and moves the
stored balances in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from paycon.domain.errors import InsufficientFunds
from paycon.domain.status import Kind, Status


class Holder(StrEnum):
    CUSTOMER = "customer"
    GATEWAY = "gateway"


class AccountName(StrEnum):
    AVAILABLE = "available"
    HELD = "held"
    OWED = "owed"
    CLEARING = "clearing"
    FEES = "fees"
    SUSPENSE = "suspense"
    SETTLED = "settled"


ACCOUNTS_OF = {
    Holder.CUSTOMER: (AccountName.AVAILABLE, AccountName.HELD, AccountName.OWED),
    Holder.GATEWAY: (
        AccountName.CLEARING, AccountName.FEES, AccountName.SUSPENSE, AccountName.SETTLED,
    ),
}  # fmt: skip
# +1: the account's balance is normally a debit (an asset or an expense);
# -1: normally a credit (what paycon owes).
NORMAL_SIGN = {
    AccountName.AVAILABLE: -1,
    AccountName.HELD: -1,
    AccountName.OWED: 1,
    AccountName.CLEARING: 1,
    AccountName.FEES: 1,
    AccountName.SUSPENSE: 1,
    AccountName.SETTLED: 1,
}
# Accounts whose shown balance may never go below zero (a stored CHECK as well).
NEVER_NEGATIVE = (AccountName.AVAILABLE, AccountName.HELD, AccountName.OWED)


class EntryReason(StrEnum):
    DEPOSIT_CREDIT = "deposit_credit"
    WITHDRAWAL_HOLD = "withdrawal_hold"
    WITHDRAWAL_SETTLE = "withdrawal_settle"
    WITHDRAWAL_RELEASE = "withdrawal_release"
    # Operators' decisions on held payments (see domain.review).
    DEPOSIT_REVERSAL = "deposit_reversal"
    PAYOUT_RETURN = "payout_return"
    LATE_PAYOUT = "late_payout"
    # A gateway's settlement report, reconciled (see domain.reconcile).
    SETTLEMENT = "settlement"
    SETTLEMENT_FEE = "settlement_fee"


@dataclass(frozen=True, slots=True, order=True)
class Account:
    """One account: its ``holder`` (customer or gateway), ``owner``, ``name`` and currency."""

    holder: Holder
    owner: str
    name: AccountName
    currency: str

    @classmethod
    def customer(cls, customer_id: str, name: AccountName, currency: str) -> Account:
        return cls(Holder.CUSTOMER, customer_id, name, currency)

    @classmethod
    def gateway(cls, gateway: str, name: AccountName, currency: str) -> Account:
        return cls(Holder.GATEWAY, gateway, name, currency)

    def shown(self, balance_minor: int) -> int:
        """The stored (debit-positive) balance as people read it: positive when normal."""
        return NORMAL_SIGN[self.name] * balance_minor

    def label(self) -> str:
        """``customer alice available EUR`` — for breaks and the console."""
        return f"{self.holder.value} {self.owner} {self.name.value} {self.currency}"


@dataclass(frozen=True, slots=True)
class Posting:
    """One signed amount (debit positive) on one account."""

    account: Account
    delta_minor: int


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One movement: postings that sum to zero, and why."""

    reason: EntryReason
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        if sum(p.delta_minor for p in self.postings) != 0:
            raise ValueError(f"{self.reason} postings do not balance: ledger rules violated")


class Movement(StrEnum):
    """What a step of a payment does to the customer's money (it names the entry's reason)."""

    DEPOSIT_CREDIT = "deposit_credit"
    WITHDRAWAL_HOLD = "withdrawal_hold"
    WITHDRAWAL_SETTLE = "withdrawal_settle"
    WITHDRAWAL_RELEASE = "withdrawal_release"
    DEPOSIT_REVERSAL = "deposit_reversal"
    PAYOUT_RETURN = "payout_return"
    LATE_PAYOUT = "late_payout"


# Movements that need the customer's current balances to be booked.
NEEDS_BALANCES = frozenset(
    {
        Movement.DEPOSIT_CREDIT,
        Movement.WITHDRAWAL_RELEASE,
        Movement.DEPOSIT_REVERSAL,
        Movement.PAYOUT_RETURN,
        Movement.LATE_PAYOUT,
    }
)


@dataclass(frozen=True, slots=True)
class CustomerBalance:
    """A customer's balance in one currency as people read it, in minor units."""

    available_minor: int = 0
    held_minor: int = 0
    owed_minor: int = 0


@dataclass(frozen=True, slots=True)
class Payment:
    """What the ledger needs of a payment: whose, through which gateway, how much."""

    customer_id: str
    gateway: str
    currency: str
    amount_minor: int


def _credit_customer(payment: Payment, source: Account, owed_minor: int) -> list[Posting]:
    """Money for the customer from ``source``: it pays ``owed`` first, the rest is available."""
    amount = payment.amount_minor
    repaid = min(amount, max(owed_minor, 0))
    postings = [Posting(source, amount)]
    if repaid:
        postings.append(
            Posting(Account.customer(payment.customer_id, AccountName.OWED, payment.currency),
                    -repaid)
        )  # fmt: skip
    if amount - repaid:
        postings.append(
            Posting(
                Account.customer(payment.customer_id, AccountName.AVAILABLE, payment.currency),
                -(amount - repaid),
            )
        )
    return postings


def _debit_customer(payment: Payment, destination: Account, available_minor: int) -> list[Posting]:
    """Money taken from the customer to ``destination``: ``available`` down to zero, the
    rest becomes ``owed``."""
    amount = payment.amount_minor
    taken = min(amount, max(available_minor, 0))
    postings = []
    if taken:
        postings.append(
            Posting(Account.customer(payment.customer_id, AccountName.AVAILABLE,
                                     payment.currency), taken)
        )  # fmt: skip
    if amount - taken:
        postings.append(
            Posting(
                Account.customer(payment.customer_id, AccountName.OWED, payment.currency),
                amount - taken,
            )
        )
    postings.append(Posting(destination, -amount))
    return postings


def book(movement: Movement, payment: Payment, balance: CustomerBalance) -> JournalEntry:
    """The journal entry for ``movement`` of ``payment`` given the customer's ``balance``.

    Raises InsufficientFunds for a hold that ``available`` does not cover (storage
    enforces the same with a conditional update, under any concurrency).
    """
    currency = payment.currency
    available = Account.customer(payment.customer_id, AccountName.AVAILABLE, currency)
    held = Account.customer(payment.customer_id, AccountName.HELD, currency)
    clearing = Account.gateway(payment.gateway, AccountName.CLEARING, currency)
    amount = payment.amount_minor
    postings: list[Posting]
    match movement:
        case Movement.WITHDRAWAL_HOLD:
            if balance.available_minor < amount:
                raise InsufficientFunds("the available balance does not cover this withdrawal")
            postings = [Posting(available, amount), Posting(held, -amount)]
        case Movement.WITHDRAWAL_SETTLE:
            postings = [Posting(held, amount), Posting(clearing, -amount)]
        case Movement.WITHDRAWAL_RELEASE:
            postings = _credit_customer(payment, held, balance.owed_minor)
        case Movement.DEPOSIT_CREDIT | Movement.PAYOUT_RETURN:
            postings = _credit_customer(payment, clearing, balance.owed_minor)
        case Movement.DEPOSIT_REVERSAL | Movement.LATE_PAYOUT:
            postings = _debit_customer(payment, clearing, balance.available_minor)
    return JournalEntry(EntryReason(movement.value), tuple(postings))


def acceptance_movement(kind: Kind) -> Movement | None:
    """What accepting a payment books: a withdrawal holds its amount."""
    return Movement.WITHDRAWAL_HOLD if kind is Kind.WITHDRAWAL else None


def settlement_movement(kind: Kind, final: Status) -> Movement | None:
    """What a payment reaching a final status books.

    A completed deposit credits the customer (paying ``owed`` first); a completed
    withdrawal pays its hold out through the gateway; a failed withdrawal releases
    the hold; a failed deposit books nothing.
    """
    if final not in (Status.COMPLETED, Status.FAILED):
        raise ValueError(f"{final} is not a gateway's final status")
    if kind is Kind.DEPOSIT:
        return Movement.DEPOSIT_CREDIT if final is Status.COMPLETED else None
    return Movement.WITHDRAWAL_SETTLE if final is Status.COMPLETED else Movement.WITHDRAWAL_RELEASE


def balances_after(
    balances: dict[Account, int], entries: Iterable[JournalEntry]
) -> dict[Account, int]:
    """Stored (debit-positive) balances after ``entries`` — the model the tests check against."""
    result = dict(balances)
    for entry in entries:
        for posting in entry.postings:
            result[posting.account] = result.get(posting.account, 0) + posting.delta_minor
    return result
