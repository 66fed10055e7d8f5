"""Callback signatures, as the gateways sign them.

Kept here rather than shared with ``gateways`` on purpose: the mock is an
independent implementation of the scheme, so a bug on one side shows up as
a failed verification instead of agreeing with itself.
"""

from __future__ import annotations

import hashlib
import hmac


def signature_header(secret: str, body: bytes, timestamp_s: int) -> str:
    """The ``X-Signature`` value for ``body`` sent at ``timestamp_s`` (unix seconds).

    ``t=<timestamp_s>,v1=<hex HMAC-SHA256(secret, "<timestamp_s>.<body>")>``.
    """
    signed = str(timestamp_s).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp_s},v1={digest}"
