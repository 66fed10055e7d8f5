"""Demo traffic for ``paycon run --demo``: payments through the real API, faults on a cycle.

``Demo`` owns two named tasks in the service's process:

- *traffic* posts a steady trickle of deposits and withdrawals for a few
  customers through the HTTP API with a client key. A customer withdraws
  only part of what the API reports as ``available``, so withdrawals follow
  deposits that have completed.
- *faults* walks a schedule of ``Phase``s on the embedded mock gateways,
  over and over: calm, gateway A erring, A answering 503 (once its breaker
  opens, new payments go to B), calm, B losing its callbacks (status checks
  settle them), ... Every phase starts from the faults the mocks started with.
  Each switch is recorded in the mock's fault history as the demo's
  (``DEMO_ACTOR``). The moment the history shows a switch by anyone else (the
  console, the operator API, ``PUT /_mock/faults``), the cycle stops and leaves
  the faults to them.

- *reconcile* (when given a ``Reconciliation``) reconciles each gateway's
  settlement report of the day every ``reconcile_every_s``, so the console
  shows live reconciliation; ``demo_for`` gives the mocks a settlement fee and
  rare report faults first, so there is something to find.

All stop when ``stop`` is awaited; the mocks get their starting faults back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp

from mock_gateways.errors import InvalidFaults
from mock_gateways.faults import Faults
from mock_gateways.gateway import MockGateway
from paycon.config import Settings
from paycon.domain.errors import ConfigError, PayconError
from paycon.domain.money import Money, exponent
from paycon.domain.routing import RoutingTable
from paycon.domain.status import Kind
from paycon.runtime.service import Service
from paycon.usecases.reconcile import Reconciliation

log = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 5.0
STOP_GRACE_S = 6.0
# Who the demo's fault switches are recorded as, in the mocks' fault history.
DEMO_ACTOR = "demo"
# How often the cycle looks for a switch made by someone else while a phase lasts.
WATCH_S = 0.2
# How often the demo reconciles each gateway's settlement report of the day.
RECONCILE_EVERY_S = 60.0
# Who the demo's reconciliation runs are recorded as.
RECONCILE_ACTOR = "demo"
# The demo's mocks charge a settlement fee, and now and then settle a payment without
# telling paycon, leave a line out of the report, or report another amount.
DEMO_SETTLEMENT: Mapping[str, object] = {
    "settlement_fee_bps": 150,
    "settlement_fee_minor": 25,
    "settle_unreported_rate": 0.01,
    "report_missing_rate": 0.01,
    "report_amount_skew_rate": 0.01,
}


@dataclass(frozen=True)
class Phase:
    """A stretch of the fault cycle: ``faults`` per gateway name, on top of the calm faults."""

    name: str
    duration_s: float
    faults: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    note: str = ""


DEFAULT_SCHEDULE: tuple[Phase, ...] = (
    Phase("calm", 25, note="both gateways healthy: payments complete within a second"),
    Phase(
        "gateway_a errors",
        30,
        {"gateway_a": {"error_rate": 0.3}},
        "30% of gateway A's answers are 5xx: submissions are retried with backoff",
    ),
    Phase(
        "gateway_a outage",
        40,
        {"gateway_a": {"outage": "503"}},
        "gateway A answers 503: payments it answered stay with A (a 503 proves nothing);"
        " once its breaker opens, new ones go to gateway B",
    ),
    Phase("calm", 25, note="gateway A is back: its breaker lets a trial through, then closes"),
    Phase(
        "gateway_b drops callbacks",
        30,
        {"gateway_b": {"callback_drop_rate": 1.0}},
        "gateway B sends no callbacks: its payments stay submitted until a status check "
        "asks B (outbox.status_check_after_s)",
    ),
)


@dataclass(frozen=True)
class Customer:
    """A demo customer: where they pay from, their payout account, an optional pinned gateway."""

    customer_id: str
    currency: str
    country: str
    iban: str
    holder: str
    gateway: str | None = None


# Several currencies and countries; two customers are pinned to gateway B so that
# both gateways carry traffic under the default routing (A first, then B).
DEFAULT_CUSTOMERS: tuple[Customer, ...] = (
    Customer("demo_anna", "EUR", "DE", "DE89370400440532013000", "Anna Schmidt"),
    Customer("demo_ben", "GBP", "GB", "GB82WEST12345698765432", "Ben Carter"),
    Customer("demo_chloe", "EUR", "FR", "FR1420041010050500013M02606", "Chloe Martin", "gateway_b"),
    Customer("demo_daan", "EUR", "NL", "NL91ABNA0417164300", "Daan de Vries"),
    Customer("demo_elin", "SEK", "SE", "SE4550000000058398257466", "Elin Berg", "gateway_b"),
    Customer("demo_piotr", "PLN", "PL", "PL61109010140000071219812874", "Piotr Nowak"),
)


@dataclass(frozen=True)
class TrafficShape:
    """How much traffic: one payment every ``interval_s``; deposits of ``deposit_major`` units.

    A withdrawal is tried with ``withdrawal_share`` probability, for 10-40% of
    what the customer has available (a deposit instead while nothing is).
    """

    interval_s: float = 0.35
    deposit_major: tuple[int, int] = (10, 500)
    withdrawal_share: float = 0.35


@dataclass
class DemoStats:
    """What the traffic did so far; ``by_kind`` counts accepted payments per kind;
    ``reconciled`` the settlement reports reconciled."""

    accepted: int = 0
    refused: int = 0
    failed_requests: int = 0
    reconciled: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: {"deposit": 0, "withdrawal": 0})


def check_schedule(schedule: Sequence[Phase], gateways: Sequence[str]) -> None:
    """Raise ConfigError unless every phase is usable on ``gateways``."""
    if not schedule:
        raise ConfigError("the demo needs at least one phase")
    for phase in schedule:
        if phase.duration_s <= 0:
            raise ConfigError(f"demo phase {phase.name!r}: duration_s must be positive")
        for name, changes in phase.faults.items():
            if name not in gateways:
                raise ConfigError(f"demo phase {phase.name!r}: no embedded mock gateway {name!r}")
            try:
                Faults().updated(changes)
            except InvalidFaults as exc:
                raise ConfigError(f"demo phase {phase.name!r}: {exc}") from exc


def usable_customers(customers: Sequence[Customer], table: RoutingTable) -> tuple[Customer, ...]:
    """The customers whose payments can be routed; a pin the gateway cannot serve is dropped."""
    usable = []
    for customer in customers:
        pinned = customer.gateway
        if pinned is not None and not table.serves(pinned, customer.currency):
            customer = dataclasses.replace(customer, gateway=None)
        try:
            table.route(Kind.DEPOSIT, customer.country, customer.currency, customer.gateway)
        except PayconError:
            continue
        usable.append(customer)
    return tuple(usable)


class Demo:
    """Demo traffic and a fault cycle against one running paycon with embedded mocks."""

    def __init__(
        self,
        *,
        api_url: str,
        client_key: str,
        mocks: Mapping[str, MockGateway],
        customers: Sequence[Customer] = DEFAULT_CUSTOMERS,
        schedule: Sequence[Phase] = DEFAULT_SCHEDULE,
        shape: TrafficShape = TrafficShape(),
        seed: int | None = None,
        run_id: str | None = None,
        reconciliation: Reconciliation | None = None,
        reconcile_every_s: float = RECONCILE_EVERY_S,
    ) -> None:
        check_schedule(schedule, list(mocks))
        if not customers:
            raise ConfigError("the demo has no customer whose payments can be routed")
        self._api_url = api_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {client_key}"}
        self._mocks = dict(mocks)
        self._customers = tuple(customers)
        self._schedule = tuple(schedule)
        self._shape = shape
        self._rng = random.Random(seed)
        # Idempotency keys stay unique across runs on the same database.
        self._run_id = run_id or secrets.token_hex(4)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._baseline = {name: gateway.faults for name, gateway in self._mocks.items()}
        # Each mock's fault history up to here: later switches by others stop the cycle.
        self._history_from = {
            name: gateway.fault_history.last_seq for name, gateway in self._mocks.items()
        }
        self._failing = False
        self._reconciliation = reconciliation
        self._reconcile_every_s = reconcile_every_s
        self.stats = DemoStats()
        self.phase: Phase | None = None

    @classmethod
    def for_service(
        cls,
        settings: Settings,
        *,
        api_url: str,
        mocks: Mapping[str, MockGateway],
        schedule: Sequence[Phase] = DEFAULT_SCHEDULE,
        seed: int | None = None,
        reconciliation: Reconciliation | None = None,
    ) -> Demo:
        """A demo for a started service: its first client key, its routing, its mocks.

        Raises ConfigError when there is no client key or no routable customer.
        """
        if not settings.auth.client_api_keys:
            raise ConfigError("the demo needs a client API key: set auth.client_api_keys")
        return cls(
            api_url=api_url,
            client_key=settings.auth.client_api_keys[0],
            mocks=mocks,
            customers=usable_customers(DEFAULT_CUSTOMERS, settings.routing_table()),
            schedule=schedule,
            seed=seed,
            reconciliation=reconciliation,
        )

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def start(self) -> None:
        """Start the traffic and the fault cycle."""
        if self._tasks:
            raise RuntimeError("the demo is already started")
        self._http = aiohttp.ClientSession(
            headers=self._headers, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        )
        log.info(
            "demo started: payments every %.2f s for %d customers; faults cycle through %s",
            self._shape.interval_s,
            len(self._customers),
            " → ".join(phase.name for phase in self._schedule),
        )
        work_of = [("paycon-demo-faults", self._cycle_faults()),
                   ("paycon-demo-traffic", self._traffic())]  # fmt: skip
        if self._reconciliation is not None:
            work_of.append(("paycon-demo-reconcile", self._reconcile(self._reconciliation)))
        for name, work in work_of:
            task = asyncio.create_task(work, name=name)
            task.add_done_callback(_log_crash)
            self._tasks.append(task)

    async def stop(self) -> None:
        """Stop both tasks (in-flight requests get ``STOP_GRACE_S``), restore the faults."""
        self._stop.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._restore_faults()
        if self._http is not None:
            await self._http.close()
            self._http = None
        log.info(
            "demo stopped: %d payments accepted, %d refused, %d requests failed",
            self.stats.accepted,
            self.stats.refused,
            self.stats.failed_requests,
        )

    # --- reconciliation ---------------------------------------------------------

    async def _reconcile(self, desk: Reconciliation) -> None:
        """Reconcile each gateway's report of today (and of yesterday, once the demo has
        run past midnight) now and every ``reconcile_every_s``; a failed run is logged."""
        started_on = datetime.now(UTC).date()
        while True:
            today = datetime.now(UTC).date()
            days = [today] if today == started_on else [today - timedelta(days=1), today]
            for name in self._mocks:
                for day in days:
                    await self._reconcile_once(desk, name, day)
            if await self._sleep(self._reconcile_every_s):
                return

    async def _reconcile_once(self, desk: Reconciliation, gateway: str, day: date) -> None:
        try:
            report = await desk.fetch(gateway, day)
            summary = await desk.reconcile(gateway, report, day=day, actor=RECONCILE_ACTOR)
        except PayconError as exc:
            log.warning("demo: reconciling %s failed: %s", gateway, exc.detail)
            return
        self.stats.reconciled += 1
        if summary.new_breaks:
            log.info("demo: %s's report of %s: %d new break(s)", gateway, day, summary.new_breaks)

    # --- faults ---------------------------------------------------------------

    async def _cycle_faults(self) -> None:
        for phase in itertools.cycle(self._schedule):
            if self._taken_over():
                return
            self._apply(phase)
            if await self._hold(phase.duration_s):
                return

    async def _hold(self, seconds: float) -> bool:
        """Wait out a phase; True when the cycle is to end (stopping, or taken over)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while (left := end - loop.time()) > 0:
            if await self._sleep(min(WATCH_S, left)):
                return True
            if self._taken_over():
                return True
        return self._stop.is_set()

    def _taken_over(self) -> bool:
        switched = self.switched_by_hand()
        if switched:
            log.info(
                "demo: faults of %s were switched by %s; the demo stops cycling faults"
                " and leaves them to the operator (payments go on)",
                ", ".join(switched),
                ", ".join(sorted(self._hands())),
            )
        return bool(switched)

    def switched_by_hand(self) -> list[str]:
        """The mocks whose fault history shows a switch by someone else since the demo began."""
        return sorted({name for name, _ in self._others()})

    def _hands(self) -> set[str]:
        return {actor for _, actor in self._others()}

    def _others(self) -> list[tuple[str, str]]:
        """(mock, who) for every fault switch someone else made since the demo began."""
        found = []
        for name, gateway in self._mocks.items():
            for entry in gateway.fault_history.since(self._history_from[name]):
                if entry.actor != DEMO_ACTOR:
                    found.append((name, entry.actor))
        return found

    def _apply(self, phase: Phase) -> None:
        self.phase = phase
        for name, gateway in self._mocks.items():
            wanted = {**self._baseline[name].to_json(), **phase.faults.get(name, {})}
            now = gateway.faults.to_json()
            # Only what changes: the history then says what each phase did.
            changes = {key: value for key, value in wanted.items() if now.get(key) != value}
            if changes:
                gateway.set_faults(changes, actor=DEMO_ACTOR, reason=f"demo phase: {phase.name}")
        log.info(
            "demo phase: %s for %g s: %s",
            phase.name,
            phase.duration_s,
            phase.note or "as configured",
            extra={"phase": phase.name},
        )

    def _restore_faults(self) -> None:
        for name, gateway in self._mocks.items():
            if gateway.faults != self._baseline[name]:
                gateway.set_faults(
                    self._baseline[name].to_json(), actor=DEMO_ACTOR, reason="demo stopped"
                )

    # --- traffic --------------------------------------------------------------

    async def _traffic(self) -> None:
        for number in itertools.count(1):
            customer = self._customers[(number - 1) % len(self._customers)]
            try:
                await self._one_payment(number, customer)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._request_failed(exc)
            if await self._sleep(self._shape.interval_s):
                return

    async def _one_payment(self, number: int, customer: Customer) -> None:
        kind, amount = "deposit", self._deposit_amount(customer.currency)
        if self._rng.random() < self._shape.withdrawal_share:
            available = await self._available(customer)
            payout = self._withdrawal_amount(customer.currency, available)
            if payout is not None:
                kind, amount = "withdrawal", payout
        body: dict[str, Any] = {
            "customer_id": customer.customer_id,
            "amount": amount,
            "currency": customer.currency,
            "country": customer.country,
            "reference": f"demo-{self._run_id}-{number}",
        }
        if customer.gateway is not None:
            body["gateway"] = customer.gateway
        if kind == "withdrawal":
            body["destination"] = {"iban": customer.iban, "holder": customer.holder}
        status, answer = await self._post(f"/v1/{kind}s", body, key=f"demo-{self._run_id}-{number}")
        self._requests_work_again()
        if status == 202:
            self.stats.accepted += 1
            self.stats.by_kind[kind] += 1
            log.debug("demo %s accepted", kind, extra={"transaction_id": answer.get("id")})
        else:
            self.stats.refused += 1
            log.info("demo %s refused: %s %s", kind, status, answer.get("code", ""))

    async def _post(self, path: str, body: Mapping[str, Any], *, key: str) -> tuple[int, Any]:
        assert self._http is not None
        async with self._http.post(
            self._api_url + path, json=body, headers={"Idempotency-Key": key}
        ) as response:
            return response.status, await response.json(content_type=None)

    async def _available(self, customer: Customer) -> Decimal:
        assert self._http is not None
        url = f"{self._api_url}/v1/customers/{customer.customer_id}/balances"
        async with self._http.get(url) as response:
            body = await response.json(content_type=None)
        if response.status != 200:
            return Decimal(0)
        for balance in body["balances"]:
            if balance["currency"] == customer.currency:
                return Decimal(balance["available"])
        return Decimal(0)

    def _deposit_amount(self, currency: str) -> str:
        low, high = self._shape.deposit_major
        scale = 10 ** exponent(currency)
        return Money(self._rng.randint(low * scale, high * scale), currency).wire()

    def _withdrawal_amount(self, currency: str, available: Decimal) -> str | None:
        available_minor = int(available.scaleb(exponent(currency)))
        minor = available_minor * self._rng.randint(10, 40) // 100
        return Money(minor, currency).wire() if minor > 0 else None

    def _request_failed(self, exc: BaseException) -> None:
        self.stats.failed_requests += 1
        if not self._failing:  # once per run of failures, not once per tick
            log.warning("demo cannot reach the API at %s: %r", self._api_url, exc)
        self._failing = True

    def _requests_work_again(self) -> None:
        if self._failing:
            log.info("demo reaches the API again")
        self._failing = False

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; True when the demo is stopping (and the caller should return)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()


def demo_for(service: Service) -> Demo:
    """A demo against ``service``'s API and its embedded mock gateways.

    Raises ConfigError when the mocks are not embedded or no client key is configured.
    """
    if service.mocks is None:
        raise ConfigError(
            '--demo needs the embedded mock gateways: set mock_gateways = "embedded" '
            "(PAYCON_MOCK_GATEWAYS=embedded)"
        )
    mocks = {"gateway_a": service.mocks.gateway_a, "gateway_b": service.mocks.gateway_b}
    for gateway in mocks.values():
        gateway.set_faults(
            DEMO_SETTLEMENT, actor=DEMO_ACTOR, reason="demo: settlement fees and report faults"
        )
    return Demo.for_service(
        service.settings,
        api_url=service.url,
        mocks=mocks,
        reconciliation=Reconciliation(service.db, service.settings.gateways),
    )


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("demo task %s crashed", task.get_name(), exc_info=task.exception())
