"""How the console writes times, ages, money, rates and states: pure functions of their inputs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from rich.text import Text

from paycon.models.gateways import BreakerOut

NOTHING = "—"

STATUS_STYLES = {
    "pending": "yellow",
    "submitted": "cyan",
    "completed": "green",
    "failed": "bold red",
    "reversed": "bold magenta",
}
# A payment held for review: it waits for a person. One cell, so a narrow terminal keeps
# its columns.
HELD_MARK = "⚑"
HELD_STYLE = "bold black on yellow"
TASK_STATE_STYLES = {
    "pending": "yellow",
    "running": "cyan",
    "done": "green",
    "dead": "bold red",
}
BREAKER_STYLES = {
    "closed": "bold green",
    "half_open": "bold yellow",
    "open": "bold red",
}


def span(seconds: float) -> str:
    """A duration as people say it: ``12 s``, ``4 min``, ``3 h``, ``2 d``."""
    whole = int(abs(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h"
    return f"{whole // 86400} d"


def age(moment: datetime, now: datetime) -> str:
    """``3 s ago`` for the past, ``in 12 s`` for the future, ``now`` within a second."""
    seconds = (now - moment).total_seconds()
    if abs(seconds) < 1:
        return "now"
    return f"{span(seconds)} ago" if seconds > 0 else f"in {span(seconds)}"


def clock(moment: datetime) -> str:
    """A time of day in UTC with the date: ``2026-11-27 06:26:13``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def money(amount: Decimal, currency: str) -> str:
    """``100.50 EUR``, with thousands separated."""
    return f"{amount:,} {currency}"


def signed_money(amount: Decimal, currency: str) -> str:
    """``+100.50 EUR`` / ``-20.00 EUR``: a balance movement."""
    return f"{amount:+,} {currency}"


def percent(share: float | None) -> str:
    """``98.5%``, or a dash when there is nothing to measure."""
    return NOTHING if share is None else f"{share * 100:.1f}%"


def millis(value: float | None) -> str:
    """``35 ms``, or a dash."""
    return NOTHING if value is None else f"{value:,.0f} ms"


def rate(per_s: float) -> str:
    """``12.3/s``."""
    return f"{per_s:,.1f}/s"


def count(value: int) -> str:
    """``1,204``."""
    return f"{value:,}"


def styled(value: str, styles: dict[str, str]) -> Text:
    """``value`` in the style the table gives it (plain when it has none)."""
    return Text(value, style=styles.get(value, ""))


def breaker_state(breaker: BreakerOut) -> Text:
    """``closed`` / ``open`` / ``half-open`` in its colour."""
    return Text(breaker.state.replace("_", "-"), style=BREAKER_STYLES.get(breaker.state, ""))


def next_trial(breaker: BreakerOut, now: datetime) -> str:
    """When an open breaker lets the next trial call through: ``next trial in 12 s``."""
    if breaker.state != "open" or breaker.may_half_open_at is None:
        return ""
    seconds = (breaker.may_half_open_at - now).total_seconds()
    if seconds < 1:
        return "next trial now"
    return f"next trial in {span(seconds)}"


def failed_trials(breaker: BreakerOut) -> str:
    """``1 trial failed``, ``3 trials failed``, or nothing."""
    count = breaker.failed_trials
    if not count:
        return ""
    return f"{count:,} trial{'' if count == 1 else 's'} failed"


def open_for(breaker: BreakerOut, now: datetime) -> str:
    """How long a breaker has been open without closing: ``for 48 s``, or nothing."""
    since = breaker.open_since or breaker.opened_at
    if breaker.state == "closed" or since is None:
        return ""
    return f"for {span((now - since).total_seconds())}"


def one_line(text: str | None, width: int = 80) -> str:
    """The first line of ``text``, cut to ``width`` characters; a dash for nothing."""
    if not text:
        return NOTHING
    first = text.splitlines()[0] if text.splitlines() else text
    return first if len(first) <= width else first[: width - 1] + "…"
