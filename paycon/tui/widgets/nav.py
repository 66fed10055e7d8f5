"""The line under the header naming the list screens and their keys, the current one lit."""

from __future__ import annotations

from rich.text import Text

# (key, mode, title) of the console's list screens, in key order.
SCREENS = (
    ("1", "dashboard", "Dashboard"),
    ("2", "transactions", "Transactions"),
    ("3", "outbox", "Outbox"),
    ("4", "gateways", "Gateways"),
    ("5", "reconciliation", "Reconciliation"),
)


def nav_text(current: str | None) -> Text:
    """`` 1 Dashboard  2 Transactions ...`` with ``current`` highlighted."""
    text = Text()
    for key, mode, title in SCREENS:
        lit = mode == current
        text.append(f" {key} ", style="bold reverse" if lit else "bold")
        text.append(f"{title} ", style="bold" if lit else "dim")
        text.append(" ")
    return text
