"""Review: when a payment needs a person, and what a person's decision books.

A gateway's word moves only its own payment, for its own amount. Whatever
does not fit — a callback or answer from a gateway that does not hold the
payment, another amount or currency, a final status contradicting the one
recorded, a request the gateway refused without a documented decline, a task
that died or was discarded, a payment in flight too long — holds the payment
for review instead of being applied or dropped. An operator resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from paycon.domain.balances import Bucket, EntryReason, LedgerEntry, settlement_entries
from paycon.domain.money import CURRENCY_EXPONENTS, Money
from paycon.domain.status import Kind, Status


class ReviewReason(StrEnum):
    """Why a payment waits for a person."""

    WRONG_GATEWAY = "wrong_gateway"
    AMOUNT_MISMATCH = "amount_mismatch"
    CONFLICTING_STATUS = "conflicting_status"
    REQUEST_REFUSED = "request_refused"
    TASK_DEAD = "task_dead"
    TASK_DISCARDED = "task_discarded"
    IN_FLIGHT_TOO_LONG = "in_flight_too_long"


@dataclass(frozen=True, slots=True)
class GatewayWord:
    """What a gateway says about a payment: a callback, a submit answer or a status answer.

    ``amount`` and ``currency`` are what the gateway stated (``None`` only for
    a decline that came as an error, which names no amount).
    """

    gateway: str
    status: Status
    reason: str | None = None
    amount: Decimal | None = None
    currency: str | None = None

    def describe(self) -> str:
        """``gateway_b says completed for 100.50 EUR`` — for the timeline and the review."""
        text = f"{self.gateway} says {self.status.value}"
        if self.amount is not None:
            text += f" for {format(self.amount, 'f')} {self.currency or '?'}"
        if self.reason:
            text += f" ({self.reason})"
        return text


def mismatch(word: GatewayWord, *, holder: str, money: Money) -> ReviewReason | None:
    """Why ``word`` may not move a payment held by gateway ``holder`` for ``money``, or None.

    The gateway must be the one holding the payment; the amount and currency,
    when stated, must equal the payment's, compared in minor units (an amount
    finer than the currency's minor unit never equals one).
    """
    if word.gateway != holder:
        return ReviewReason.WRONG_GATEWAY
    if word.amount is None and word.currency is None:
        return None
    if word.currency != money.currency or word.amount is None:
        return ReviewReason.AMOUNT_MISMATCH
    places = CURRENCY_EXPONENTS[money.currency]
    minor = word.amount.scaleb(places)
    if minor != minor.to_integral_value() or int(minor) != money.minor:
        return ReviewReason.AMOUNT_MISMATCH
    return None


class ResolutionRefused(ValueError):
    """The requested resolution cannot be booked; the message says why."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """What resolving a held payment does: its status afterwards and the entries to book."""

    status: Status
    entries: tuple[LedgerEntry, ...]


def resolve(kind: Kind, current: Status, requested: Status, amount_minor: int) -> Resolution:
    """The booking for an operator's decision that ``requested`` is the payment's outcome.

    - in flight (pending, submitted): the final status settles as a gateway's would;
    - already ``requested``: nothing moves, the hold is lifted;
    - completed, decided failed: the payment is ``reversed`` — a deposit's credit
      is taken back, a withdrawal's payout returns to ``available``;
    - failed, decided completed: a deposit is credited; a withdrawal, whose hold
      went back to ``available``, is paid out of ``available``.

    Raises ResolutionRefused for a status other than completed or failed, or a
    reversed payment (nothing further can be decided on it).
    """
    if requested not in (Status.COMPLETED, Status.FAILED):
        raise ResolutionRefused("a payment is resolved as completed or failed")
    if current is Status.REVERSED:
        raise ResolutionRefused("a reversed payment is final; nothing more can be booked")
    if not current.is_final:
        return Resolution(requested, settlement_entries(kind, requested, amount_minor))
    if current is requested:
        return Resolution(current, ())
    if current is Status.COMPLETED:
        reason = EntryReason.DEPOSIT_REVERSAL if kind is Kind.DEPOSIT else EntryReason.PAYOUT_RETURN
        sign = -1 if kind is Kind.DEPOSIT else 1
        return Resolution(
            Status.REVERSED, (LedgerEntry(Bucket.AVAILABLE, sign * amount_minor, reason),)
        )
    if kind is Kind.DEPOSIT:
        return Resolution(
            Status.COMPLETED, settlement_entries(kind, Status.COMPLETED, amount_minor)
        )
    return Resolution(
        Status.COMPLETED,
        (LedgerEntry(Bucket.AVAILABLE, -amount_minor, EntryReason.LATE_PAYOUT),),
    )
