"""One Idempotency-Key raced by two paycon instances sharing one database.

A key in flight in one process is unknown to the other, so the database
decides. On PostgreSQL both instances can look for an answer, find none, and
both try to store one: the answer's primary key lets one commit; the other's
unit fails, the group-commit writer runs it again on its own, and that run
finds the winner's answer and replays it, its own payment rolled back whole.
On SQLite the writer takes the write lock at BEGIN, so the second instance
finds the winner's answer in its own transaction instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from paycon.runtime.service import Service
from tests.integration.outbox.support import wait_until
from tests.paycon_fixtures import CLIENT_KEY, make_settings, row_counts

POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
DEPOSIT = {"customer_id": "cus_race", "amount": "25.00", "currency": "EUR", "country": "DE"}
WAIT_S = 30.0


async def post(
    http: aiohttp.ClientSession, service: Service, key: str
) -> tuple[int, str | None, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {CLIENT_KEY}", "Idempotency-Key": key}
    async with http.post(service.url + "/v1/deposits", json=DEPOSIT, headers=headers) as answer:
        return answer.status, answer.headers.get("Idempotent-Replayed"), await answer.json()


@pytest.fixture
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    admin = create_async_engine(f"{POSTGRES_URL}/test", isolation_level="AUTOCOMMIT")
    name = f"paycon_race_{uuid.uuid4().hex[:12]}"
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OperationalError, OSError) as exc:
        await admin.dispose()
        if os.environ.get("CI"):
            raise  # the test machines run PostgreSQL on 127.0.0.1:5432
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    try:
        yield f"{POSTGRES_URL}/{name}"
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def waiting_on_answers(conn: AsyncConnection) -> int:
    """Sessions waiting for a lock on idempotency_keys (to store an answer)."""
    result = await conn.execute(
        text(
            "SELECT count(*) FROM pg_locks WHERE NOT granted "
            "AND relation = 'idempotency_keys'::regclass"
        )
    )
    return int(result.scalar_one())


async def test_on_postgresql_the_loser_of_a_key_race_replays_the_winners_answer(
    postgres_database: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "unused.db", database={"url": postgres_database})
    first, second = Service(settings), Service(settings)
    await first.start()
    await second.start()
    gate = create_async_engine(postgres_database)
    try:
        async with aiohttp.ClientSession() as http, gate.connect() as holder:
            # Hold back every answer's insert, so both instances get past looking for
            # an answer (finding none) before either can store one.
            await holder.execute(text("LOCK TABLE idempotency_keys IN SHARE ROW EXCLUSIVE MODE"))
            racing = asyncio.gather(post(http, first, "race-1"), post(http, second, "race-1"))
            async with gate.connect() as watcher:

                async def both_waiting() -> bool:
                    return await waiting_on_answers(watcher) == 2

                await wait_until(
                    both_waiting, timeout_s=WAIT_S, what="both instances to store an answer"
                )
            await holder.rollback()  # let them store: one wins, the other's insert fails
            answers = await racing

        statuses = sorted((status, replayed or "") for status, replayed, _ in answers)
        assert statuses == [(202, ""), (202, "true")], answers
        assert answers[0][2] == answers[1][2]  # the loser answers with the winner's body
        async with gate.connect() as conn:
            stored = await conn.execute(
                text("SELECT (SELECT count(*) FROM transactions), "
                     "(SELECT count(*) FROM outbox_tasks), (SELECT count(*) FROM idempotency_keys)")
            )  # fmt: skip
            assert tuple(stored.one()) == (1, 1, 1)  # the loser's payment rolled back whole
    finally:
        await gate.dispose()
        await first.stop()
        await second.stop()


async def test_on_sqlite_two_instances_on_one_file_make_one_payment_per_key(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "shared.db"
    settings = make_settings(db_path)
    first, second = Service(settings), Service(settings)
    await first.start()
    await second.start()
    try:
        async with aiohttp.ClientSession() as http:
            answers = await asyncio.gather(
                *(post(http, service, f"key-{n}") for n in range(10) for service in (first, second))
            )
    finally:
        await first.stop()
        await second.stop()
    by_key: dict[str, list[tuple[int, str | None, dict[str, Any]]]] = {}
    for n, answer in enumerate(answers):
        by_key.setdefault(f"key-{n // 2}", []).append(answer)
    for key, pair in by_key.items():
        statuses = sorted((status, replayed or "") for status, replayed, _ in pair)
        assert statuses == [(202, ""), (202, "true")], key
        assert pair[0][2]["id"] == pair[1][2]["id"], key
    assert row_counts(db_path)["transactions"] == 10
