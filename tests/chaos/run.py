"""One chaos run: start the mocks and paycon, load, kill, misbehave, settle, check.

The mock gateways run in a process of their own, so their ledger survives
every kill of paycon and records what the gateways really did.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import shutil
import statistics
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiohttp

from paycon.config import DatabaseSettings, GatewaySettings, default_config_text
from paycon.domain.reconcile import RunSummary
from paycon.storage.database import Database
from paycon.usecases.reconcile import Reconciliation
from tests.chaos import checks
from tests.chaos.checks import Check
from tests.chaos.load import LoadGenerator, customer_ids, iban_for, plan
from tests.chaos.processes import LOOPBACK, Child, free_port, wait_until_up
from tests.chaos.schedule import GATEWAYS, HEALTHY, Schedule, draw_schedule

Json = dict[str, Any]
Out = Callable[[str], None]
ACTOR = {"X-Actor": "chaos"}
# How long a mock keeps trying one callback: 5 attempts, backing off 0.5 + 1 + 2 + 4 s.
CALLBACK_ATTEMPTS = 5
UP_TIMEOUT_S = 60.0
# Payments from France try gateway B first; a timeout is ambiguous after 2 s.
ROUTING_AND_TIMEOUTS = """
[gateway_http]
connect_timeout_s = 1.0
read_timeout_s = 2.0

[[routing.rules]]
countries = ["FR"]
gateways = ["gateway_b", "gateway_a"]
"""


@dataclass(frozen=True)
class ChaosOptions:
    """What one run does; the defaults are ``make chaos``'s."""

    seed: int
    kills: int = 20
    duration_s: float = 240.0
    outage_s: float = 30.0
    customers: int = 6
    rate_per_s: float = 12.0
    settle_timeout_s: float = 300.0
    keep: bool = False

    def command(self) -> str:
        """The command that repeats this run."""
        return (
            f"python -m tests.chaos --seed {self.seed} --kills {self.kills}"
            f" --duration {self.duration_s:g} --outage {self.outage_s:g}"
            f" --customers {self.customers} --rate {self.rate_per_s:g}"
        )


@dataclass
class ChaosReport:
    """Every check's verdict, and the seed to repeat the run."""

    options: ChaosOptions
    checks: list[Check] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.ok is not False for c in self.checks)


@dataclass
class Paycon:
    """The paycon child and how to talk to it."""

    child: Child
    url: str
    client_key: str
    operator_key: str
    http: aiohttp.ClientSession
    restart_s: list[float] = field(default_factory=list)
    exits: list[int] = field(default_factory=list)

    async def start(self) -> None:
        started = time.monotonic()
        self.child.start()
        await wait_until_up(self.http, self.url + "/healthz", timeout_s=UP_TIMEOUT_S)
        self.restart_s.append(time.monotonic() - started)

    async def kill_and_restart(self) -> None:
        code = self.child.exited()
        if code is not None:  # it died on its own: that is a failure of its own
            self.exits.append(code)
        await self.child.kill()
        await self.start()

    async def get(self, path: str) -> Json:
        headers = {"Authorization": f"Bearer {self.operator_key}"}
        async with self.http.get(self.url + path, headers=headers) as response:
            response.raise_for_status()
            body: Json = await response.json()
            return body

    async def post(self, path: str, body: Json) -> Json:
        headers = {"Authorization": f"Bearer {self.operator_key}"}
        async with self.http.post(self.url + path, json=body, headers=headers) as response:
            response.raise_for_status()
            answer: Json = await response.json()
            return answer

    async def transactions(self, query: str = "") -> list[Json]:
        found: list[Json] = []
        cursor = ""
        while True:
            page = await self.get(f"/v1/transactions?limit=200{query}{cursor}")
            found += page["items"]
            if page["next_cursor"] is None:
                return found
            cursor = f"&cursor={page['next_cursor']}"

    async def dead_tasks(self) -> list[Json]:
        found: list[Json] = []
        cursor = ""
        while True:
            page = await self.get(f"/v1/outbox/tasks?state=dead&limit=500{cursor}")
            found += page["items"]
            if page["next_cursor"] is None:
                return found
            cursor = f"&cursor={page['next_cursor']}"


@dataclass
class Mocks:
    """The mock gateways' process and its two admin APIs."""

    child: Child
    urls: dict[str, str]
    http: aiohttp.ClientSession

    async def set_faults(self, gateway: str, faults: dict[str, object], why: str) -> None:
        headers = {**ACTOR, "X-Reason": why}
        url = self.urls[gateway] + "/_mock/faults"
        async with self.http.put(url, json=faults, headers=headers) as response:
            response.raise_for_status()

    async def ledger(self, gateway: str) -> tuple[Json, list[Json]]:
        """The summary and every payment of one gateway."""
        entries: list[Json] = []
        cursor = ""
        while True:
            url = f"{self.urls[gateway]}/_mock/ledger?limit=1000{cursor}"
            async with self.http.get(url) as response:
                response.raise_for_status()
                page = await response.json()
            entries += page["payments"]
            if page["next_cursor"] is None:
                return page["summary"], entries
            cursor = f"&cursor={page['next_cursor']}"

    async def ledgers(self) -> dict[str, list[Json]]:
        return {g: (await self.ledger(g))[1] for g in GATEWAYS}


def _callbacks_in_flight(ledgers: dict[str, list[Json]]) -> int:
    return sum(
        1
        for entries in ledgers.values()
        for entry in entries
        for callback in entry["callbacks"]
        if not callback["delivered"] and len(callback["attempts"]) < CALLBACK_ATTEMPTS
    )


def _fingerprint(ledgers: dict[str, list[Json]]) -> tuple[int, ...]:
    return tuple(
        sum(n)
        for n in zip(
            *(
                (1, e["callbacks_sent"], e["callback_attempts"], e["submissions"], e["charges"],
                 e["status"] == "failure")
                for entries in ledgers.values() for e in entries
            ),
            strict=True,
        )
    )  # fmt: skip


async def settle(paycon: Paycon, mocks: Mocks, *, timeout_s: float, out: Out) -> bool:
    """Wait until nothing moves: no task running or pending, no payment in flight at the
    gateways, every callback delivered or given up, and the gateways' ledgers and the number
    of payments in flight at paycon the same on two reads in a row. Prints progress; returns
    False at the deadline."""
    deadline = time.monotonic() + timeout_s
    next_report = time.monotonic() + 5
    last: tuple[int, ...] | None = None
    while True:
        in_flight = len(await paycon.transactions("&status=pending")) + len(
            await paycon.transactions("&status=submitted")
        )
        stats = await paycon.get("/v1/outbox/stats")
        counts = stats["counts"]
        ledgers = await mocks.ledgers()
        pending_at_gateways = sum(e["status"] == "pending" for v in ledgers.values() for e in v)
        callbacks = _callbacks_in_flight(ledgers)
        fingerprint = _fingerprint(ledgers)
        # Payments still in flight with no task left to move them (their task died) do not
        # hold this up: they are the operator's to replay, after this wait.
        fingerprint = (*fingerprint, in_flight)
        quiet = (
            counts.get("running", 0) == 0 and counts.get("pending", 0) == 0
            and pending_at_gateways == 0 and callbacks == 0 and fingerprint == last
        )  # fmt: skip
        if quiet:
            return True
        last = fingerprint
        now = time.monotonic()
        if now > deadline:
            out(f"  not settled after {timeout_s:.0f} s")
            return False
        if now >= next_report:
            out(
                f"  settling: {in_flight} payments in flight, outbox {stats['backlog']} due +"
                f" {stats['scheduled']} scheduled, {pending_at_gateways} pending at the gateways,"
                f" {callbacks} callbacks being delivered ({deadline - now:.0f} s left)"
            )
            next_report = now + 5
        await asyncio.sleep(1.0)


async def wait_for_holds(paycon: Paycon, ids: set[str], *, timeout_s: float) -> None:
    """Until every payment in ``ids`` is held (the review watch holds dead tasks' payments);
    returns at the deadline regardless: the held check then says which were missed."""
    deadline = time.monotonic() + timeout_s
    while ids and time.monotonic() < deadline:
        held = {t["id"] for t in await paycon.transactions("&review=true")}
        if ids <= held:
            return
        await asyncio.sleep(0.5)


def _config(workdir: Path) -> tuple[Path, list[str]]:
    """A config file with fresh secrets and a short gateway read timeout, and its secrets."""
    text = default_config_text() + ROUTING_AND_TIMEOUTS
    path = workdir / "paycon.toml"
    path.write_text(text)
    raw = tomllib.loads(text)
    found = [
        *raw["auth"]["client_api_keys"], *raw["auth"]["operator_api_keys"],
        *raw["security"]["encryption_keys"], *raw["security"]["fingerprint_keys"],
        *raw["notify"]["webhook_secrets"],
        *(g["secret"] for g in raw["gateways"].values()),
    ]  # fmt: skip
    return path, found


async def _drive(
    schedule: Schedule, options: ChaosOptions, paycon: Paycon, mocks: Mocks, out: Out
) -> list[Any]:
    """The load, the kills and the fault phases, all at once."""
    rng = random.Random(f"load-{options.seed}")
    planned = plan(rng, customers=options.customers,
                   count=int(options.rate_per_s * options.duration_s * 2) + 10)  # fmt: skip
    load = LoadGenerator(paycon.http, paycon.url, paycon.client_key, rate_per_s=options.rate_per_s)
    started = time.monotonic()

    async def at(offset_s: float) -> None:
        # A schedule, not synchronisation: things happen at seeded times.
        await asyncio.sleep(max(0.0, started + offset_s - time.monotonic()))

    async def kills() -> None:
        for n, kill_at_s in enumerate(schedule.kill_at_s, 1):
            await at(kill_at_s)
            await paycon.kill_and_restart()
            out(f"  {time.monotonic() - started:6.1f} s  SIGKILL {n}/{len(schedule.kill_at_s)},"
                f" paycon back in {paycon.restart_s[-1]:.1f} s")  # fmt: skip

    async def phases() -> None:
        for phase in schedule.phases:
            await at(phase.start_s)
            for gateway in GATEWAYS:
                await mocks.set_faults(gateway, phase.faults[gateway], f"chaos: {phase.name}")
            out(f"  {time.monotonic() - started:6.1f} s  faults: {phase.name}")

    async with asyncio.TaskGroup() as group:
        group.create_task(kills(), name="chaos-kills")
        group.create_task(phases(), name="chaos-faults")
        answers = group.create_task(
            load.run(planned, until=started + options.duration_s), name="chaos-load"
        )
    out(f"  {time.monotonic() - started:6.1f} s  load done: {len(answers.result())} payments")
    return answers.result()


async def run_chaos(options: ChaosOptions, out: Out = print) -> ChaosReport:
    """Run chaos once; every line goes through ``out`` and into the report."""
    report = ChaosReport(options)

    def say(line: str) -> None:
        report.lines.append(line)
        out(line)

    rng = random.Random(options.seed)
    schedule = draw_schedule(
        rng, duration_s=options.duration_s, outage_s=options.outage_s, kills=options.kills
    )
    say(f"chaos: seed {options.seed}, {options.kills} kills, {options.duration_s:g} s of load"
        f" at {options.rate_per_s:g} payments/s for {options.customers} customers")  # fmt: skip
    say(f"  repeat with: {options.command()}")
    for phase in schedule.phases:
        say(f"  phase {phase.describe()}")
    workdir = Path(tempfile.mkdtemp(prefix="paycon-chaos-"))
    try:
        await _run_in(workdir, options, schedule, report, say)
    except Exception as exc:  # a run that breaks off is a failed run, with its seed printed
        report.checks.append(Check("run", False, f"broke off: {type(exc).__name__}: {exc}"))
        say(report.checks[-1].line())
    finally:
        if report.passed and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"  files kept in {workdir} (paycon.log, mocks.log, chaos.db)")
    say(f"chaos: {'PASSED' if report.passed else 'FAILED'} (seed {options.seed})")
    return report


async def _run_in(
    workdir: Path, options: ChaosOptions, schedule: Schedule, report: ChaosReport, say: Out
) -> None:
    started_on = datetime.now(UTC).date()
    port, port_a, port_b = free_port(), free_port(), free_port()
    config, config_secrets = _config(workdir)
    client_key, operator_key = (
        "pk_chaos_" + secrets.token_hex(16),
        "ok_chaos_" + secrets.token_hex(16),
    )
    secret_a, secret_b = secrets.token_hex(24), secrets.token_hex(24)
    urls = {"gateway_a": f"http://{LOOPBACK}:{port_a}", "gateway_b": f"http://{LOOPBACK}:{port_b}"}
    env = {
        "PAYCON_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'chaos.db'}",
        "PAYCON_HOST": LOOPBACK,
        "PAYCON_PORT": str(port),
        "PAYCON_PUBLIC_URL": f"http://{LOOPBACK}:{port}",
        "PAYCON_CLIENT_API_KEYS": client_key,
        "PAYCON_OPERATOR_API_KEYS": operator_key,
        "PAYCON_MOCK_GATEWAYS": "off",
        "PAYCON_GATEWAY_A_URL": urls["gateway_a"],
        "PAYCON_GATEWAY_B_URL": urls["gateway_b"],
        "PAYCON_GATEWAY_A_SECRET": secret_a,
        "PAYCON_GATEWAY_B_SECRET": secret_b,
        "PAYCON_WORKERS": "8",
        "PAYCON_OUTBOX_MAX_ATTEMPTS": "10",
        "PAYCON_RETRY_BASE_S": "0.2",
        "PAYCON_RETRY_MAX_S": "2",
        "PAYCON_BREAKER_FAIL_MAX": "5",
        "PAYCON_BREAKER_RESET_S": "3",
        "PAYCON_STATUS_CHECK_AFTER_S": "2",
        "PAYCON_REVIEW_WATCH_EVERY_S": "1",
        "PAYCON_CREDENTIALS_RETRY_S": "1",
        "PAYCON_NOT_KNOWN_MARGIN_S": "5",
        "PAYCON_LOG_LEVEL": "INFO",
    }
    mock_args = ["-m", "paycon", "mock-gateways", "--port-a", str(port_a), "--port-b",
                 str(port_b), "--seed", str(options.seed), "--secret-a", secret_a,
                 "--secret-b", secret_b]  # fmt: skip
    paycon_log = workdir / "paycon.log"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
        mocks = Mocks(
            Child(mock_args, env={"PAYCON_LOG_LEVEL": "WARNING"}, cwd=workdir,
                  log=workdir / "mocks.log"),
            urls, http,
        )  # fmt: skip
        paycon = Paycon(
            Child(["-m", "paycon", "run", "--headless", "--config", str(config)], env=env,
                  cwd=workdir, log=paycon_log),
            f"http://{LOOPBACK}:{port}", client_key, operator_key, http,
        )  # fmt: skip
        mocks.child.start()
        try:
            for gateway in GATEWAYS:
                await wait_until_up(http, urls[gateway] + "/_mock/faults", timeout_s=UP_TIMEOUT_S)
            await paycon.start()
            try:
                answers = await _drive(schedule, options, paycon, mocks, say)
                await _settle_and_check(answers, options, paycon, mocks, report, say)
            finally:
                await paycon.child.stop()
            # paycon is stopped; the gateways still serve their settlement reports.
            report.checks.append(await reconcile_reports(workdir / "chaos.db", urls, started_on))
            say(report.checks[-1].line())
        finally:
            await mocks.child.stop()
    report.checks.append(checks.check_ledger(workdir / "chaos.db"))
    say(report.checks[-1].line())
    log_lines = paycon_log.read_text(errors="replace").splitlines()
    ibans = [iban_for(c) for c in customer_ids(options.customers)]
    secrets_ = [client_key, operator_key, secret_a, secret_b, *config_secrets]
    report.checks.append(checks.check_logs(log_lines, secrets=secrets_, ibans=ibans))
    say(report.checks[-1].line())


async def reconcile_reports(db_path: Path, urls: dict[str, str], started_on: date) -> Check:
    """Reconcile each gateway's settlement report of every day of the run, twice, on
    paycon's database (as ``paycon reconcile --fetch`` does)."""
    db = Database(DatabaseSettings(url=f"sqlite+aiosqlite:///{db_path}"))
    gateways = {g: GatewaySettings(url=url, secret="unused") for g, url in urls.items()}
    desk = Reconciliation(db, gateways)
    days = sorted({started_on, datetime.now(UTC).date()})
    await db.open()
    try:
        runs: list[list[RunSummary]] = [[], []]
        for attempt in runs:
            for gateway in GATEWAYS:
                for day in days:
                    report = await desk.fetch(gateway, day)
                    attempt.append(await desk.reconcile(gateway, report, day=day, actor="chaos"))
    finally:
        await db.close()
    return checks.check_reconcile(runs[0], runs[1])


async def _settle_and_check(
    answers: list[Any], options: ChaosOptions, paycon: Paycon, mocks: Mocks,
    report: ChaosReport, say: Out,
) -> None:  # fmt: skip
    for gateway in GATEWAYS:
        await mocks.set_faults(gateway, HEALTHY, "chaos: faults lifted, settling")
    say("faults lifted; waiting for paycon and the gateways to settle")
    started = time.monotonic()
    settled = await settle(paycon, mocks, timeout_s=options.settle_timeout_s, out=say)
    # An operator, once the incident is over, replays what died during it: the dead tasks'
    # payments stay held for review (someone should look), and their work gets done.
    dead = await paycon.dead_tasks()
    dead_ids = {str(t["payload"].get("transaction_id")) for t in dead}
    if dead:
        await wait_for_holds(paycon, dead_ids, timeout_s=30)
        replayed = await paycon.post(
            "/v1/outbox/replay", {"state": "dead", "reason": "chaos: replayed after the incident"}
        )
        kinds = Counter(t["kind"] for t in dead)
        errors = Counter(str(t["last_error"])[:60] for t in dead).most_common(3)
        say(f"replayed {replayed['replayed']} dead tasks ({checks.counts(kinds)}; last errors:"
            f" {'; '.join(f'{n}x {e}' for e, n in errors)}); settling again")  # fmt: skip
        settled = (
            await settle(paycon, mocks, timeout_s=options.settle_timeout_s, out=say) and settled
        )
    settled_check = Check(
        "settled",
        settled,
        f"nothing moved any more {time.monotonic() - started:.0f} s after the faults were lifted"
        f" ({len(dead)} dead tasks replayed on the way)"
        if settled
        else f"still moving after {options.settle_timeout_s:.0f} s",
    )

    transactions = await paycon.transactions()
    ledgers = await mocks.ledgers()
    balances = {
        c: (await paycon.get(f"/v1/customers/{c}/balances"))["balances"]
        for c in customer_ids(options.customers)
    }
    stats = await paycon.get("/v1/outbox/stats")
    restarts = paycon.restart_s[1:]
    report.checks += [
        settled_check,
        Check(
            "kills",
            not paycon.exits and len(restarts) == options.kills,
            f"{len(restarts)} SIGKILLs, paycon back within {max(restarts, default=0):.1f} s"
            f" (median {statistics.median(restarts or [0]):.1f} s); {len(paycon.exits)} exits"
            f" on its own",
        ),
        checks.check_accepted(answers, transactions),
        checks.check_final(transactions, ledgers),
        checks.check_holds(transactions, ledgers, dead_ids),
        checks.check_charges(ledgers),
        checks.check_balances(transactions, balances),
        checks.check_outbox(stats),
    ]
    for check in report.checks:
        say(check.line())
