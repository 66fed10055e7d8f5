"""The in-memory ledger: every payment a mock gateway holds, and what it did with it.

Only ``Ledger`` methods change entries, all synchronously on the event loop,
so no lock is needed. Its promises: a transaction id is recorded once, a
repeat with other terms is refused, a payment settles once and is charged
at most once. Every misbehaviour a fault injected into a payment is counted
on its entry (``injected_faults``), so tests can count them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from mock_gateways.errors import ConflictingRepeat, UnknownTransaction
from mock_gateways.payments import PaymentRequest, PaymentStatus


@dataclass(frozen=True)
class DeliveryAttempt:
    """One try at posting a callback: when, and what came back."""

    attempt: int
    at_s: float  # unix time
    outcome: str  # the receiver's HTTP status, or the connection error
    ok: bool


@dataclass
class CallbackRecord:
    """One callback message (an event id) and its delivery attempts."""

    event_id: str
    status: PaymentStatus
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    amount: Decimal | None = None  # what the callback said, when it was sent
    url: str | None = None  # where it was sent
    as_gateway: str | None = None  # whom it was sent as, when not this gateway

    @property
    def delivered(self) -> bool:
        """Whether some attempt was answered 2xx."""
        return any(attempt.ok for attempt in self.attempts)


@dataclass
class LedgerEntry:
    """A payment and its history. Mutated only by ``Ledger``."""

    request: PaymentRequest
    recorded_at_s: float
    gateway_reference: str  # the gateway's own id for the payment, as its reports name it
    status: PaymentStatus = "pending"
    reason: str | None = None
    submissions: int = 1
    charges: int = 0
    callbacks: list[CallbackRecord] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)
    # The settle_unreported_rate fault: settled, but status answers stay "pending".
    unreported: bool = False

    @property
    def reported_status(self) -> PaymentStatus:
        """The status the gateway's answers say (``pending`` forever when unreported)."""
        return "pending" if self.unreported else self.status

    def to_json(self) -> dict[str, object]:
        """The entry as ``GET /_mock/ledger`` lists it."""
        return {
            "transaction_id": self.request.transaction_id,
            "gateway_reference": self.gateway_reference,
            "type": self.request.type,
            "amount": format(self.request.amount, "f"),
            "currency": self.request.currency,
            "callback_url": self.request.callback_url,
            "recorded_at_s": self.recorded_at_s,
            "status": self.status,
            "reported_status": self.reported_status,
            "reason": self.reason,
            "submissions": self.submissions,
            "charges": self.charges,
            "callbacks_sent": len(self.callbacks),
            "callbacks_delivered": sum(record.delivered for record in self.callbacks),
            "callback_attempts": sum(len(record.attempts) for record in self.callbacks),
            "callbacks": [
                {
                    "event_id": record.event_id,
                    "status": record.status,
                    "amount": None if record.amount is None else format(record.amount, "f"),
                    "url": record.url,
                    "as_gateway": record.as_gateway,
                    "delivered": record.delivered,
                    "attempts": [
                        {"attempt": a.attempt, "at_s": a.at_s, "outcome": a.outcome, "ok": a.ok}
                        for a in record.attempts
                    ],
                }
                for record in self.callbacks
            ],
            "injected_faults": dict(sorted(self.injected.items())),
        }


class Ledger:
    """Payments by transaction id, in the order they were first recorded.

    Each new payment gets a gateway reference: ``reference_prefix`` and a
    ten-digit number counting from 1 (``GA0000000001``), again from 1 after ``clear``.
    """

    def __init__(self, reference_prefix: str = "G") -> None:
        self._entries: dict[str, LedgerEntry] = {}
        self._reference_prefix = reference_prefix

    def submit(self, request: PaymentRequest, now_s: float) -> tuple[LedgerEntry, bool]:
        """Record a submission; return the entry and whether it is new.

        A repeat counts as a submission and changes nothing else. Raises
        ``ConflictingRepeat`` (recording nothing) when a repeat asks for a
        different amount, currency or type.
        """
        entry = self._entries.get(request.transaction_id)
        if entry is None:
            reference = f"{self._reference_prefix}{len(self._entries) + 1:010d}"
            entry = LedgerEntry(request=request, recorded_at_s=now_s, gateway_reference=reference)
            self._entries[request.transaction_id] = entry
            return entry, True
        if not entry.request.same_terms(request):
            raise ConflictingRepeat(
                f"transaction {request.transaction_id} was submitted with other terms "
                f"({entry.request.type} {entry.request.amount} {entry.request.currency})"
            )
        entry.submissions += 1
        return entry, False

    def get(self, transaction_id: str) -> LedgerEntry:
        """The entry for ``transaction_id``; raises ``UnknownTransaction`` if there is none."""
        entry = self._entries.get(transaction_id)
        if entry is None:
            raise UnknownTransaction(f"no payment with transaction id {transaction_id}")
        return entry

    def settle(
        self, transaction_id: str, *, declined: bool, unreported: bool = False
    ) -> LedgerEntry:
        """Give a pending payment its final status; charge it unless declined.

        With ``unreported``, a success is kept from the gateway's answers
        (``reported_status`` stays ``pending``). A payment that already settled
        is left alone, so it is never charged twice. Raises
        ``UnknownTransaction`` if the id is not recorded.
        """
        entry = self.get(transaction_id)
        if entry.status != "pending":
            return entry
        if declined:
            entry.status, entry.reason = "failure", "declined"
        else:
            entry.status = "success"
            entry.charges += 1
            entry.unreported = unreported
        return entry

    def fail_late(self, transaction_id: str, reason: str) -> LedgerEntry:
        """Turn a successful payment into a failure after the fact (a late decline, a return).

        Only a ``success`` changes; the charge it made stays counted (it was
        made; ``charges`` never exceeds 1). Raises ``UnknownTransaction``.
        """
        entry = self.get(transaction_id)
        if entry.status == "success":
            entry.status, entry.reason = "failure", reason
        return entry

    def note_injected(self, transaction_id: str, fault: str) -> None:
        """Count one misbehaviour ``fault`` injected into this payment."""
        self.get(transaction_id).injected[fault] += 1

    def injected_totals(self) -> dict[str, int]:
        """Every injected misbehaviour over all payments, by fault."""
        totals: Counter[str] = Counter()
        for entry in self._entries.values():
            totals.update(entry.injected)
        return dict(sorted(totals.items()))

    def add_callback(
        self,
        transaction_id: str,
        event_id: str,
        status: PaymentStatus,
        *,
        amount: Decimal | None = None,
        url: str | None = None,
        as_gateway: str | None = None,
    ) -> None:
        """Note that a callback message is about to be sent (a duplicate counts again)."""
        record = CallbackRecord(event_id, status, amount=amount, url=url, as_gateway=as_gateway)
        self.get(transaction_id).callbacks.append(record)

    def add_attempt(self, transaction_id: str, event_id: str, attempt: DeliveryAttempt) -> None:
        """Record one delivery attempt of the most recent callback with ``event_id``."""
        records = self.get(transaction_id).callbacks
        record = next(r for r in reversed(records) if r.event_id == event_id)
        record.attempts.append(attempt)

    def entries(self) -> list[LedgerEntry]:
        """All entries, oldest first."""
        return list(self._entries.values())

    def clear(self) -> None:
        """Forget every payment."""
        self._entries.clear()
