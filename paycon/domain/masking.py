"""Masking of sensitive account data for logs, lists, the console and errors."""

from __future__ import annotations

import re
import string

_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def normalize_iban(text: str) -> str:
    """Upper-case an IBAN and drop the spaces people type into it."""
    return "".join(text.split()).upper()


def is_valid_iban(iban: str) -> bool:
    """True for a normalized IBAN whose ISO 13616 mod-97 check digits hold."""
    if not _IBAN.fullmatch(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(string.ascii_uppercase.index(c) + 10) if c.isalpha() else c
                     for c in rearranged)  # fmt: skip
    return int(digits) % 97 == 1


def mask_key(key: str) -> str:
    """An API key as it may be shown: its first six and last four characters
    (``pk_-Ri…5i8Y``), enough to tell keys apart, never enough to use one."""
    return key[:6] + "…" + key[-4:]


def mask_iban(iban: str) -> str:
    """``DE89370400440532013000`` → ``DE89 **** **** 3000``: country, check and last four."""
    compact = normalize_iban(iban)
    if len(compact) < 8:
        return "****"
    return f"{compact[:4]} **** **** {compact[-4:]}"


def mask_holder(name: str) -> str:
    """``Jane Doe`` → ``J*** D***``: initials only."""
    return " ".join(f"{word[0]}***" for word in name.split()) or "***"


_SENSITIVE_KEYS = frozenset({"iban", "holder", "destination", "account", "account_number"})


def mask_payload(value: object) -> object:
    """A copy of a JSON value with account data masked, for operators' eyes."""
    if isinstance(value, dict):
        return {
            key: _mask_value(key, item) if key in _SENSITIVE_KEYS else mask_payload(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_payload(item) for item in value]
    return value


def _mask_value(key: str, value: object) -> object:
    if isinstance(value, str):
        return mask_holder(value) if key == "holder" else mask_iban(value)
    return "****"
