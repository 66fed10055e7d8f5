"""API key fingerprints: how a key is named in records without being stored."""

from __future__ import annotations

import hashlib


def key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def key_id(key: str) -> str:
    """``key_`` and 12 hex digits of the key's SHA-256: stable, and useless to an attacker."""
    return "key_" + key_digest(key).hex()[:12]
