"""A large paycon database for benchmarks: N transactions and N done outbox tasks.

The schema comes from paycon's own migrations; the rows are bulk-inserted
with sqlite3 (minutes of API traffic would take hours to produce them).
Transactions spread over the last 30 days with ids that sort by time, as
paycon's do; every one has a done submit task.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from paycon.config import Settings
from paycon.domain.ids import _base32
from paycon.storage.database import Database

STATUSES = ("completed",) * 8 + ("failed", "submitted", "pending")
CURRENCIES = (("EUR", "DE"), ("EUR", "FR"), ("GBP", "GB"), ("USD", "US"))
GATEWAYS = ("gateway_a", "gateway_b")
BATCH = 20_000


def _stamp(moment: datetime) -> str:
    return moment.isoformat(" ", "microseconds")[:-6]


def _transaction_id(moment: datetime, serial: int) -> str:
    ms = int(moment.timestamp() * 1000)
    return "tx_" + _base32((ms << 80) | serial, 26)


def _rows(count: int, now: datetime) -> Iterator[tuple[tuple[object, ...], tuple[object, ...]]]:
    rng = random.Random(7)
    start = now - timedelta(days=30)
    step = timedelta(days=30) / max(count, 1)
    for n in range(count):
        moment = start + step * n
        at = _stamp(moment)
        currency, country = CURRENCIES[n % len(CURRENCIES)]
        gateway = GATEWAYS[n % 2]
        tx_id = _transaction_id(moment, n)
        status = STATUSES[rng.randrange(len(STATUSES))]
        kind = "deposit" if n % 3 else "withdrawal"
        transaction = (
            tx_id, kind, status, f"cus_{n % 5000:05d}", rng.randrange(100, 500_000), currency,
            country, gateway, ",".join(GATEWAYS), f"ref-{n:08d}", None, None, None, None,
            "declined" if status == "failed" else None, "bench", at, at,
        )  # fmt: skip
        payload = json.dumps({"transaction_id": tx_id, "gateway": gateway})
        task = ("submit", payload, f"submit:{gateway}:{tx_id}", "done", 1, 5, at, None, None,
                None, at, at)  # fmt: skip
        yield transaction, task


def _migrate(db_path: Path) -> None:
    settings = Settings.model_validate({"database": {"url": f"sqlite+aiosqlite:///{db_path}"}})

    async def open_and_close() -> None:
        db = Database(settings.database)
        await db.open()
        await db.close()

    asyncio.run(open_and_close())


def seed(db_path: Path, count: int, *, progress: bool = True) -> float:
    """Create ``db_path`` with ``count`` transactions and ``count`` done tasks; returns seconds."""
    started = time.perf_counter()
    _migrate(db_path)
    now = datetime.now(UTC)
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        rows = _rows(count, now)
        done = 0
        while done < count:
            batch = [next(rows) for _ in range(min(BATCH, count - done))]
            with conn:
                conn.executemany(
                    "INSERT INTO transactions (id, kind, status, customer_id, amount_minor, "
                    "currency, country, gateway, route, reference, notify_url, "
                    "destination_masked, holder_masked, destination_sealed, failure_reason, "
                    "client_id, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [transaction for transaction, _ in batch],
                )
                conn.executemany(
                    "INSERT INTO outbox_tasks (kind, payload, dedupe_key, state, attempts, "
                    "max_attempts, run_at, lease_owner, lease_expires_at, last_error, "
                    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [task for _, task in batch],
                )
            done += len(batch)
            if progress:
                print(f"\r  seeding: {done:,} of {count:,}", end="", flush=True)
        with conn:
            conn.execute(
                "INSERT INTO outbox_counters (name, value) VALUES ('done', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                (count,),
            )
        # No ANALYZE: paycon does not run one, so the planner sees what production sees.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    if progress:
        print()
    return time.perf_counter() - started
