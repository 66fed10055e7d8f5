"""Stored request fingerprints are keyed: nothing an offline guess could be checked against."""

from __future__ import annotations

import hashlib

import pytest

from paycon.domain.errors import ConfigError
from paycon.domain.fingerprints import RequestFingerprints, is_keyed
from paycon.domain.money import Money
from paycon.domain.status import Kind
from paycon.domain.transactions import Destination, PaymentRequest

KEY = "k" * 32
OTHER_KEY = "o" * 32


def withdrawal(iban: str = "DE89370400440532013000") -> PaymentRequest:
    return PaymentRequest(
        kind=Kind.WITHDRAWAL,
        customer_id="cus_1",
        money=Money(1000, "EUR"),
        country="DE",
        destination=Destination(iban=iban, holder="Jane Doe"),
    )


def test_the_stored_fingerprint_is_keyed_and_fits_the_column() -> None:
    digest = withdrawal().fingerprint
    stored = RequestFingerprints([KEY]).stored(digest)
    assert is_keyed(stored)
    assert len(stored) == 64
    assert digest[:16] not in stored
    assert stored != RequestFingerprints([OTHER_KEY]).stored(digest)
    # Equal requests, equal fingerprints; another account, another one.
    assert stored == RequestFingerprints([KEY]).stored(withdrawal().fingerprint)
    assert stored != RequestFingerprints([KEY]).stored(
        withdrawal("GB82WEST12345698765432").fingerprint
    )


def test_without_the_key_a_guessed_account_cannot_be_checked() -> None:
    """The unkeyed SHA-256 of a guess no longer matches what is stored."""
    request = withdrawal()
    stored = RequestFingerprints([KEY]).stored(request.fingerprint)
    assert hashlib.sha256(request.fingerprint.encode()).hexdigest() not in stored
    assert request.fingerprint != stored


def test_every_listed_key_compares_so_keys_can_rotate() -> None:
    digest = withdrawal().fingerprint
    stored_before = RequestFingerprints([KEY]).stored(digest)
    rotated = RequestFingerprints([OTHER_KEY, KEY])
    assert rotated.matches(stored_before, digest)
    assert rotated.stored(digest) != stored_before
    assert not RequestFingerprints([OTHER_KEY]).matches(stored_before, digest)


def test_a_fingerprint_stored_before_keys_still_compares_and_can_be_keyed() -> None:
    fingerprints = RequestFingerprints([KEY])
    legacy = withdrawal().fingerprint  # what was stored: the bare digest
    assert fingerprints.matches(legacy, withdrawal().fingerprint)
    assert not fingerprints.matches(legacy, withdrawal("GB82WEST12345698765432").fingerprint)
    keyed = fingerprints.from_legacy(legacy)
    assert is_keyed(keyed)
    assert fingerprints.matches(keyed, withdrawal().fingerprint)


@pytest.mark.parametrize("keys", [[], ["short"]])
def test_no_usable_key_is_a_config_error_naming_the_setting(keys: list[str]) -> None:
    with pytest.raises(ConfigError, match=r"security\.fingerprint_keys"):
        RequestFingerprints(keys)
