"""Pure rules: which failure of an outbound call becomes which ``GatewayError``.

The table and the reasons are in ``gateways.errors``; this module only applies
them, so the rules are tested without any network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import aiohttp
import httpx

from gateways.errors import (
    GatewayAmbiguous,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayProtocolError,
    GatewayTransient,
    Operation,
)

TransportVerdict = Literal["not_reached", "ambiguous"]

# Failures before any byte of the request could be written.
_HTTPX_NOT_REACHED: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)
_AIOHTTP_NOT_REACHED: tuple[type[Exception], ...] = (
    aiohttp.ClientConnectorError,  # refused, DNS, TLS handshake, proxy connect
    aiohttp.ConnectionTimeoutError,  # connect (or waiting for a pooled connection) timed out
    aiohttp.ServerFingerprintMismatch,
    aiohttp.ClientHttpProxyError,
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
)
_TRANSIENT_4XX = frozenset({408, 429})
# The gateway already holds this transaction id with other terms: the payment lives there.
_CONFLICT = 409
_UNAVAILABLE = 503
_MAX_MESSAGE_CHARS = 200


def transport_verdict(exc: Exception) -> TransportVerdict:
    """Whether a transport failure provably happened before the request was sent.

    ``httpx-aiohttp`` raises ``httpx.ConnectTimeout`` for *every* aiohttp
    connection error, a reset after sending included, so when an aiohttp error
    is chained as the cause, that is what is judged. Anything not known to
    happen before sending is ambiguous.
    """
    judged = _judged(exc)
    not_reached = (
        _AIOHTTP_NOT_REACHED if isinstance(judged, aiohttp.ClientError) else _HTTPX_NOT_REACHED
    )
    return "not_reached" if isinstance(judged, not_reached) else "ambiguous"


def transport_error(exc: Exception, *, gateway: str, operation: Operation) -> GatewayError:
    """The ``GatewayError`` for a transport failure (raise it ``from exc``).

    A lost status answer is transient, never ambiguous: reading has no effect.
    """
    judged = _judged(exc)
    detail = f"{gateway} {operation}: {type(judged).__name__}: {_shorten(str(judged))}"
    if transport_verdict(exc) == "not_reached":
        return GatewayNotReached(f"{detail} (never reached)", gateway=gateway, operation=operation)
    if operation == "status":
        return GatewayTransient(detail, gateway=gateway, operation=operation)
    return GatewayAmbiguous(
        f"{detail} (sent; outcome unknown)", gateway=gateway, operation=operation
    )


def status_error(
    status_code: int,
    *,
    gateway: str,
    operation: Operation,
    code: str | None,
    message: str | None,
    retry_after_s: float | None = None,
) -> GatewayError:
    """The ``GatewayError`` for a non-success HTTP status.

    ``code``/``message`` are what the gateway's error body said, if it could be
    read. Any other status (a 3xx: redirects are never followed, a gateway has
    no reason to move) is a protocol error: the request arrived, the answer
    makes no sense.
    """
    reason = code or f"http_{status_code}"
    detail = f"{gateway} {operation}: HTTP {status_code} {reason}"
    if message:
        detail += f": {_shorten(message)}"
    if status_code == _UNAVAILABLE:
        return GatewayNotReached(
            detail, gateway=gateway, operation=operation, retry_after_s=retry_after_s
        )
    if 400 <= status_code < 500 and status_code not in _TRANSIENT_4XX:
        return GatewayDeclined(
            detail,
            gateway=gateway,
            operation=operation,
            reason=reason,
            retry_elsewhere=status_code != _CONFLICT,
            status_code=status_code,
        )
    if status_code >= 500 or status_code in _TRANSIENT_4XX:
        return GatewayTransient(
            detail,
            gateway=gateway,
            operation=operation,
            status_code=status_code,
            retry_after_s=retry_after_s,
        )
    return GatewayProtocolError(detail, gateway=gateway, operation=operation)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _judged(exc: Exception) -> Exception:
    """The exception that tells what happened: aiohttp's own when httpx-aiohttp chained one."""
    cause = exc.__cause__
    return cause if isinstance(cause, aiohttp.ClientError) else exc


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE_CHARS else text[: _MAX_MESSAGE_CHARS - 1] + "…"
