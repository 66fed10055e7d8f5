"""One spelling per fault value on the gateways screen, and a faults line that breaks only
between settings, whatever the terminal's width."""

from __future__ import annotations

import re

import pytest

from paycon.domain.fault_text import describe_changes, fault_value
from paycon.tui.app import PayconConsole
from paycon.tui.screens.gateways import SHOWN_FAULTS, GatewaysScreen
from tests.tui.conftest import screen_text, until
from tests.tui.static_facade import NOW, StaticFacade
from tests.tui.test_snapshots import settle


def test_values_are_spelt_one_way() -> None:
    assert [fault_value(v) for v in (False, "503", "refuse", True, 0.0, 0.3, 200)] == [
        "off", "503", "refuse", "on", "0", "0.3", "200",
    ]  # fmt: skip
    assert describe_changes([("outage", "503", False), ("error_rate", 0.0, 0.0)]) == (
        "outage: 503 → off; error_rate: 0 (unchanged)"
    )


def faults_lines(app: PayconConsole) -> list[str]:
    text = screen_text(app)
    section = text.split("Mock faults")[1].split("Fault changes")[0]
    return [line.strip(" │") for line in section.splitlines() if line.strip(" │")]


@pytest.mark.parametrize("width", [80, 120, 160])
async def test_the_faults_line_breaks_between_settings(width: int) -> None:
    app = PayconConsole(StaticFacade(), refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.press("4", "down")
        await settle(pilot)
        lines = faults_lines(app)
        settings = [part.strip() for line in lines for part in line.split(" · ")]
        assert [s.split(" ")[0] for s in settings] == list(SHOWN_FAULTS)
        assert all(re.fullmatch(r"[a-z_]+ [0-9a-z.]+", s) for s in settings), lines
        assert settings[:2] == ["outage 503", "error_rate 0.3"]


async def test_a_switch_is_told_in_the_same_spelling() -> None:
    app = PayconConsole(StaticFacade(), refresh_s=3600, now=lambda: NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("o")  # gateway_a's outage on, then off
        await until(pilot, lambda: len(app._notifications) == 1)
        screen = app.screen
        assert isinstance(screen, GatewaysScreen)

        def outage_on() -> bool:
            gateway = screen.selected()
            return (
                gateway is not None
                and gateway.faults is not None
                and gateway.faults.outage == "503"
            )

        await until(pilot, outage_on, what="the outage read back")
        await pilot.press("o")
        await until(pilot, lambda: len(app._notifications) == 2)
        assert [str(n.message) for n in app._notifications] == [
            "gateway_a: outage 503.",
            "gateway_a: outage off.",
        ]
