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

from paycon.domain.balances import Movement, settlement_movement
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
    # A gateway's settlement report says otherwise (see domain.reconcile).
    RECONCILIATION_BREAK = "reconciliation_break"


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
    """What resolving a held payment does: its status afterwards and the movement to book."""

    status: Status
    movement: Movement | None


def resolve(kind: Kind, current: Status, requested: Status) -> Resolution:
    """The booking for an operator's decision that ``requested`` is the payment's outcome.

    - in flight (pending, submitted): the final status settles as a gateway's would;
    - already ``requested``: nothing moves, the hold is lifted;
    - completed, decided failed: the payment is ``reversed`` — a deposit's credit
      is taken back (``available`` down to zero, the rest becomes ``owed``), a
      withdrawal's payout returns to the customer (paying ``owed`` first);
    - failed, decided completed: a deposit is credited; a withdrawal, whose hold
      went back to ``available``, is paid out of ``available`` (the rest ``owed``).

    Raises ResolutionRefused for a status other than completed or failed, or a
    reversed payment (nothing further can be decided on it).
    """
    if requested not in (Status.COMPLETED, Status.FAILED):
        raise ResolutionRefused("a payment is resolved as completed or failed")
    if current is Status.REVERSED:
        raise ResolutionRefused("a reversed payment is final; nothing more can be booked")
    if not current.is_final:
        return Resolution(requested, settlement_movement(kind, requested))
    if current is requested:
        return Resolution(current, None)
    if current is Status.COMPLETED:
        movement = Movement.DEPOSIT_REVERSAL if kind is Kind.DEPOSIT else Movement.PAYOUT_RETURN
        return Resolution(Status.REVERSED, movement)
    if kind is Kind.DEPOSIT:
        return Resolution(Status.COMPLETED, Movement.DEPOSIT_CREDIT)
    return Resolution(Status.COMPLETED, Movement.LATE_PAYOUT)
