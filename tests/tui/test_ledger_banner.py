"""The dashboard's red banner while the service's ledger check finds breaks."""

from __future__ import annotations

from paycon.tui.screens.dashboard import DashboardScreen
from tests.paycon_fixtures import RunningPaycon
from tests.tui.conftest import SIZE, ConsoleFactory, screen_text, until

BANNER = "LEDGER: 3 broken invariants"


async def test_the_banner_shows_while_the_ledger_has_breaks(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    # This process has no outbox workers, so no check of its own: the test reports.
    metrics = paycon.service.context.metrics  # type: ignore[union-attr]
    app = console(refresh_s=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "pending 0 ·" in screen_text(app), what="figures")
        assert "LEDGER" not in screen_text(app)
        metrics.report_ledger_breaks(3)
        await until(pilot, lambda: BANNER in screen_text(app), what="the banner")
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        assert screen.query_one("#ledger-banner").has_class("broken")
        metrics.report_ledger_breaks(0)
        await until(pilot, lambda: "LEDGER" not in screen_text(app), what="no banner")
