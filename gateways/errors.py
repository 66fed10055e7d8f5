"""Every error the gateway clients raise on purpose, as one tree.

What the caller should do is the whole point of each class::

    GatewayError
    ├── GatewayNotReached          provably never reached the gateway: safe to try the next one
    │   └── GatewayBreakerOpen       not even tried: the breaker is open until ``retry_at``
    ├── GatewayTransient           try this gateway again later (never fail over on it)
    ├── GatewayAmbiguous           sent, no usable answer: check the status before anything else
    │   ├── GatewayProtocolError     the answer came but cannot be understood
    │   └── GatewayServerError       a 5xx to a submit: it may have been recorded behind it
    ├── GatewayDeclined            a documented "no"; ``retry_elsewhere``: may another say yes
    ├── GatewayRequestRefused      a 4xx that is not a documented decline: hold for a person
    ├── GatewayCredentialsRefused  401/403: our credentials are refused; the gateway is broken
    └── CallbackError              an incoming callback is refused
        ├── CallbackRejected         bad, missing or stale signature (the API answers 401)
        └── CallbackMalformed        signed, but not a callback we understand (400)

``GatewayConfigError`` (a ``ValueError``) stands apart: it is a mistake in the
settings, raised when the gateways are built, never during a call.

How outbound failures are classified (``gateways.classify`` applies the rules).
Failover to another gateway is allowed only on proof that this one did not
and will not take the payment: the request never left (not reached), or a
documented decline code says another gateway may try. Any HTTP answer proves
the request arrived somewhere, so nothing else permits it.

=====================  ===============================  ===============================
what happened          submit                           status
=====================  ===============================  ===============================
connect failure        ``GatewayNotReached``            ``GatewayNotReached``
breaker open           ``GatewayBreakerOpen``           ``GatewayBreakerOpen``
lost after sending     ``GatewayAmbiguous``             ``GatewayTransient``
garbled 2xx, 3xx       ``GatewayProtocolError``         ``GatewayProtocolError``
5xx (503 included)     ``GatewayServerError``           ``GatewayTransient``
408, 429               ``GatewayTransient``             ``GatewayTransient``
401, 403               ``GatewayCredentialsRefused``    ``GatewayCredentialsRefused``
404                    ``GatewayRequestRefused``        an answer: ``None`` (unknown)
4xx, decline code      ``GatewayDeclined``              ``GatewayRequestRefused``
any other 4xx          ``GatewayRequestRefused``        ``GatewayRequestRefused``
=====================  ===============================  ===============================

- **not reached** — ``httpx.ConnectError``, ``ConnectTimeout``, ``PoolTimeout``,
  ``ProxyError``, an unsupported URL scheme; with httpx-aiohttp, an aiohttp
  connector error (connection refused, DNS failure, TLS handshake) or connect
  timeout. No connection existed, so no request was written.
- **breaker open** (a kind of not reached) — the breaker refused the call; no
  request was made. ``retry_at`` says when a trial call may go through.
- **ambiguous** — ``ReadTimeout``, ``ReadError``, ``RemoteProtocolError``, a
  connection reset or dropped after the request was written, ``WriteError`` /
  ``WriteTimeout`` (part of it may have arrived), and any transport error not
  known to happen before sending. The gateway may have recorded the payment.
- **protocol error** (a kind of ambiguous) — a 2xx that is garbled, over the
  size limit, about another transaction, without its amount and currency, or
  hostile XML; a 3xx. The request arrived, so it may have been recorded, but
  the answer cannot be trusted.
- **server error** (a kind of ambiguous) — any 5xx to a submission, ``503``
  included. A load balancer's 503 does not prove that the gateway behind it
  did nothing, and a gateway's own 500 may come after it recorded the payment.
  The caller asks **this** gateway for the status and resubmits to **this**
  gateway (idempotent on ``transactionId``: a repeat never charges twice),
  never another. ``retry_after_s`` is the gateway's hint, if any.
- **transient** — ``408`` and ``429`` (with ``retry_after_s`` from
  ``Retry-After``), and every 5xx or lost answer to a status read, which has
  no effect to be ambiguous about. Try this gateway again later.
- **credentials refused** — ``401``/``403``: the gateway refuses *our*
  credentials (rotated or mistyped secret). The gateway is broken for us; the
  payment is not declined. The client remembers it (``GatewayStats.
  credentials_refused_since``) until a 2xx answer comes.
- **declined** — a 4xx whose error code is in ``DECLINE_CODES``: a definitive
  "no" to this payment. ``retry_elsewhere`` comes from the table: a code about
  what this gateway supports (currency, country, limits) lets another gateway
  try; a code refusing the payment itself does not.
- **request refused** — every other 4xx (``400``, ``404`` or ``409`` to a
  submit, ``413``, ``422`` …) without a documented decline code: the request
  arrived and was refused for a reason that says nothing definitive about the
  payment (our request may be malformed, or the gateway holds this
  transaction id with other terms). Neither a decline nor grounds for
  failover; a person must look.

The ``httpx-aiohttp`` transport reports every aiohttp connection error as
``httpx.ConnectTimeout``, even a connection reset after the request was
written. ``gateways.classify`` therefore reads the aiohttp exception it
chains (``__cause__``) and classifies that: only connector errors and connect
timeouts count as not reached. The mock gateway's ``outage="refuse"`` accepts
the connection, reads the request and then resets it; a client cannot tell
that from a gateway that crashed after recording, so it is *ambiguous*. A port
where nothing listens (a real refusal) is *not reached*.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Literal

Operation = Literal["submit", "status"]
RejectionReason = Literal["missing", "malformed", "mismatch", "stale"]

# The documented decline codes of a 4xx error body, and whether another gateway may
# try the payment after one. Both gateways document the same codes.
DECLINE_CODES: Mapping[str, bool] = MappingProxyType(
    {
        # What this gateway does not serve: another one may.
        "currency_not_supported": True,
        "country_not_supported": True,
        "type_not_supported": True,
        "amount_limit_exceeded": True,
        # The payment itself is refused (risk, blocked account): no gateway should take it.
        "declined": False,
    }
)


class GatewayError(Exception):
    """Base of every error the gateway clients raise on purpose.

    ``gateway`` is the gateway's configured name; ``operation`` is "submit" or
    "status" for outbound calls and ``None`` for callbacks.
    """

    def __init__(self, message: str, *, gateway: str, operation: Operation | None = None) -> None:
        super().__init__(message)
        self.gateway = gateway
        self.operation = operation


class GatewayNotReached(GatewayError):
    """The request provably never reached the gateway: trying another one is safe."""

    @property
    def breaker_open(self) -> bool:
        """Whether the call was refused by the circuit breaker without being tried."""
        return False


class GatewayBreakerOpen(GatewayNotReached):
    """The gateway's circuit breaker is open: no request was made.

    ``retry_at`` (aware UTC) is when the breaker may let a trial call through.
    """

    def __init__(
        self, message: str, *, gateway: str, operation: Operation | None, retry_at: datetime
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.retry_at = retry_at

    @property
    def breaker_open(self) -> bool:
        """Always ``True``: this call was refused by the breaker."""
        return True


class GatewayTransient(GatewayError):
    """The gateway could not answer now (408, 429; a 5xx to a status read): try it again later.

    Only the same gateway may be retried; ``retry_after_s`` is its hint, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        gateway: str,
        operation: Operation | None = None,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.status_code = status_code
        self.retry_after_s = retry_after_s


class GatewayAmbiguous(GatewayError):
    """The request was sent but no usable answer came back: it may have been recorded.

    The caller must check the status with this gateway before doing anything else.
    """


class GatewayProtocolError(GatewayAmbiguous):
    """The gateway answered something we cannot understand (garbled, wrong transaction, hostile).

    A subclass of ``GatewayAmbiguous`` because the request did arrive and may have
    been recorded.
    """


class GatewayServerError(GatewayAmbiguous):
    """A submission was answered 5xx (``503`` included): the gateway may have recorded it.

    Any HTTP answer proves the request arrived somewhere; a proxy's 503 says
    nothing of the gateway behind it. Ask this gateway for the status and
    resubmit to it (idempotent on the transaction id), never to another.
    ``retry_after_s`` is its ``Retry-After`` hint, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        gateway: str,
        operation: Operation | None = None,
        status_code: int,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.status_code = status_code
        self.retry_after_s = retry_after_s


class GatewayDeclined(GatewayError):
    """A definitive "no": a 4xx whose code is in ``DECLINE_CODES``; ``reason`` is that code.

    ``retry_elsewhere`` is what ``DECLINE_CODES`` says of the code: true when
    the refusal is about what this gateway serves, so another may be asked.
    """

    def __init__(
        self,
        message: str,
        *,
        gateway: str,
        operation: Operation | None = None,
        reason: str,
        retry_elsewhere: bool,
        status_code: int,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.reason = reason
        self.retry_elsewhere = retry_elsewhere
        self.status_code = status_code


class GatewayRequestRefused(GatewayError):
    """A 4xx that is not a documented decline: the request arrived and was refused.

    ``code`` is the gateway's error code (``http_<status>`` when its body had
    none). It says nothing definitive about the payment: not a decline, not
    grounds for failover. The payment needs a person's decision.
    """

    def __init__(
        self,
        message: str,
        *,
        gateway: str,
        operation: Operation | None = None,
        status_code: int,
        code: str,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.status_code = status_code
        self.code = code


class GatewayCredentialsRefused(GatewayError):
    """The gateway answered ``401``/``403``: it refuses our credentials.

    The gateway is broken for us until the credentials are fixed; the payment
    is not declined. Wait for it like an unavailable gateway.
    """

    def __init__(
        self, message: str, *, gateway: str, operation: Operation | None = None, status_code: int
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.status_code = status_code


class CallbackError(GatewayError):
    """An incoming callback is refused."""


class CallbackRejected(CallbackError):
    """The callback's signature is missing, malformed, wrong or stale: answer 401.

    ``reason`` is one of "missing", "malformed", "mismatch", "stale".
    """

    def __init__(self, message: str, *, gateway: str, reason: RejectionReason) -> None:
        super().__init__(message, gateway=gateway)
        self.reason: RejectionReason = reason


class CallbackMalformed(CallbackError):
    """The callback is signed but is not one we understand (bad JSON/XML, fields, status): 400."""


class GatewayConfigError(ValueError):
    """A gateway's settings cannot work (bad URL, unknown protocol, bounds)."""
