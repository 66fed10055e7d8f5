"""What the console costs: refresh times over a large database, and API latency beside it.

With 1,000,000 transactions and 1,000,000 done tasks in SQLite (``bench.seed``):

1. the time each console refresh takes through the in-process facade (the
   dashboard's overview and newest transactions, and the other screens' first
   pages), as a share of the console's one-second refresh interval;
2. the p99 latency of accepting deposits at a steady rate with the console
   running in the API's process (``bench.console_child --console``) versus
   headless, in alternating rounds of the same run. The target is a ratio of
   at most 1.2.

The load is open-loop: each request is due at a fixed time and its latency
counts from then, so a stalled event loop shows up instead of slowing the
sender down.

Run with ``make bench`` or ``python -m bench.console [--transactions N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.fernet import Fernet

from bench.harness import child, free_port, wait_for_http
from bench.seed import seed
from paycon.config import Settings
from paycon.facade.local import LocalFacade
from paycon.models.queries import TaskQuery, TransactionQuery
from paycon.runtime.service import Service

CLIENT_KEY = "pk_bench_client_key_000000000000"
OPERATOR_KEY = "ok_bench_operator_key_00000000000"
TARGET_RATIO = 1.2
REFRESH_INTERVAL_S = 1.0
WARM_UP_S = 2.0


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def measure_refreshes(db_path: Path, repeat: int) -> dict[str, list[float]]:
    """Milliseconds per refresh of each screen, through the facade the console uses."""
    settings = Settings.model_validate(
        {
            "server": {"host": "127.0.0.1", "port": 0},
            "database": {"url": f"sqlite+aiosqlite:///{db_path}"},
            "mock_gateways": "off",
            "outbox": {"workers": 0},
            "log_level": "WARNING",
            "security": {
                "encryption_keys": [Fernet.generate_key().decode()],
                "fingerprint_keys": [secrets.token_hex(32)],
            },
        }
    )
    service = Service(settings)
    await service.start()
    facade = LocalFacade.for_service(service, actor="console:bench")
    newest = await facade.transactions(TransactionQuery(), limit=1)
    some_id = newest.items[0].id

    async def dashboard() -> None:
        await asyncio.gather(facade.overview(), facade.transactions(TransactionQuery(), limit=50))

    screens: dict[str, Callable[[], Awaitable[Any]]] = {
        "dashboard": dashboard,
        "transactions, failed": lambda: facade.transactions(
            TransactionQuery(status="failed"), limit=50
        ),
        "transaction detail": lambda: facade.transaction(some_id),
        "search by reference": lambda: facade.search_transactions("ref-00500000"),
        "outbox, done": lambda: facade.tasks(TaskQuery(state="done"), limit=50),
        "outbox, dead": lambda: facade.tasks(TaskQuery(state="dead"), limit=50),
    }
    try:
        return {name: await _timed(call, repeat) for name, call in screens.items()}
    finally:
        await facade.aclose()
        await service.stop()


async def _load(url: str, rate_per_s: int, duration_s: float) -> list[float]:
    """Deposits due at a steady rate; each one's latency from when it was due, in ms."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(number: int, due: float) -> None:
            headers = {
                "Authorization": f"Bearer {CLIENT_KEY}",
                "Idempotency-Key": f"bench-console-{time.time_ns()}-{number}",
            }
            body = {
                "customer_id": "cus_bench",
                "amount": "10.00",
                "currency": "EUR",
                "country": "DE",
            }
            async with http.post(url, json=body, headers=headers) as response:
                await response.read()
                if response.status != 202:
                    raise RuntimeError(f"deposit answered {response.status}")
            if due - start >= WARM_UP_S:
                latencies.append((time.perf_counter() - due) * 1000)

        start = time.perf_counter()
        pending = []
        for number in range(int(rate_per_s * duration_s)):
            due = start + number / rate_per_s
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            pending.append(asyncio.create_task(post(number, due)))
        await asyncio.gather(*pending)
    return latencies


def measure_latency(
    db_path: Path, workdir: Path, *, console: bool, rate_per_s: int, duration_s: float
) -> list[float]:
    port = free_port()
    env = {
        "PAYCON_PORT": str(port),
        "PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "PAYCON_CLIENT_API_KEYS": CLIENT_KEY,
        "PAYCON_OPERATOR_API_KEYS": OPERATOR_KEY,
        "PAYCON_MOCK_GATEWAYS": "off",
        "PAYCON_WORKERS": "0",
        # The child runs in the work directory; bench.console_child lives in this checkout.
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    args = ["-m", "bench.console_child", *(["--console"] if console else [])]
    with child(args, env=env, cwd=workdir):
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout_s=120)
        time.sleep(1.0)  # let the console draw its first screen
        return asyncio.run(_load(f"http://127.0.0.1:{port}/v1/deposits", rate_per_s, duration_s))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.console",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--transactions",
        type=int,
        default=1_000_000,
        help="transactions and done tasks to seed (1,000,000)",
    )
    parser.add_argument("--rate", type=int, default=300, help="deposits per second (300)")
    parser.add_argument("--duration-s", type=float, default=12.0, help="seconds per round (12)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds per mode (4)")
    parser.add_argument("--repeat", type=int, default=30, help="refreshes timed per screen (30)")
    args = parser.parse_args(argv)
    print(f"console: {args.transactions:,} transactions and {args.transactions:,} done tasks")
    with tempfile.TemporaryDirectory(prefix="paycon-bench-") as tmp:
        workdir = Path(tmp)
        db_path = workdir / "console.db"
        print(f"  seeded in {seed(db_path, args.transactions):.0f} s")
        refreshes = asyncio.run(measure_refreshes(db_path, args.repeat))
        print(f"  {'refresh':24} {'p50 ms':>8} {'p99 ms':>8} {'p99 / 1 s interval':>20}")
        for name, timings in refreshes.items():
            p99 = _percentile(timings, 0.99)
            print(
                f"  {name:24} {statistics.median(timings):>8.2f} {p99:>8.2f} "
                f"{p99 / (REFRESH_INTERVAL_S * 1000):>20.3f}"
            )
        p99s: dict[bool, list[float]] = {False: [], True: []}
        p50s: dict[bool, list[float]] = {False: [], True: []}
        for round_number in range(args.rounds):
            for console in (False, True):
                latencies = measure_latency(
                    db_path,
                    workdir,
                    console=console,
                    rate_per_s=args.rate,
                    duration_s=args.duration_s,
                )
                p50s[console].append(statistics.median(latencies))
                p99s[console].append(_percentile(latencies, 0.99))
                mode = "with console" if console else "headless"
                print(
                    f"  round {round_number + 1}, {mode:12}: p50 {p50s[console][-1]:.2f} ms, "
                    f"p99 {p99s[console][-1]:.2f} ms ({len(latencies)} deposits)"
                )
    headless, with_console = statistics.median(p99s[False]), statistics.median(p99s[True])
    ratio = with_console / headless
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(
        f"  accept p99 at {args.rate}/s: headless {headless:.2f} ms, "
        f"with console {with_console:.2f} ms"
    )
    print(f"  ratio console / headless: {ratio:.2f} ({verdict} the {TARGET_RATIO} target)")


if __name__ == "__main__":
    main()
