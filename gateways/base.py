"""What every gateway client offers, and the values that cross that interface.

``Gateway`` is the one interface paycon codes against; ``gateways.registry``
builds the concrete clients from configuration. Records are frozen and
validated when built, so a client never puts a malformed value on the wire.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol, get_args
from urllib.parse import urlsplit

from gateways.breaker import BreakerState
from gateways.stats import GatewayStats

PaymentKind = Literal["deposit", "withdrawal"]
PaymentStatus = Literal["pending", "success", "failure"]
PAYMENT_KINDS: frozenset[str] = frozenset(get_args(PaymentKind))
PAYMENT_STATUSES: frozenset[str] = frozenset(get_args(PaymentStatus))

# The gateways' own rule: no "/" (A puts the id in a URL path), starts with a letter or digit.
TRANSACTION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_URL_CHARS = 2048


@dataclass(frozen=True)
class SubmitRequest:
    """One payment to hand to a gateway; ``transaction_id`` is its idempotency key.

    Raises ``ValueError`` when built with a malformed id, a non-positive or
    non-finite amount, a currency that is not three capital letters, an unknown
    kind or a callback URL that is not absolute http(s).
    """

    transaction_id: str
    amount: Decimal
    currency: str
    kind: PaymentKind
    callback_url: str

    def __post_init__(self) -> None:
        check_transaction_id(self.transaction_id)
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise ValueError("amount must be a finite Decimal")
        if self.amount <= 0:
            raise ValueError("amount must be greater than zero")
        if not CURRENCY.fullmatch(self.currency):
            raise ValueError("currency must be three capital letters")
        if self.kind not in PAYMENT_KINDS:
            raise ValueError(f"kind must be one of {sorted(PAYMENT_KINDS)}")
        if not _is_absolute_http_url(self.callback_url):
            raise ValueError("callback_url must be an absolute http(s) URL")

    @property
    def wire_amount(self) -> str:
        """The amount as a plain decimal string, as given: ``Decimal("10.50")`` is "10.50"."""
        return format(self.amount, "f")


@dataclass(frozen=True)
class GatewayAnswer:
    """What a gateway says about a payment now (a "failure" status is an answer, not an error).

    ``amount`` and ``currency`` are what the gateway says it holds for the
    payment. The clients always fill them from the answer (an answer without
    them is a ``GatewayProtocolError``); they are optional here only for
    answers a caller makes up itself (a decline turned into a "failure").
    Comparing them with the payment is the caller's job.
    """

    transaction_id: str
    status: PaymentStatus
    reason: str | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class CallbackEvent:
    """A verified callback: ``event_id`` is unique per delivery event (duplicates repeat it).

    ``amount`` and ``currency`` are what the gateway says it moved; comparing
    them with the payment is the caller's job.
    """

    event_id: str
    transaction_id: str
    status: PaymentStatus
    amount: Decimal
    currency: str
    reason: str | None = None


class Gateway(Protocol):
    """One payment gateway: submit, ask for status, verify and parse its callbacks.

    Outbound calls raise only ``GatewayError`` subclasses (see ``gateways.errors``).
    """

    @property
    def name(self) -> str:
        """The configured name (``gateway_a``); also the name of its breaker."""
        ...

    @property
    def protocol(self) -> str:
        """The wire protocol it speaks (``json`` or ``xml``)."""
        ...

    async def submit(self, request: SubmitRequest) -> GatewayAnswer:
        """Submit (or repeat) a payment; answers its current state at the gateway."""
        ...

    async def status(self, transaction_id: str) -> GatewayAnswer | None:
        """The payment's current state at the gateway, or ``None`` if it does not know it."""
        ...

    def parse_callback(
        self, raw_body: bytes, signature_header: str | None, *, now_s: float
    ) -> CallbackEvent:
        """Verify the signature over ``raw_body``, then parse it.

        Raises ``CallbackRejected`` (answer 401) or ``CallbackMalformed`` (400).
        """
        ...

    def breaker_state(self) -> BreakerState:
        """A snapshot of the gateway's circuit breaker."""
        ...

    def recent_stats(self) -> GatewayStats:
        """Success rate and latency over the most recent calls."""
        ...

    def recent_errors(self) -> tuple[str, ...]:
        """The error messages of the last failed calls, newest first (no account data)."""
        ...


def check_transaction_id(transaction_id: str) -> str:
    """Return ``transaction_id`` if the gateways accept it; raise ``ValueError`` otherwise."""
    if not isinstance(transaction_id, str) or not TRANSACTION_ID.fullmatch(transaction_id):
        raise ValueError("transaction_id must be 1-128 of [A-Za-z0-9_.:-], starting alphanumeric")
    return transaction_id


def _is_absolute_http_url(url: str) -> bool:
    if not isinstance(url, str) or len(url) > _MAX_URL_CHARS or not url.isprintable():
        return False
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and " " not in url
