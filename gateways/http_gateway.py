"""What every HTTP gateway client does the same way; the gateway modules add only their wire.

One call = breaker guard → retries for never-reached failures → one
exchange → interpretation of the status and body. The subclass encodes
requests and decodes answers, error bodies and callbacks (pure functions of
bytes); everything about failure lives here, once.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections import deque
from datetime import UTC, datetime
from typing import ClassVar

import httpx

from gateways.base import CallbackEvent, GatewayAnswer, SubmitRequest, check_transaction_id
from gateways.breaker import BreakerState, GatewayBreaker
from gateways.classify import parse_retry_after, status_error
from gateways.config import GatewayConfig
from gateways.errors import (
    CallbackMalformed,
    CallbackRejected,
    GatewayAmbiguous,
    GatewayBreakerOpen,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayProtocolError,
    GatewayRequestRefused,
    GatewayServerError,
    Operation,
)
from gateways.http import HttpReply, exchange
from gateways.retries import call_with_retries
from gateways.signatures import verify
from gateways.stats import GatewayStats, Outcome, OutcomeWindow
from gateways.wire import WireFormatError, WireRequest

logger = logging.getLogger(__name__)

_NOT_FOUND = 404
# Outcomes logged as warnings on every call; refused credentials are logged once per change.
_NEEDS_AN_EYE: frozenset[Outcome] = frozenset(
    {"ambiguous", "protocol_error", "server_error", "request_refused"}
)
# How many error messages of failed calls a gateway keeps for operators.
RECENT_ERRORS = 5


class HttpGateway(ABC):
    """A gateway spoken to over HTTP through an injected, shared ``httpx.AsyncClient``.

    The client is not owned: whoever built it closes it.
    """

    protocol: ClassVar[str]

    def __init__(self, config: GatewayConfig, client: httpx.AsyncClient) -> None:
        self._config = config
        self._client = client
        self._base_url = config.base_url.rstrip("/")
        self._breaker = GatewayBreaker(
            config.name, fail_max=config.fail_max, reset_timeout_s=config.reset_timeout_s
        )
        self._window = OutcomeWindow(config.stats_window)
        self._errors: deque[str] = deque(maxlen=RECENT_ERRORS)
        self._credentials_refused_since: datetime | None = None

    @property
    def name(self) -> str:
        """The configured name (``gateway_a``)."""
        return self._config.name

    async def submit(self, request: SubmitRequest) -> GatewayAnswer:
        """Submit (or repeat: it is idempotent on the transaction id) a payment.

        Answers the payment's current state, "failure" included, with the
        amount and currency the gateway holds. Raises ``GatewayNotReached``
        (``GatewayBreakerOpen`` when the breaker refused), ``GatewayAmbiguous``
        (``GatewayProtocolError`` for a garbled answer, ``GatewayServerError``
        for a 5xx), ``GatewayTransient``, ``GatewayDeclined``,
        ``GatewayRequestRefused`` or ``GatewayCredentialsRefused``.
        """
        answer = await self._call("submit", self.encode_submit(request), request.transaction_id)
        if answer is None:  # only status() treats 404 as an answer
            raise AssertionError("submit never answers None")
        return answer

    async def status(self, transaction_id: str) -> GatewayAnswer | None:
        """The payment's current state, or ``None`` when the gateway does not know it (404).

        Raises ``ValueError`` for a malformed id, and ``GatewayNotReached``,
        ``GatewayTransient`` (a 5xx included), ``GatewayProtocolError``,
        ``GatewayRequestRefused`` or ``GatewayCredentialsRefused``.
        """
        check_transaction_id(transaction_id)
        return await self._call("status", self.encode_status(transaction_id), transaction_id)

    def parse_callback(
        self, raw_body: bytes, signature_header: str | None, *, now_s: float
    ) -> CallbackEvent:
        """Verify the ``X-Signature`` over the raw body, then parse the callback.

        Raises ``CallbackRejected`` (missing, malformed, stale or wrong signature:
        answer 401) or ``CallbackMalformed`` (signed, but not a callback: 400).
        """
        try:
            verify(
                self._config.secret,
                raw_body,
                signature_header,
                now_s=now_s,
                gateway=self.name,
                tolerance_s=self._config.signature_tolerance_s,
            )
        except CallbackRejected as exc:
            logger.warning(
                "%s callback rejected: %s",
                self.name,
                exc.reason,
                extra={"gateway": self.name, "rejection": exc.reason},
            )
            raise
        if len(raw_body) > self._config.max_response_bytes:
            raise CallbackMalformed(f"{self.name}: callback body too large", gateway=self.name)
        try:
            return self.decode_callback(raw_body)
        except WireFormatError as exc:
            raise CallbackMalformed(f"{self.name} callback: {exc}", gateway=self.name) from exc

    def breaker_state(self) -> BreakerState:
        """A snapshot of this gateway's circuit breaker."""
        return self._breaker.snapshot()

    def recent_stats(self) -> GatewayStats:
        """Success rate and latency over this gateway's most recent calls.

        ``credentials_refused_since`` says whether (and since when) the gateway
        refuses our credentials.
        """
        return self._window.snapshot(credentials_refused_since=self._credentials_refused_since)

    def recent_errors(self) -> tuple[str, ...]:
        """The error messages of the last failed calls, newest first.

        Declines are answers, not errors, and a call the breaker refused was
        never made; neither is listed. Messages name the gateway, the
        operation and the transaction id, never a request's account data.
        """
        return tuple(reversed(self._errors))

    # The wire, per gateway: pure functions of values and bytes.

    @abstractmethod
    def encode_submit(self, request: SubmitRequest) -> WireRequest:
        """The HTTP request that submits ``request``."""

    @abstractmethod
    def encode_status(self, transaction_id: str) -> WireRequest:
        """The HTTP request that asks for a payment's status."""

    @abstractmethod
    def decode_answer(self, operation: Operation, body: bytes) -> GatewayAnswer:
        """A success answer's body; raises ``WireFormatError`` if it is not one."""

    @abstractmethod
    def decode_error(self, body: bytes) -> tuple[str | None, str | None]:
        """``(code, message)`` from an error body, ``None`` where it cannot be read."""

    @abstractmethod
    def decode_callback(self, body: bytes) -> CallbackEvent:
        """A callback's body; raises ``WireFormatError`` if it is not one."""

    # One call, with everything that can go wrong.

    async def _call(
        self, operation: Operation, wire: WireRequest, transaction_id: str
    ) -> GatewayAnswer | None:
        started_s = time.perf_counter()
        outcome: Outcome | None = None
        try:
            async with self._breaker.guard(operation):
                answer = await call_with_retries(
                    self._config.retry, lambda: self._try_once(operation, wire, transaction_id)
                )
            outcome = "answered"
            if answer is not None:  # a 2xx: our credentials work
                self._credentials_accepted()
            return answer
        except GatewayError as exc:
            outcome = _outcome_of(exc)
            if isinstance(exc, GatewayCredentialsRefused):
                self._credentials_refused(exc)
            if outcome not in (None, "declined"):
                self._errors.append(f"{type(exc).__name__}: {exc} ({transaction_id})")
            raise
        finally:
            if outcome is not None:
                latency_ms = (time.perf_counter() - started_s) * 1000
                self._window.record(outcome, latency_ms)
                self._log_call(operation, transaction_id, outcome, latency_ms)

    async def _try_once(
        self, operation: Operation, wire: WireRequest, transaction_id: str
    ) -> GatewayAnswer | None:
        request = self._client.build_request(
            wire.method,
            self._base_url + wire.path,
            content=wire.content,
            params=wire.params or None,
            headers={"Content-Type": wire.content_type} if wire.content_type else None,
        )
        reply = await exchange(
            self._client,
            request,
            gateway=self.name,
            operation=operation,
            max_body_bytes=self._config.max_response_bytes,
        )
        return self._interpret(operation, reply, transaction_id)

    def _interpret(
        self, operation: Operation, reply: HttpReply, transaction_id: str
    ) -> GatewayAnswer | None:
        if 200 <= reply.status_code < 300:
            return self._read_answer(operation, reply.body, transaction_id)
        if operation == "status" and reply.status_code == _NOT_FOUND:
            return None
        code, message = self.decode_error(reply.body)
        raise status_error(
            reply.status_code,
            gateway=self.name,
            operation=operation,
            code=code,
            message=message,
            retry_after_s=parse_retry_after(reply.headers.get("Retry-After")),
        )

    def _read_answer(self, operation: Operation, body: bytes, transaction_id: str) -> GatewayAnswer:
        try:
            answer = self.decode_answer(operation, body)
        except WireFormatError as exc:
            raise GatewayProtocolError(
                f"{self.name} {operation}: garbled answer: {exc}",
                gateway=self.name,
                operation=operation,
            ) from exc
        if answer.transaction_id != transaction_id:
            raise GatewayProtocolError(
                f"{self.name} {operation}: answer is about transaction "
                f"{answer.transaction_id!r}, not {transaction_id!r}",
                gateway=self.name,
                operation=operation,
            )
        return answer

    def _credentials_refused(self, exc: GatewayCredentialsRefused) -> None:
        if self._credentials_refused_since is not None:
            return  # logged when it began; not once per call
        self._credentials_refused_since = datetime.now(UTC)
        logger.warning(
            "%s refuses our credentials (HTTP %d): fix the gateway's credentials",
            self.name,
            exc.status_code,
            extra={"gateway": self.name, "credentials": "refused", "status_code": exc.status_code},
        )

    def _credentials_accepted(self) -> None:
        if self._credentials_refused_since is None:
            return
        self._credentials_refused_since = None
        logger.info(
            "%s accepts our credentials again",
            self.name,
            extra={"gateway": self.name, "credentials": "accepted"},
        )

    def _log_call(
        self, operation: Operation, transaction_id: str, outcome: Outcome, latency_ms: float
    ) -> None:
        # Ambiguity needs a human's eye sooner or later; the rest is routine.
        level = logging.WARNING if outcome in _NEEDS_AN_EYE else logging.DEBUG
        logger.log(
            level,
            "%s %s %s: %s in %.1f ms",
            self.name,
            operation,
            transaction_id,
            outcome,
            latency_ms,
            extra={
                "gateway": self.name,
                "operation": operation,
                "transaction_id": transaction_id,
                "outcome": outcome,
                "latency_ms": round(latency_ms, 3),
            },
        )


def _outcome_of(exc: GatewayError) -> Outcome | None:
    """The stats outcome of a failed call; ``None`` when no call was made (breaker open)."""
    if isinstance(exc, GatewayBreakerOpen):
        return None
    if isinstance(exc, GatewayNotReached):
        return "not_reached"
    if isinstance(exc, GatewayDeclined):
        return "declined"
    if isinstance(exc, GatewayRequestRefused):
        return "request_refused"
    if isinstance(exc, GatewayCredentialsRefused):
        return "credentials_refused"
    if isinstance(exc, GatewayServerError):
        return "server_error"
    if isinstance(exc, GatewayProtocolError):
        return "protocol_error"
    if isinstance(exc, GatewayAmbiguous):
        return "ambiguous"
    return "transient"
