from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from paycon.domain.errors import ConfigError
from paycon.domain.ids import IdFactory
from paycon.domain.transactions import Destination
from paycon.sealing import Sealer


def test_ids_are_unique_and_sort_by_creation() -> None:
    factory = IdFactory("tx")
    ids = [factory.new() for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 29 and i.startswith("tx_") for i in ids)


def test_sealed_destination_opens_after_key_rotation() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    destination = Destination("DE89370400440532013000", "Jane Doe")
    token = Sealer([old]).seal(destination)
    assert "DE89370400440532013000" not in token
    assert Sealer([new, old]).open(token) == destination
    with pytest.raises(ValueError, match="no configured encryption key"):
        Sealer([new]).open(token)


def test_destination_repr_is_masked() -> None:
    assert "0532013000" not in repr(Destination("DE89370400440532013000", "Jane Doe"))


def test_bad_encryption_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="encryption_keys"):
        Sealer(["not-a-key"])
