"""``/metrics`` costs the same whatever the number of transactions: counted as they change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from paycon.config import Settings
from paycon.runtime.service import Service
from tests.paycon_fixtures import RunningPaycon

DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}


async def scrape(paycon: RunningPaycon) -> tuple[dict[str, float], list[str]]:
    """Transactions by status from one scrape, and every SQL statement it ran."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engines = [paycon.service.db.read_engine.sync_engine]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        async with paycon.http.get(paycon.url + "/metrics") as response:
            assert response.status == 200
            text = await response.text()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    by_status = {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "paycon_transactions"
    }
    return by_status, statements


async def deposits(paycon: RunningPaycon, n: int, prefix: str) -> None:
    for i in range(n):
        status, _, _ = await paycon.post_json("/v1/deposits", DEPOSIT, key=f"{prefix}-{i}")
        assert status == 202


async def test_a_scrape_runs_the_same_statements_for_1_or_40_transactions(
    paycon: RunningPaycon,
) -> None:
    await scrape(paycon)  # the first scrape may open pooled connections
    await deposits(paycon, 1, "one")
    by_status, with_one = await scrape(paycon)
    assert by_status["pending"] == 1
    await deposits(paycon, 39, "more")
    by_status, with_forty = await scrape(paycon)
    assert by_status["pending"] == 40
    assert len(with_forty) == len(with_one)
    assert not any("GROUP BY" in statement.upper() for statement in with_forty)
    # The one read of transactions counts the held ones, through their own partial index.
    reads = [statement for statement in with_forty if "FROM transactions" in statement]
    assert reads == [s for s in reads if "INDEXED BY ix_transactions_review_id" in s]
    assert len(reads) <= 1


async def test_counts_start_from_the_database(settings: Settings, db_path: Path) -> None:
    service = Service(settings)
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            await deposits(RunningPaycon(service, http, db_path), 3, "before")
    finally:
        await service.stop()
    service = Service(settings)
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            by_status, _ = await scrape(RunningPaycon(service, http, db_path))
    finally:
        await service.stop()
    assert by_status == {"pending": 3, "submitted": 0, "completed": 0, "failed": 0}
