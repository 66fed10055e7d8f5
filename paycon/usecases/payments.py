"""Accepting deposits and withdrawals, exactly once per idempotency key."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from paycon.config import Settings
from paycon.domain.errors import (
    GatewayNotAllowed,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    NoRoute,
    NotifyUrlRefused,
    RoutingPaused,
)
from paycon.domain.fingerprints import RequestFingerprints
from paycon.domain.ids import transaction_ids
from paycon.domain.routing import RoutingTable
from paycon.domain.status import Status
from paycon.domain.transactions import PaymentRequest, Transaction
from paycon.models.transactions import TransactionOut
from paycon.sealing import Sealer
from paycon.storage.database import Database
from paycon.storage.payments import (
    Acceptance,
    IdempotentAnswer,
    accept_payment,
    find_answer,
    has_legacy_fingerprints,
    key_legacy_fingerprints,
)
from paycon.usecases.gateway_control import RoutingSwitches
from paycon.usecases.notifications import NotifyUrlCheck

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class PaymentIntake:
    """Accepts payments: validates the route, stores everything in one commit.

    A key being processed in this process answers 409 to a second request;
    across processes the database's unique key decides, and the loser replays.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        sealer: Sealer,
        *,
        notify_check: NotifyUrlCheck,
        routing: RoutingTable | None = None,
        switches: RoutingSwitches | None = None,
        fingerprints: RequestFingerprints | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """Raises ConfigError when ``fingerprints`` is not given and the settings have no
        usable ``security.fingerprint_keys``."""
        self._db = db
        self._fingerprints = fingerprints or RequestFingerprints(settings.security.fingerprint_keys)
        self._switches = switches or RoutingSwitches()
        self._sealer = sealer
        self._notify_check = notify_check
        self._routing = routing or settings.routing_table()
        self._max_attempts = settings.outbox.max_attempts
        self._clock = clock
        self._in_flight: set[str] = set()

    async def key_legacy_fingerprints(self, *, batch: int = 500) -> int:
        """Rewrite fingerprints stored before they were keyed, in batches; returns how many.

        A request repeated later still compares equal (its answer replays), and
        no bare digest of an account stays in the database.
        """
        if not await self._db.lookup(has_legacy_fingerprints):
            return 0
        rewritten, after = 0, ""
        keyed = self._fingerprints.from_legacy
        while True:
            done, last = await self._db.write(
                functools.partial(key_legacy_fingerprints, keyed=keyed, after=after, limit=batch)
            )
            rewritten += done
            if last is None:
                return rewritten
            after = last

    async def accept(
        self, request: PaymentRequest, *, idempotency_key: str, client_id: str
    ) -> IdempotentAnswer:
        """Store ``request`` once and answer it; replay the answer for a repeat.

        Raises IdempotencyInFlight while the same key is being processed,
        IdempotencyKeyReused when the key was used for another request,
        GatewayNotAllowed / NoRoute when no gateway may carry it, RoutingPaused
        when the ones that may are all out of routing for now, NotifyUrlRefused
        when notifications may not go to its ``notify_url``. An
        insufficient balance is an answer (422), stored like any other.
        """
        if idempotency_key in self._in_flight:
            raise IdempotencyInFlight(
                "a request with this Idempotency-Key is still being processed; retry shortly"
            )
        self._in_flight.add(idempotency_key)
        try:
            answer = await self._store(request, idempotency_key, client_id)
        finally:
            self._in_flight.discard(idempotency_key)
        if not self._fingerprints.matches(answer.request_hash, request.fingerprint):
            raise IdempotencyKeyReused(
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new payment"
            )
        return answer

    async def _store(
        self, request: PaymentRequest, idempotency_key: str, client_id: str
    ) -> IdempotentAnswer:
        try:
            if request.notify_url is not None:
                await self._notify_check.check(request.notify_url)
            route = self._routing.route(
                request.kind,
                request.country,
                request.money.currency,
                request.gateway,
                disabled=self._switches.disabled,
            )
        except (GatewayNotAllowed, NoRoute, RoutingPaused, NotifyUrlRefused):
            # The routing (or a name's addresses) may have changed since this key was
            # first answered: replay that.
            stored = await self._db.write(lambda conn: find_answer(conn, idempotency_key))
            if stored is None:
                raise
            return stored
        now = self._clock()
        transaction = Transaction(
            id=transaction_ids.new(),
            kind=request.kind,
            status=Status.PENDING,
            customer_id=request.customer_id,
            money=request.money,
            country=request.country,
            gateway=route[0],
            route=route,
            reference=request.reference,
            notify_url=request.notify_url,
            destination_masked=request.destination.masked() if request.destination else None,
            failure_reason=None,
            created_at=now,
            updated_at=now,
        )
        acceptance = Acceptance(
            client_id=client_id,
            idempotency_key=idempotency_key,
            request_hash=self._fingerprints.stored(request.fingerprint),
            transaction=transaction,
            destination_sealed=self._sealer.seal(request.destination)
            if request.destination
            else None,
            actor=f"client:{client_id}",
            max_attempts=self._max_attempts,
            accepted_answer=TransactionOut.of(transaction).model_dump_json(),
        )
        # Another process may store this key between our look and our insert: the writer
        # then runs the unit again on its own, and that run replays the winner's answer.
        answer = await self._db.write(lambda conn: accept_payment(conn, acceptance))
        if not answer.replayed and log.isEnabledFor(logging.DEBUG):
            log.debug(
                "payment accepted" if answer.status < 400 else "payment refused",
                extra={
                    "transaction_id": transaction.id if answer.status < 400 else None,
                    "kind": request.kind.value,
                    "status": answer.status,
                    "gateway": transaction.gateway,
                },
            )
        return answer
