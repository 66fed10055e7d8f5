"""The gateways screen on a real paycon with its mock gateways embedded: routing off and on,
faults switched from the console, and the breaker opening under an outage."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from textual.widgets import Input, Static

from mock_gateways.faults import Faults
from paycon.config import Settings
from paycon.tui.app import PayconConsole
from paycon.tui.screens.modals import AskScreen
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon, make_settings
from tests.tui.conftest import (
    ACTOR,
    DEPOSIT,
    SIZE,
    ConsoleFactory,
    actions_asked,
    actions_finished,
    screen_text,
    table_keys,
    until,
    until_true,
)


async def put_mock_faults(url: str, changes: dict[str, Any], *, actor: str, reason: str) -> int:
    """``curl -X PUT URL/_mock/faults -H 'X-Actor: …' -H 'X-Reason: …' -d CHANGES``."""
    headers = {"X-Actor": actor, "X-Reason": reason}
    async with (
        aiohttp.ClientSession() as http,
        http.put(f"{url}/_mock/faults", json=changes, headers=headers) as response,
    ):
        return response.status


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def settings(db_path: Path) -> Settings:
    """paycon with both mock gateways embedded on free loopback ports, two workers, quick
    retries and a breaker that opens after two failures and stays open a minute."""
    return make_settings(
        db_path,
        mock_gateways="embedded",
        gateways={
            "gateway_a": {"url": f"http://127.0.0.1:{_free_port()}"},
            "gateway_b": {"url": f"http://127.0.0.1:{_free_port()}"},
        },
        outbox={"workers": 2, "retry_base_s": 0.05, "retry_max_s": 0.1},
        breaker={"fail_max": 2, "reset_s": 60},
        gateway_http={"read_timeout_s": 0.5},
    )


def faults(paycon: RunningPaycon, name: str) -> Faults:
    """The embedded mock's faults in force now."""
    mocks = paycon.service.mocks
    assert mocks is not None
    gateway = mocks.gateway_a if name == "gateway_a" else mocks.gateway_b
    return gateway.faults


async def answer(app: PayconConsole, pilot: Any, text: str) -> None:
    """Fill the open dialog's line with ``text`` and submit it."""
    await until(pilot, lambda: isinstance(app.screen, AskScreen), what="the dialog")
    app.screen.query_one("#answer", Input).value = text
    await pilot.press("enter")


async def api_gateway(paycon: RunningPaycon, name: str) -> Any:
    status, body = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
    assert status == 200
    return next(g for g in body["gateways"] if g["name"] == name)


async def test_a_gateway_is_taken_out_of_routing_and_brought_back_with_a_reason(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    app = console()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: table_keys(app, "#gateways") == ["gateway_a", "gateway_b"])
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, AskScreen))
        await pilot.press("escape")  # cancelled: nothing changes
        await actions_finished(pilot)
        assert actions_asked(app) == []
        assert (await api_gateway(paycon, "gateway_a"))["enabled"] is True

        await pilot.press("e")
        await answer(app, pilot, "provider incident INC-42")

        async def out_of_routing() -> bool:
            return (await api_gateway(paycon, "gateway_a"))["enabled"] is False

        await until_true(pilot, out_of_routing)
        await until(pilot, lambda: "routing off" in screen_text(app), what="routing off shown")
        assert "provider incident INC-42" in screen_text(app)
        status, _, deposit = await paycon.post_json("/v1/deposits", DEPOSIT)
        assert (status, deposit["gateway"]) == (202, "gateway_b")

        await pilot.press("e")
        await answer(app, pilot, "incident closed")

        async def back() -> bool:
            return (await api_gateway(paycon, "gateway_a"))["enabled"] is True

        await until_true(pilot, back)
    changes = (await api_gateway(paycon, "gateway_a"))["routing_changes"]  # newest first
    assert [(c["actor"], c["reason"]) for c in changes] == [
        (ACTOR, "incident closed"),
        (ACTOR, "provider incident INC-42"),
    ]


async def test_faults_are_switched_from_the_console_and_the_breaker_opens(
    paycon: RunningPaycon, console: ConsoleFactory
) -> None:
    app = console(refresh_s=0.2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: table_keys(app, "#gateways") == ["gateway_a", "gateway_b"])
        await pilot.press("f")
        await answer(app, pilot, "2")  # refused: the dialog says why and stays
        assert isinstance(app.screen, AskScreen)
        assert "0 to 1" in str(app.screen.query_one("#error", Static).render())
        await answer(app, pilot, "0.25")
        await until(pilot, lambda: faults(paycon, "gateway_a").error_rate == 0.25)

        await pilot.press("down", "c")
        await answer(app, pilot, "0.5")
        await until(pilot, lambda: faults(paycon, "gateway_b").callback_drop_rate == 0.5)
        assert faults(paycon, "gateway_a").callback_drop_rate == 0.0
        await pilot.press("h")
        await until(pilot, lambda: faults(paycon, "gateway_b").callback_drop_rate == 0.0)

        await pilot.press("up", "o")
        await until(pilot, lambda: faults(paycon, "gateway_a").outage == "503")
        for n in range(3):
            body = {**DEPOSIT, "gateway": "gateway_a"}
            status, _, _ = await paycon.post_json("/v1/deposits", body, key=f"outage-{n}")
            assert status == 202
        breaker_open = re.compile(r"gateway_a .* open for \d+ s · next trial in \d+ s")
        await until(
            pilot,
            lambda: breaker_open.search(screen_text(app)) is not None,
            timeout_s=6,
            what="the breaker shown open",
        )
        await pilot.press("o")
        await until(pilot, lambda: faults(paycon, "gateway_a").outage is False)
        # The selected gateway's fault changes, newest first, with who switched them and what.
        await until(pilot, lambda: "outage: 503 → off" in screen_text(app))
        changes = screen_text(app).split("Fault changes")[1]
        assert changes.index("outage: 503 → off") < changes.index("outage: off → 503")
        assert changes.index("outage: off → 503") < changes.index("error_rate: 0 → 0.25")
        assert f"by {ACTOR}" in changes
        assert "callback_drop_rate" not in changes  # that was gateway_b's

        # A switch made around paycon, straight at the mock, is in the same history.
        assert paycon.service.mocks is not None
        status = await put_mock_faults(
            paycon.service.mocks.url_a, {"latency_ms": 50}, actor="ops-laptop", reason="drill"
        )
        assert status == 200
        await until(pilot, lambda: "by ops-laptop  — drill" in screen_text(app))
        changes = screen_text(app).split("Fault changes")[1]
        assert changes.index("latency_ms: 0 → 50") < changes.index("outage: 503 → off")
