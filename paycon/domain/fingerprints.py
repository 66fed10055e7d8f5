"""What is stored to recognise a repeated request: a keyed fingerprint, not a plain digest.

A request's digest (``PaymentRequest.fingerprint``, SHA-256 over its canonical
fields, the withdrawal account among them) is never stored as it is: next to a
masked IBAN it would let anyone holding the database try the few billion
accounts that fit the mask offline. Stored is ``h1:`` and HMAC-SHA256(server-side
key, digest) cut to 61 hex digits (244 bits; the column holds 64 characters),
which cannot be tried without the key.

Keys rotate like the encryption keys: the first one computes new fingerprints,
every listed one is accepted when comparing. A fingerprint stored before
paycon keyed them (a bare 64-digit digest) still compares, and
``from_legacy`` turns it into the keyed form without the request it came from.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from paycon.domain.errors import ConfigError

KEYED_PREFIX = "h1:"
# What the stored column holds; the prefix and the cut HMAC fill it.
STORED_CHARS = 64
MIN_KEY_CHARS = 32


class RequestFingerprints:
    """Computes and compares stored request fingerprints with the configured keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        """Raises ConfigError naming ``security.fingerprint_keys`` when none is usable."""
        if not keys or any(len(key) < MIN_KEY_CHARS for key in keys):
            raise ConfigError(
                "invalid setting security.fingerprint_keys: at least one key of "
                f"{MIN_KEY_CHARS}+ characters needed (make one with: "
                "python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        self._keys = tuple(key.encode() for key in keys)

    def _keyed(self, key: bytes, digest: str) -> str:
        mac = hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()
        return (KEYED_PREFIX + mac)[:STORED_CHARS]

    def stored(self, digest: str) -> str:
        """The fingerprint to store for a request with ``digest`` (the first key's)."""
        return self._keyed(self._keys[0], digest)

    def matches(self, stored: str, digest: str) -> bool:
        """Whether ``stored`` was stored for a request with ``digest`` (any key, or legacy)."""
        if not is_keyed(stored):
            return hmac.compare_digest(stored, digest)
        return any(hmac.compare_digest(stored, self._keyed(key, digest)) for key in self._keys)

    def from_legacy(self, legacy: str) -> str:
        """The keyed form of a fingerprint stored as a bare digest."""
        return self.stored(legacy)


def is_keyed(stored: str) -> bool:
    """Whether ``stored`` is a keyed fingerprint (not a legacy bare digest)."""
    return stored.startswith(KEYED_PREFIX)
