"""Identifiers that sort by creation time (ULID layout, Crockford base32)."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


class IdFactory:
    """Makes ``<prefix>_<26 chars>`` ids, strictly increasing within a process.

    48 bits of milliseconds then 80 random bits; within one millisecond the
    random part is incremented, so ids also order requests of the same ms.
    """

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def new(self) -> str:
        with self._lock:
            now_ms = time.time_ns() // 1_000_000
            if now_ms <= self._last_ms:
                now_ms = self._last_ms
                self._last_random += 1
            else:
                self._last_random = secrets.randbits(79)  # headroom for increments
            self._last_ms = now_ms
            value = (now_ms << 80) | self._last_random
        return f"{self._prefix}_{_base32(value, 26)}"


transaction_ids = IdFactory("tx")
journal_ids = IdFactory("jrn")


def id_bound_at(moment: datetime, prefix: str = "tx") -> str:
    """The lowest id ``IdFactory(prefix)`` could make at ``moment``: every id made
    before it sorts below, every id made from it on sorts at or above."""
    ms = max(0, int(moment.timestamp() * 1000))
    return f"{prefix}_{_base32(ms << 80, 26)}"


def id_made_at(moment: datetime, sequence: int, prefix: str) -> str:
    """An id of ``IdFactory(prefix)``'s layout for ``moment``, with ``sequence`` as its
    random part: ids given to rows written before the factory existed (migrations)."""
    ms = max(0, int(moment.timestamp() * 1000))
    return f"{prefix}_{_base32((ms << 80) | (sequence & ((1 << 80) - 1)), 26)}"
