"""Who switched a mock gateway's faults, when, what changed and why: newest first.

Every switch is recorded where it happens, in the gateway itself, whoever made
it: ``PUT /_mock/faults`` (its ``X-Actor`` and ``X-Reason`` headers), a reset
restoring the faults, paycon's console and operator API, the demo's cycle.
Readers (``GET /_mock/faults/history``, paycon's gateways screen, the demo
watching for an operator's hand) all see the same entries.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from mock_gateways.errors import InvalidRequest
from mock_gateways.faults import Faults

# Entries kept per gateway; older ones are forgotten.
HISTORY_KEPT = 200
MAX_ACTOR_CHARS = 64
MAX_REASON_CHARS = 200
# Who switched when nobody said (code calling ``MockGateway.set_faults`` directly).
UNNAMED = "unnamed"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class FaultChange:
    """One switch: ``changes`` maps each fault to ``(before, after)``, JSON values.

    ``seq`` numbers the switches of one gateway from 1, in the order they were made.
    """

    seq: int
    at_s: float
    actor: str
    reason: str | None
    changes: tuple[tuple[str, object, object], ...]

    def to_json(self) -> dict[str, object]:
        """The entry as ``GET /_mock/faults/history`` answers it."""
        at = datetime.fromtimestamp(self.at_s, UTC).isoformat(timespec="milliseconds")
        return {
            "seq": self.seq,
            "at": at.replace("+00:00", "Z"),
            "actor": self.actor,
            "reason": self.reason,
            "changes": [
                {"fault": name, "before": before, "after": after}
                for name, before, after in self.changes
            ],
        }


class FaultHistory:
    """The latest switches of one gateway's faults (``HISTORY_KEPT`` at most)."""

    def __init__(self, kept: int = HISTORY_KEPT) -> None:
        self._entries: deque[FaultChange] = deque(maxlen=kept)
        self._seq = 0

    @property
    def last_seq(self) -> int:
        """The number of the latest switch (0 before any)."""
        return self._seq

    def record(
        self,
        before: Faults,
        after: Faults,
        asked: Iterable[str],
        *,
        actor: str,
        reason: str | None,
        at_s: float,
    ) -> FaultChange:
        """Note a switch: the faults that changed, or (when none did) those asked for."""
        old, new = before.to_json(), after.to_json()
        asked = [name for name in asked if name in old]
        changed = [name for name in asked if old[name] != new[name]] or asked
        self._seq += 1
        entry = FaultChange(
            seq=self._seq,
            at_s=at_s,
            actor=actor,
            reason=reason,
            changes=tuple((name, old[name], new[name]) for name in changed),
        )
        self._entries.append(entry)
        return entry

    def newest_first(self, limit: int | None = None) -> list[FaultChange]:
        """The switches kept, newest first (``limit`` of them when given)."""
        entries = list(reversed(self._entries))
        return entries if limit is None else entries[:limit]

    def since(self, seq: int) -> list[FaultChange]:
        """The switches made after switch ``seq``, oldest first."""
        return [entry for entry in self._entries if entry.seq > seq]


def check_actor(actor: str) -> str:
    """``actor`` if it names someone (1-64 characters, no control characters).

    Raises ``InvalidRequest`` otherwise.
    """
    actor = actor.strip()
    if not actor or len(actor) > MAX_ACTOR_CHARS or _CONTROL.search(actor):
        raise InvalidRequest(
            "invalid_actor",
            f"X-Actor must be 1-{MAX_ACTOR_CHARS} characters without control characters",
        )
    return actor


def check_reason(reason: str | None) -> str | None:
    """``reason`` if it is usable (at most 200 characters, no control characters), None for
    none. Raises ``InvalidRequest`` otherwise."""
    if reason is None or not reason.strip():
        return None
    reason = reason.strip()
    if len(reason) > MAX_REASON_CHARS or _CONTROL.search(reason):
        raise InvalidRequest(
            "invalid_reason",
            f"X-Reason must be at most {MAX_REASON_CHARS} characters without control characters",
        )
    return reason
