"""Mock gateway fault values as operators read them: one spelling per value, everywhere.

The console's faults line, its notifications, the fault changes ("outage: off →
503") and the audit trail all write values with ``fault_value``: ``off`` and
``on`` for false and true (an outage that is off is ``off``, one answering
503 is ``503``), numbers as they are (``0``, ``0.3``, ``200``).
"""

from __future__ import annotations

from collections.abc import Iterable


def fault_value(value: object) -> str:
    """``off``/``on`` for false/true, ``0.3``, ``0``, ``200``, ``503``, ``refuse``."""
    if value is False or value is None:
        return "off"
    if value is True:
        return "on"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_changes(changes: Iterable[tuple[str, object, object]]) -> str:
    """Each ``(fault, before, after)`` as ``fault: before → after``, or ``fault: value
    (unchanged)``; ``nothing asked`` for none."""
    parts = []
    for name, before, after in changes:
        old, new = fault_value(before), fault_value(after)
        parts.append(f"{name}: {old} (unchanged)" if old == new else f"{name}: {old} → {new}")
    return "; ".join(parts) or "nothing asked"
