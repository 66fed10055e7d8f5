"""``paycon run``'s console glue in-process: the real service, demo and console, driven headless."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from paycon.config import Settings
from paycon.logs import LogBuffer
from paycon.runtime.demo import Demo, Phase, TrafficShape
from paycon.runtime.service import Service
from paycon.runtime.session import serve_console
from paycon.tui.app import PayconConsole
from paycon.tui.screens.client_key import ClientKeyScreen
from tests.paycon_fixtures import CLIENT_KEY, make_settings

QUICK_DEMO = TrafficShape(interval_s=0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_settings(db_path: Path) -> Settings:
    return make_settings(
        db_path,
        mock_gateways="embedded",
        gateways={
            "gateway_a": {"url": f"http://127.0.0.1:{free_port()}", "secret": "secret-a"},
            "gateway_b": {"url": f"http://127.0.0.1:{free_port()}", "secret": "secret-b"},
        },
        outbox={"workers": 2},
        log_level="INFO",
    )


def quick_demo(service: Service) -> Demo:
    assert service.mocks is not None
    return Demo(
        api_url=service.url,
        client_key=CLIENT_KEY,
        mocks={"gateway_a": service.mocks.gateway_a, "gateway_b": service.mocks.gateway_b},
        schedule=(Phase("calm", 60),),
        shape=QUICK_DEMO,
        seed=1,
    )


def listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) == 0


def shown_rows(app: PayconConsole) -> list[str]:
    """The row keys of every table on the console's screen (transaction ids on the dashboard)."""
    return [
        str(key.value)
        for table in app.screen.query(DataTable)
        for key in table.rows
        if key.value is not None
    ]


async def until(check: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


Driver = Callable[[PayconConsole], Awaitable[object]]


def driver(then: Callable[[PayconConsole, Any], Awaitable[None]], seen: dict[str, Any]) -> Driver:
    """Run the console headless, wait for live payments on it, then ``then(app, pilot)``."""

    async def drive(app: PayconConsole) -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await until(lambda: any(row.startswith("tx_") for row in shown_rows(app)))
            seen["rows"] = shown_rows(app)
            seen["app"] = app
            seen["frozen"] = gc.get_freeze_count()
            await then(app, pilot)
            await until(lambda: not app.is_running)

    return drive


@pytest.fixture
def logs() -> Iterator[LogBuffer]:
    """A LogBuffer on the root logger at INFO, as ``paycon run`` sets it up for the console."""
    buffer = LogBuffer()
    root = logging.getLogger()
    level = root.level
    root.addHandler(buffer)
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(buffer)
    root.setLevel(level)


async def test_the_console_shows_live_payments_and_quitting_stops_the_service(
    db_path: Path, logs: LogBuffer
) -> None:
    service = Service(embedded_settings(db_path))
    seen: dict[str, Any] = {}
    frozen_before = gc.get_freeze_count()

    async def quit_with_ctrl_q(app: PayconConsole, pilot: Any) -> None:
        await pilot.press("ctrl+q")

    status = await serve_console(
        service,
        actor="console:tester",
        logs=logs,
        demo=quick_demo,
        drive=driver(quit_with_ctrl_q, seen),
    )

    assert status == 0
    url = service.url
    assert not listening(url)
    with pytest.raises(RuntimeError, match="not open"):
        service.db.writer  # noqa: B018 - the database is closed
    assert service.mocks is None
    assert seen["app"].ctx.logs is logs
    # The heap is settled once the service has started: its objects are frozen too.
    assert seen["frozen"] > frozen_before + 1_000
    with sqlite3.connect(db_path) as db:
        stored = {row[0] for row in db.execute("SELECT id FROM transactions")}
    shown = {row for row in seen["rows"] if row.startswith("tx_")}
    assert shown
    assert shown <= stored
    assert seen["app"].title.endswith(seen["app"].facade.where)
    texts = [line.text for line in logs.since(0)]
    assert any("demo started" in text for text in texts)
    assert any("demo stopped" in text for text in texts)
    assert "paycon stopped" in texts[-1]


async def test_sigterm_closes_the_console_and_stops_the_service(db_path: Path) -> None:
    service = Service(embedded_settings(db_path))
    seen: dict[str, Any] = {}

    async def terminate(app: PayconConsole, pilot: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    status = await serve_console(
        service, actor="console:tester", read_only=True, demo=quick_demo,
        drive=driver(terminate, seen),
    )  # fmt: skip

    assert status == 0
    assert seen["app"].read_only
    assert not listening(service.url)
    assert not (db_path.parent / f"{db_path.name}-wal").exists()


async def test_the_console_shows_where_the_client_key_is_and_copies_it(db_path: Path) -> None:
    service = Service(embedded_settings(db_path))
    seen: dict[str, Any] = {}
    masked = f"{CLIENT_KEY[:6]}…{CLIENT_KEY[-4:]}"

    async def copy_the_key(app: PayconConsole, pilot: Any) -> None:
        seen["notices"] = [str(n.message) for n in app._notifications]
        await pilot.press("k")
        await until(lambda: isinstance(app.screen, ClientKeyScreen))
        seen["shown"] = str(app.screen.query_one("#masked", Static).render())
        await pilot.press("c")
        await until(lambda: app.clipboard == CLIENT_KEY)
        await pilot.press("ctrl+q")

    status = await serve_console(
        service,
        actor="console:tester",
        demo=quick_demo,
        drive=driver(copy_the_key, seen),
        key_kept_in="data/paycon.toml",
    )

    assert status == 0
    assert seen["notices"] == [f"{masked}, kept in data/paycon.toml. Press k to see it or copy it."]
    assert seen["shown"] == masked
