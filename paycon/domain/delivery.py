"""Delivery rules: what a gateway's word means for a transaction, where to fail over, and
what to do after each gateway call."""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from paycon.domain.review import ReviewReason
from paycon.domain.status import Kind, Status

_GATEWAY_STATUS = {"pending": Status.SUBMITTED, "success": Status.COMPLETED,
                   "failure": Status.FAILED}  # fmt: skip


def status_from_gateway(gateway_status: str) -> Status:
    """``pending`` means acknowledged (submitted); ``success``/``failure`` are final.

    Raises ValueError for anything else.
    """
    try:
        return _GATEWAY_STATUS[gateway_status]
    except KeyError:
        raise ValueError(f"unknown gateway status {gateway_status!r}") from None


def next_gateway(
    route: Sequence[str], current: str, *, disabled: Set[str] = frozenset()
) -> str | None:
    """The gateway after ``current`` in the route that is not out of routing
    (``disabled``), or None when there is none."""
    try:
        position = list(route).index(current)
    except ValueError:
        return None
    return next((g for g in route[position + 1 :] if g not in disabled), None)


# --- what to do after a gateway call ------------------------------------------
#
# The submit and status-check handlers gather facts (a gateway call, a breaker's
# state, the submit task's history) one at a time; ``decide_submit`` and
# ``decide_status_check`` say, from the facts gathered so far, either which fact
# is needed next or what to do. No I/O here: every rule is table-tested.

# How long to wait for a gateway whose breaker trial is under way elsewhere.
TRIAL_WAIT = timedelta(seconds=1)


class CallResult(StrEnum):
    """What a gateway call came to, classified once at the edge."""

    ANSWERED = "answered"  # an answer (for a status question: it knows the payment)
    UNKNOWN = "unknown"  # a status question: the gateway does not know the payment
    NOT_REACHED = "not_reached"  # nothing was sent
    BREAKER_OPEN = "breaker_open"  # not even tried: our breaker is open
    AMBIGUOUS = "ambiguous"  # sent, no usable answer (a 5xx included)
    DECLINED = "declined"  # a documented "no"
    REQUEST_REFUSED = "request_refused"  # refused without a documented decline
    CREDENTIALS_REFUSED = "credentials_refused"  # 401/403: our credentials, not the payment
    OTHER = "other"  # any other gateway error: retried as it is


@dataclass(frozen=True)
class Call:
    """One gateway call's outcome. ``detail`` is the error's message; ``retry_at`` when an
    open breaker lets a trial through; ``reason`` and ``retry_elsewhere`` a decline's."""

    result: CallResult
    detail: str = ""
    retry_at: datetime | None = None
    reason: str | None = None
    retry_elsewhere: bool = False
    answer_status: str | None = None  # ANSWERED: the gateway's word (pending, success, ...)


@dataclass(frozen=True)
class Breaker:
    """A gateway's breaker as the decisions need it."""

    state: str  # closed | open | half_open
    may_half_open_at: datetime | None = None

    def reopens_at(self) -> datetime | None:
        """When an open breaker may let a trial through; None while it is closed."""
        return self.may_half_open_at if self.state != "closed" else None


@dataclass(frozen=True)
class LastSend:
    """When the last run that may have reached the gateway ended (None: no run may have)."""

    ended_at: datetime | None


@dataclass(frozen=True)
class SubmitFacts:
    """What is known about carrying one pending payment to its gateway.

    ``following`` is the next gateway of the route that is in routing;
    ``out_of_routing`` whether an operator took the payment's gateway out of
    routing. The optional fields are facts not gathered yet (None).
    """

    transaction_id: str
    kind: Kind
    status: Status
    gateway: str
    following: str | None
    out_of_routing: bool
    now: datetime
    not_known_margin_s: float
    credentials_retry_s: float
    submitted: Call | None = None  # the submit call
    asked: Call | None = None  # the status question about the payment
    own_breaker: Breaker | None = None  # the gateway's breaker, read after its last call
    next_breaker: Breaker | None = None  # the following gateway's breaker
    next_probed: bool = False  # ``next_breaker`` was read after a read-only probe
    never_sent: bool | None = None  # no earlier run of the submit task can have reached it
    last_send: LastSend | None = None


@dataclass(frozen=True)
class StatusFacts:
    """What is known about a submitted payment whose final status is awaited."""

    transaction_id: str
    status: Status
    gateway: str  # the gateway asked
    now: datetime
    credentials_retry_s: float
    asked: Call | None = None
    own_breaker: Breaker | None = None  # the gateway's breaker, read after the call


# Facts to gather next.
@dataclass(frozen=True)
class SubmitIt:
    """Send the payment to its gateway (idempotent on the transaction id)."""


@dataclass(frozen=True)
class AskStatus:
    """Ask the payment's gateway what it knows of the payment."""


@dataclass(frozen=True)
class LookAtBreaker:
    """Read ``gateway``'s breaker."""

    gateway: str


@dataclass(frozen=True)
class ProbeGateway:
    """Ask ``gateway`` a read-only question about no payment (its breaker is due a trial),
    then read its breaker again."""

    gateway: str


@dataclass(frozen=True)
class CheckHistory:
    """Read whether any earlier run of the submit task may have reached the gateway."""


@dataclass(frozen=True)
class CheckLastSend:
    """Read when the last run that may have reached the gateway ended."""


Gather = SubmitIt | AskStatus | LookAtBreaker | ProbeGateway | CheckHistory | CheckLastSend


# Decisions.
@dataclass(frozen=True)
class NothingToDo:
    """Already carried (a run before this one did it and its completion was lost)."""


@dataclass(frozen=True)
class RecordAnswer:
    """Record ``gateway``'s answer (from the submit call or the status question)."""

    gateway: str
    source: str  # "submit" | "status check"


@dataclass(frozen=True)
class RecordDecline:
    """The gateway's definitive "no" fails the payment."""

    reason: str | None


@dataclass(frozen=True)
class FailOver:
    """Move the payment to ``to_gateway``: this one provably never took it."""

    to_gateway: str
    why: str


@dataclass(frozen=True)
class WaitFor:
    """Run again at ``until``, when ``resource`` may be usable; no attempt used."""

    resource: str
    until: datetime
    reason: str


@dataclass(frozen=True)
class NotFinal:
    """Not settled yet: retry later with backoff (an attempt used)."""

    message: str


@dataclass(frozen=True)
class RetryWithError:
    """Retry later, keeping the last call's own error as the attempt's error;
    ``reached`` False when this run provably sent nothing to the gateway."""

    reached: bool | None = None


@dataclass(frozen=True)
class HoldForReview:
    """A person decides: the gateway refused the request without a documented decline."""

    reason: ReviewReason
    detail: str


Decision = (
    NothingToDo | RecordAnswer | RecordDecline | FailOver | WaitFor | NotFinal | RetryWithError
    | HoldForReview
)  # fmt: skip

_UNREACHED = (CallResult.NOT_REACHED, CallResult.BREAKER_OPEN)


def decide_submit(facts: SubmitFacts) -> Gather | Decision:
    """What to gather next, or what to do, for a pending payment's submit task.

    The next gateway is tried only on proof that this one never took the
    payment: nothing was sent (and no earlier run may have sent it), or a
    documented decline that lets another gateway try — and only when the next
    gateway's breaker is closed (one on trial is probed first). Any other
    answer — a 5xx included — is ambiguous: the same gateway is asked for the
    status. A gateway out of routing is left only on the same proof, or (a
    deposit) on its "not known" asked past the margin after the last send.
    """
    if facts.status is not Status.PENDING:
        return NothingToDo()
    if facts.out_of_routing and facts.following is not None:
        return _leave_out_of_routing(facts, facts.following)
    call = facts.submitted
    if call is None:
        return SubmitIt()
    match call.result:
        case CallResult.ANSWERED:
            return RecordAnswer(facts.gateway, "submit")
        case CallResult.CREDENTIALS_REFUSED:
            return _credentials_refused(facts.gateway, facts.now, facts.credentials_retry_s, call)
        case CallResult.NOT_REACHED | CallResult.BREAKER_OPEN:
            return _not_reached(facts, call)
        case CallResult.DECLINED:
            return _declined(facts, call)
        case CallResult.REQUEST_REFUSED:
            return HoldForReview(ReviewReason.REQUEST_REFUSED, f"submit: {call.detail}")
        case CallResult.AMBIGUOUS:
            return _ambiguous(facts, call)
    return RetryWithError()


def decide_status_check(facts: StatusFacts) -> AskStatus | Decision:
    """What to gather next, or what to do, for a submitted payment's status check."""
    if facts.status.is_final:
        return NothingToDo()
    asked = facts.asked
    if asked is None:
        return AskStatus()
    if asked.result is CallResult.CREDENTIALS_REFUSED:
        return _credentials_refused(facts.gateway, facts.now, facts.credentials_retry_s, asked)
    if asked.result is CallResult.ANSWERED and asked.answer_status != "pending":
        return RecordAnswer(facts.gateway, "status check")
    if asked.result in (CallResult.ANSWERED, CallResult.UNKNOWN):
        return NotFinal(f"{facts.gateway} has no final status for {facts.transaction_id} yet")
    if asked.result in (CallResult.BREAKER_OPEN, CallResult.NOT_REACHED):
        # The gateway is down: ask again when it may take a trial, without using up the
        # attempts whose end would hold the payment for review.
        until = _retry_at(asked, facts.own_breaker)
        if until is not None:
            return WaitFor(facts.gateway, until, f"{facts.gateway} unavailable: {asked.detail}")
    return RetryWithError()


def _next_up(facts: SubmitFacts) -> Gather | bool:
    """Whether the following gateway's breaker is closed, or what to look at first."""
    if facts.following is None:
        return False
    breaker = facts.next_breaker
    if breaker is None:
        return LookAtBreaker(facts.following)
    if breaker.state == "closed":
        return True
    if facts.next_probed:
        return False
    due = breaker.may_half_open_at or facts.now
    if breaker.state == "open" and due > facts.now:
        return False  # not due a trial yet
    return ProbeGateway(facts.following)


def _not_reached(facts: SubmitFacts, call: Call) -> Gather | Decision:
    """Nothing was sent: fail over if the next gateway is up and no earlier run may have
    reached this one; else wait for this one without using an attempt."""
    up = _next_up(facts)
    if not isinstance(up, bool):
        return up
    if up and facts.following is not None:
        if facts.never_sent is None:
            return CheckHistory()
        if facts.never_sent:
            return FailOver(facts.following, f"not reached: {call.detail}")
    until = _retry_at(call, facts.own_breaker)
    if until is None:
        return RetryWithError(reached=False)
    return WaitFor(facts.gateway, until, f"{facts.gateway} unavailable: {call.detail}")


def _declined(facts: SubmitFacts, call: Call) -> Gather | Decision:
    if not (call.retry_elsewhere and facts.following is not None):
        return RecordDecline(call.reason)
    up = _next_up(facts)
    if not isinstance(up, bool):
        return up
    if not up:
        until = _reopens_at(facts.next_breaker) or facts.now + TRIAL_WAIT
        reason = f"declined; {facts.following} down: {call.detail}"
        return WaitFor(facts.following, until, reason)
    return FailOver(facts.following, f"declined: {call.reason}")


def _ambiguous(facts: SubmitFacts, call: Call) -> AskStatus | Decision:
    """Sent, no usable answer: the gateway may have it. Ask before anything else."""
    asked = facts.asked
    if asked is None:
        return AskStatus()
    if asked.result is CallResult.ANSWERED:
        return RecordAnswer(facts.gateway, "submit")
    if asked.result is CallResult.UNKNOWN:
        # Not arrived (yet): resending is safe (idempotent on the id).
        return NotFinal(
            f"{facts.gateway} does not know {facts.transaction_id} after an ambiguous submit"
        )
    # Kept as "not final yet", never as the status call's own error: a "not reached"
    # there would hide from the attempts that this run sent it.
    return NotFinal(f"{call.detail}; then asking {facts.gateway} for its status: {asked.detail}")


def _leave_out_of_routing(facts: SubmitFacts, following: str) -> Gather | Decision:
    """Move a payment off a gateway out of routing — only if that gateway provably never
    took it and the next one's breaker is closed; if it knows the payment, its answer
    is recorded and the payment finishes there; a withdrawal that may have reached it stays."""
    up = _next_up(facts)
    if not isinstance(up, bool):
        return up
    gateway, tx = facts.gateway, facts.transaction_id
    if not up:  # nothing was sent in this run: waiting uses no attempt
        until = _reopens_at(facts.next_breaker) or facts.now + TRIAL_WAIT
        return WaitFor(following, until, f"{gateway} is out of routing; {following} down")
    if facts.never_sent is None:
        return CheckHistory()
    if facts.never_sent:
        return FailOver(following, f"{gateway} is out of routing; never sent")
    asked = facts.asked
    if asked is None:
        return AskStatus()
    match asked.result:
        case CallResult.CREDENTIALS_REFUSED:
            return _credentials_refused(gateway, facts.now, facts.credentials_retry_s, asked)
        case CallResult.NOT_REACHED | CallResult.BREAKER_OPEN:
            reason = f"{gateway} is out of routing and may hold {tx}; cannot ask it: {asked.detail}"
            wait_until = _retry_at(asked, facts.own_breaker)
            # Kept as "not final": this run not reaching it says nothing of earlier runs.
            return NotFinal(reason) if wait_until is None else WaitFor(gateway, wait_until, reason)
        case CallResult.ANSWERED:
            return RecordAnswer(gateway, "status check")
        case CallResult.UNKNOWN:
            return _not_known(facts, following)
    return RetryWithError()


def _not_known(facts: SubmitFacts, following: str) -> CheckLastSend | Decision:
    """The gateway out of routing says it does not know the payment."""
    gateway = facts.gateway
    if facts.kind is Kind.WITHDRAWAL:
        return NotFinal(f"{gateway} is out of routing; a withdrawal that may have reached it stays")
    if facts.last_send is None:
        return CheckLastSend()
    ended = facts.last_send.ended_at
    if ended is not None and facts.now - ended <= timedelta(seconds=facts.not_known_margin_s):
        return NotFinal(
            f"{gateway} does not know {facts.transaction_id} yet; asked inside the margin"
        )
    return FailOver(following, f"{gateway} is out of routing and does not know the payment")


def _credentials_refused(gateway: str, now: datetime, retry_s: float, call: Call) -> WaitFor:
    """The gateway refuses our credentials: it is broken, the payment is not declined.
    Wait for it without using an attempt, as for an open breaker."""
    until = now + timedelta(seconds=retry_s)
    return WaitFor(gateway, until, f"{gateway} refuses our credentials: {call.detail}")


def _retry_at(call: Call, own_breaker: Breaker | None) -> datetime | None:
    """When a gateway that was not reached may be tried again (None: not known)."""
    if call.result is CallResult.BREAKER_OPEN:
        return call.retry_at
    return _reopens_at(own_breaker)


def _reopens_at(breaker: Breaker | None) -> datetime | None:
    return breaker.reopens_at() if breaker is not None else None
