from __future__ import annotations

import pytest

from paycon.domain.masking import (
    is_valid_iban,
    mask_holder,
    mask_iban,
    mask_payload,
    normalize_iban,
)


def test_masks_iban_to_country_check_and_last_four() -> None:
    assert mask_iban("DE89370400440532013000") == "DE89 **** **** 3000"
    assert mask_iban("de89 3704 0044 0532 0130 00") == "DE89 **** **** 3000"


def test_masks_holder_to_initials() -> None:
    assert mask_holder("Jane Doe") == "J*** D***"


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765432", True),
        ("DE89370400440532013001", False),
        ("DE8937040044", False),
        ("XX", False),
    ],
)
def test_iban_check_digits(iban: str, valid: bool) -> None:
    assert is_valid_iban(normalize_iban(iban)) is valid


def test_account_data_is_masked_wherever_it_sits_in_a_payload() -> None:
    payload = {
        "amount": "10.00",
        "destination": {"iban": "DE89370400440532013000", "holder": "Jane Doe"},
        "items": [{"account": "DE89370400440532013000"}, {"holder": "Ann Lee", "note": "ok"}],
        "account_number": 12345678,
    }

    assert mask_payload(payload) == {
        "amount": "10.00",
        "destination": "****",
        "items": [{"account": "DE89 **** **** 3000"}, {"holder": "A*** L***", "note": "ok"}],
        "account_number": "****",
    }
    assert mask_payload({"iban": "DE89370400440532013000"}) == {"iban": "DE89 **** **** 3000"}
