"""The OpenAPI document's rules say exactly what the validation takes."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from paycon.api.schemas import amount_pattern
from paycon.domain.masking import is_valid_iban
from paycon.domain.money import CURRENCY_EXPONENTS, MoneyError, parse_amount
from tests.fuzz.hooks import iban

UNCAPPED = Decimal(10) ** 30
# Amount-like text: digits, maybe a point and more digits, now and then something else.
AMOUNT_TEXT = st.from_regex(r"\A[0-9]{1,20}(\.[0-9]{0,8})?\Z") | st.text(max_size=8)


def matches(pattern: str, text: str) -> bool:
    """As JSON Schema reads a pattern: ``$`` is the end of the text, not before a last newline."""
    return re.search(pattern.replace("$", r"\Z"), text) is not None


def accepted(text: str, currency: str) -> bool:
    try:
        parse_amount(text, currency, max_amount=UNCAPPED)
    except MoneyError:
        return False
    return True


@given(text=AMOUNT_TEXT, currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)))
def test_the_amount_pattern_matches_what_parse_amount_takes(text: str, currency: str) -> None:
    pattern = amount_pattern(CURRENCY_EXPONENTS[currency])
    assert matches(pattern, text) == accepted(text, currency)


def test_the_amount_pattern_on_the_edges() -> None:
    two = amount_pattern(2)
    assert [t for t in ("1", "0.01", "0.10", "0.1", "10.5", "1.00") if not matches(two, t)] == []
    assert [
        t for t in ("0", "0.00", "0.001", "1.234", "01", "1.", ".5", "1\n") if matches(two, t)
    ] == []
    assert matches(amount_pattern(0), "100")
    assert not matches(amount_pattern(0), "100.0")


@given(country=st.sampled_from(["DE", "FR", "GB", "NL"]), bban=st.from_regex(r"\A[0-9]{18}\Z"))
def test_the_fuzzers_ibans_are_valid(country: str, bban: str) -> None:
    assert is_valid_iban(iban(country, bban))
