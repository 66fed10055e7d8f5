"""How fast paycon accepts deposits, against the bare aiohttp ceiling, in one run.

wrk posts deposits with unique Idempotency-Keys at 64 connections to
``paycon run --headless`` (SQLite, ``synchronous=FULL``, no outbox workers in the
process: acceptance alone is measured; ``bench.e2e`` measures delivery) and, in the same run,
to a bare aiohttp endpoint that answers a constant body. The figures that
matter are the ratio to the ceiling and paycon's p99 latency.

Run with ``make bench`` or ``python -m bench.accept [--duration-s N]``.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

from bench.harness import WrkResult, child, free_port, run_wrk, wait_for_http

TOKEN = "pk_bench_client_key_000000000000"  # noqa: S105 - a throwaway key for a throwaway db
TARGET_RATIO = 0.40
TARGET_P99_MS = 25.0


def measure_ceiling(duration_s: int) -> WrkResult:
    port = free_port()
    with child(["-m", "bench.ceiling", str(port)]):
        wait_for_http(f"http://127.0.0.1:{port}/")
        return run_wrk(f"http://127.0.0.1:{port}/v1/deposits", token=TOKEN, duration_s=duration_s)


def measure_paycon(duration_s: int, workdir: Path) -> tuple[WrkResult, int]:
    """wrk's figures and the number of payments stored in the database."""
    port = free_port()
    db_path = workdir / "bench.db"
    env = {
        "PAYCON_PORT": str(port),
        "PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "PAYCON_CLIENT_API_KEYS": TOKEN,
        "PAYCON_MOCK_GATEWAYS": "off",
        # An API-only process: acceptance is what is measured, not delivery.
        "PAYCON_WORKERS": "0",
        "PAYCON_SQLITE_SYNCHRONOUS": "FULL",
    }
    with child(["-m", "paycon", "run", "--headless"], env=env, cwd=workdir):
        wait_for_http(f"http://127.0.0.1:{port}/healthz")
        result = run_wrk(f"http://127.0.0.1:{port}/v1/deposits", token=TOKEN, duration_s=duration_s)
    with sqlite3.connect(db_path) as conn:
        stored = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
    return result, int(stored)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.accept", description=__doc__)
    parser.add_argument("--duration-s", type=int, default=10, help="seconds per wrk run")
    args = parser.parse_args(argv)
    print(f"accept: {args.duration_s} s of wrk per side, 64 connections, 2 threads")
    ceiling = measure_ceiling(args.duration_s)
    with tempfile.TemporaryDirectory(prefix="paycon-bench-") as workdir:
        paycon, stored = measure_paycon(args.duration_s, Path(workdir))
    accepted_per_s = (paycon.requests - paycon.non_2xx) / args.duration_s
    ratio = accepted_per_s / ceiling.requests_per_s
    print(f"  {'':24} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"  {'bare aiohttp (ceiling)':24} {ceiling.requests_per_s:>10.0f} "
          f"{ceiling.p50_ms:>8.2f} {ceiling.p99_ms:>8.2f}")  # fmt: skip
    print(f"  {'paycon accepted':24} {accepted_per_s:>10.0f} "
          f"{paycon.p50_ms:>8.2f} {paycon.p99_ms:>8.2f}")  # fmt: skip
    print(f"  stored payments: {stored} (wrk counted {paycon.requests - paycon.non_2xx} accepted,"
          f" {paycon.non_2xx} refused)")  # fmt: skip
    verdict_ratio = "meets" if ratio >= TARGET_RATIO else "misses"
    verdict_p99 = "meets" if paycon.p99_ms <= TARGET_P99_MS else "misses"
    print(f"  ratio to ceiling: {ratio:.2f} ({verdict_ratio} the {TARGET_RATIO:.2f} target)")
    print(f"  paycon p99: {paycon.p99_ms:.1f} ms ({verdict_p99} the {TARGET_P99_MS:.0f} ms target)")


if __name__ == "__main__":
    main()
