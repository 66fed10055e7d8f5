"""Payments from acceptance to ``completed``, against the mock gateways in their own process.

N deposits are posted at 64 concurrent requests to ``paycon run --headless``
(SQLite, ``synchronous=FULL``, 64 outbox workers), wired to ``paycon
mock-gateways`` with zero latency. Each payment is an accept, a submit to the gateway, a signed
callback and four commits. Reported: completed payments/s, the p50/p99 of
accept-to-completed latency (from each transaction's own timestamps), and, in
the same run, the bare aiohttp ceiling of ``bench.accept``.

Run with ``make bench`` or ``python -m bench.e2e [--payments N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from bench.accept import TOKEN, measure_ceiling
from bench.harness import child, free_port, wait_for_http

SECRET_A = "bench-secret-a"  # noqa: S105 - throwaway
SECRET_B = "bench-secret-b"  # noqa: S105 - throwaway
TARGET_SHARE = 0.10
CONCURRENCY = 64
WORKERS = 8


async def post_all(url: str, count: int) -> float:
    """Post ``count`` deposits, CONCURRENCY at a time; returns the seconds it took."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def poster(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = {"customer_id": f"cus_{i % 100}", "amount": "10.00", "currency": "EUR",
                    "country": "DE"}  # fmt: skip
            async with http.post(
                url + "/v1/deposits", json=body, headers={**headers, "Idempotency-Key": f"e{i}"}
            ) as response:
                if response.status != 202:
                    raise RuntimeError(f"deposit refused: {response.status}")

    started = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(poster(http) for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


async def wait_until_done(url: str, timeout_s: float) -> None:
    """Until no transaction is pending or submitted any more."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            open_ = 0
            for status in ("pending", "submitted"):
                query = f"/v1/transactions?status={status}&limit=1"
                async with http.get(url + query, headers=headers) as response:
                    open_ += len((await response.json())["items"])
            if open_ == 0:
                return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"payments still in flight after {timeout_s} s")


async def completed(url: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    found: list[dict[str, Any]] = []
    cursor = ""
    async with aiohttp.ClientSession() as http:
        while True:
            query = f"/v1/transactions?status=completed&limit=200{cursor}"
            async with http.get(url + query, headers=headers) as response:
                page = await response.json()
            found += page["items"]
            if page["next_cursor"] is None:
                return found
            cursor = f"&cursor={page['next_cursor']}"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run(count: int, workdir: Path) -> tuple[float, float, float, int]:
    """Completed payments/s, p50 and p99 accept-to-completed ms, payments completed."""
    port, port_a, port_b = free_port(), free_port(), free_port()
    mocks = ["-m", "paycon", "mock-gateways", "--port-a", str(port_a), "--port-b", str(port_b),
             "--secret-a", SECRET_A, "--secret-b", SECRET_B,
             "--fault-a", "callback_delay_ms=0", "--fault-b", "callback_delay_ms=0"]  # fmt: skip
    env = {
        "PAYCON_PORT": str(port),
        "PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'e2e.db'}",
        "PAYCON_CLIENT_API_KEYS": TOKEN,
        "PAYCON_MOCK_GATEWAYS": "off",
        "PAYCON_GATEWAY_A_URL": f"http://127.0.0.1:{port_a}",
        "PAYCON_GATEWAY_B_URL": f"http://127.0.0.1:{port_b}",
        "PAYCON_GATEWAY_A_SECRET": SECRET_A,
        "PAYCON_GATEWAY_B_SECRET": SECRET_B,
        "PAYCON_LOG_LEVEL": "WARNING",
        # Gateway calls are I/O: more workers than the default 8 keep the gateways busy.
        "PAYCON_WORKERS": str(WORKERS),
    }
    url = f"http://127.0.0.1:{port}"
    with child(mocks, cwd=workdir, env={"PAYCON_LOG_LEVEL": "WARNING"}):
        wait_for_http(f"http://127.0.0.1:{port_a}/_mock/faults")
        with child(["-m", "paycon", "run", "--headless"], env=env, cwd=workdir):
            wait_for_http(url + "/healthz")
            asyncio.run(post_all(url, count))
            asyncio.run(wait_until_done(url, timeout_s=600))
            done = asyncio.run(completed(url))
    latencies_ms = sorted(
        (_at(t["updated_at"]) - _at(t["created_at"])).total_seconds() * 1000 for t in done
    )
    first = min(_at(t["created_at"]) for t in done)
    last = max(_at(t["updated_at"]) for t in done)
    per_s = len(done) / max((last - first).total_seconds(), 1e-9)
    p99 = latencies_ms[min(len(latencies_ms) - 1, int(len(latencies_ms) * 0.99))]
    return per_s, statistics.median(latencies_ms), p99, len(done)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e", description=__doc__)
    parser.add_argument("--payments", type=int, default=10_000, help="deposits to run through")
    args = parser.parse_args(argv)
    print(f"e2e: {args.payments} deposits accept → completed, mock gateways in their own process")
    ceiling = measure_ceiling(5)
    with tempfile.TemporaryDirectory(prefix="paycon-e2e-") as workdir:
        per_s, p50_ms, p99_ms, done = run(args.payments, Path(workdir))
    share = per_s / ceiling.requests_per_s
    print(f"  bare aiohttp ceiling:        {ceiling.requests_per_s:>8.0f} req/s")
    print(f"  completed payments:          {per_s:>8.0f} /s ({done} of {args.payments})")
    print(f"  accept → completed:          p50 {p50_ms:.0f} ms, p99 {p99_ms:.0f} ms")
    verdict = "meets" if share >= TARGET_SHARE else "misses"
    print(f"  share of the ceiling:        {share:.3f} ({verdict} the {TARGET_SHARE:.2f} target)")


if __name__ == "__main__":
    main()
