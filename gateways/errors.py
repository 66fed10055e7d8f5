"""Every error the gateway clients raise on purpose, as one tree.

What the caller should do is the whole point of each class::

    GatewayError
    ├── GatewayNotReached      provably never reached the gateway: safe to try the next one
    │   └── GatewayBreakerOpen   not even tried: the breaker is open until ``retry_at``
    ├── GatewayTransient       try this gateway again later (never fail over on it)
    ├── GatewayAmbiguous       sent, no usable answer: check the status before anything else
    │   └── GatewayProtocolError the answer came but cannot be understood
    ├── GatewayDeclined        a definitive "no"; ``retry_elsewhere`` says if another may say yes
    └── CallbackError          an incoming callback is refused
        ├── CallbackRejected     bad, missing or stale signature (the API answers 401)
        └── CallbackMalformed    signed, but not a callback we understand (400)

``GatewayConfigError`` (a ``ValueError``) stands apart: it is a mistake in the
settings, raised when the gateways are built, never during a call.

How outbound failures are classified (``gateways.classify`` applies the rules):

- **not reached** — ``httpx.ConnectError``, ``ConnectTimeout``, ``PoolTimeout``,
  ``ProxyError``, an unsupported URL scheme; with httpx-aiohttp, an aiohttp
  connector error (connection refused, DNS failure, TLS handshake) or connect
  timeout. No connection existed, so no request was written. Also ``503``: the
  gateway refuses work before accepting it (the mock: "nothing is recorded").
- **breaker open** (a kind of not reached) — the breaker refused the call; no
  request was made. ``retry_at`` says when a trial call may go through.
- **ambiguous** — ``ReadTimeout``, ``ReadError``, ``RemoteProtocolError``, a
  connection reset or dropped after the request was written, ``WriteError`` /
  ``WriteTimeout`` (part of it may have arrived), and any transport error not
  known to happen before sending. The gateway may have recorded the payment.
- **protocol error** (a kind of ambiguous) — a 2xx that is garbled, over the
  size limit, about another transaction, or hostile XML; a 3xx. The request
  arrived, so it may have been recorded, but the answer cannot be trusted.
- **transient** — ``500``, ``502``, ``504`` and every other 5xx but 503;
  ``408`` and ``429`` (with ``retry_after_s`` from ``Retry-After``).
- **declined, not elsewhere** — ``409``: the gateway already holds this
  transaction id with other terms, so the payment lives *there*.
- **declined, elsewhere allowed** — every other 4xx (``400`` invalid request,
  ``401``/``403``, ``404`` on submit, ``413``, ``422``): refused before
  anything was recorded.

5xx other than 503 are *transient* rather than ambiguous or not-reached: the
mock answers 500 before recording anything, but a real gateway's 500 (or a
proxy's 502/504) may come after it recorded the payment. Retrying **the same
gateway** is safe either way, because submission is idempotent on
``transactionId``: a repeat answers the current state and never charges twice.
Failing over to another gateway is not safe, so a transient error never
permits it.

The ``httpx-aiohttp`` transport reports every aiohttp connection error as
``httpx.ConnectTimeout``, even a connection reset after the request was
written. ``gateways.classify`` therefore reads the aiohttp exception it
chains (``__cause__``) and classifies that: only connector errors and connect
timeouts count as not reached. The mock gateway's ``outage="refuse"`` accepts
the connection, reads the request and then resets it; a client cannot tell
that from a gateway that crashed after recording, so it is *ambiguous*. A port
where nothing listens (a real refusal) is *not reached*.

``status()`` has no effect to be ambiguous about: a status read whose answer
is lost raises ``GatewayTransient``, never ``GatewayAmbiguous`` (a garbled
status answer is still ``GatewayProtocolError``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

Operation = Literal["submit", "status"]
RejectionReason = Literal["missing", "malformed", "mismatch", "stale"]


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
    """The request provably never reached the gateway: trying another one is safe.

    ``retry_after_s`` is the gateway's own hint (a 503's ``Retry-After``), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        gateway: str,
        operation: Operation | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, gateway=gateway, operation=operation)
        self.retry_after_s = retry_after_s

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
    """The gateway could not answer now (5xx other than 503, 408, 429): try it again later.

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


class GatewayDeclined(GatewayError):
    """A definitive "no" (a 4xx meaning it): ``reason`` is the gateway's code.

    ``retry_elsewhere`` is true when the gateway refused before recording anything,
    so another gateway may be asked; false when the payment lives on this gateway
    (a conflicting repeat).
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
