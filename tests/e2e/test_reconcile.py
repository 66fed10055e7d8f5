"""``paycon reconcile`` against the mock gateways' settlement reports with their seeded
faults: every kind of break the faults make is found, matched lines book once, a
second run changes nothing, the ledger still verifies, a bad report writes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from mock_gateways.faults import Faults
from mock_gateways.ledger import LedgerEntry
from mock_gateways.server import MockGateways
from paycon.cli.main import main
from paycon.config import ensure_config_file
from tests.e2e.test_payment_flow import StartPaycon, deposit, start_paycon, wait_for_status
from tests.mock_gateway_fixtures import GATEWAY_A_SECRET, GATEWAY_B_SECRET, MockGatewaysFactory
from tests.paycon_fixtures import RunningPaycon, row_counts

__all__ = ["start_paycon"]  # the fixture, shared with the payment flow tests

PAYMENTS = 30
REPORT_FAULTS = Faults(
    callback_delay_ms=10,
    settlement_fee_bps=150,
    settlement_fee_minor=25,
    settle_unreported_rate=0.15,
    report_missing_rate=0.15,
    report_amount_skew_rate=0.15,
    late_failure_rate=0.15,
)


def expected_breaks(entries: list[LedgerEntry]) -> tuple[Counter[str], int]:
    """The breaks the mock's faults must make, and the lines that must match."""
    found: Counter[str] = Counter()
    matched = 0
    for entry in entries:
        hit = entry.injected
        lines = (0 if hit["report_missing"] else 1) + (1 if hit["late_failure"] else 0)
        if hit["settle_unreported"]:
            found["not_final"] += lines  # paycon never heard: still in flight
            continue
        if hit["report_missing"] and not hit["late_failure"]:
            found["missing_from_report"] += 1
        elif hit["report_amount_skew"]:
            found["amount_differs"] += 1
        elif not hit["report_missing"]:
            matched += 1
        if hit["late_failure"]:
            found["reversal"] += 1  # paycon holds the contradiction for review
    return found, matched


def reconcile(config: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["reconcile", "--config", str(config), *args], env)
    return status, out.getvalue(), err.getvalue()


async def settle_all(paycon: RunningPaycon, mocks: MockGateways, ids: list[str]) -> None:
    """Wait until the mock settled (and late-failed) every payment and paycon heard it all."""
    gateway = mocks.gateway_a
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        entries = {e.request.transaction_id: e for e in gateway.ledger.entries()}
        settled = len(entries) == len(ids) and all(
            e.status != "pending" and (not e.injected["late_failure"] or e.status == "failure")
            for e in entries.values()
        )
        heard = True
        for tx_id in ids if settled else ():
            entry = entries[tx_id]
            _, body = await paycon.get(f"/v1/transactions/{tx_id}")
            if entry.unreported:
                continue
            if body["status"] != "completed" or (
                entry.injected["late_failure"] and body["review"] is None
            ):
                heard = False
                break
        if settled and heard:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the payments did not settle")


async def test_reconcile_finds_every_seeded_break_and_books_each_matched_line_once(
    start_mock_gateways: MockGatewaysFactory,
    start_paycon: StartPaycon,
    tmp_path: Path,
    db_path: Path,
) -> None:
    mocks = await start_mock_gateways(faults_a=REPORT_FAULTS)
    paycon = await start_paycon(mocks)
    ids = []
    for n in range(PAYMENTS):
        body = deposit(f"{10 + n}.{n:02d}", gateway="gateway_a")
        _, _, answer = await paycon.post_json("/v1/deposits", body, key=f"rc-{n}")
        ids.append(answer["id"])
    await settle_all(paycon, mocks, ids)
    wanted, matched = expected_breaks(mocks.gateway_a.ledger.entries())
    assert set(wanted) == {"not_final", "missing_from_report", "amount_differs", "reversal"}

    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    env = {
        "PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "PAYCON_GATEWAY_A_URL": mocks.url_a,
        "PAYCON_GATEWAY_B_URL": mocks.url_b,
        "PAYCON_GATEWAY_A_SECRET": GATEWAY_A_SECRET,
        "PAYCON_GATEWAY_B_SECRET": GATEWAY_B_SECRET,
    }
    today = datetime.now(UTC).date().isoformat()
    args = ("--gateway", "gateway_a", "--fetch", "--date", today)
    status, out, err = await asyncio.to_thread(reconcile, config, env, *args)
    assert (status, err) == (1, ""), out
    for kind, count in wanted.items():
        assert f"    {kind:<20} {count}\n" in out, out
    assert f"  matched   {matched}  (booked now: {matched})\n" in out
    counts = row_counts(db_path)

    status, again, _ = await asyncio.to_thread(reconcile, config, env, *args)
    assert status == 1
    assert f"  matched   {matched}  (booked now: 0)\n" in again
    assert "(new: 0)" in again
    assert row_counts(db_path) == counts

    # The same report as a file, with a line paycon never heard of: only that line is new.
    async with httpx.AsyncClient() as client:
        fetched = await client.get(f"{mocks.url_a}/_mock/settlements", params={"date": today})
    report = tmp_path / "report.csv"
    report.write_text(
        fetched.text + f"GA9999999999,tx_unknown,deposit,5.00,0.33,4.67,EUR,{today}\r\n",
        newline="",
    )
    status, from_file, _ = await asyncio.to_thread(
        reconcile, config, env, "--gateway", "gateway_a", "--file", str(report)
    )
    assert status == 1
    assert "    unknown_transaction  1\n" in from_file
    assert f"  matched   {matched}  (booked now: 0)\n" in from_file
    assert "(new: 1)" in from_file

    out_v, err_v = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out_v), contextlib.redirect_stderr(err_v):
        verified = await asyncio.to_thread(main, ["ledger", "verify", "--config", str(config)], env)
    assert verified == 0, out_v.getvalue()


async def test_a_bad_report_or_gateway_writes_nothing_and_says_why(
    start_mock_gateways: MockGatewaysFactory,
    start_paycon: StartPaycon,
    tmp_path: Path,
    db_path: Path,
) -> None:
    mocks = await start_mock_gateways()
    paycon = await start_paycon(mocks)
    _, _, answer = await paycon.post_json("/v1/deposits", deposit(gateway="gateway_a"), key="x")
    await wait_for_status(paycon, answer["id"], "completed")
    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    env = {"PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}"}
    report = tmp_path / "report.csv"
    report.write_text(
        "gateway_reference,transaction_id,type,gross,fee,net,currency,value_date\r\n"
        f"GA0000000001,{answer['id']},deposit,100.00,1.75,98.25,EUR,2026-12-03\r\n"
        "GA0000000002,tx_x,deposit,5.00,0.10,5.00,EUR,2026-12-03\r\n"
    )
    counts = row_counts(db_path)
    cases = [
        (("--gateway", "gateway_a", "--file", str(report)), "line 3: net 5.00 does not follow"),
        (("--gateway", "gateway_a", "--file", str(tmp_path / "nope.csv")), "no report file at"),
        (("--gateway", "gateway_z", "--file", str(report)), "unknown gateway 'gateway_z'"),
    ]
    for args, words in cases:
        status, out, err = await asyncio.to_thread(reconcile, config, env, *args)
        assert (status, out) == (2, "")
        assert words in err
    assert row_counts(db_path) == counts
    with sqlite3.connect(db_path) as conn:
        runs = conn.execute("SELECT count(*) FROM reconciliation_runs").fetchone()[0]
        lines = conn.execute("SELECT count(*) FROM reconciliation_lines").fetchone()[0]
    assert (runs, lines) == (0, 0)
