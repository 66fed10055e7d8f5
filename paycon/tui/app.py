"""The operator console: dashboard, transactions, outbox and gateways, over the operator facade.

Every facade call runs in a Textual worker on the event loop the API shares,
so a slow read never stalls a payment request; results come back to the
screens as messages. Facade errors are shown, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from paycon.domain.masking import mask_key
from paycon.facade.protocol import OperatorFacade
from paycon.logs import LogBuffer
from paycon.tui.context import ClientKey, ConsoleContext
from paycon.tui.messages import OpenTask, OpenTransaction, ShowTransactions
from paycon.tui.screens.base import ConsoleScreen
from paycon.tui.screens.client_key import ClientKeyScreen
from paycon.tui.screens.dashboard import DashboardScreen
from paycon.tui.screens.gateways import HEALTHY, GatewaysScreen
from paycon.tui.screens.help import HelpScreen
from paycon.tui.screens.outbox import STATES, OutboxScreen
from paycon.tui.screens.reconciliation import ReconciliationScreen
from paycon.tui.screens.task_detail import TaskDetailScreen
from paycon.tui.screens.transaction_detail import TransactionDetailScreen
from paycon.tui.screens.transactions import TransactionsScreen
from paycon.tui.widgets.log_panel import LogPanel
from paycon.tui.widgets.nav import SCREENS as NAV

SCREENS: dict[str, tuple[type[ConsoleScreen], str]] = {
    "dashboard": (DashboardScreen, "Dashboard"),
    "transactions": (TransactionsScreen, "Transactions"),
    "outbox": (OutboxScreen, "Outbox"),
    "gateways": (GatewaysScreen, "Gateways"),
    "reconciliation": (ReconciliationScreen, "Reconciliation"),
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


# In the title when paycon runs its embedded mock gateways.
MOCK_GATEWAYS_TITLE = "MOCK GATEWAYS: no money moves"


class PayconConsole(App[None]):
    """The console. Run it with ``await app.run_async()``; the title says what it is attached to.

    ``read_only`` hides every action that changes something (keys, footer and
    command palette); ``mock_gateways`` says in the title, on every screen, that
    the gateways are the embedded mocks; ``logs`` feeds the log panel (``l``); ``refresh_s`` is
    how often live screens read again; ``now`` is the clock ages are measured
    with (tests freeze it). ``client_key`` (a local paycon's) is announced when
    the console opens and shown masked, with a copy action, on ``k``.
    """

    TITLE = "paycon"
    DEFAULT_MODE = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(key, f"screen('{mode}')", title, show=False) for key, mode, title in NAV),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("l", "toggle_logs", "Logs"),
        Binding("k", "client_key", "Client key"),
        Binding("ctrl+q", "quit", "Quit", key_display="^q", priority=True),
    ]

    def __init__(
        self,
        facade: OperatorFacade,
        *,
        read_only: bool = False,
        mock_gateways: bool = False,
        logs: LogBuffer | None = None,
        refresh_s: float = 1.0,
        now: Callable[[], datetime] | None = None,
        client_key: ClientKey | None = None,
    ) -> None:
        super().__init__()
        self.facade = facade
        self.read_only = read_only
        self.client_key = client_key
        self.ctx = ConsoleContext(
            facade=facade,
            now=now or _utc_now,
            read_only=read_only,
            refresh_s=refresh_s,
            logs=logs,
        )
        # On every screen, first (a narrow terminal cuts the end): these payments move no money.
        mocks = f"{MOCK_GATEWAYS_TITLE} · " if mock_gateways else ""
        self.title = f"paycon · {mocks}{facade.where}"
        self.sub_title = "read-only" if read_only else ""
        self._bases: dict[str, ConsoleScreen] = {}
        for mode in SCREENS:
            self.add_mode(mode, self._base_factory(mode))

    def _base_factory(self, mode: str) -> Callable[[], Screen[None]]:
        def make() -> Screen[None]:
            screen_type, _ = SCREENS[mode]
            screen = self._bases[mode] = screen_type(self.ctx)
            return screen

        return make

    # Moving around.

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("screen", "help", "toggle_logs", "client_key") and self.screen.is_modal:
            return False
        if action == "client_key":
            return self.client_key is not None
        return not (action == "toggle_logs" and self.ctx.logs is None)

    def on_mount(self) -> None:
        if self.client_key is not None:
            self.notify(
                f"{mask_key(self.client_key.key)}, kept in {self.client_key.where}. "
                "Press k to see it or copy it.",
                title="Client API key",
                markup=False,
                timeout=12,
            )

    def on_show_transactions(self, message: ShowTransactions) -> None:
        self.show_transactions(message.filter_text)

    def on_open_transaction(self, message: OpenTransaction) -> None:
        self.push_screen(TransactionDetailScreen(self.ctx, message.transaction_id))

    def on_open_task(self, message: OpenTask) -> None:
        self.push_screen(TaskDetailScreen(self.ctx, message.task_id))

    def action_client_key(self) -> None:
        """The client key, masked, with where it is kept and a copy action."""
        if self.client_key is not None:
            self.push_screen(ClientKeyScreen(self.client_key))

    async def action_screen(self, mode: str) -> None:
        """Show the list screen ``mode``; pressed again there, back to its list."""
        if self.current_mode == mode:
            while len(self.screen_stack) > 1 and not self.screen.is_modal:
                self.pop_screen()
            return
        await self.switch_mode(mode)

    def show_outbox(self, state: str) -> None:
        """The outbox list on the tab of ``state``."""
        self.switch_mode("outbox")
        outbox = self._bases.get("outbox")
        if isinstance(outbox, OutboxScreen):
            self.call_after_refresh(outbox.show_state, state)

    def show_transactions(self, filter_text: str) -> None:
        """The transactions list under the filter ``filter_text`` (``review:held``)."""
        self.switch_mode("transactions")
        transactions = self._bases.get("transactions")
        if isinstance(transactions, TransactionsScreen):
            self.call_after_refresh(transactions.show_filter, filter_text)

    def action_help(self) -> None:
        if isinstance(self.screen, ConsoleScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_logs(self) -> None:
        view = self.ctx.view
        view.show_logs = not view.show_logs
        for panel in self.screen.query(LogPanel):
            panel.show(view.show_logs)

    # The command palette.

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for mode, (_, title) in SCREENS.items():
            yield SystemCommand(
                f"Go to {title}", f"Show the {title.lower()} screen", self._go(mode)
            )
        for state in STATES[:-1]:
            yield SystemCommand(
                f"Outbox: {state} tasks", f"List the {state} outbox tasks", self._outbox(state)
            )
        yield SystemCommand(
            "Transactions: held for review",
            "List the payments waiting for a person's decision",
            lambda: self.show_transactions("review:held"),
        )
        if isinstance(screen, ConsoleScreen):
            yield SystemCommand("Help", "What this screen shows and its keys", self.action_help)
        if self.ctx.logs is not None:
            yield SystemCommand(
                "Toggle logs", "Show or hide the log panel", self.action_toggle_logs
            )
        if self.client_key is not None:
            yield SystemCommand(
                "Client API key",
                "Where the key for merchants' requests is kept; copy it",
                self.action_client_key,
            )
        if not self.read_only:
            yield from self._action_commands(screen)

    def _go(self, mode: str) -> Callable[[], object]:
        return lambda: self.run_action(f"screen('{mode}')")

    def _outbox(self, state: str) -> Callable[[], None]:
        return lambda: self.show_outbox(state)

    def _action_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Commands that change something, for what ``screen`` shows (never read-only)."""
        if isinstance(screen, OutboxScreen):
            task = screen.selected_task()
            if task is not None:
                yield SystemCommand(
                    f"Replay task {task.id}",
                    "Dead: run again with fresh attempts; scheduled: run now",
                    screen.action_replay,
                )
                yield SystemCommand(
                    f"Discard task {task.id}…",
                    "Close a dead task, with a reason",
                    screen.action_discard,
                )
            yield SystemCommand(
                "Replay all matching…",
                "Replay every task of this tab and filter, after saying how many and asking why",
                screen.action_replay_matching,
            )
        if isinstance(screen, TaskDetailScreen):
            yield SystemCommand(
                f"Replay task {screen.task_id}", "Run it again now", screen.action_replay
            )
            yield SystemCommand(
                f"Discard task {screen.task_id}…", "Close it, with a reason", screen.action_discard
            )
        if isinstance(screen, GatewaysScreen):
            yield from gateway_commands(screen)
        if isinstance(screen, ReconciliationScreen) and screen.selected() is not None:
            yield SystemCommand(
                "Resolve the selected break…",
                "Its payment's outcome, or (no payment) that it is settled, with a reason",
                screen.action_resolve,
            )
        if isinstance(screen, TransactionDetailScreen) and screen.held():
            yield SystemCommand(
                f"Resolve transaction {screen.transaction_id}…",
                "Decide the held payment's outcome (completed or failed), with a reason",
                screen.action_resolve,
            )


def gateway_commands(screen: GatewaysScreen) -> Iterable[SystemCommand]:
    """Routing and fault switches for every gateway the screen knows."""
    for gateway in screen.known_gateways():
        name = gateway.name
        if gateway.enabled:
            yield SystemCommand(
                f"Take {name} out of routing…",
                "New payments avoid it",
                _call(screen.set_routing, name, enabled=False),
            )
        else:
            yield SystemCommand(
                f"Bring {name} back into routing…",
                "New payments may use it",
                _call(screen.set_routing, name, enabled=True),
            )
        if gateway.faults is not None:
            outage = bool(gateway.faults.outage)
            yield SystemCommand(
                f"{name}: outage {'off' if outage else 'on'}",
                "Switch the embedded mock gateway's outage",
                _call(screen.switch_faults, name, {"outage": False if outage else "503"}),
            )
            yield SystemCommand(
                f"{name}: healthy",
                "Switch the mock's faults off",
                _call(screen.switch_faults, name, dict(HEALTHY)),
            )


def _call(function: Callable[..., object], *args: object, **kwargs: object) -> Callable[[], None]:
    def call() -> None:
        function(*args, **kwargs)

    return call
