"""Routing switches in memory: a periodic re-read never undoes a switch made meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from gateways import build_gateways
from paycon.config import DatabaseSettings
from paycon.gateway_wiring import gateway_configs
from paycon.storage.database import Database
from paycon.usecases.gateway_control import GatewayControl, RoutingSwitches
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
