"""Encryption at rest for account data (Fernet, with key rotation)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from paycon.domain.errors import ConfigError
from paycon.domain.transactions import Destination


class Sealer:
    """Seals destinations with the first key; opens with any key (rotation)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("invalid setting security.encryption_keys: at least one key needed")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError:
            raise ConfigError(
                "invalid setting security.encryption_keys: each key must be 32 url-safe "
                "base64-encoded bytes (make one with: python -c 'from cryptography.fernet "
                "import Fernet; print(Fernet.generate_key().decode())')"
            ) from None

    def seal(self, destination: Destination) -> str:
        plain = json.dumps({"iban": destination.iban, "holder": destination.holder})
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, token: str) -> Destination:
        """Decrypt a sealed destination. Raises ValueError if no key opens it."""
        try:
            data = json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise ValueError("no configured encryption key opens this destination") from None
        return Destination(iban=data["iban"], holder=data["holder"])
