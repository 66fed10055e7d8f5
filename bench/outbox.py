"""How fast the outbox drains tasks, against huey's SqliteHuey, in one run.

Throughput: 20,000 no-op tasks enqueued up front, then drained by 8 workers —
paycon's outbox (``synchronous=FULL``, done tasks and their attempts rows
kept) and huey's ``SqliteHuey`` on a temporary file (``fsync=True``, i.e.
``synchronous=FULL``, its consumer with 8 thread workers). The figure that
matters is the ratio paycon/huey (target: at least 2).

Latency: one task at a time enqueued into an idle pool; the time from the
commit to the handler starting, p50 and p99 over 200 samples (target: p50 at
most 5 ms). Huey's figure, measured the same way with its polling capped at
100 ms, is the baseline.

Run with ``make bench`` or ``python -m bench.outbox [--tasks N] [--workers N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import signal
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from huey import SqliteHuey
from sqlalchemy import Connection

from outbox import Pool, PoolConfig, Task, enqueue
from outbox.writer import AFTER_COMMIT
from paycon.config import DatabaseSettings
from paycon.storage.database import Database

TARGET_RATIO = 2.0
TARGET_P50_MS = 5.0
ENQUEUE_CHUNK = 2000


@dataclass(frozen=True)
class Drain:
    tasks: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.tasks / self.seconds


@dataclass(frozen=True)
class Latency:
    samples_ms: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- paycon ---------------------------------------------------------------


async def _open(path: Path) -> Database:
    db = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{path}", sqlite_synchronous="FULL"))
    await db.open()
    return db


async def _enqueue_noops(db: Database, count: int) -> None:
    for start in range(0, count, ENQUEUE_CHUNK):
        numbers = range(start, min(count, start + ENQUEUE_CHUNK))

        def work(conn: Connection, numbers: range = numbers) -> None:
            for n in numbers:
                enqueue(conn, "noop", {"n": n})

        await db.write(work)


async def paycon_drain(workdir: Path, tasks: int, workers: int) -> Drain:
    """Drain ``tasks`` no-op tasks; checks every one is done with its attempt row."""
    path = workdir / "paycon.db"
    db = await _open(path)

    ran = 0
    all_ran = asyncio.Event()

    async def noop(task: Task) -> None:
        nonlocal ran
        ran += 1
        if ran == tasks:
            all_ran.set()

    try:
        await _enqueue_noops(db, tasks)
        pool = Pool(db, PoolConfig(workers=workers, retention_s=None), handlers={"noop": noop})
        began = time.perf_counter()
        await pool.start()
        await all_ran.wait()
        await pool.stop()  # returns once the last completions are committed
        seconds = time.perf_counter() - began
    finally:
        await db.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        done = conn.execute("SELECT count(*) FROM outbox_tasks WHERE state = 'done'").fetchone()
        kept = conn.execute("SELECT count(*) FROM outbox_attempts WHERE outcome = 'done'")
        if (done[0], kept.fetchone()[0]) != (tasks, tasks):
            raise RuntimeError("paycon did not keep every done task and attempt")
    return Drain(tasks, seconds)


async def paycon_latency(workdir: Path, samples: int) -> Latency:
    """Commit-to-start latency into an idle pool with the default config."""
    db = await _open(workdir / "latency.db")
    loop = asyncio.get_running_loop()
    started: dict[int, asyncio.Future[float]] = {}

    async def ping(task: Task) -> None:
        started[task.payload["n"]].set_result(time.perf_counter())

    pool = Pool(db, PoolConfig(), handlers={"ping": ping})
    results: list[float] = []
    try:
        await pool.start()
        await asyncio.sleep(0.2)
        for n in range(samples):
            started[n] = loop.create_future()
            committed: list[float] = []

            def work(conn: Connection, n: int = n, committed: list[float] = committed) -> None:
                enqueue(conn, "ping", {"n": n})
                conn.info[AFTER_COMMIT].append(lambda: committed.append(time.perf_counter()))

            await db.write(work)
            began = await asyncio.wait_for(started[n], timeout=10)
            results.append((began - committed[0]) * 1000)
            await asyncio.sleep(0.005)  # idle again before the next one
        await pool.stop()
    finally:
        await db.close()
    return Latency(results)


# --- huey -----------------------------------------------------------------


@contextlib.contextmanager
def _signals_kept() -> Iterator[None]:
    """Huey's consumer installs its own SIGINT/SIGTERM handlers; put ours back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _huey(path: Path) -> SqliteHuey:
    return SqliteHuey(name="bench", filename=str(path), fsync=True)


def huey_drain(workdir: Path, tasks: int, workers: int) -> Drain:
    huey = _huey(workdir / "huey.db")
    lock = threading.Lock()
    ran = [0]

    @huey.task()  # type: ignore[untyped-decorator]
    def noop(n: int) -> None:
        with lock:
            ran[0] += 1

    for n in range(tasks):
        noop(n)
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
    with _signals_kept():
        began = time.perf_counter()
        consumer.start()
        while ran[0] < tasks:
            time.sleep(0.002)
        seconds = time.perf_counter() - began
        consumer.stop(graceful=True)
    huey.storage.close()
    return Drain(tasks, seconds)


def huey_latency(workdir: Path, samples: int, workers: int) -> Latency:
    huey = _huey(workdir / "huey-latency.db")
    started: dict[int, threading.Event] = {}
    stamps: dict[int, float] = {}

    @huey.task()  # type: ignore[untyped-decorator]
    def ping(n: int) -> None:
        stamps[n] = time.perf_counter()
        started[n].set()

    consumer = huey.create_consumer(
        workers=workers, worker_type="thread", periodic=False, max_delay=0.1
    )
    results: list[float] = []
    with _signals_kept():
        consumer.start()
        time.sleep(0.3)
        for n in range(samples):
            started[n] = threading.Event()
            ping(n)
            committed = time.perf_counter()
            if not started[n].wait(timeout=10):
                raise RuntimeError("huey did not run the task")
            results.append((stamps[n] - committed) * 1000)
            time.sleep(0.005)
        consumer.stop(graceful=True)
    huey.storage.close()
    return Latency(results)


# --- report ---------------------------------------------------------------


def _row(*cells: object) -> str:
    widths = (34, 10, 10, 22)
    first, *rest = (str(cell) for cell in cells)
    cells_right = (c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))
    return first.ljust(widths[0]) + "".join(cells_right)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__)
    parser.add_argument("--tasks", type=int, default=20_000, help="no-op tasks to drain")
    parser.add_argument("--workers", type=int, default=8, help="workers on each side")
    parser.add_argument("--samples", type=int, default=200, help="latency samples (paycon)")
    parser.add_argument("--huey-samples", type=int, default=50, help="latency samples (huey)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # huey's and the pools' INFO lines would drown the table
    print(
        f"outbox: {args.tasks:,} no-op tasks, {args.workers} workers, SQLite "
        f"{sqlite3.sqlite_version} synchronous=FULL, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    try:
        with tempfile.TemporaryDirectory(prefix="outbox-bench-") as tmp:
            workdir = Path(tmp)
            huey = huey_drain(workdir, args.tasks, args.workers)
            paycon = asyncio.run(paycon_drain(workdir, args.tasks, args.workers))
            huey_lat = huey_latency(workdir, args.huey_samples, args.workers)
            paycon_lat = asyncio.run(paycon_latency(workdir, args.samples))
    finally:
        logging.disable(logging.NOTSET)
    ratio = paycon.per_s / huey.per_s
    print()
    print(_row("drain", "tasks/s", "ratio", "target"))
    print(_row(f"huey SqliteHuey ({args.workers} threads)", f"{huey.per_s:,.0f}", "1.00", ""))
    print(
        _row(
            f"paycon outbox ({args.workers} workers)",
            f"{paycon.per_s:,.0f}",
            f"{ratio:.2f}",
            f">= {TARGET_RATIO:.2f}  {_verdict(ratio >= TARGET_RATIO)}",
        )
    )
    print("  (paycon keeps every done task and its attempt row; huey keeps nothing)")
    print()
    p50, p99 = paycon_lat.percentile(50), paycon_lat.percentile(99)
    huey_p50, huey_p99 = huey_lat.percentile(50), huey_lat.percentile(99)
    print(_row("commit-to-start latency, idle", "p50 ms", "p99 ms", "target"))
    print(
        _row(
            f"huey, polling <= 100 ms ({args.huey_samples})",
            f"{huey_p50:.1f}",
            f"{huey_p99:.1f}",
            "",
        )
    )
    print(
        _row(
            f"paycon, woken by commit ({args.samples})",
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"p50 <= {TARGET_P50_MS:.0f}  {_verdict(p50 <= TARGET_P50_MS)}",
        )
    )
    print(
        f"  paycon/huey latency: p50 {p50 / huey_p50:.3f}, p99 {p99 / huey_p99:.3f}; "
        f"mean {statistics.fmean(paycon_lat.samples_ms):.2f} ms"
    )


if __name__ == "__main__":
    main()
