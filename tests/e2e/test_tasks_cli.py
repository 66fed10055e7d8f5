"""``paycon tasks`` as an operator runs it: a real process on a real database file."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from paycon.cli import main
from paycon.config import ensure_config_file
from paycon.service import Service
from tests.paycon_fixtures import RunningPaycon, make_settings

DEPOSIT = {"customer_id": "cus_1", "amount": "1.00", "currency": "EUR", "country": "DE"}
TASK_KEYS = {
    "id", "kind", "state", "attempts", "max_attempts", "run_at", "dedupe_key", "lease_owner",
    "lease_expires_at", "last_error", "payload", "created_at", "updated_at",
}  # fmt: skip
ERROR = "GatewayTransient: 502 from gateway [bold]"  # markup-looking text shows as it is


@dataclass(frozen=True)
class Outbox:
    """A database with four submit tasks: ``dead_a`` (two, for gateway_a),
    ``pending_a`` (one) and ``dead_b`` (one, for gateway_b)."""

    db_path: Path
    config: Path
    env: dict[str, str]
    dead_a: tuple[int, int]
    pending_a: int
    dead_b: int

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "paycon", "tasks", *args, "--config", str(self.config)],
            env=self.env,
            cwd=self.config.parent,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()

    def task(self, task_id: int) -> tuple[str, int, str]:
        """State, attempts and updated_at of a task."""
        row = self.query(
            "SELECT state, attempts, updated_at FROM outbox_tasks WHERE id = ?", task_id
        )
        return row[0]

    def audit(self) -> list[tuple[Any, ...]]:
        return self.query("SELECT task_id, actor, action, reason FROM outbox_audit ORDER BY id")


async def _accept_deposits(db_path: Path) -> None:
    service = Service(make_settings(db_path))
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            running = RunningPaycon(service, http, db_path)
            for i, gateway in enumerate(("gateway_a", "gateway_a", "gateway_a", "gateway_b")):
                body = {**DEPOSIT, "gateway": gateway}
                status, _, _ = await running.post_json("/v1/deposits", body, key=f"seed-{i}")
                assert status == 202
    finally:
        await service.stop()


@pytest.fixture
def outbox_db(tmp_path: Path) -> Outbox:
    db_path = tmp_path / "paycon.db"
    asyncio.run(_accept_deposits(db_path))
    with sqlite3.connect(db_path) as conn:
        # Whatever the workers did meanwhile, start from known states.
        conn.execute("DELETE FROM outbox_attempts")
        conn.execute(
            "UPDATE outbox_tasks SET state = 'pending', attempts = 0, last_error = NULL, "
            "lease_owner = NULL, lease_expires_at = NULL"
        )
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM outbox_tasks WHERE kind = 'submit' ORDER BY dedupe_key LIKE "
                "'submit:gateway_b:%', id"
            )
        ]
        assert len(ids) == 4
        conn.execute(
            "UPDATE outbox_tasks SET state = 'dead', attempts = max_attempts, last_error = ? "
            "WHERE id IN (?, ?, ?)",
            (ERROR, ids[0], ids[1], ids[3]),
        )
    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYCON_")}
    env["PAYCON_DATABASE_URL"] = f"sqlite+aiosqlite:///{db_path}"
    return Outbox(db_path, config, env, (ids[0], ids[1]), ids[2], ids[3])


def table_rows(stdout: str) -> list[list[str]]:
    """The rows of a task table: id, kind, state, attempts, run at (two words), last error."""
    return [line.split() for line in stdout.splitlines() if line.strip()[:1].isdecimal()]


def test_list_is_newest_first_filtered_and_paged(outbox_db: Outbox) -> None:
    every = [row[0] for row in outbox_db.query("SELECT id FROM outbox_tasks ORDER BY id DESC")]
    result = outbox_db.cli("list")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    assert [int(r[0]) for r in rows] == every
    dead_row = next(r for r in rows if int(r[0]) == outbox_db.dead_b)
    assert dead_row[1:4] == ["submit", "dead", "10/10"]
    assert "GatewayTransient: 502 from gateway [bold]" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour into a pipe

    first = outbox_db.cli("list", "--state", "dead", "--limit", "2")
    assert first.returncode == 0, first.stderr
    assert [int(r[0]) for r in table_rows(first.stdout)] == [outbox_db.dead_b, outbox_db.dead_a[1]]
    hint = first.stdout.strip().splitlines()[-1]
    assert hint.startswith("more: paycon tasks list --state dead --limit 2 --cursor ")

    rest = outbox_db.cli("list", "--state", "dead", "--json", "--cursor", hint.split()[-1])
    assert rest.returncode == 0, rest.stderr
    page = json.loads(rest.stdout)
    assert page["next_cursor"] is None
    [item] = page["items"]
    assert set(item) == TASK_KEYS
    assert (item["id"], item["state"], item["last_error"]) == (outbox_db.dead_a[0], "dead", ERROR)
    assert item["dedupe_key"].startswith("submit:gateway_a:tx_")
    assert set(item["payload"]) == {"transaction_id", "route"}


def test_replay_one_dead_task_starts_it_over_and_audits_it(outbox_db: Outbox) -> None:
    task_id = outbox_db.dead_a[0]
    outbox_db.query(
        "INSERT INTO outbox_attempts (task_id, number, started_at, finished_at, outcome, "
        "error_class, error_message, duration_ms) SELECT id, 1, created_at, created_at, 'dead', "
        "'GatewayTransient', '502 from gateway', 120 FROM outbox_tasks WHERE id = ?",
        task_id,
    )
    result = outbox_db.cli("replay", str(task_id), "--reason", "gateway fixed")
    assert result.returncode == 0, result.stderr
    assert f"task {task_id} replayed: pending, attempts 0/10" in result.stdout
    assert outbox_db.task(task_id)[:2] == ("pending", 0)
    actor = f"cli:{getpass.getuser()}"
    assert outbox_db.audit() == [(task_id, actor, "replay", "gateway fixed")]

    shown = outbox_db.cli("show", str(task_id))
    assert shown.returncode == 0, shown.stderr
    attempt = next(line.split() for line in shown.stdout.splitlines() if " 120 ms " in line)
    assert attempt[0] == "1"
    assert attempt[3:] == ["dead", "120", "ms", "GatewayTransient:", "502", "from", "gateway"]
    audit = next(line for line in shown.stdout.splitlines() if actor in line)
    assert audit.split()[3:7] == ["replay", "gateway", "fixed", "was"]
    assert '"transaction_id": "tx_' in shown.stdout


def test_refused_actions_exit_1_and_change_nothing(outbox_db: Outbox) -> None:
    done = outbox_db.pending_a
    outbox_db.query("UPDATE outbox_tasks SET state = 'done' WHERE id = ?", done)
    before = outbox_db.task(done)

    result = outbox_db.cli("replay", str(done))
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert f"cannot replay outbox task {done}: it is done" in line
    assert outbox_db.task(done) == before

    missing = outbox_db.cli("replay", "999999")
    assert missing.returncode == 1
    [line] = missing.stderr.splitlines()
    assert "outbox task 999999 not found" in line
    assert "paycon tasks list" in line
    assert outbox_db.audit() == []


def test_bulk_replay_states_the_count_and_takes_only_the_filtered_tasks(
    outbox_db: Outbox,
) -> None:
    unconfirmed = outbox_db.cli("replay", "--state", "dead")
    assert unconfirmed.returncode == 2
    assert "3 tasks match (state=dead)" in unconfirmed.stdout
    assert "--yes" in unconfirmed.stderr
    assert outbox_db.task(outbox_db.dead_b)[0] == "dead"

    result = outbox_db.cli(
        "replay", "--state", "dead", "--gateway", "gateway_b", "--reason", "B is back", "--yes"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1 task matches (state=dead, gateway=gateway_b)",
        "replayed 1 task",
    ]
    assert outbox_db.task(outbox_db.dead_b)[:2] == ("pending", 0)
    assert [outbox_db.task(i)[0] for i in outbox_db.dead_a] == ["dead", "dead"]
    actor = f"cli:{getpass.getuser()}"
    assert outbox_db.audit() == [
        (outbox_db.dead_b, actor, "replay", "B is back"),
        (None, actor, "replay_matching", "B is back"),
    ]


def test_discard_needs_a_reason_and_closes_the_task(
    outbox_db: Outbox, capsys: pytest.CaptureFixture[str]
) -> None:
    task_id = outbox_db.dead_a[1]
    with pytest.raises(SystemExit) as refused:
        main(["tasks", "discard", str(task_id), "--config", str(outbox_db.config)], outbox_db.env)
    assert refused.value.code == 2
    assert "the following arguments are required: --reason" in capsys.readouterr().err
    assert outbox_db.task(task_id)[0] == "dead"

    result = outbox_db.cli("discard", str(task_id), "--reason", "refunded by hand")
    assert result.returncode == 0, result.stderr
    assert f"task {task_id} discarded" in result.stdout
    assert outbox_db.task(task_id)[0] == "done"
    actor = f"cli:{getpass.getuser()}"
    assert outbox_db.audit() == [(task_id, actor, "discard", "refunded by hand")]


def test_stats_count_tasks_by_state(outbox_db: Outbox) -> None:
    result = outbox_db.cli("stats")
    assert result.returncode == 0, result.stderr
    lines = [re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in result.stdout.splitlines()]
    figures = {name: value for name, value in lines}
    counts = dict(outbox_db.query("SELECT state, count(*) FROM outbox_tasks GROUP BY state"))
    assert (figures["dead"], figures["running"]) == ("3", "0")
    assert figures["pending"] == figures["backlog"] == str(counts["pending"])
    assert figures["oldest due"].startswith("waiting ")
    assert figures["done/s"] == "0.00 (last 60 s)"


# Checks that never reach the database run in-process (main() takes the
# environment as an argument): starting paycon costs about 2 s of imports here.


def test_a_missing_database_is_exit_3_and_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "paycon.toml"
    ensure_config_file(config)
    elsewhere = tmp_path / "elsewhere.db"
    environ = {"PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{elsewhere}"}
    assert main(["tasks", "list", "--config", str(config)], environ) == 3
    [line] = capsys.readouterr().err.splitlines()
    assert f"no database at {elsewhere}" in line
    assert not elsewhere.exists()


def test_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["tasks", "replay", "--help"], {})
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "exit status:" in text
    for status in ("0  done", "1  refused", "2  usage", "3  the database"):
        assert status in text
