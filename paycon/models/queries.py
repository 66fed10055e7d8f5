"""What the console and the CLI ask the operator facade for, and the pages it answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from paycon.models.outbox import OutboxTaskOut
from paycon.models.transactions import EventOut, LedgerLineOut, TransactionOut

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a newest-first list, and where the next one starts (None: no more)."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class TransactionDetail:
    """A transaction with its timeline, the balance movements it made and its outbox tasks."""

    transaction: TransactionOut
    events: tuple[EventOut, ...]
    ledger: tuple[LedgerLineOut, ...]
    tasks: tuple[OutboxTaskOut, ...]


@dataclass(frozen=True)
class TransactionQuery:
    """Filters of the transactions list; None means any."""

    status: str | None = None
    kind: str | None = None
    gateway: str | None = None
    customer_id: str | None = None
    # Only payments held for review (an operator's view).
    review: bool = False


@dataclass(frozen=True)
class TaskQuery:
    """Filters of the outbox task list; None means any. ``gateway`` only with submit tasks."""

    state: str | None = None
    kind: str | None = None
    gateway: str | None = None
