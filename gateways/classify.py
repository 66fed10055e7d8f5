"""Pure rules: which failure of an outbound call becomes which ``GatewayError``.

The reasons are in ``gateways.errors``; this module only applies them, so the
rules are tested without any network. In short:

=====================  ===============================  ===============================
what happened          submit                           status
=====================  ===============================  ===============================
connect failure        ``GatewayNotReached``            ``GatewayNotReached``
lost after sending     ``GatewayAmbiguous``             ``GatewayTransient``
5xx (503 included)     ``GatewayServerError``           ``GatewayTransient``
408, 429               ``GatewayTransient``             ``GatewayTransient``
401, 403               ``GatewayCredentialsRefused``    ``GatewayCredentialsRefused``
404                    ``GatewayRequestRefused``        not an error: "unknown"
4xx, decline code      ``GatewayDeclined``              ``GatewayRequestRefused``
any other 4xx          ``GatewayRequestRefused``        ``GatewayRequestRefused``
3xx, anything else     ``GatewayProtocolError``         ``GatewayProtocolError``
=====================  ===============================  ===============================

Decline codes and whether they let another gateway try are ``DECLINE_CODES``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Literal

import aiohttp
import httpx

from gateways.errors import (
    DECLINE_CODES,
    GatewayAmbiguous,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayProtocolError,
    GatewayRequestRefused,
    GatewayServerError,
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
_CREDENTIALS_REFUSED = frozenset({401, 403})
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
    """The ``GatewayError`` for a non-success HTTP status (see the table above).

    ``code``/``message`` are what the gateway's error body said, if it could be
    read. A 404 to a status read is not an error (the caller answers "unknown"
    before asking here). Any status outside 4xx/5xx (a 3xx: redirects are never
    followed, a gateway has no reason to move) is a protocol error: the request
    arrived, the answer makes no sense.
    """
    reason = code or f"http_{status_code}"
    detail = f"{gateway} {operation}: HTTP {status_code} {reason}"
    if message:
        detail += f": {_shorten(message)}"
    if status_code in _CREDENTIALS_REFUSED:
        return GatewayCredentialsRefused(
            f"{detail} (our credentials are refused)",
            gateway=gateway,
            operation=operation,
            status_code=status_code,
        )
    if status_code in _TRANSIENT_4XX or (500 <= status_code < 600 and operation == "status"):
        return GatewayTransient(
            detail,
            gateway=gateway,
            operation=operation,
            status_code=status_code,
            retry_after_s=retry_after_s,
        )
    if 500 <= status_code < 600:
        return GatewayServerError(
            f"{detail} (may have been recorded; ask its status)",
            gateway=gateway,
            operation=operation,
            status_code=status_code,
            retry_after_s=retry_after_s,
        )
    if 400 <= status_code < 500:
        if operation == "submit" and code is not None and code in DECLINE_CODES:
            return GatewayDeclined(
                detail,
                gateway=gateway,
                operation=operation,
                reason=code,
                retry_elsewhere=DECLINE_CODES[code],
                status_code=status_code,
            )
        return GatewayRequestRefused(
            f"{detail} (refused; not a documented decline)",
            gateway=gateway,
            operation=operation,
            status_code=status_code,
            code=reason,
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
