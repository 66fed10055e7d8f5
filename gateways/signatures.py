"""Signed bodies: ``X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

Gateways sign their callbacks this way and paycon signs its merchant
notifications the same way. The timestamp is inside the MAC, so a captured
callback cannot be replayed outside the tolerance window; comparison is in
constant time so the MAC cannot be guessed byte by byte.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

from gateways.errors import CallbackRejected

SIGNATURE_HEADER = "X-Signature"
DEFAULT_TOLERANCE_S = 300.0

# Far longer than any honest header (a t and a few v1 entries); refuse early.
_MAX_HEADER_CHARS = 1024
_TIMESTAMP = re.compile(r"[0-9]{1,15}")  # unix seconds for the next thirty million years
_MAX_T = 10**15
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def sign(secret: str, body: bytes, t: int) -> str:
    """The ``X-Signature`` value for ``body`` signed at ``t`` (unix seconds).

    Raises ``ValueError`` if ``t`` is negative or longer than ``verify`` accepts.
    """
    if not 0 <= t < _MAX_T:
        raise ValueError(f"t must be unix seconds, not negative, below {_MAX_T}")
    return f"t={t},v1={_digest(secret, t, body)}"


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    now_s: float,
    gateway: str,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> int:
    """Check ``header`` against ``body``; return its timestamp ``t`` when it is valid.

    Valid means: well formed, ``t`` at most ``tolerance_s`` from ``now_s`` in
    either direction, and one ``v1`` equal (in constant time) to the HMAC of
    ``"<t>.<body>"``. Raises ``CallbackRejected`` (``reason`` "missing",
    "malformed", "stale" or "mismatch") otherwise; the message never contains
    the header or the secret.
    """
    if not header:
        raise CallbackRejected(
            f"{gateway}: no {SIGNATURE_HEADER}", gateway=gateway, reason="missing"
        )
    parsed = _parse(header)
    if parsed is None:
        raise CallbackRejected(
            f"{gateway}: {SIGNATURE_HEADER} is not t=<seconds>,v1=<hex>",
            gateway=gateway,
            reason="malformed",
        )
    t, candidates = parsed
    if abs(now_s - t) > tolerance_s:
        raise CallbackRejected(
            f"{gateway}: signature timestamp is {abs(now_s - t):.0f} s away "
            f"(tolerance {tolerance_s:.0f} s)",
            gateway=gateway,
            reason="stale",
        )
    expected = _digest(secret, t, body)
    # Compare against every candidate, so timing does not reveal which one matched.
    matches = [hmac.compare_digest(expected, candidate.lower()) for candidate in candidates]
    if not any(matches):
        raise CallbackRejected(
            f"{gateway}: signature does not match the body", gateway=gateway, reason="mismatch"
        )
    return t


def _digest(secret: str, t: int, body: bytes) -> str:
    signed = str(t).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def _parse(header: str) -> tuple[int, list[str]] | None:
    """``(t, [v1, ...])`` from the header, or ``None`` when it is malformed.

    Several ``v1`` entries are allowed (a sender rotating its secret signs with
    both); keys other than ``t`` and ``v1`` are ignored, as future schemes
    would be; a repeated ``t`` is refused.
    """
    if len(header) > _MAX_HEADER_CHARS:
        return None
    timestamps: list[str] = []
    candidates: list[str] = []
    for part in header.split(","):
        key, separator, value = part.strip().partition("=")
        if not separator:
            return None
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            candidates.append(value)
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not candidates:
        return None
    if not all(_HEX_DIGEST.fullmatch(candidate) for candidate in candidates):
        return None
    return int(timestamps[0]), candidates


def sign_all(secrets: Sequence[str], body: bytes, t: int) -> str:
    """The ``X-Signature`` value with one ``v1`` per secret, in order: during a
    rotation the receiver verifies with whichever secret it has.

    Raises ``ValueError`` without a secret, or for a ``t`` ``sign`` refuses.
    """
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    if not 0 <= t < _MAX_T:
        raise ValueError(f"t must be unix seconds, not negative, below {_MAX_T}")
    return ",".join([f"t={t}", *(f"v1={_digest(secret, t, body)}" for secret in secrets)])
