"""Screenshots of every screen in a fixed state, compared with the approved SVGs.

The console reads a hand-built facade (``StaticFacade``) with the clock frozen
at its ``NOW``, so ages ("3 s ago", "next trial in 12 s") and every figure are
the same on each run. Snapshot names say the state shown. After a deliberate
change of the look: ``pytest tests/tui/test_snapshots.py --snapshot-update``,
then review the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, RadioButton

from paycon.tui.app import PayconConsole
from paycon.tui.screens.dashboard import DashboardScreen
from tests.tui.static_facade import NOW, StaticFacade

SIZE = (120, 36)
SnapCompare = Callable[..., bool]
Steps = Callable[[Pilot[None]], Awaitable[None]]


def console(facade: StaticFacade | None = None, **options: Any) -> PayconConsole:
    # A long refresh interval: only the reads the steps ask for happen.
    return PayconConsole(facade or StaticFacade(), refresh_s=3600, now=lambda: NOW, **options)


async def settle(pilot: Pilot[None]) -> None:
    """Let every read finish and its result be drawn (actions may be waiting on a dialog)."""
    await pilot.pause()
    reads = [worker for worker in pilot.app.workers if worker.group != "actions"]
    if reads:  # (none would mean all)
        await pilot.app.workers.wait_for_complete(reads)
    await pilot.pause()


def keys(*pressed: str, value: str | None = None, then: tuple[str, ...] = ()) -> Steps:
    """Press keys, optionally fill the focused line with ``value``, press ``then``."""

    async def steps(pilot: Pilot[None]) -> None:
        await settle(pilot)
        for key in pressed:
            await pilot.press(key)
            await settle(pilot)
        if value is not None:
            focused = pilot.app.focused
            assert isinstance(focused, Input)
            focused.value = value
        for key in then:
            await pilot.press(key)
            await settle(pilot)

    return steps


async def backlog_trend(pilot: Pilot[None]) -> None:
    """Six dashboard refreshes, so the backlog line has a trend to draw."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    for _ in range(5):
        screen.action_reload()
        await settle(pilot)


def test_dashboard_live(snap_compare: SnapCompare) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=backlog_trend)


def test_dashboard_service_unavailable(snap_compare: SnapCompare) -> None:
    facade = StaticFacade()
    facade.unavailable = True
    assert snap_compare(console(facade), terminal_size=SIZE, run_before=keys())


def test_transactions_filtered_to_failed(snap_compare: SnapCompare) -> None:
    steps = keys("2", "slash", value="status:failed", then=("enter",))
    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)


def test_transaction_detail_with_timeline_ledger_and_tasks(snap_compare: SnapCompare) -> None:
    steps = keys("2", "down", "down", "down", "down", "enter")
    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)


def test_outbox_dead_tasks(snap_compare: SnapCompare) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=keys("3"))


def test_outbox_pending_tasks_due_and_scheduled(snap_compare: SnapCompare) -> None:
    steps = keys("3", "right_square_bracket")
    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)


def test_outbox_replay_all_confirmation_with_count(snap_compare: SnapCompare) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=keys("3", "R"))


def test_outbox_discard_asking_for_a_reason(snap_compare: SnapCompare) -> None:
    steps = keys("3", "x", value="refunded by hand, OPS-123")
    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)


def test_outbox_read_only_without_actions(snap_compare: SnapCompare) -> None:
    app = console(read_only=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("3"))


def test_task_detail_dead_with_attempts_and_audit(snap_compare: SnapCompare) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=keys("3", "enter"))


def test_gateways_breaker_open_out_of_routing_with_faults(snap_compare: SnapCompare) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=keys("4", "down"))


def test_help_on_the_outbox(snap_compare: SnapCompare) -> None:
    assert snap_compare(console(), terminal_size=SIZE, run_before=keys("3", "question_mark"))


def test_dashboard_in_an_80_by_24_terminal(snap_compare: SnapCompare) -> None:
    assert snap_compare(console(), terminal_size=(80, 24), run_before=backlog_trend)


def test_held_transaction_resolve_dialog_warning_of_a_reversal(snap_compare: SnapCompare) -> None:
    async def steps(pilot: Pilot[None]) -> None:
        await keys("2", "down", "enter", "v")(pilot)
        pilot.app.screen.query_one("#failed", RadioButton).value = True
        pilot.app.screen.query_one("#answer", Input).value = "late return R05, OPS-9"
        await settle(pilot)

    assert snap_compare(console(), terminal_size=SIZE, run_before=steps)
