"""The service's ledger check: it finds a posting altered by hand, keeps counting the break
until it is repaired; a process with outbox workers runs it and exports the count to
/metrics and the overview."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from paycon.runtime.service import Service
from paycon.usecases.ledger_watch import LedgerWatch
from tests.integration.facade.support import complete, deposit
from tests.integration.outbox.support import wait_until
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon, make_settings


def nudge_a_posting(paycon: RunningPaycon, by: int) -> None:
    with sqlite3.connect(paycon.db_path) as conn:
        conn.execute(
            "UPDATE postings SET delta_minor = delta_minor + ? "
            "WHERE id = (SELECT min(id) FROM postings)",
            (by,),
        )


async def test_a_break_is_found_and_counted_until_repaired(paycon: RunningPaycon) -> None:
    tx = await deposit(paycon, "k1")
    await complete(paycon, tx["id"])
    reported: list[int] = []
    moment = [datetime.now(UTC)]
    watch = LedgerWatch(paycon.service.db, reported.append, clock=lambda: moment[0])
    assert await watch.look() == []  # the first look reads everything

    nudge_a_posting(paycon, 1)
    moment[0] += timedelta(hours=1)
    found = await watch.look()  # the entry was booked since the last look began
    assert sorted(b.kind for b in found) == ["balance_differs", "unbalanced_entry"]
    moment[0] += timedelta(hours=1)
    assert await watch.look() == found  # nothing changed since, but the break is still open
    nudge_a_posting(paycon, -1)
    moment[0] += timedelta(hours=1)
    assert await watch.look() == []
    assert reported == [0, 2, 2, 0]


async def test_a_working_process_checks_and_exports_the_count(tmp_path: Path) -> None:
    service = Service(make_settings(tmp_path / "paycon.db", outbox={"workers": 1}))
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            paycon = RunningPaycon(service, http, tmp_path / "paycon.db")

            async def checked() -> bool:
                _, body = await paycon.get("/v1/overview", token=OPERATOR_KEY)
                return bool(body["ledger_breaks"] == 0)

            await wait_until(checked, what="the service's first ledger check")
            async with http.get(paycon.url + "/metrics") as answer:
                text = await answer.text()
    finally:
        await service.stop()
    assert "\npaycon_ledger_breaks 0.0\n" in text


async def test_a_process_without_workers_leaves_the_check_to_those_with_them(
    paycon: RunningPaycon,
) -> None:
    _, body = await paycon.get("/v1/overview", token=OPERATOR_KEY)
    assert body["ledger_breaks"] is None
