"""Carrying payments to their gateways: the ``submit`` and ``status_check`` task handlers.

Never guess: a transaction fails only on a gateway's definitive answer; an
ambiguous outcome (sent, no answer) is settled by asking the same gateway's
status before anything else; failover happens only when the previous gateway
provably never took the payment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Connection

from gateways import (
    Gateway,
    GatewayAmbiguous,
    GatewayAnswer,
    GatewayBreakerOpen,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    SubmitRequest,
)
from outbox import Defer, Done, PermanentError, Task
from paycon.domain.delivery import next_gateway, status_from_gateway
from paycon.domain.errors import NotFinalYet
from paycon.domain.status import Status
from paycon.domain.transactions import Transaction
from paycon.storage import queries
from paycon.storage.database import Database
from paycon.storage.delivery import fail_over, record_gateway_status
from paycon.storage.outbox_reads import submit_never_ran_past
from paycon.usecases.gateway_control import RoutingSwitches

log = logging.getLogger(__name__)


def _stored_name(error: type[BaseException]) -> str:
    """An error class's name as a task's attempts store it."""
    return f"{error.__module__}.{error.__qualname__}"


# A submit run that ended in one of these never reached the gateway. The ambiguous
# path never lets its status call's errors out under these names (see ``submit``).
NOT_REACHED_ERRORS = frozenset(map(_stored_name, (GatewayNotReached, GatewayBreakerOpen)))


def _now() -> datetime:
    return datetime.now(UTC)


def _reopens_at(gateway: Gateway) -> datetime | None:
    """When an open breaker may let a trial through; None while it is closed."""
    state = gateway.breaker_state()
    return state.may_half_open_at if state.state != "closed" else None


class Delivery:
    """The task handlers that talk to gateways."""

    def __init__(
        self,
        db: Database,
        gateways: Mapping[str, Gateway],
        *,
        callback_base_url: str,
        status_check_after_s: float,
        max_attempts: int,
        switches: RoutingSwitches | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        # Failover skips gateways an operator took out of routing.
        self._switches = switches or RoutingSwitches()
        self._gateways = gateways
        self._callback_base_url = callback_base_url.rstrip("/")
        self._check_after_s = status_check_after_s
        self._max_attempts = max_attempts
        self._clock = clock

    async def _transaction(self, task: Task) -> Transaction:
        transaction_id = str(task.payload.get("transaction_id", ""))
        transaction = await self._db.lookup(
            lambda conn: queries.find_transaction(conn, transaction_id)
        )
        if transaction is None:
            raise PermanentError(f"transaction {transaction_id!r} does not exist")
        return transaction

    def _gateway(self, name: str) -> Gateway:
        gateway = self._gateways.get(name)
        if gateway is None:
            raise PermanentError(f"gateway {name!r} is not configured")
        return gateway

    def _record(self, tx: Transaction, gateway: str, answer: GatewayAnswer, source: str) -> Done:
        proposed = status_from_gateway(answer.status)
        now = self._clock()

        def writes(conn: Connection) -> None:
            record_gateway_status(
                conn, tx.id, gateway, proposed, reason=answer.reason or answer.status,
                source=source, now=now, check_after_s=self._check_after_s,
                max_attempts=self._max_attempts,
            )  # fmt: skip

        return Done(writes=writes)

    def _fail_over(self, tx: Transaction, to_gateway: str, why: str) -> Done:
        now = self._clock()
        log.warning(
            "failing over",
            extra={"transaction_id": tx.id, "from": tx.gateway, "to": to_gateway, "why": why},
        )

        def writes(conn: Connection) -> None:
            fail_over(
                conn, tx.id, from_gateway=tx.gateway, to_gateway=to_gateway, route=tx.route,
                why=why, now=now, max_attempts=self._max_attempts,
            )  # fmt: skip

        return Done(writes=writes)

    async def submit(self, task: Task) -> Done | Defer:
        """Hand a pending transaction to its gateway and record the answer.

        A transaction whose gateway was taken out of routing goes to the next
        gateway of its route instead, if it provably never reached the first
        one (see ``_leave_disabled``).
        """
        tx = await self._transaction(task)
        if tx.status is not Status.PENDING:
            return Done()  # already carried (this task ran before and its completion was lost)
        gateway = self._gateway(tx.gateway)
        if tx.gateway in self._switches.disabled:
            elsewhere = next_gateway(tx.route, tx.gateway, disabled=self._switches.disabled)
            if elsewhere is not None:
                return await self._leave_disabled(tx, gateway, elsewhere)
        following = next_gateway(tx.route, tx.gateway, disabled=self._switches.disabled)
        request = SubmitRequest(
            transaction_id=tx.id,
            amount=tx.money.amount,
            currency=tx.money.currency,
            kind=tx.kind.value,
            callback_url=f"{self._callback_base_url}/v1/callbacks/{tx.gateway}",
        )
        try:
            answer = await gateway.submit(request)
        except GatewayNotReached as exc:
            # Fail over, unless the next gateway is known to be down too, or an earlier
            # run may have reached this one (this run not reaching it proves nothing of those).
            if (
                following is not None
                and _reopens_at(self._gateway(following)) is None
                and await self._never_sent(tx)
            ):
                return self._fail_over(tx, following, f"not reached: {exc}")
            # The gateway is down (its breaker opened): wait for it without using up
            # attempts, instead of burning one on every trial call while it is down.
            until = exc.retry_at if isinstance(exc, GatewayBreakerOpen) else _reopens_at(gateway)
            if until is None:
                raise
            return Defer(tx.gateway, until=until, reason=f"{tx.gateway} unavailable: {exc}")
        except GatewayDeclined as exc:
            if exc.retry_elsewhere and following is not None:
                return self._fail_over(tx, following, f"declined: {exc.reason}")
            answer = GatewayAnswer(tx.id, "failure", exc.reason)
        except GatewayAmbiguous as exc:
            # Sent, no usable answer: the gateway may have it. Ask before anything else.
            try:
                known = await gateway.status(tx.id)
            except GatewayError as status_exc:
                # Stored as "not final yet", never as the status call's own error: a
                # "not reached" there would hide from the attempts that this run sent it.
                raise NotFinalYet(
                    f"{exc}; then asking {tx.gateway} for its status: {status_exc}"
                ) from status_exc
            if known is None:
                raise NotFinalYet(  # never arrived: resending is safe (idempotent on the id)
                    f"{tx.gateway} does not know {tx.id} after an ambiguous submit"
                ) from None
            answer = known
        return self._record(tx, tx.gateway, answer, "submit")

    async def _never_sent(self, tx: Transaction) -> bool:
        """Whether no earlier run of the submit task can have reached ``tx.gateway``."""
        return await self._db.lookup(
            lambda conn: submit_never_ran_past(
                conn, tx.id, tx.gateway, not_reached=NOT_REACHED_ERRORS
            )
        )

    async def _leave_disabled(
        self, tx: Transaction, gateway: Gateway, elsewhere: str
    ) -> Done | Defer:
        """Move a transaction off its gateway, out of routing, to ``elsewhere`` — only if
        that gateway provably never took it.

        Proof is the submit task's history (every earlier run stopped before
        sending) or the gateway's own word that it does not know the payment.
        If it knows it, its answer is recorded and the payment finishes there.
        If it cannot be asked, the task waits for it, as for any gateway down.
        """
        if await self._never_sent(tx):
            return self._fail_over(tx, elsewhere, f"{tx.gateway} is out of routing; never sent")
        try:
            known = await gateway.status(tx.id)
        except GatewayNotReached as exc:
            until = exc.retry_at if isinstance(exc, GatewayBreakerOpen) else _reopens_at(gateway)
            reason = f"{tx.gateway} is out of routing and may hold {tx.id}; cannot ask it: {exc}"
            if until is None:
                # Kept as "not final": this run not reaching it says nothing of earlier runs.
                raise NotFinalYet(reason) from exc
            return Defer(tx.gateway, until=until, reason=reason)
        if known is None:
            return self._fail_over(
                tx, elsewhere, f"{tx.gateway} is out of routing and does not know the payment"
            )
        return self._record(tx, tx.gateway, known, "status check")

    async def status_check(self, task: Task) -> Done:
        """Ask the gateway about a submitted transaction until it is final."""
        tx = await self._transaction(task)
        if tx.status.is_final:
            return Done()
        gateway_name = str(task.payload.get("gateway", tx.gateway))
        answer = await self._gateway(gateway_name).status(tx.id)
        if answer is None or answer.status == "pending":
            raise NotFinalYet(f"{gateway_name} has no final status for {tx.id} yet")
        return self._record(tx, gateway_name, answer, "status check")
