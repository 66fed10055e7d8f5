"""Review rules: which gateway words may move a payment, and what a resolution books."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paycon.domain.balances import Movement
from paycon.domain.money import Money
from paycon.domain.review import (
    GatewayWord,
    ResolutionRefused,
    ReviewReason,
    mismatch,
    resolve,
)
from paycon.domain.status import Kind, Status

EUR_100 = Money(10050, "EUR")


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        (GatewayWord("gateway_a", Status.COMPLETED, None, Decimal("100.50"), "EUR"), None),
        (GatewayWord("gateway_a", Status.COMPLETED, None, Decimal("100.5"), "EUR"), None),
        (GatewayWord("gateway_a", Status.COMPLETED, None, Decimal("100.500"), "EUR"), None),
        # A decline that came as an error names no amount: only the gateway is checked.
        (GatewayWord("gateway_a", Status.FAILED, "declined"), None),
        (
            GatewayWord("gateway_b", Status.COMPLETED, None, Decimal("100.50"), "EUR"),
            ReviewReason.WRONG_GATEWAY,
        ),
        (
            GatewayWord("gateway_a", Status.COMPLETED, None, Decimal("0.01"), "JPY"),
            ReviewReason.AMOUNT_MISMATCH,
        ),
        (
            GatewayWord("gateway_a", Status.COMPLETED, None, Decimal("100.51"), "EUR"),
            ReviewReason.AMOUNT_MISMATCH,
        ),
        (
            GatewayWord("gateway_a", Status.COMPLETED, None, Decimal("100.50"), "USD"),
            ReviewReason.AMOUNT_MISMATCH,
        ),
        # Finer than a cent never equals a stored amount, however it rounds.
        (
            GatewayWord("gateway_a", Status.COMPLETED, None, Decimal("100.501"), "EUR"),
            ReviewReason.AMOUNT_MISMATCH,
        ),
        (
            GatewayWord("gateway_a", Status.COMPLETED, None, None, "EUR"),
            ReviewReason.AMOUNT_MISMATCH,
        ),
    ],
)
def test_a_word_moves_only_its_own_payment_for_its_own_amount(
    word: GatewayWord, expected: ReviewReason | None
) -> None:
    assert mismatch(word, holder="gateway_a", money=EUR_100) is expected


def test_the_wrong_gateway_is_named_before_the_amount() -> None:
    word = GatewayWord("gateway_b", Status.COMPLETED, None, Decimal("1"), "JPY")
    assert mismatch(word, holder="gateway_a", money=EUR_100) is ReviewReason.WRONG_GATEWAY


def test_a_word_describes_itself_for_the_timeline() -> None:
    word = GatewayWord("gateway_b", Status.FAILED, "card_stolen", Decimal("10.00"), "EUR")
    assert word.describe() == "gateway_b says failed for 10.00 EUR (card_stolen)"


@pytest.mark.parametrize(
    ("kind", "current", "requested", "status", "movement"),
    [
        # In flight: settles as a gateway's final word would.
        (Kind.DEPOSIT, Status.PENDING, Status.COMPLETED, Status.COMPLETED,
         Movement.DEPOSIT_CREDIT),
        (Kind.DEPOSIT, Status.SUBMITTED, Status.FAILED, Status.FAILED, None),
        (Kind.WITHDRAWAL, Status.SUBMITTED, Status.FAILED, Status.FAILED,
         Movement.WITHDRAWAL_RELEASE),
        (Kind.WITHDRAWAL, Status.PENDING, Status.COMPLETED, Status.COMPLETED,
         Movement.WITHDRAWAL_SETTLE),
        # Confirming what is recorded moves nothing.
        (Kind.DEPOSIT, Status.COMPLETED, Status.COMPLETED, Status.COMPLETED, None),
        (Kind.WITHDRAWAL, Status.FAILED, Status.FAILED, Status.FAILED, None),
        # A failure decided after success reverses the payment.
        (Kind.DEPOSIT, Status.COMPLETED, Status.FAILED, Status.REVERSED,
         Movement.DEPOSIT_REVERSAL),
        (Kind.WITHDRAWAL, Status.COMPLETED, Status.FAILED, Status.REVERSED,
         Movement.PAYOUT_RETURN),
        # A success decided after failure: the deposit is credited, the payout paid.
        (Kind.DEPOSIT, Status.FAILED, Status.COMPLETED, Status.COMPLETED,
         Movement.DEPOSIT_CREDIT),
        (Kind.WITHDRAWAL, Status.FAILED, Status.COMPLETED, Status.COMPLETED,
         Movement.LATE_PAYOUT),
    ],
)  # fmt: skip
def test_a_resolution_books_the_decision(
    kind: Kind, current: Status, requested: Status, status: Status, movement: Movement | None
) -> None:
    resolution = resolve(kind, current, requested)
    assert resolution.status is status
    assert resolution.movement is movement


@pytest.mark.parametrize("requested", [Status.PENDING, Status.SUBMITTED, Status.REVERSED])
def test_only_completed_or_failed_can_be_decided(requested: Status) -> None:
    with pytest.raises(ResolutionRefused):
        resolve(Kind.DEPOSIT, Status.SUBMITTED, requested)


def test_a_reversed_payment_is_final() -> None:
    with pytest.raises(ResolutionRefused, match="reversed"):
        resolve(Kind.DEPOSIT, Status.REVERSED, Status.COMPLETED)


def test_what_a_gateway_said_reads_as_plain_figures() -> None:
    said = GatewayWord("gateway_b", Status.COMPLETED, amount=Decimal("1E+2"), currency="EUR")
    unknown_currency = GatewayWord("gateway_b", Status.FAILED, "declined", Decimal("0.50"))

    assert said.describe() == "gateway_b says completed for 100 EUR"
    assert unknown_currency.describe() == "gateway_b says failed for 0.50 ? (declined)"
