"""Carrying payments to their gateways: the ``submit`` and ``status_check`` task handlers.

Never guess: a transaction fails only on a gateway's definitive answer; an
ambiguous outcome (sent, no answer) is settled by asking the same gateway's
status before anything else; failover happens only when the previous gateway
provably never took the payment.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from gateways import (
    Gateway,
    GatewayAmbiguous,
    GatewayAnswer,
    GatewayBreakerOpen,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayRequestRefused,
    SubmitRequest,
)
from outbox import Defer, Done, PermanentError, Task
from paycon.domain.delivery import next_gateway, status_from_gateway
from paycon.domain.errors import NotFinalYet
from paycon.domain.review import GatewayWord, ReviewReason
from paycon.domain.status import Kind, Status
from paycon.domain.transactions import Transaction
from paycon.storage import queries
from paycon.storage.database import Database
from paycon.storage.delivery import fail_over, record_gateway_status
from paycon.storage.holds import hold_for_review
from paycon.storage.outbox_reads import last_send_ended_at, submit_never_ran_past
from paycon.usecases.gateway_control import RoutingSwitches

log = logging.getLogger(__name__)

# What a probe of a gateway on trial asks about: an id no payment has ("tx_" ids only).
PROBE_TRANSACTION_ID = "paycon-breaker-probe"
# How long to wait for a gateway whose breaker trial is under way elsewhere.
_TRIAL_WAIT = timedelta(seconds=1)


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
        not_known_margin_s: float = 60.0,
        credentials_retry_s: float = 30.0,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._db = db
        self._not_known_margin_s = not_known_margin_s
        self._credentials_retry_s = credentials_retry_s
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
        word = GatewayWord(
            gateway, status_from_gateway(answer.status), answer.reason, answer.amount,
            answer.currency,
        )  # fmt: skip
        now = self._clock()

        def writes(conn: Connection) -> None:
            record_gateway_status(
                conn, tx.id, word, source=source, now=now, check_after_s=self._check_after_s,
                max_attempts=self._max_attempts,
            )  # fmt: skip

        return Done(writes=writes)

    def _decline(self, tx: Transaction, exc: GatewayDeclined) -> Done:
        """A definitive decline fails the payment (it names no amount: it is an error answer)."""
        word = GatewayWord(tx.gateway, Status.FAILED, exc.reason)
        now = self._clock()

        def writes(conn: Connection) -> None:
            record_gateway_status(
                conn, tx.id, word, source="submit", now=now, check_after_s=self._check_after_s,
                max_attempts=self._max_attempts,
            )  # fmt: skip

        return Done(writes=writes)

    def _hold(self, tx: Transaction, reason: ReviewReason, detail: str) -> Done:
        now = self._clock()
        log.warning(
            "payment held for review",
            extra={"transaction_id": tx.id, "gateway": tx.gateway, "reason": reason.value},
        )

        def writes(conn: Connection) -> None:
            hold_for_review(conn, tx.id, reason, detail, actor="paycon", now=now)

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

    async def _up(self, name: str | None) -> str | None:
        """``name`` if its breaker is closed: a payment never moves to a gateway on trial.

        A breaker past its open time is closed (or not) first by a read-only
        probe — a status question about no payment — so that failover to a
        gateway nothing else calls does not wait forever for a trial.
        """
        if name is None:
            return None
        gateway = self._gateway(name)
        state = gateway.breaker_state()
        if state.state == "open" and (state.may_half_open_at or self._clock()) > self._clock():
            return None
        if state.state != "closed":
            with contextlib.suppress(GatewayError):
                await gateway.status(PROBE_TRANSACTION_ID)
        return name if gateway.breaker_state().state == "closed" else None

    def _credentials_refused(self, tx: Transaction, exc: GatewayCredentialsRefused) -> Defer:
        """The gateway refuses our credentials: it is broken, the payment is not declined.
        Wait for it without using an attempt, as for an open breaker."""
        until = self._clock() + timedelta(seconds=self._credentials_retry_s)
        return Defer(tx.gateway, until=until, reason=f"{tx.gateway} refuses our credentials: {exc}")

    async def submit(self, task: Task) -> Done | Defer:
        """Hand a pending transaction to its gateway and record the answer.

        The next gateway of the route (with a closed breaker) is tried only on
        proof that this one never took the payment: nothing was sent (and no
        earlier run may have sent it), or a documented decline that lets
        another gateway try. Any other answer — a 5xx included — is ambiguous:
        the same gateway is asked for the status and retried with the same id.
        A request the gateway refused without a documented decline holds the
        payment for review. A transaction whose gateway was taken out of
        routing moves only on the same proof (see ``_leave_disabled``).
        """
        tx = await self._transaction(task)
        if tx.status is not Status.PENDING:
            return Done()  # already carried (this task ran before and its completion was lost)
        gateway = self._gateway(tx.gateway)
        following = next_gateway(tx.route, tx.gateway, disabled=self._switches.disabled)
        if tx.gateway in self._switches.disabled and following is not None:
            return await self._leave_disabled(tx, gateway, following)
        request = SubmitRequest(
            transaction_id=tx.id,
            amount=tx.money.amount,
            currency=tx.money.currency,
            kind=tx.kind.value,
            callback_url=f"{self._callback_base_url}/v1/callbacks/{tx.gateway}",
        )
        try:
            answer = await gateway.submit(request)
        except GatewayCredentialsRefused as exc:
            return self._credentials_refused(tx, exc)
        except GatewayNotReached as exc:
            # Fail over, unless the next gateway is not known to be up, or an earlier
            # run may have reached this one (this run not reaching it proves nothing of those).
            elsewhere = await self._up(following)
            if elsewhere is not None and await self._never_sent(tx):
                return self._fail_over(tx, elsewhere, f"not reached: {exc}")
            # The gateway is down (its breaker opened): wait for it without using up
            # attempts, instead of burning one on every trial call while it is down.
            until = exc.retry_at if isinstance(exc, GatewayBreakerOpen) else _reopens_at(gateway)
            if until is None:
                raise
            return Defer(tx.gateway, until=until, reason=f"{tx.gateway} unavailable: {exc}")
        except GatewayDeclined as exc:
            if not (exc.retry_elsewhere and following is not None):
                return self._decline(tx, exc)
            elsewhere = await self._up(following)
            if elsewhere is None:
                until = _reopens_at(self._gateway(following)) or self._clock() + _TRIAL_WAIT
                return Defer(following, until=until, reason=f"declined; {following} down: {exc}")
            return self._fail_over(tx, elsewhere, f"declined: {exc.reason}")
        except GatewayRequestRefused as exc:
            return self._hold(tx, ReviewReason.REQUEST_REFUSED, f"submit: {exc}")
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
                raise NotFinalYet(  # not arrived (yet): resending is safe (idempotent on the id)
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

    async def _not_known_proves(self, tx: Transaction) -> bool:
        """Whether the gateway's "not known" now proves it never took the payment: the
        last request that may have reached it ended more than the margin ago."""
        ended = await self._db.lookup(
            lambda conn: last_send_ended_at(conn, tx.id, tx.gateway, not_reached=NOT_REACHED_ERRORS)
        )
        margin = timedelta(seconds=self._not_known_margin_s)
        return ended is None or self._clock() - ended > margin

    async def _leave_disabled(
        self, tx: Transaction, gateway: Gateway, following: str
    ) -> Done | Defer:
        """Move a transaction off its gateway, out of routing, to the next one — only if
        that gateway provably never took it and the next one's breaker is closed.

        Proof is the submit task's history (every earlier run stopped before
        sending) or, for a deposit, the gateway's own word that it does not
        know the payment, asked past the margin after the last send. If it
        knows it, its answer is recorded and the payment finishes there. A
        withdrawal that may have reached it stays. If it cannot be asked, the
        task waits for it, as for any gateway down.
        """
        elsewhere = await self._up(following)
        if elsewhere is None:  # nothing was sent in this run: waiting uses no attempt
            wait_until = _reopens_at(self._gateway(following)) or self._clock() + _TRIAL_WAIT
            return Defer(
                following,
                until=wait_until,
                reason=f"{tx.gateway} is out of routing; {following} down",
            )
        if await self._never_sent(tx):
            return self._fail_over(tx, elsewhere, f"{tx.gateway} is out of routing; never sent")
        try:
            known = await gateway.status(tx.id)
        except GatewayCredentialsRefused as exc:
            return self._credentials_refused(tx, exc)
        except GatewayNotReached as exc:
            until = exc.retry_at if isinstance(exc, GatewayBreakerOpen) else _reopens_at(gateway)
            reason = f"{tx.gateway} is out of routing and may hold {tx.id}; cannot ask it: {exc}"
            if until is None:
                # Kept as "not final": this run not reaching it says nothing of earlier runs.
                raise NotFinalYet(reason) from exc
            return Defer(tx.gateway, until=until, reason=reason)
        if known is not None:
            return self._record(tx, tx.gateway, known, "status check")
        if tx.kind is Kind.WITHDRAWAL:
            raise NotFinalYet(
                f"{tx.gateway} is out of routing; a withdrawal that may have reached it stays"
            )
        if not await self._not_known_proves(tx):
            raise NotFinalYet(f"{tx.gateway} does not know {tx.id} yet; asked inside the margin")
        return self._fail_over(
            tx, elsewhere, f"{tx.gateway} is out of routing and does not know the payment"
        )

    async def status_check(self, task: Task) -> Done | Defer:
        """Ask the gateway about a submitted transaction until it is final."""
        tx = await self._transaction(task)
        if tx.status.is_final:
            return Done()
        gateway_name = str(task.payload.get("gateway", tx.gateway))
        try:
            answer = await self._gateway(gateway_name).status(tx.id)
        except GatewayCredentialsRefused as exc:
            return self._credentials_refused(tx, exc)
        except GatewayNotReached as exc:
            # The gateway is down (its breaker opened): ask again when it may take a trial,
            # without using up the attempts whose end would hold the payment for review.
            gateway = self._gateway(gateway_name)
            until = exc.retry_at if isinstance(exc, GatewayBreakerOpen) else _reopens_at(gateway)
            if until is None:
                raise
            return Defer(gateway_name, until=until, reason=f"{gateway_name} unavailable: {exc}")
        if answer is None or answer.status == "pending":
            raise NotFinalYet(f"{gateway_name} has no final status for {tx.id} yet")
        return self._record(tx, gateway_name, answer, "status check")
