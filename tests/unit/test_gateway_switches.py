"""Routing switches in memory: a periodic re-read never undoes a switch made meanwhile,
and the watcher that re-reads them survives failed reads."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from gateways import build_gateways
from paycon.config import DatabaseSettings
from paycon.runtime.gateway_wiring import gateway_configs
from paycon.runtime.service import Service
from paycon.storage.database import Database
from paycon.usecases.gateway_control import SWITCH_REFRESH_S, GatewayControl, RoutingSwitches
from tests.paycon_fixtures import make_settings


class GatedDatabase(Database):
    """A real database whose reads can be held after their queries ran (``hold_next``),
    or fail with an error nobody planned for (``failing``)."""

    def __init__(self, settings: DatabaseSettings) -> None:
        super().__init__(settings)
        self.hold_next = False
        self.failing = 0
        self.queried = asyncio.Event()
        self.failed = asyncio.Event()
        self.release = asyncio.Event()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        if self.failing:
            self.failing -= 1
            self.failed.set()
            raise RuntimeError("a read failed in a way nobody planned for")
        held, self.hold_next = self.hold_next, False
        async with super().read() as conn:
            yield conn
        if held:
            self.queried.set()
            await self.release.wait()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[GatedDatabase]:
    db = GatedDatabase(make_settings(tmp_path / "paycon.db").database)
    await db.open()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
async def control(db: GatedDatabase, tmp_path: Path) -> AsyncIterator[GatewayControl]:
    configs = gateway_configs(make_settings(tmp_path / "paycon.db"))
    async with httpx.AsyncClient() as http:
        yield GatewayControl(db, build_gateways(configs, http), RoutingSwitches())


async def test_a_reload_read_before_a_switch_never_undoes_it(
    control: GatewayControl, db: GatedDatabase
) -> None:
    db.hold_next = True
    reload = asyncio.create_task(control.load())
    await db.queried.wait()  # it read "all enabled"; the switch comes before it applies that

    await control.set_enabled("gateway_a", enabled=False, actor="operator:test", reason="down")
    db.release.set()
    await reload
    assert control.switches.disabled == {"gateway_a"}

    await control.load()  # the next reload reads the switch itself
    assert control.switches.disabled == {"gateway_a"}


async def test_the_watcher_outlives_failed_reads(
    control: GatewayControl, db: GatedDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db.failing = 3
    stop = asyncio.Event()
    watcher = asyncio.create_task(control.keep_loading(stop, every_s=0.01))
    with sqlite3.connect(tmp_path / "paycon.db") as conn:  # another process's switch
        conn.execute(
            "INSERT INTO gateway_switches (gateway, enabled, changed_at, changed_by) "
            "VALUES ('gateway_b', 0, '2026-01-01 00:00:00.000000', 'cli:alice')"
        )
    async with asyncio.timeout(5):
        while control.switches.disabled != {"gateway_b"}:
            assert not watcher.done()
            await asyncio.sleep(0.01)
    assert db.failing == 0
    stop.set()
    await watcher
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 3
    assert all(r.exc_info is not None for r in errors)  # with the traceback


def switch_watcher() -> asyncio.Task[object]:
    return next(t for t in asyncio.all_tasks() if t.get_name() == "paycon-gateway-switches")


def is_closed(db: Database) -> bool:
    try:
        db.writer  # noqa: B018 - raises once the database is closed
    except RuntimeError:
        return True
    return False


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    service = Service(make_settings(tmp_path / "paycon.db"))
    service.db = GatedDatabase(service.settings.database)
    await service.start()
    try:
        yield service
    finally:
        await service.db.close()  # when a test's stop did not


async def test_a_service_whose_switch_reads_fail_keeps_watching_and_stops_cleanly(
    service: Service,
) -> None:
    assert isinstance(service.db, GatedDatabase)
    service.db.failing = 1
    watcher = switch_watcher()
    await asyncio.wait_for(service.db.failed.wait(), timeout=SWITCH_REFRESH_S * 2)
    await asyncio.sleep(0.05)
    assert not watcher.done()
    await service.stop()
    assert watcher.done()
    assert is_closed(service.db)


async def test_stop_closes_the_database_even_when_the_watcher_ended_badly(
    service: Service,
) -> None:
    watcher = switch_watcher()
    watcher.cancel()
    with pytest.raises(asyncio.CancelledError):
        await service.stop()
    assert is_closed(service.db)
    assert service.pool is None
