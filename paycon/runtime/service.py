"""Process wiring: the database, the API server, and clean start and stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
from aiohttp import web

from gateways import Gateway, build_gateways
from mock_gateways.errors import InvalidFaults
from mock_gateways.gateway import MockGateway
from mock_gateways.server import MockGateways
from outbox import Pool
from paycon.api.app import create_app
from paycon.api.auth import KeyRing
from paycon.api.context import ApiContext
from paycon.config import Settings
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.fingerprints import RequestFingerprints
from paycon.metrics import Metrics
from paycon.network.guarded import GuardedNetwork, notify_client
from paycon.network.resolver import Resolver, SystemResolver
from paycon.runtime.embedded_mocks import check_api_is_private, start_embedded_mocks
from paycon.runtime.gateway_wiring import gateway_configs, http_client
from paycon.runtime.pools import build_notify_pool, build_pool
from paycon.sealing import Sealer
from paycon.storage.database import Database
from paycon.usecases.callbacks import CallbackInbox
from paycon.usecases.delivery import Delivery
from paycon.usecases.gateway_control import FaultSwitch, GatewayControl, RoutingSwitches
from paycon.usecases.ledger_watch import LedgerWatch
from paycon.usecases.notifications import Notifications, NotifyUrlCheck
from paycon.usecases.operations import OutboxOperations
from paycon.usecases.operator_desk import OperatorDesk
from paycon.usecases.payments import PaymentIntake
from paycon.usecases.queries import TransactionQueries
from paycon.usecases.reconcile import Reconciliation
from paycon.usecases.review import ReviewDesk, ReviewWatch

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 10.0


class _MockFaults:
    """An embedded mock gateway's faults, with its errors in paycon's terms."""

    def __init__(self, gateway: MockGateway) -> None:
        self._gateway = gateway

    def faults(self) -> dict[str, Any]:
        return dict(self._gateway.faults.to_json())

    def set_faults(
        self, changes: Mapping[str, Any], *, actor: str, reason: str | None
    ) -> dict[str, Any]:
        try:
            return dict(self._gateway.set_faults(changes, actor=actor, reason=reason).to_json())
        except InvalidFaults as exc:
            # "name: problem; other: problem" names every bad field.
            errors = [
                FieldError(*part.split(": ", 1)) if ": " in part else FieldError("faults", part)
                for part in str(exc).split("; ")
            ]
            raise InvalidInput(f"faults not changed: {exc}", errors=errors) from exc

    def history(self, limit: int) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self._gateway.fault_history.newest_first(limit)]


def _fault_switches(mocks: MockGateways | None) -> dict[str, FaultSwitch]:
    """The embedded mocks' faults by the gateway names paycon calls them (none when off)."""
    if mocks is None:
        return {}
    return {"gateway_a": _MockFaults(mocks.gateway_a), "gateway_b": _MockFaults(mocks.gateway_b)}


@dataclass
class Service:
    """One paycon process. ``start`` brings it up; ``stop`` takes it down cleanly."""

    settings: Settings
    # Where merchants' names resolve and notifications connect (default: the system's
    # resolver and real sockets); tests put fakes here that never leave loopback.
    resolver: Resolver | None = None
    notify_network: httpcore.AsyncNetworkBackend | None = None
    db: Database = field(init=False)
    runner: web.AppRunner | None = field(init=False, default=None)
    mocks: MockGateways | None = field(init=False, default=None)
    pool: Pool | None = field(init=False, default=None)
    notify_pool: Pool | None = field(init=False, default=None)
    notify_http: httpx.AsyncClient | None = field(init=False, default=None)
    _system_resolver: SystemResolver | None = field(init=False, default=None)
    intake: PaymentIntake | None = field(init=False, default=None)
    http: httpx.AsyncClient | None = field(init=False, default=None)
    gateways: dict[str, Gateway] = field(init=False, default_factory=dict)
    context: ApiContext | None = field(init=False, default=None)
    # Re-reads the gateway switches that other processes change.
    _switch_stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _switch_watch: asyncio.Task[None] | None = field(init=False, default=None)
    _review_watch: asyncio.Task[None] | None = field(init=False, default=None)
    _ledger_watch: asyncio.Task[None] | None = field(init=False, default=None)
    url: str = field(init=False, default="")
    # Whether start began and stop has not finished since: stopping twice stops (and logs) once.
    _up: bool = field(init=False, default=False)

    @property
    def desk(self) -> OperatorDesk | None:
        """The use cases operators reach (the in-process facade's); None until started."""
        ctx = self.context
        if ctx is None:
            return None
        return OperatorDesk(
            queries=ctx.queries,
            operations=ctx.operations,
            review=ctx.review,
            gateway_control=ctx.gateway_control,
            reconciliation=Reconciliation(ctx.db, ctx.settings.gateways),
            metrics=ctx.metrics,
        )

    def __post_init__(self) -> None:
        self.db = Database(self.settings.database)

    async def start(self) -> None:
        """Open the database (migrating it), serve the API, then start the workers.

        Raises DatabaseUnavailable, ConfigError, PortUnavailable (an embedded
        mock's port in use) or OSError (the API's port in use) with a message
        that says what to fix.
        """
        check_api_is_private(self.settings)
        self._up = True
        sealer = Sealer(self.settings.security.encryption_keys)
        fingerprints = RequestFingerprints(self.settings.security.fingerprint_keys)
        configs = gateway_configs(self.settings)  # a config error stops the start here
        metrics = Metrics()
        self.db.observe_statuses(metrics.count_status_change)
        await self.db.open()
        switches = RoutingSwitches()
        resolver = self._resolver()
        self.intake = PaymentIntake(
            self.db,
            self.settings,
            sealer,
            notify_check=NotifyUrlCheck(self.settings.notify, resolver),
            switches=switches,
            fingerprints=fingerprints,
        )
        try:
            # Counted once here; from now on kept as statuses change.
            metrics.seed_statuses(await self.db.count_by_status())
            keyed = await self.intake.key_legacy_fingerprints()
            if keyed:
                log.info("request fingerprints keyed", extra={"rewritten": keyed})
            if self.settings.mock_gateways == "embedded":
                self.mocks = await start_embedded_mocks(self.settings)
                log.warning(
                    "mock gateways embedded: payments complete without moving money",
                    extra={"a": self.mocks.url_a, "b": self.mocks.url_b},
                )
            self.http = http_client(self.settings)
            self.gateways = build_gateways(configs, self.http)
            outbox_settings = self.settings.outbox
            control = GatewayControl(
                self.db,
                self.gateways,
                switches,
                faults=_fault_switches(self.mocks),
            )
            await control.load()
            self._switch_stop.clear()
            self._switch_watch = asyncio.create_task(
                control.keep_loading(self._switch_stop), name="paycon-gateway-switches"
            )
            ctx = ApiContext(
                settings=self.settings,
                db=self.db,
                keys=KeyRing(
                    self.settings.auth.client_api_keys, self.settings.auth.operator_api_keys
                ),
                intake=self.intake,
                queries=TransactionQueries(self.db),
                operations=OutboxOperations(self.db),
                gateways=self.gateways,
                metrics=metrics,
                callbacks=CallbackInbox(
                    self.db,
                    self.gateways,
                    status_check_after_s=outbox_settings.status_check_after_s,
                    max_attempts=outbox_settings.max_attempts,
                    metrics=metrics,
                ),
                gateway_control=control,
                review=ReviewDesk(self.db, max_attempts=outbox_settings.max_attempts),
            )
            self.context = ctx
            self.runner = web.AppRunner(
                create_app(ctx), access_log=None, shutdown_timeout=SHUTDOWN_GRACE_S
            )
            await self.runner.setup()
            site = web.TCPSite(
                self.runner,
                self.settings.server.host,
                self.settings.server.port,
                backlog=1024,
            )
            await site.start()
            host, port = self.bound_address()
            self.url = f"http://{host}:{port}"
            # Gateways call back to the public URL; by default, where the API listens.
            delivery = Delivery(
                self.db,
                self.gateways,
                callback_base_url=self.settings.server.public_url or self.url,
                status_check_after_s=outbox_settings.status_check_after_s,
                max_attempts=outbox_settings.max_attempts,
                switches=switches,
                not_known_margin_s=self.settings.review.not_known_margin_s,
                credentials_retry_s=self.settings.review.credentials_retry_s,
            )
            if outbox_settings.workers > 0:
                self.pool = build_pool(self.db, self.settings, delivery)
                self.notify_pool = build_notify_pool(
                    self.db, self.settings, self._notifications(resolver)
                )
                await self.pool.start()
                await self.notify_pool.start()
                watch = ReviewWatch(
                    self.db, in_flight_max_age_s=self.settings.review.in_flight_max_age_s
                )
                self._review_watch = asyncio.create_task(
                    watch.keep_watching(
                        self._switch_stop, every_s=self.settings.review.watch_every_s
                    ),
                    name="paycon-review-watch",
                )
                # Like the review watch, the ledger check runs where the work runs.
                self._ledger_watch = asyncio.create_task(
                    LedgerWatch(self.db, metrics.report_ledger_breaks).keep_watching(
                        self._switch_stop, every_s=self.settings.review.ledger_check_every_s
                    ),
                    name="paycon-ledger-watch",
                )
            else:
                log.info("no outbox workers in this process (outbox.workers = 0)")
        except BaseException:
            await self.stop()
            raise
        log.info("paycon serving", extra={"url": self.url})

    def _resolver(self) -> Resolver:
        if self.resolver is not None:
            return self.resolver
        self._system_resolver = SystemResolver(timeout_s=self.settings.notify.resolve_timeout_s)
        return self._system_resolver

    def _notifications(self, resolver: Resolver) -> Notifications:
        """The notify handler, on an HTTP client of its own (never the gateways')."""
        notify = self.settings.notify
        if not notify.webhook_secrets:
            log.warning(
                "no webhook secret: merchant notifications cannot be signed and will die; "
                "set notify.webhook_secrets (PAYCON_WEBHOOK_SECRETS)"
            )
        network = GuardedNetwork(
            resolver, allow_private=notify.allow_private, network=self.notify_network
        )
        self.notify_http = notify_client(
            network, max_connections=notify.concurrency, deadline_s=notify.deadline_s
        )
        return Notifications(
            self.db,
            client=self.notify_http,
            webhook_secrets=notify.webhook_secrets,
            deadline_s=notify.deadline_s,
        )

    def bound_address(self) -> tuple[str, int]:
        """Where the API listens (the real port when configured as 0)."""
        assert self.runner is not None
        for address in self.runner.addresses:
            if isinstance(address, tuple):
                return str(address[0]), int(address[1])
        raise RuntimeError("the API is not listening")

    async def stop(self) -> None:
        """Stop taking requests, let in-flight ones finish, then close the database.

        Each step runs even if an earlier one failed (the switch watcher ending
        with an error, say), and that error is raised once all is closed. Stopping
        a service that is not up does nothing.
        """
        if not self._up:
            return
        self._up = False
        if self.context is not None:
            self.context.stopping.set()  # /readyz answers 503 from now on
        try:
            if self.runner is not None:
                runner, self.runner = self.runner, None
                await runner.cleanup()
        finally:
            try:
                await self._stop_switch_watch()
            finally:
                await self._stop_work_and_close()
        log.info("paycon stopped")

    async def _stop_switch_watch(self) -> None:
        """Stop the routing-switch, review and ledger watches (they share one stop event)."""
        self._switch_stop.set()
        watches = [
            w for w in (self._switch_watch, self._review_watch, self._ledger_watch)
            if w is not None
        ]  # fmt: skip
        self._switch_watch = self._review_watch = self._ledger_watch = None
        for watch in watches:
            await watch

    async def _stop_work_and_close(self) -> None:
        # Running handlers finish within the grace period or give their tasks back.
        await asyncio.gather(
            *(pool.stop() for pool in (self.pool, self.notify_pool) if pool is not None)
        )
        self.pool = self.notify_pool = None
        if self.notify_http is not None:
            await self.notify_http.aclose()
            self.notify_http = None
        if self._system_resolver is not None:
            self._system_resolver.close()
            self._system_resolver = None
        if self.http is not None:
            await self.http.aclose()
            self.http = None
        if self.mocks is not None:
            await self.mocks.stop()
            self.mocks = None
        await self.db.close()
        self.context = None
