"""The transaction status machine: statuses only move forward."""

from __future__ import annotations

from enum import Enum, StrEnum


class Kind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class Status(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    COMPLETED = "completed"
    FAILED = "failed"
    # A completed payment undone afterwards, by an operator's decision (see domain.review).
    REVERSED = "reversed"

    @property
    def is_final(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED, Status.REVERSED)


_RANK = {Status.PENDING: 0, Status.SUBMITTED: 1, Status.COMPLETED: 2, Status.FAILED: 2,
         Status.REVERSED: 3}  # fmt: skip


class Transition(Enum):
    """What to do with a proposed status change."""

    APPLY = "apply"
    # The transaction already has this status: a duplicate, nothing to do.
    UNCHANGED = "unchanged"
    # The proposal would move the status back: record it, change nothing.
    BACKWARDS = "backwards"
    # A final status meets the other final status: record and flag it.
    CONFLICT = "conflict"

    @property
    def applies(self) -> bool:
        return self is Transition.APPLY


def decide_transition(current: Status, proposed: Status) -> Transition:
    """Decide whether ``current`` may move to ``proposed`` (forward only)."""
    if current is proposed:
        return Transition.UNCHANGED
    if current.is_final and proposed.is_final:
        return Transition.CONFLICT
    if _RANK[proposed] < _RANK[current] or current.is_final:
        return Transition.BACKWARDS
    return Transition.APPLY
