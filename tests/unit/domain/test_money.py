from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paycon.domain.money import CURRENCY_EXPONENTS, Money, MoneyError, parse_amount

CAP = Decimal("1000000")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("100.50", "EUR", 10050),
        ("100.5", "EUR", 10050),
        ("1", "EUR", 100),
        ("0.01", "EUR", 1),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("1000000", "EUR", 100000000),
    ],
)
def test_parses_wire_amounts_to_minor_units(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency, max_amount=CAP) == Money(minor, currency)


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("0", "EUR", "greater than zero"),
        ("0.00", "EUR", "greater than zero"),
        ("-1", "EUR", "positive decimal string"),
        ("1e3", "EUR", "positive decimal string"),
        ("NaN", "EUR", "positive decimal string"),
        ("Infinity", "EUR", "positive decimal string"),
        (" 1", "EUR", "positive decimal string"),
        ("1.", "EUR", "positive decimal string"),
        (".5", "EUR", "positive decimal string"),
        ("01", "EUR", "positive decimal string"),
        ("1.234", "EUR", "at most 2 decimal places"),
        ("1.5", "JPY", "at most 0 decimal places"),
        ("1.2345", "KWD", "at most 3 decimal places"),
        ("1000000.01", "EUR", "exceeds the maximum"),
        ("1", "XXX", "unsupported currency"),
    ],
)
def test_refuses_bad_amounts_with_a_reason(text: str, currency: str, reason: str) -> None:
    with pytest.raises(MoneyError, match=reason):
        parse_amount(text, currency, max_amount=CAP)


@given(
    currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)),
    minor=st.integers(min_value=1, max_value=10**15),
)
def test_wire_form_round_trips_exactly(currency: str, minor: int) -> None:
    money = Money(minor, currency)
    parsed = parse_amount(money.wire(), currency, max_amount=Decimal(10**18))
    assert parsed == money
    assert isinstance(parsed.amount, Decimal)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=Decimal("0.01"),
                   max_value=Decimal("999999.99")))  # fmt: skip
def test_any_two_place_decimal_is_exact_in_eur(value: Decimal) -> None:
    money = parse_amount(format(value, "f"), "EUR", max_amount=CAP)
    assert money.amount == value
    assert money.minor == int(value * 100)


def test_nothing_is_written_as_zero_at_the_currencys_scale() -> None:
    """A held balance of nothing reads "0.00", never "0E-2"."""
    assert Money(0, "EUR").wire() == "0.00"
    assert Money(0, "JPY").wire() == "0"
    assert Money(0, "BHD").wire() == "0.000"
