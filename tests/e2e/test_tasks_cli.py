"""``paycon tasks`` as an operator runs it: a real process on a real database file."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from paycon.cli.main import main
from paycon.config import ensure_config_file
from paycon.runtime.service import Service
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

    for reason in ("  ", "refunded\x1b[2J", "tab\there"):
        refused_reason = outbox_db.cli("discard", str(task_id), "--reason", reason)
        assert refused_reason.returncode == 2
        assert "no control characters" in refused_reason.stderr
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


# --- the same commands on a running paycon, through its operator API (--url) ----------

OPERATOR = "ok_e2e_operator_key_0123456789"
CLIENT = "pk_e2e_client_key_0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Headless:
    """``paycon run --headless`` whose gateways refuse connections, so its tasks die."""

    url: str
    config: Path
    db_path: Path
    env: dict[str, str]

    def post_deposit(self, key: str, gateway: str) -> str:
        response = httpx.post(
            self.url + "/v1/deposits",
            json={**DEPOSIT, "gateway": gateway},
            headers={"Authorization": f"Bearer {CLIENT}", "Idempotency-Key": key},
            timeout=5,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def dead_task_of(self, transaction_id: str) -> int:
        for _ in range(200):
            with sqlite3.connect(self.db_path) as conn:
                found = conn.execute(
                    "SELECT id FROM outbox_tasks WHERE state = 'dead' AND dedupe_key LIKE ?",
                    (f"%{transaction_id}",),
                ).fetchone()
            if found:
                return int(found[0])
            time.sleep(0.05)
        raise AssertionError(f"the task of {transaction_id} did not die")

    def cli(self, *args: str, remote: bool = True) -> tuple[int, str, str]:
        """``paycon tasks ARGS`` in this process, on --url or the local database."""
        argv = ["tasks", *args, "--config", str(self.config)]
        if remote:
            argv += ["--url", self.url, "--token", OPERATOR]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv, self.env)
        return status, out.getvalue(), err.getvalue()

    def audit_of(self, task_id: int) -> list[tuple[str, str, str]]:
        with sqlite3.connect(self.db_path) as conn:
            rows = conn.execute(
                "SELECT actor, action, reason FROM outbox_audit WHERE task_id = ? ORDER BY id",
                (task_id,),
            )
            return [(str(a), str(b), str(c)) for a, b, c in rows]


@pytest.fixture(scope="module")
def headless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Headless]:
    folder = tmp_path_factory.mktemp("headless")
    config, db_path, port = folder / "paycon.toml", folder / "paycon.db", _free_port()
    ensure_config_file(config)
    closed = f"http://127.0.0.1:{_free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYCON_")}
    env |= {
        "PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "PAYCON_PORT": str(port),
        "PAYCON_CLIENT_API_KEYS": CLIENT,
        "PAYCON_OPERATOR_API_KEYS": OPERATOR,
        "PAYCON_MOCK_GATEWAYS": "off",
        "PAYCON_GATEWAY_A_URL": closed,
        "PAYCON_GATEWAY_B_URL": closed,
        "PAYCON_WORKERS": "1",
        "PAYCON_OUTBOX_MAX_ATTEMPTS": "1",
        "PAYCON_LOG_LEVEL": "WARNING",
    }
    log = folder / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "paycon", "run", "--headless", "--config", str(config)],
            cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=stderr,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError(f"paycon exited early: {log.read_text()}")
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield Headless(url, config, db_path, env)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_url_prints_what_the_local_database_prints(headless: Headless) -> None:
    task_id = headless.dead_task_of(headless.post_deposit("same-1", "gateway_a"))
    for args in (["list", "--state", "dead"], ["list", "--json"], ["show", str(task_id)],
                 ["show", str(task_id), "--json"]):  # fmt: skip
        remote = headless.cli(*args)
        assert remote[0] == 0, remote[2]
        assert remote == headless.cli(*args, remote=False)
    status, out, _ = headless.cli("stats", "--json")
    assert status == 0
    assert json.loads(out)["counts"]["dead"] >= 1


def test_url_actions_are_audited_as_the_operator_key_and_user(headless: Headless) -> None:
    task_id = headless.dead_task_of(headless.post_deposit("act-1", "gateway_a"))
    status, out, err = headless.cli("replay", str(task_id), "--reason", "gateway fixed")
    assert status == 0, err
    assert f"task {task_id} replayed: pending, attempts 0/1" in out
    [(actor, action, reason)] = headless.audit_of(task_id)
    assert (action, reason) == ("replay", "gateway fixed")
    assert re.fullmatch(rf"operator:key_\w+/{re.escape(getpass.getuser())}", actor), actor

    other = headless.dead_task_of(headless.post_deposit("act-2", "gateway_a"))
    status, out, err = headless.cli("discard", str(other), "--reason", "refunded by hand")
    assert status == 0, err
    assert f"task {other} discarded: done, last error kept" in out
    status, out, err = headless.cli("replay", str(other))
    assert (status, out) == (1, "")
    assert f"cannot replay outbox task {other}: it is done" in err
    status, _, err = headless.cli("show", "999999")
    assert status == 1
    assert "outbox task 999999 not found" in err


def test_url_bulk_replay_states_the_count(headless: Headless) -> None:
    task_id = headless.dead_task_of(headless.post_deposit("bulk-1", "gateway_b"))
    status, out, err = headless.cli(
        "replay", "--state", "dead", "--gateway", "gateway_b", "--reason", "B is back", "--yes"
    )
    assert status == 0, err
    lines = out.splitlines()
    assert re.fullmatch(r"\d+ tasks? matche?s? \(state=dead, gateway=gateway_b\)", lines[0])
    assert re.fullmatch(r"replayed \d+ tasks?", lines[1])
    assert ("replay", "B is back") in [row[1:] for row in headless.audit_of(task_id)]
    status, out, _ = headless.cli("replay", "--state", "dead", "--gateway", "gateway_z", "--yes")
    assert status == 0
    assert "configured gateways: gateway_a, gateway_b" in out


def test_url_refusals_have_their_exit_status(
    headless: Headless, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = ["--config", str(headless.config)]
    cases = [
        (["tasks", "list", "--url", headless.url, "--token", "ok_wrong"], 2,
         "refused the operator key"),
        (["tasks", "list", "--url", headless.url, "--token", CLIENT], 2, "operator key"),
        (["tasks", "list", "--url", headless.url], 2, "PAYCON_OPERATOR_TOKEN"),
        (["tasks", "list", "--token", OPERATOR], 2, "--token goes with --url"),
        (["tasks", "list", "--url", "ftp://x", "--token", OPERATOR], 2, "http://HOST:PORT"),
        (["tasks", "list", "--url", "http://[::1:8080", "--token", OPERATOR], 2,
         "--url 'http://[::1:8080': Invalid IPv6 URL"),
        (["tasks", "list", "--url", f"http://127.0.0.1:{_free_port()}", "--token", OPERATOR],
         3, "cannot reach paycon at http://127.0.0.1:"),
        (["tasks", "list", "--url", headless.url, "--token", OPERATOR, "--cursor", "x"],
         2, "cursor"),
    ]  # fmt: skip
    for argv, expected, message in cases:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            assert main([*argv, *config], headless.env) == expected, argv
        assert message in err.getvalue(), (argv, err.getvalue())
    # The key may come from the environment instead of the command line.
    # (main() hands its environ down, or the command reads the process's: set both.)
    monkeypatch.setenv("PAYCON_OPERATOR_TOKEN", OPERATOR)
    environ = {**headless.env, "PAYCON_OPERATOR_TOKEN": OPERATOR}
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["tasks", "stats", "--url", headless.url, *config], environ) == 0
    assert "backlog" in out.getvalue()


def test_url_needs_no_local_config_and_writes_none(
    headless: Headless, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(["tasks", "stats", "--url", headless.url, "--token", OPERATOR], {})
    assert status == 0
    assert "dead" in out.getvalue()
    assert list(elsewhere.iterdir()) == []


def test_ids_and_cursors_past_the_largest_task_id_are_refused(outbox_db: Outbox) -> None:
    largest = str(2**63 - 1)
    past = str(2**63)
    for args in (["list", "--cursor", past], ["list", "--state", "dead", "--cursor", past]):
        result = outbox_db.cli(*args)
        assert result.returncode == 2, result.stderr
        assert "cursor" in result.stderr
        assert "Traceback" not in result.stderr
    result = outbox_db.cli("list", "--cursor", largest, "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["items"]) == 4

    refused = outbox_db.cli("replay", past, "--reason", "x")
    assert refused.returncode == 2
    assert f"not a task id: '{past}'" in refused.stderr
    missing = outbox_db.cli("replay", largest, "--reason", "x")
    assert missing.returncode == 1
    assert f"outbox task {largest} not found" in missing.stderr
    assert outbox_db.audit() == []
