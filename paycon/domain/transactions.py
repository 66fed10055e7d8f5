"""Payments as paycon records them: requests, transactions and their timeline."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from paycon.domain.masking import mask_holder, mask_iban
from paycon.domain.money import Money
from paycon.domain.status import Kind, Status

# A transaction id: "tx_" and a ULID in Crockford base32 (see paycon.domain.ids).
TRANSACTION_ID_PATTERN = r"^tx_[0-9A-HJKMNP-TV-Z]{26}$"
_TRANSACTION_ID = re.compile(TRANSACTION_ID_PATTERN)
# The longest merchant reference a payment may carry (and a search may look for).
MAX_REFERENCE_CHARS = 255


def is_transaction_id(text: str) -> bool:
    """Whether ``text`` has the shape of a transaction id (only such text is looked up by id)."""
    return _TRANSACTION_ID.fullmatch(text) is not None


def rfc3339(moment: datetime, *, timespec: str = "milliseconds") -> str:
    """``2026-11-27T04:40:28.123Z``: UTC, milliseconds (or ``timespec``, as ``isoformat``)."""
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


@dataclass(frozen=True)
class Destination:
    """Where a withdrawal pays out. Never logged or shown whole."""

    iban: str
    holder: str

    def __repr__(self) -> str:  # keeps account data out of tracebacks and logs
        return f"Destination(iban={mask_iban(self.iban)!r}, holder={mask_holder(self.holder)!r})"

    def masked(self) -> dict[str, str]:
        return {"iban": mask_iban(self.iban), "holder": mask_holder(self.holder)}


@dataclass(frozen=True)
class PaymentRequest:
    """A validated request to move money (what a merchant asked for)."""

    kind: Kind
    customer_id: str
    money: Money
    country: str
    gateway: str | None = None
    reference: str | None = None
    notify_url: str | None = None
    destination: Destination | None = None

    @cached_property
    def fingerprint(self) -> str:
        """A digest of the request's meaning: equal for equal requests.

        Amounts compare by value (``"10.5"`` equals ``"10.50"``). It covers the
        withdrawal account, so it is stored only keyed (``paycon.domain.fingerprints``).
        """
        canonical = {
            "kind": self.kind.value,
            "customer_id": self.customer_id,
            "amount_minor": self.money.minor,
            "currency": self.money.currency,
            "country": self.country,
            "gateway": self.gateway,
            "reference": self.reference,
            "notify_url": self.notify_url,
            "destination": None
            if self.destination is None
            else [self.destination.iban, self.destination.holder],
        }
        text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Review:
    """Why a payment is held for review (see ``paycon.domain.review``), and since when."""

    reason: str
    detail: str
    since: datetime


@dataclass(frozen=True)
class Transaction:
    """A payment and where it stands."""

    id: str
    kind: Kind
    status: Status
    customer_id: str
    money: Money
    country: str
    gateway: str
    route: tuple[str, ...]
    reference: str | None
    notify_url: str | None
    destination_masked: dict[str, str] | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime
    review: Review | None = None


@dataclass(frozen=True)
class TransactionEvent:
    """One entry of a transaction's timeline."""

    at: datetime
    type: str
    detail: str
    actor: str


@dataclass(frozen=True)
class BalanceView:
    """A customer's balance in one currency, as the API shows it."""

    currency: str
    available: Money
    held: Money
    owed: Money | None = None  # what the customer owes after a reversal larger than available
