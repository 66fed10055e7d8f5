"""The gateways: breaker, latency, success, errors and routing; and the switches operators pull."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from paycon.domain.fault_text import fault_value
from paycon.models.gateways import FaultChangeOut, GatewayOut
from paycon.models.outbox import OutboxAuditOut
from paycon.tui import formatting as fmt
from paycon.tui.context import ConsoleContext
from paycon.tui.messages import GatewaysFetched
from paycon.tui.screens.base import QUIT
from paycon.tui.screens.live import LiveScreen
from paycon.tui.screens.modals import AskScreen, share
from paycon.tui.widgets.cards import breaker_line, credentials_refused, routing
from paycon.tui.widgets.phrases import Phrases
from paycon.tui.widgets.tables import RowTable, plain, refill, selected_key

FAULT_ACTIONS = frozenset({"outage", "error_rate", "callback_drop", "heal"})
# What "healthy" switches back: the faults this screen turns on.
HEALTHY = {"outage": False, "error_rate": 0.0, "callback_drop_rate": 0.0}
SHOWN_FAULTS = (
    "outage",
    "error_rate",
    "timeout_rate",
    "decline_rate",
    "latency_ms",
    "callback_delay_ms",
    "callback_drop_rate",
    "callback_duplicate_rate",
)


def gateway_cells(gateway: GatewayOut, now: datetime) -> tuple[Text, ...]:
    recent = gateway.recent
    health = breaker_line(gateway, now)
    if gateway.credentials_refused_since is not None:
        # Its payments wait as behind an open breaker: the same column says so, first.
        health = Text("credentials refused", style="bold red").append(" · ", style="dim")
        health.append_text(breaker_line(gateway, now))
    return (
        Text(gateway.name, style="bold"),
        plain(gateway.protocol),
        routing(gateway),
        health,
        Text(fmt.millis(recent.latency_p50_ms), justify="right"),
        Text(fmt.millis(recent.latency_p99_ms), justify="right"),
        Text(fmt.percent(recent.success_rate), justify="right"),
        Text(fmt.count(recent.calls), justify="right"),
    )


def faults_text(faults: Mapping[str, Any]) -> Phrases:
    """The mock's fault settings that matter, the ones switched on in colour; lines break
    between settings, never inside one."""
    phrases = []
    for name in SHOWN_FAULTS:
        value = faults.get(name)
        phrase = Text(f"{name} ", style="dim")
        phrase.append(fault_value(value), style="bold magenta" if value else "")
        phrases.append(phrase)
    return Phrases(phrases, lead=Text("  "))


def change_lines(changes: Sequence[OutboxAuditOut | FaultChangeOut]) -> list[Text]:
    """Audited changes, newest first: when, what, who, why (and what changed, if told)."""
    if not changes:
        return [Text("  none", style="dim")]
    lines = []
    for change in changes:
        line = Text(f"  {fmt.clock(change.at)}  {change.action}  by {change.actor}")
        if change.reason:
            line.append(f"  — {change.reason}", style="italic")
        if change.detail:
            line.append(f"\n      {change.detail}", style="dim")
        lines.append(line)
    return lines


def gateway_detail(gateway: GatewayOut, now: datetime) -> Group:
    """Refused credentials, recent errors, routing changes and (for an embedded mock) its
    faults and their changes."""
    parts: list[RenderableType] = []
    refused = credentials_refused(gateway, now)
    if refused.plain:
        refused.append(
            "\n  401/403: its payments wait, using no attempt, until it accepts paycon's "
            "credentials (check its secret)\n",
            style="red",
        )
        parts.append(refused)
    parts.append(Text(f"{gateway.name} — recent errors, newest first", style="bold"))
    if gateway.recent_errors:
        parts += [Text(f"  {error}", style="red") for error in gateway.recent_errors]
    else:
        parts.append(Text("  none", style="dim"))
    parts.append(Text("\nRouting changes", style="bold"))
    parts += change_lines(gateway.routing_changes)
    parts.append(Text("\nMock faults", style="bold"))
    if gateway.faults is None:
        parts.append(Text("  not an embedded mock: faults cannot be switched here", style="dim"))
        return Group(*parts)
    parts.append(faults_text(gateway.faults.model_dump()))
    parts.append(Text("\nFault changes", style="bold"))
    parts += change_lines(gateway.fault_changes)
    return Group(*parts)


class GatewaysScreen(LiveScreen):
    """Every gateway, refreshed every ``refresh_s`` while shown."""

    MODE = "gateways"
    HELP = (
        "Each gateway's routing and whether it refuses paycon's credentials (401/403: "
        "'credentials refused since …'; its payments wait), its circuit breaker (closed "
        "with its failures so far; open: for how long, how many trials failed and when "
        "the next one is; half-open while a trial runs), latency, success rate and recent"
        " errors. e takes the selected gateway out of routing for new payments, or brings"
        " it back (asks why; audited). With embedded mock gateways: o switches an outage "
        "on or off, f sets the error rate, c the callback drop rate, h makes it healthy "
        "again — the fastest way to watch the breaker open and new payments go elsewhere."
        " Fault changes lists every switch of the mock's faults, whoever made it (the "
        "console, the operator API, the demo, a PUT /_mock/faults), newest first."
    )
    CHANGES: ClassVar[frozenset[str]] = frozenset({"toggle_routing"} | FAULT_ACTIONS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "toggle_routing", "Routing on/off…"),
        Binding("o", "outage", "Outage on/off"),
        Binding("f", "error_rate", "Error rate…"),
        Binding("c", "callback_drop", "Callback drops…"),
        Binding("h", "heal", "Healthy"),
        QUIT,
    ]
    DEFAULT_CSS = """
    GatewaysScreen #gateways { height: auto; max-height: 12; margin: 0 1; }
    GatewaysScreen #detail { margin: 1 1; height: auto; }
    """

    def __init__(self, ctx: ConsoleContext) -> None:
        super().__init__(ctx)
        self._gateways: dict[str, GatewayOut] = {}

    def compose_body(self) -> ComposeResult:
        yield RowTable(
            "Gateway", "Protocol", "Routing", "Breaker", "p50", "p99", "Success", "Calls",
            id="gateways",
        )  # fmt: skip
        with VerticalScroll():
            yield Static(id="detail")

    def on_mount(self) -> None:
        # Textual calls LiveScreen.on_mount as well: it starts the refresh timer.
        self.query_one("#gateways", DataTable).focus()

    async def fetch(self) -> None:
        gateways = await self.attempt(
            self.ctx.facade.gateways(), doing="read the gateways", loud=False
        )
        if gateways is not None:
            self.post_message(GatewaysFetched(gateways))

    def on_gateways_fetched(self, message: GatewaysFetched) -> None:
        now = self.ctx.now()
        self._gateways = {g.name: g for g in message.gateways}
        table = self.query_one("#gateways", RowTable)
        refill(table, ((g.name, gateway_cells(g, now)) for g in message.gateways))
        self._show_detail()
        self.update_bindings()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()
        self.update_bindings()

    def _show_detail(self) -> None:
        gateway = self.selected()
        detail = self.query_one("#detail", Static)
        detail.update(Text("") if gateway is None else gateway_detail(gateway, self.ctx.now()))

    def known_gateways(self) -> tuple[GatewayOut, ...]:
        """The gateways as last read."""
        return tuple(self._gateways.values())

    def selected(self) -> GatewayOut | None:
        """The gateway under the cursor."""
        key = selected_key(self.query_one("#gateways", DataTable))
        return None if key is None else self._gateways.get(key)

    def binding_basis(self) -> object:
        gateway = self.selected()
        return None if gateway is None else (gateway.name, gateway.faults is None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        if not allowed:
            return allowed
        gateway = self.selected()
        if action in FAULT_ACTIONS:
            # Faults exist only for embedded mocks: elsewhere these keys do not exist.
            return gateway is not None and gateway.faults is not None
        if action == "toggle_routing":
            return True if gateway is not None else None
        return True

    # Routing.

    def action_toggle_routing(self) -> None:
        gateway = self.selected()
        if gateway is not None:
            self.set_routing(gateway.name, enabled=not gateway.enabled)

    @work(group="actions")
    async def set_routing(self, name: str, *, enabled: bool) -> None:
        """Bring ``name`` back into routing, or take it out, after asking why."""
        if self.ctx.read_only:
            return
        title = f"Bring {name} back into routing" if enabled else f"Take {name} out of routing"
        prompt = (
            "New payments may be routed to it again. Why?"
            if enabled
            else "New payments will not be routed to it; payments already there finish there. Why?"
        )
        reason = await self.app.push_screen_wait(
            AskScreen(title, prompt, placeholder="for example: provider incident INC-42")
        )
        if reason is None:
            return
        gateway = await self.attempt(
            self.ctx.facade.set_gateway_enabled(name, enabled=enabled, reason=reason),
            doing=f"change routing of {name}",
        )
        if gateway is not None:
            state = "back in routing" if gateway.enabled else "out of routing"
            self.notify(f"{name} is {state}.", title="Routing changed", markup=False)
        self.fetch_now()

    # Faults of embedded mock gateways.

    def action_outage(self) -> None:
        gateway = self.selected()
        if gateway is not None and gateway.faults is not None:
            outage: object = False if gateway.faults.outage else "503"
            self.switch_faults(gateway.name, {"outage": outage})

    def action_error_rate(self) -> None:
        self._ask_share("error_rate", "Error rate", "Share of requests answered 5xx (0 to 1)")

    def action_callback_drop(self) -> None:
        self._ask_share(
            "callback_drop_rate", "Callback drop rate", "Share of callbacks never sent (0 to 1)"
        )

    def action_heal(self) -> None:
        gateway = self.selected()
        if gateway is not None and gateway.faults is not None:
            self.switch_faults(gateway.name, HEALTHY)

    def _ask_share(self, fault: str, title: str, prompt: str) -> None:
        gateway = self.selected()
        if gateway is not None and gateway.faults is not None:
            current = str(gateway.faults.model_dump().get(fault, 0))
            self._ask_then_switch(
                gateway.name, fault, f"{title} of {gateway.name}", prompt, current
            )

    @work(group="actions")
    async def _ask_then_switch(
        self, name: str, fault: str, title: str, prompt: str, current: str
    ) -> None:
        answer = await self.app.push_screen_wait(
            AskScreen(title, prompt, value=current, check=share)
        )
        if answer is not None:
            self.switch_faults(name, {fault: float(answer)})

    @work(group="actions")
    async def switch_faults(self, name: str, changes: Mapping[str, object]) -> None:
        """Apply ``changes`` to the embedded mock ``name``'s faults."""
        if self.ctx.read_only:
            return
        faults = await self.attempt(
            self.ctx.facade.set_faults(name, changes), doing=f"switch faults of {name}"
        )
        if faults is not None:
            summary = ", ".join(f"{k} {fault_value(faults.get(k))}" for k in changes)
            self.notify(f"{name}: {summary}.", title="Faults switched", markup=False)
        self.fetch_now()
