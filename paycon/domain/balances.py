"""Balance rules: what ledger entries each payment step writes.

A balance per customer and currency has two buckets, ``available`` and
``held``. Every change is a ledger entry; a balance is the sum of its entries.
These functions decide the entries; storage appends them and updates the
running balance in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from paycon.domain.errors import InsufficientFunds
from paycon.domain.status import Kind, Status


class Bucket(StrEnum):
    AVAILABLE = "available"
    HELD = "held"


class EntryReason(StrEnum):
    DEPOSIT_CREDIT = "deposit_credit"
    WITHDRAWAL_HOLD = "withdrawal_hold"
    WITHDRAWAL_SETTLE = "withdrawal_settle"
    WITHDRAWAL_RELEASE = "withdrawal_release"
    # Operators' decisions on held payments (see domain.review).
    DEPOSIT_REVERSAL = "deposit_reversal"
    PAYOUT_RETURN = "payout_return"
    LATE_PAYOUT = "late_payout"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One signed movement of minor units into or out of a bucket."""

    bucket: Bucket
    delta_minor: int
    reason: EntryReason


@dataclass(frozen=True, slots=True)
class Balance:
    """A customer's balance in one currency, in minor units."""

    available_minor: int = 0
    held_minor: int = 0

    def apply(self, entries: Iterable[LedgerEntry]) -> Balance:
        """The balance after ``entries``.

        Raises InsufficientFunds if ``available`` would go negative.
        """
        result = self
        for entry in entries:
            if entry.bucket is Bucket.AVAILABLE:
                result = replace(result, available_minor=result.available_minor + entry.delta_minor)
            else:
                result = replace(result, held_minor=result.held_minor + entry.delta_minor)
        if result.available_minor < 0:
            raise InsufficientFunds("the available balance does not cover this withdrawal")
        if result.held_minor < 0:
            raise ValueError("held balance would go negative: ledger rules violated")
        return result


def acceptance_entries(kind: Kind, amount_minor: int) -> tuple[LedgerEntry, ...]:
    """Entries written when a payment is accepted: a withdrawal holds its amount."""
    if kind is Kind.DEPOSIT:
        return ()
    return (
        LedgerEntry(Bucket.AVAILABLE, -amount_minor, EntryReason.WITHDRAWAL_HOLD),
        LedgerEntry(Bucket.HELD, amount_minor, EntryReason.WITHDRAWAL_HOLD),
    )


def settlement_entries(kind: Kind, final: Status, amount_minor: int) -> tuple[LedgerEntry, ...]:
    """Entries written when a payment reaches a final status.

    A completed deposit credits ``available``; a completed withdrawal removes
    its hold; a failed withdrawal releases the hold back to ``available``; a
    failed deposit changes nothing.
    """
    if final not in (Status.COMPLETED, Status.FAILED):
        raise ValueError(f"{final} is not a gateway's final status")
    if kind is Kind.DEPOSIT:
        if final is Status.COMPLETED:
            return (LedgerEntry(Bucket.AVAILABLE, amount_minor, EntryReason.DEPOSIT_CREDIT),)
        return ()
    if final is Status.COMPLETED:
        return (LedgerEntry(Bucket.HELD, -amount_minor, EntryReason.WITHDRAWAL_SETTLE),)
    return (
        LedgerEntry(Bucket.HELD, -amount_minor, EntryReason.WITHDRAWAL_RELEASE),
        LedgerEntry(Bucket.AVAILABLE, amount_minor, EntryReason.WITHDRAWAL_RELEASE),
    )
