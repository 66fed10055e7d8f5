"""The filter line of the lists: ``status:failed gateway:gateway_b`` and the like, parsed.

Operators type one line instead of walking through drop-downs. A ``name:value``
word filters; a bare word is a search (a transaction's id or merchant
reference, or a task's id). Parsing is pure and raises ``FilterError`` with a
message the console shows as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paycon.domain.status import Kind, Status
from paycon.models.queries import TaskQuery, TransactionQuery
from paycon.models.transactions import TransactionOut

TASK_STATES = ("pending", "running", "dead", "done")
TASK_KINDS = ("submit", "status_check", "notify")
# ``review:held``: only the payments held for review.
REVIEW_VALUES = ("held",)


class FilterError(ValueError):
    """The filter line cannot be read; the message says why."""


@dataclass(frozen=True)
class TransactionFilter:
    """What the transactions list shows: ``query``, or the matches of ``search`` within it."""

    query: TransactionQuery = field(default_factory=TransactionQuery)
    search: str | None = None

    def admits(self, transaction: TransactionOut) -> bool:
        """Whether ``transaction`` passes ``query`` (search hits are filtered with it)."""
        query = self.query
        return (
            query.status in (None, transaction.status)
            and query.kind in (None, transaction.kind)
            and query.gateway in (None, transaction.gateway)
            and query.customer_id in (None, transaction.customer_id)
            and (not query.review or transaction.review is not None)
        )


@dataclass(frozen=True)
class TaskFilter:
    """Kind and gateway of the outbox list (its state comes from the tabs), or one task's id."""

    kind: str | None = None
    gateway: str | None = None
    task_id: int | None = None

    def query(self, state: str | None) -> TaskQuery:
        return TaskQuery(state=state, kind=self.kind, gateway=self.gateway)


def _words(text: str) -> tuple[dict[str, str], list[str]]:
    named: dict[str, str] = {}
    bare: list[str] = []
    for word in text.split():
        name, colon, value = word.partition(":")
        if not colon:
            bare.append(word)
            continue
        if not value:
            raise FilterError(f"{name}: needs a value, as in {name}:something")
        if name in named:
            raise FilterError(f"{name}: given twice")
        named[name] = value
    return named, bare


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise FilterError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _unknown(named: dict[str, str], known: tuple[str, ...]) -> None:
    for name in named:
        if name not in known:
            raise FilterError(f"{name}: unknown filter (known: {', '.join(known)})")


def parse_transaction_filter(text: str) -> TransactionFilter:
    """``status:failed kind:deposit gateway:gateway_a customer:cus_42 review:held`` and an
    optional id or reference to search for. Raises FilterError."""
    named, bare = _words(text)
    _unknown(named, ("status", "kind", "gateway", "customer", "review"))
    if len(bare) > 1:
        raise FilterError("search for one id or reference at a time")
    status = named.get("status")
    kind = named.get("kind")
    query = TransactionQuery(
        status=None if status is None else _one_of("status", status, tuple(Status)),
        kind=None if kind is None else _one_of("kind", kind, tuple(Kind)),
        gateway=named.get("gateway"),
        customer_id=named.get("customer"),
        review="review" in named and bool(_one_of("review", named["review"], REVIEW_VALUES)),
    )
    return TransactionFilter(query, bare[0] if bare else None)


def parse_task_filter(text: str) -> TaskFilter:
    """``kind:submit gateway:gateway_b``, or a task id alone. Raises FilterError."""
    named, bare = _words(text)
    _unknown(named, ("kind", "gateway"))
    if bare:
        if named or len(bare) > 1 or not bare[0].isdecimal():
            raise FilterError("a bare word opens one task: give its id alone, as in 1234")
        return TaskFilter(task_id=int(bare[0]))
    kind = named.get("kind")
    return TaskFilter(
        kind=None if kind is None else _one_of("kind", kind, TASK_KINDS),
        gateway=named.get("gateway"),
    )


def describe_transaction_filter(chosen: TransactionFilter) -> str:
    """The filter in words for the status line: ``status failed · gateway gateway_a``."""
    query = chosen.query
    parts = [
        f"{name} {value}"
        for name, value in (
            ("status", query.status),
            ("kind", query.kind),
            ("gateway", query.gateway),
            ("customer", query.customer_id),
        )
        if value is not None
    ]
    if query.review:
        parts.insert(0, "held for review")
    if chosen.search is not None:
        parts.insert(0, f"id or reference {chosen.search}")
    return " · ".join(parts) if parts else "all"


def describe_task_query(query: TaskQuery) -> str:
    """``dead submit tasks for gateway_b``: what a bulk action would touch."""
    words = [query.state or "", query.kind or "", "tasks"]
    text = " ".join(w for w in words if w)
    if query.gateway is not None:
        text += f" for {query.gateway}"
    return text
