"""The dashboard's panels as text: traffic, outbox figures and one card per gateway."""

from __future__ import annotations

from datetime import datetime

from rich.console import Group
from rich.text import Text

from paycon.models.gateways import GatewayOut, TrafficOut
from paycon.models.outbox import OutboxStatsOut
from paycon.tui import formatting as fmt
from paycon.tui.widgets.phrases import Phrases

OUTBOX_STATES = ("pending", "running", "dead", "done")


def _label(text: Text, label: str) -> None:
    text.append(label, style="dim")


def traffic_card(traffic: TrafficOut) -> Text:
    """Accepted payments per second and the share of payment requests refused."""
    text = Text()
    text.append("Payments\n", style="bold")
    text.append(fmt.rate(traffic.payments_per_s), style="bold")
    _label(text, " accepted\n")
    errors = traffic.error_rate
    text.append(fmt.percent(errors), style="bold red" if errors else "bold")
    _label(text, " of requests refused\n")
    _label(text, f"last {fmt.span(traffic.window_s)}")
    return text


def held_line(held_for_review: int) -> Text:
    """How many payments are held for review, in the attention colour while any are."""
    text = Text()
    text.append(fmt.count(held_for_review), style="bold red" if held_for_review else "bold")
    _label(text, " held for review")
    if held_for_review:
        text.append(" ")
        text.append(fmt.HELD_MARK, style=fmt.HELD_STYLE)
    return text


def outbox_card(figures: OutboxStatsOut) -> Text:
    """Tasks by state, the backlog (due work), scheduled tasks apart, the oldest due task's age
    and throughput."""
    text = Text()
    text.append("Outbox\n", style="bold")
    for number, state in enumerate(OUTBOX_STATES):
        if number:
            _label(text, " · ")
        _label(text, f"{state} ")
        value = figures.counts.model_dump().get(state, 0)
        style = fmt.TASK_STATE_STYLES[state] if state == "dead" and value else "bold"
        text.append(fmt.count(value), style=style)
    text.append("\n")
    _label(text, "backlog ")
    text.append(fmt.count(figures.backlog), style="bold")
    _label(text, " · ")
    text.append(fmt.count(figures.scheduled), style="bold")
    _label(text, " scheduled · oldest due ")
    oldest = figures.oldest_due_age_s
    text.append(fmt.NOTHING if oldest is None else fmt.span(oldest), style="bold")
    _label(text, " · ")
    text.append(fmt.rate(figures.done_per_s), style="bold")
    _label(text, " done")
    return text


def routing(gateway: GatewayOut) -> Text:
    """``routing on`` / ``routing off`` (an operator took it out)."""
    if gateway.enabled:
        return Text("routing on", style="green")
    return Text("routing off", style="bold red")


def credentials_refused(gateway: GatewayOut, now: datetime, *, short: bool = False) -> Text:
    """``credentials refused since 2026-11-27 09:27:10 (3 min ago)`` (``short``:
    ``credentials refused for 3 min``) while the gateway refuses paycon's credentials
    (401/403: its payments wait), else nothing."""
    since = gateway.credentials_refused_since
    if since is None:
        return Text()
    if short:
        return Text(
            f"credentials refused for {fmt.span((now - since).total_seconds())}",
            style="bold red",
        )
    return Text(
        f"credentials refused since {fmt.clock(since)} ({fmt.age(since, now)})", style="bold red"
    )


def breaker_phrases(gateway: GatewayOut, now: datetime) -> Phrases:
    """What an operator needs of a breaker: ``closed 2/5 failures``; ``open for 3 min ·
    2 trials failed · next trial in 12 s``; ``half-open for 3 min · trial under way``."""
    breaker = gateway.breaker
    state = fmt.breaker_state(breaker)
    if breaker.state == "closed":
        return Phrases([state.append(f" {breaker.failures}/{breaker.fail_max} failures")])
    phrases = [state.append(f" {fmt.open_for(breaker, now)}".rstrip())]
    if breaker.state == "half_open":
        phrases.append(Text("trial under way", style="yellow"))
    phrases.append(Text(fmt.failed_trials(breaker)))
    phrases.append(Text(fmt.next_trial(breaker, now), style="yellow"))
    return Phrases(phrases)


def breaker_line(gateway: GatewayOut, now: datetime) -> Text:
    """The breaker on one line (see ``breaker_phrases``)."""
    return breaker_phrases(gateway, now).as_line()


def gateway_card(gateway: GatewayOut, now: datetime, *, compact: bool = False) -> Group:
    """A gateway at a glance: routing, refused credentials, breaker, latency and success rate
    (``compact``: routing, refused credentials and breaker only)."""
    recent = gateway.recent
    head = Text()
    head.append(gateway.name, style="bold")
    _label(head, f" {gateway.protocol} · ")
    head.append_text(routing(gateway))
    breaker = breaker_phrases(gateway, now)
    breaker.lead = Text("breaker ", style="dim")
    refused = credentials_refused(gateway, now, short=True)
    top = [head, refused] if refused.plain else [head]
    if compact:
        return Group(*top, breaker)
    text = Text()
    _label(text, "latency p50 ")
    text.append(fmt.millis(recent.latency_p50_ms), style="bold")
    _label(text, " · p99 ")
    text.append(fmt.millis(recent.latency_p99_ms), style="bold")
    text.append("\n")
    _label(text, "success ")
    low = recent.success_rate is not None and recent.success_rate < 0.9
    text.append(fmt.percent(recent.success_rate), style="bold red" if low else "bold")
    _label(text, f" of {fmt.count(recent.calls)} calls")
    if gateway.faults is not None and _faulty(gateway):
        text.append("\nmock faults on", style="magenta")
    return Group(*top, breaker, text)


def _faulty(gateway: GatewayOut) -> bool:
    faults = gateway.faults
    return faults is not None and bool(
        faults.outage or faults.error_rate or faults.callback_drop_rate
    )
