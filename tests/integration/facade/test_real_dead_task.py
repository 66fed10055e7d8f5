"""A task that really died on a worker (its gateway refuses connections), seen and replayed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from paycon.facade.local import LocalFacade
from paycon.facade.protocol import OperatorFacade
from paycon.facade.remote import RemoteFacade
from paycon.models.queries import TaskQuery
from paycon.runtime.service import Service
from tests.integration.facade.conftest import LOCAL_ACTOR
from tests.integration.facade.support import deposit, task_row
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon, make_settings


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["local", "remote"])
async def working(
    request: pytest.FixtureRequest, db_path: Path
) -> AsyncIterator[tuple[OperatorFacade, RunningPaycon]]:
    closed = f"http://127.0.0.1:{_closed_port()}"
    settings = make_settings(
        db_path,
        outbox={"workers": 1, "max_attempts": 1},
        gateways={"gateway_a": {"url": closed}, "gateway_b": {"url": closed}},
    )
    service = Service(settings)
    await service.start()
    facade: OperatorFacade = (
        LocalFacade.for_service(service, actor=LOCAL_ACTOR)
        if request.param == "local"
        else RemoteFacade(service.url, OPERATOR_KEY)
    )
    try:
        async with aiohttp.ClientSession() as http:
            yield facade, RunningPaycon(service, http, db_path)
    finally:
        await facade.aclose()
        await service.stop()


async def _dead_tasks(facade: OperatorFacade) -> int:
    for _ in range(100):
        if count := (await facade.count_matching(TaskQuery(state="dead"))).matching:
            return count
        await asyncio.sleep(0.05)
    raise AssertionError("no task died")


async def test_a_dead_task_shows_why_and_runs_again_when_replayed(
    working: tuple[OperatorFacade, RunningPaycon],
) -> None:
    facade, paycon = working
    await deposit(paycon, "k1", gateway="gateway_a")
    assert await _dead_tasks(facade) == 1
    [task] = (await facade.tasks(TaskQuery(state="dead", gateway="gateway_a"))).items
    detail = await facade.task(task.id)
    assert [a.outcome for a in detail.attempts_log] == ["dead"]
    assert detail.last_error is not None
    assert "gateway_a" in detail.last_error
    overview = await facade.overview()
    assert overview.outbox.counts.dead == 1
    gateway_a = next(g for g in overview.gateways if g.name == "gateway_a")
    assert gateway_a.recent_errors[0].startswith("GatewayNotReached: ")

    assert await facade.replay_matching(TaskQuery(state="dead"), reason="try again") == 1
    for _ in range(100):  # the worker takes it again at once, and it dies again
        detail = await facade.task(task.id)
        if len(detail.attempts_log) == 2 and task_row(paycon, task.id)[0] == "dead":
            break
        await asyncio.sleep(0.05)
    assert [a.outcome for a in detail.attempts_log] == ["dead", "dead"]
    assert [(e.action, e.reason) for e in detail.audit] == [("replay", "try again")]
