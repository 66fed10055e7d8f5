"""A transaction, its timeline and the ledger lines it made, as the API answers them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from paycon.domain.balances import Account
from paycon.domain.money import Money
from paycon.domain.status import Kind
from paycon.domain.transactions import BalanceView, Review, Transaction, TransactionEvent
from paycon.models.fields import DecimalText, Out, Time, ms
from paycon.storage.queries import LedgerLineRow


class DestinationOut(Out):
    iban: str = Field(examples=["DE89 **** **** 3000"])
    holder: str = Field(examples=["J*** D***"])


class ReviewOut(Out):
    """Why a payment is held for review, what was said last, and since when."""

    reason: Literal[
        "wrong_gateway", "amount_mismatch", "conflicting_status", "request_refused",
        "task_dead", "task_discarded", "in_flight_too_long", "reconciliation_break",
    ]  # fmt: skip
    detail: str
    since: Time = Field(description="RFC 3339, UTC")

    @classmethod
    def of(cls, review: Review) -> ReviewOut:
        fields: dict[str, Any] = {
            "reason": review.reason,
            "detail": review.detail,
            "since": ms(review.since),
        }
        return cls.model_construct(**fields)


class TransactionOut(Out):
    """A transaction as the API shows it; account data is masked."""

    id: str = Field(examples=["tx_01JDXK3M6Y8Q2R4T6V8X0Z2B4D"])
    kind: Kind
    status: Literal["pending", "submitted", "completed", "failed", "reversed"]
    customer_id: str
    amount: DecimalText
    currency: str
    country: str
    gateway: str
    reference: str | None
    notify_url: str | None
    failure_reason: str | None
    created_at: Time = Field(description="RFC 3339, UTC")
    updated_at: Time = Field(description="RFC 3339, UTC")
    review: ReviewOut | None = Field(
        description="set while the payment is held for an operator's decision"
    )
    # A deposit's answer has no destination at all (not null).
    destination: DestinationOut | None = Field(default=None, exclude_if=lambda v: v is None)

    @classmethod
    def of(cls, transaction: Transaction) -> TransactionOut:
        """The record as the API shows it (it holds masked account data only)."""
        return cls.model_validate(_transaction_fields(transaction))


def _transaction_fields(tx: Transaction) -> dict[str, Any]:
    masked = tx.destination_masked
    return {
        "id": tx.id,
        "kind": tx.kind,
        "status": tx.status.value,
        "customer_id": tx.customer_id,
        "amount": tx.money.amount,
        "currency": tx.money.currency,
        "country": tx.country,
        "gateway": tx.gateway,
        "reference": tx.reference,
        "notify_url": tx.notify_url,
        "failure_reason": tx.failure_reason,
        "created_at": ms(tx.created_at),
        "updated_at": ms(tx.updated_at),
        "review": None if tx.review is None else ReviewOut.of(tx.review),
        "destination": None
        if masked is None
        else DestinationOut.model_construct(iban=masked["iban"], holder=masked["holder"]),
    }


class EventOut(Out):
    """One entry of a transaction's timeline."""

    at: Time
    type: str
    detail: str
    actor: str

    @classmethod
    def of(cls, event: TransactionEvent) -> EventOut:
        return cls.model_construct(
            at=ms(event.at), type=event.type, detail=event.detail, actor=event.actor
        )


class TransactionDetailOut(TransactionOut):
    """The transaction with its ``events`` timeline, oldest first."""

    events: list[EventOut]

    @classmethod
    def with_events(
        cls, transaction: Transaction, events: list[TransactionEvent]
    ) -> TransactionDetailOut:
        return cls.model_construct(
            **_transaction_fields(transaction), events=[EventOut.of(e) for e in events]
        )


class TransactionPageOut(Out):
    items: list[TransactionOut]
    next_cursor: str | None


AccountNameLiteral = Literal["available", "held", "owed", "clearing", "fees", "suspense", "settled"]


class AccountRefOut(Out):
    """Which ledger account: a customer's (available, held, owed) or a gateway's
    (clearing, fees, suspense, settled)."""

    holder: Literal["customer", "gateway"]
    owner: str = Field(description="the customer id or the gateway name")
    name: AccountNameLiteral

    @classmethod
    def of(cls, account: Account) -> AccountRefOut:
        return cls.model_construct(
            holder=account.holder.value, owner=account.owner, name=account.name.value
        )


class LedgerLineOut(Out):
    """One posting of one of the transaction's journal entries."""

    at: Time
    entry_id: str
    customer_id: str = Field(description="the transaction's customer")
    account: AccountRefOut
    currency: str
    bucket: AccountNameLiteral = Field(description="the account's name")
    delta: DecimalText = Field(
        description="signed decimal string: the change of the account's balance as people read it",
        examples=["-20.00"],
    )
    posting: DecimalText = Field(
        description="the same amount signed the accountant's way (debit positive); "
        "an entry's postings sum to zero",
        examples=["20.00"],
    )
    reason: str

    @classmethod
    def of(cls, line: LedgerLineRow) -> LedgerLineOut:
        account = line.account
        return cls.model_construct(
            at=ms(line.at),
            entry_id=line.entry_id,
            customer_id=line.customer_id,
            account=AccountRefOut.of(account),
            currency=account.currency,
            bucket=account.name.value,
            delta=line.delta.amount,
            posting=Money(line.posting_minor, account.currency).amount,
            reason=line.reason,
        )


class LedgerOut(Out):
    """The balance movements one transaction made, oldest first."""

    items: list[LedgerLineOut]


class BalanceOut(Out):
    currency: str
    available: DecimalText
    held: DecimalText
    owed: DecimalText | None = Field(
        default=None,
        description="what the customer owes after a reversal larger than available; "
        "present only when not zero (later deposits pay it first)",
        exclude_if=lambda owed: owed is None,
    )

    @classmethod
    def of(cls, balance: BalanceView) -> BalanceOut:
        owed = balance.owed
        return cls.model_construct(
            currency=balance.currency,
            available=balance.available.amount,
            held=balance.held.amount,
            owed=owed.amount if owed is not None and owed.minor else None,
        )


class BalancesOut(Out):
    customer_id: str
    balances: list[BalanceOut]
