"""Signed callback delivery, with bounded retries.

``CallbackSender`` owns the one ``aiohttp.ClientSession`` its gateway posts
callbacks with. A delivery is retried when the receiver answers non-2xx or
cannot be reached, with capped exponential backoff, and every attempt is
reported to the caller as it happens. A callback can also be sent *as the
other gateway* (its format, its secret, its route): the ``callback_wrong_route``
fault.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import aiohttp
from yarl import URL

from mock_gateways.decisions import PaymentPlan
from mock_gateways.ledger import DeliveryAttempt
from mock_gateways.payments import PaymentRequest, PaymentStatus
from mock_gateways.signing import signature_header

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackEvent:
    """One callback message; ``event_id`` is what receivers deduplicate on."""

    event_id: str
    transaction_id: str
    status: PaymentStatus
    amount: Decimal
    currency: str
    reason: str | None = None

    @property
    def wire_amount(self) -> str:
        """The amount in plain decimal notation (``"10.50"``), as both gateways write it."""
        return format(self.amount, "f")


@dataclass(frozen=True)
class EncodedBody:
    """A request or callback body in a gateway's own format."""

    data: bytes
    content_type: str


CallbackEncoder = Callable[[CallbackEvent], EncodedBody]
AttemptRecorder = Callable[[DeliveryAttempt], None]


@dataclass(frozen=True)
class CallbackIdentity:
    """Whom a callback claims to come from: a gateway's name, format and signing secret."""

    name: str
    secret: str = field(repr=False)
    encode: CallbackEncoder


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard a mock tries to deliver one callback."""

    max_attempts: int = 5
    retry_base_ms: int = 500
    retry_max_ms: int = 10_000
    attempt_timeout_ms: int = 5_000

    def retry_delay_ms(self, attempts_made: int) -> int:
        """Wait before the next try after ``attempts_made`` failed ones: doubling, capped."""
        backoff_ms: int = self.retry_base_ms * 2 ** (attempts_made - 1)
        return min(self.retry_max_ms, backoff_ms)


def new_event_id() -> str:
    """A globally unique event id, so receivers never confuse two runs of the mock."""
    return f"evt_{uuid.uuid4().hex}"


def callback_events(
    payment: PaymentRequest,
    status: PaymentStatus,
    reason: str | None,
    plan: PaymentPlan,
    make_event_id: Callable[[], str] = new_event_id,
) -> list[CallbackEvent]:
    """The callbacks to send, in order, for a payment that settled with ``status``.

    Nothing when the plan drops them; the final event twice (same event id)
    when it duplicates; a stale ``pending`` event after the final one when it
    reorders. Each carries the payment's amount and currency, or a skewed
    amount when the plan skews it.
    """
    if plan.drop_callbacks:
        return []
    final = callback_event(payment, status, reason, plan, make_event_id)
    events = [final, final] if plan.duplicate_callback else [final]
    if plan.stale_pending_callback:
        events.append(callback_event(payment, "pending", None, plan, make_event_id))
    return events


def callback_event(
    payment: PaymentRequest,
    status: PaymentStatus,
    reason: str | None,
    plan: PaymentPlan,
    make_event_id: Callable[[], str] = new_event_id,
) -> CallbackEvent:
    """One new callback (its own event id) about ``payment``, amount skewed if the plan says so."""
    amount = skewed(payment.amount) if plan.skew_amount else payment.amount
    return CallbackEvent(
        make_event_id(), payment.transaction_id, status, amount, payment.currency, reason
    )


def skewed(amount: Decimal) -> Decimal:
    """``amount`` plus one unit in its last written place: ``10.50`` → ``10.51``, ``7`` → ``8``.

    Written at the currency's scale, that is one minor unit more: the smallest
    difference a receiver must still notice.
    """
    exponent = amount.as_tuple().exponent
    step = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
    return amount + step


def wrong_route_url(url: str, own_name: str, other_name: str) -> str | None:
    """``url`` with its last path segment ``own_name`` swapped for ``other_name``.

    ``http://h/v1/callbacks/gateway_a`` → ``http://h/v1/callbacks/gateway_b``.
    ``None`` when no path segment names the gateway: there is no other route to
    guess, so the fault cannot apply.
    """
    parsed = URL(url)
    segments = list(parsed.path.split("/"))
    for index in range(len(segments) - 1, -1, -1):
        if segments[index] == own_name:
            segments[index] = other_name
            return str(parsed.with_path("/".join(segments), keep_query=True))
    return None


class CallbackSender:
    """Posts signed callbacks for one gateway. ``start`` before use, ``close`` after."""

    def __init__(
        self,
        *,
        secret: str,
        encode: CallbackEncoder,
        policy: DeliveryPolicy,
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._encode = encode
        self._policy = policy
        self._clock_s = clock_s
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the HTTP session; call from the running event loop."""
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self._policy.attempt_timeout_ms / 1000)
            self._session = aiohttp.ClientSession(timeout=timeout)

    async def close(self) -> None:
        """Close the HTTP session. Deliveries must have been cancelled first."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(
        self,
        url: str,
        event: CallbackEvent,
        record: AttemptRecorder,
        *,
        as_gateway: CallbackIdentity | None = None,
    ) -> bool:
        """Post ``event`` to ``url`` until a 2xx answer or attempts run out.

        Each attempt is signed afresh (a new ``t``) and reported to ``record``.
        With ``as_gateway``, the body is in that gateway's format and signed
        with its secret. Returns whether the receiver accepted it.
        Cancellation propagates.
        """
        encode, secret = (
            (as_gateway.encode, as_gateway.secret) if as_gateway else (self._encode, self._secret)
        )
        body = encode(event)
        for attempt in range(1, self._policy.max_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self._policy.retry_delay_ms(attempt - 1) / 1000)
            outcome, ok = await self._post(url, body, secret)
            record(DeliveryAttempt(attempt=attempt, at_s=self._clock_s(), outcome=outcome, ok=ok))
            logger.info(
                "callback %s %s for %s to %s: attempt %d, %s",
                event.event_id,
                event.status,
                event.transaction_id,
                url,
                attempt,
                outcome,
                extra={"event_id": event.event_id, "transaction_id": event.transaction_id},
            )
            if ok:
                return True
        return False

    async def _post(self, url: str, body: EncodedBody, secret: str) -> tuple[str, bool]:
        if self._session is None:
            raise RuntimeError("CallbackSender.start() was not awaited")
        headers = {
            "Content-Type": body.content_type,
            "X-Signature": signature_header(secret, body.data, int(self._clock_s())),
        }
        try:
            async with self._session.post(url, data=body.data, headers=headers) as response:
                await response.read()
                return str(response.status), 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError) as exc:
            detail = str(exc)
            return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__, False
