"""Carrying payments to their gateways: the ``submit`` and ``status_check`` task handlers.

The rules (``paycon.domain.delivery``) decide; these handlers gather the facts
the rules ask for — a gateway's answer or error, a breaker's state, the submit
task's history — and carry the decision out.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

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
from outbox import Defer, Done, PermanentError, Retry, Task
from paycon.domain.delivery import (
    AskStatus,
    Breaker,
    Call,
    CallResult,
    CheckHistory,
    CheckLastSend,
    Decision,
    FailOver,
    HoldForReview,
    LastSend,
    LookAtBreaker,
    NotFinal,
    NothingToDo,
    ProbeGateway,
    RecordAnswer,
    RecordDecline,
    RetryWithError,
    StatusFacts,
    SubmitFacts,
    SubmitIt,
    WaitFor,
    decide_status_check,
    decide_submit,
    next_gateway,
    status_from_gateway,
)
from paycon.domain.errors import NotFinalYet
from paycon.domain.review import GatewayWord, ReviewReason
from paycon.domain.status import Status
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


def _now() -> datetime:
    return datetime.now(UTC)


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

    def _decline(self, tx: Transaction, reason: str | None) -> Done:
        """A definitive decline fails the payment (it names no amount: it is an error answer)."""
        word = GatewayWord(tx.gateway, Status.FAILED, reason)
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

    async def submit(self, task: Task) -> Done | Defer | Retry:
        """Hand a pending transaction to its gateway and record the answer.

        What to do after each call is ``paycon.domain.delivery.decide_submit``'s
        decision; this gathers the facts it asks for (the gateway's answers,
        breakers, the submit task's history) and carries the decision out.
        """
        tx = await self._transaction(task)
        facts = SubmitFacts(
            transaction_id=tx.id, kind=tx.kind, status=tx.status, gateway=tx.gateway,
            following=next_gateway(tx.route, tx.gateway, disabled=self._switches.disabled),
            out_of_routing=tx.gateway in self._switches.disabled, now=self._clock(),
            not_known_margin_s=self._not_known_margin_s,
            credentials_retry_s=self._credentials_retry_s,
        )  # fmt: skip
        calls = _Calls()
        step = decide_submit(facts)
        if isinstance(step, NothingToDo):
            return Done()  # already carried (a run's completion was lost)
        gateway = self._gateway(tx.gateway)
        while True:
            match step:
                case SubmitIt():
                    request = SubmitRequest(
                        transaction_id=tx.id, amount=tx.money.amount,
                        currency=tx.money.currency, kind=tx.kind.value,
                        callback_url=f"{self._callback_base_url}/v1/callbacks/{tx.gateway}",
                    )  # fmt: skip
                    submitted = await calls.make(gateway.submit(request))
                    facts = replace(facts, submitted=submitted, own_breaker=_breaker(gateway))
                case AskStatus():
                    asked = await calls.make(gateway.status(tx.id))
                    facts = replace(facts, asked=asked, own_breaker=_breaker(gateway))
                case LookAtBreaker(gateway=name):
                    facts = replace(facts, next_breaker=_breaker(self._gateway(name)))
                case ProbeGateway(gateway=name):
                    # A status question about no payment: it closes (or not) a breaker past
                    # its open time, so failover to a gateway nothing else calls does not
                    # wait forever for a trial.
                    probed = self._gateway(name)
                    with contextlib.suppress(GatewayError):
                        await probed.status(PROBE_TRANSACTION_ID)
                    facts = replace(facts, next_breaker=_breaker(probed), next_probed=True)
                case CheckHistory():
                    facts = replace(facts, never_sent=await self._never_sent(tx))
                case CheckLastSend():
                    facts = replace(facts, last_send=LastSend(await self._last_send(tx)))
                case _:
                    return self._carry_out(tx, step, calls)
            # Decided at the time the facts are complete, as after a call that took a while.
            step = decide_submit(replace(facts, now=self._clock()))

    async def status_check(self, task: Task) -> Done | Defer | Retry:
        """Ask the gateway about a submitted transaction until it is final."""
        tx = await self._transaction(task)
        gateway_name = str(task.payload.get("gateway", tx.gateway))
        facts = StatusFacts(
            transaction_id=tx.id, status=tx.status, gateway=gateway_name, now=self._clock(),
            credentials_retry_s=self._credentials_retry_s,
        )  # fmt: skip
        calls = _Calls()
        step = decide_status_check(facts)
        if isinstance(step, AskStatus):
            gateway = self._gateway(gateway_name)
            asked = await calls.make(gateway.status(tx.id))
            facts = replace(facts, asked=asked, now=self._clock(), own_breaker=_breaker(gateway))
            step = decide_status_check(facts)
        if isinstance(step, AskStatus):  # pragma: no cover - the question was answered
            raise RuntimeError("a status check asked twice")
        return self._carry_out(tx, step, calls)

    def _carry_out(
        self, tx: Transaction, decision: Decision, calls: _Calls
    ) -> Done | Defer | Retry:
        """Do what was decided. Raises NotFinalYet to retry; a retry with the last call's
        own error is returned, with whether this run reached the gateway."""
        match decision:
            case NothingToDo():
                return Done()  # already carried (a run's completion was lost)
            case RecordAnswer(gateway=gateway, source=source) if calls.answer is not None:
                return self._record(tx, gateway, calls.answer, source)
            case RecordDecline(reason=reason):
                return self._decline(tx, reason)
            case FailOver(to_gateway=to_gateway, why=why):
                return self._fail_over(tx, to_gateway, why)
            case WaitFor(resource=resource, until=until, reason=reason):
                # Nothing was taken: recorded as not having reached the gateway.
                return Defer(resource, until=until, reason=reason, touched=False)
            case HoldForReview(reason=reason, detail=detail):
                return self._hold(tx, reason, detail)
            case NotFinal(message=message):
                raise NotFinalYet(message) from calls.error
            case RetryWithError(reached=reached) if calls.error is not None:
                return Retry(calls.error, touched=reached)
        raise TypeError(f"cannot carry out {decision!r}")  # pragma: no cover

    async def _never_sent(self, tx: Transaction) -> bool:
        """Whether no earlier run of the submit task can have reached ``tx.gateway``."""
        return await self._db.lookup(lambda conn: submit_never_ran_past(conn, tx.id, tx.gateway))

    async def _last_send(self, tx: Transaction) -> datetime | None:
        """When the last run of the submit task that may have reached ``tx.gateway`` ended."""
        return await self._db.lookup(lambda conn: last_send_ended_at(conn, tx.id, tx.gateway))


class _Calls:
    """One run's gateway calls: the last answer and the last error, as the calls gave them."""

    def __init__(self) -> None:
        self.answer: GatewayAnswer | None = None
        self.error: GatewayError | None = None

    async def make(self, call: Awaitable[GatewayAnswer | None]) -> Call:
        """Await ``call`` and classify what it came to."""
        try:
            answer = await call
        except GatewayError as exc:
            self.error = exc
            return _classified(exc)
        if answer is None:
            return Call(CallResult.UNKNOWN)
        self.answer = answer
        return Call(CallResult.ANSWERED, answer_status=answer.status)


def _classified(exc: GatewayError) -> Call:
    """A gateway error as the delivery decisions see it."""
    detail = str(exc)
    match exc:
        case GatewayCredentialsRefused():
            return Call(CallResult.CREDENTIALS_REFUSED, detail)
        case GatewayBreakerOpen():
            return Call(CallResult.BREAKER_OPEN, detail, retry_at=exc.retry_at)
        case GatewayNotReached():
            return Call(CallResult.NOT_REACHED, detail)
        case GatewayDeclined():
            return Call(
                CallResult.DECLINED, detail, reason=exc.reason, retry_elsewhere=exc.retry_elsewhere
            )
        case GatewayRequestRefused():
            return Call(CallResult.REQUEST_REFUSED, detail)
        case GatewayAmbiguous():
            return Call(CallResult.AMBIGUOUS, detail)
    return Call(CallResult.OTHER, detail)


def _breaker(gateway: Gateway) -> Breaker:
    state = gateway.breaker_state()
    return Breaker(state.state, state.may_half_open_at)
