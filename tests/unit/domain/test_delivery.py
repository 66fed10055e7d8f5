from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from paycon.domain.delivery import (
    TRIAL_WAIT,
    AskStatus,
    Breaker,
    Call,
    CallResult,
    CheckHistory,
    CheckLastSend,
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
from paycon.domain.review import ReviewReason
from paycon.domain.status import Kind, Status


def test_gateway_words_map_to_statuses() -> None:
    assert status_from_gateway("pending") is Status.SUBMITTED
    assert status_from_gateway("success") is Status.COMPLETED
    assert status_from_gateway("failure") is Status.FAILED
    with pytest.raises(ValueError, match="unknown gateway status"):
        status_from_gateway("refunded")


@pytest.mark.parametrize(
    ("route", "current", "expected"),
    [
        (("gateway_a", "gateway_b"), "gateway_a", "gateway_b"),
        (("gateway_a", "gateway_b"), "gateway_b", None),
        (("gateway_a",), "gateway_a", None),
        (("gateway_a", "gateway_b"), "gateway_z", None),
    ],
)
def test_failover_goes_down_the_route_once(
    route: tuple[str, ...], current: str, expected: str | None
) -> None:
    assert next_gateway(route, current) == expected


@pytest.mark.parametrize(
    ("disabled", "expected"),
    [
        (frozenset({"gateway_b"}), "gateway_c"),
        (frozenset({"gateway_b", "gateway_c"}), None),
        (frozenset({"gateway_a"}), "gateway_b"),
    ],
)
def test_failover_skips_gateways_out_of_routing(
    disabled: frozenset[str], expected: str | None
) -> None:
    route = ("gateway_a", "gateway_b", "gateway_c")
    assert next_gateway(route, "gateway_a", disabled=disabled) == expected


# --- decisions after a gateway call ---------------------------------------------

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=30)
CLOSED = Breaker("closed")
OPEN = Breaker("open", LATER)  # not due a trial yet
DUE = Breaker("open", NOW - timedelta(seconds=1))  # due a trial
HALF_OPEN = Breaker("half_open")
CREDENTIALS_UNTIL = NOW + timedelta(seconds=30)  # credentials_retry_s after now

ANSWER = Call(CallResult.ANSWERED, answer_status="pending")
UNKNOWN = Call(CallResult.UNKNOWN)
NOT_REACHED = Call(CallResult.NOT_REACHED, "connection refused")
BREAKER_OPEN = Call(CallResult.BREAKER_OPEN, "breaker open", retry_at=LATER)
AMBIGUOUS = Call(CallResult.AMBIGUOUS, "503 from gateway")
DECLINED_HERE = Call(CallResult.DECLINED, "declined", reason="card_blocked")
DECLINED_ELSEWHERE = Call(
    CallResult.DECLINED, "declined", reason="currency_unsupported", retry_elsewhere=True
)
REFUSED = Call(CallResult.REQUEST_REFUSED, "422 bad field")
CREDENTIALS = Call(CallResult.CREDENTIALS_REFUSED, "401")
OTHER = Call(CallResult.OTHER, "odd")


def submit_facts(**changes: Any) -> SubmitFacts:
    facts = SubmitFacts(
        transaction_id="tx_1", kind=Kind.DEPOSIT, status=Status.PENDING, gateway="gateway_a",
        following="gateway_b", out_of_routing=False, now=NOW, not_known_margin_s=60.0,
        credentials_retry_s=30.0,
    )  # fmt: skip
    return replace(facts, **changes)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # Nothing gathered yet: submit; already carried: nothing.
        ({}, SubmitIt()),
        ({"status": Status.SUBMITTED}, NothingToDo()),
        # An answer is recorded.
        ({"submitted": ANSWER}, RecordAnswer("gateway_a", "submit")),
        # Not reached: look at the next gateway, then the history, then fail over.
        ({"submitted": NOT_REACHED}, LookAtBreaker("gateway_b")),
        ({"submitted": NOT_REACHED, "next_breaker": CLOSED}, CheckHistory()),
        ({"submitted": NOT_REACHED, "next_breaker": CLOSED, "never_sent": True},
         FailOver("gateway_b", "not reached: connection refused")),
        # ... an earlier run may have sent it: wait for this gateway's breaker, or retry.
        ({"submitted": NOT_REACHED, "next_breaker": CLOSED, "never_sent": False,
          "own_breaker": OPEN},
         WaitFor("gateway_a", LATER, "gateway_a unavailable: connection refused")),
        ({"submitted": NOT_REACHED, "next_breaker": CLOSED, "never_sent": False,
          "own_breaker": CLOSED}, RetryWithError(reached=False)),
        ({"submitted": BREAKER_OPEN, "next_breaker": CLOSED, "never_sent": False},
         WaitFor("gateway_a", LATER, "gateway_a unavailable: breaker open")),
        # ... the next gateway is down, or on trial (probed first), or there is none.
        ({"submitted": BREAKER_OPEN, "next_breaker": OPEN},
         WaitFor("gateway_a", LATER, "gateway_a unavailable: breaker open")),
        ({"submitted": NOT_REACHED, "next_breaker": DUE}, ProbeGateway("gateway_b")),
        ({"submitted": NOT_REACHED, "next_breaker": Breaker("open", NOW)},
         ProbeGateway("gateway_b")),
        ({"submitted": NOT_REACHED, "next_breaker": HALF_OPEN}, ProbeGateway("gateway_b")),
        ({"submitted": NOT_REACHED, "next_breaker": HALF_OPEN, "next_probed": True},
         RetryWithError(reached=False)),
        ({"submitted": NOT_REACHED, "next_breaker": CLOSED, "next_probed": True},
         CheckHistory()),
        ({"submitted": NOT_REACHED, "following": None}, RetryWithError(reached=False)),
        # Declines: final here, or elsewhere when the next gateway is up.
        ({"submitted": DECLINED_HERE}, RecordDecline("card_blocked")),
        ({"submitted": DECLINED_ELSEWHERE, "following": None},
         RecordDecline("currency_unsupported")),
        ({"submitted": DECLINED_ELSEWHERE}, LookAtBreaker("gateway_b")),
        ({"submitted": DECLINED_ELSEWHERE, "next_breaker": CLOSED},
         FailOver("gateway_b", "declined: currency_unsupported")),
        ({"submitted": DECLINED_ELSEWHERE, "next_breaker": OPEN},
         WaitFor("gateway_b", LATER, "declined; gateway_b down: declined")),
        ({"submitted": DECLINED_ELSEWHERE, "next_breaker": HALF_OPEN, "next_probed": True},
         WaitFor("gateway_b", NOW + TRIAL_WAIT, "declined; gateway_b down: declined")),
        # Refused without a documented decline: a person decides.
        ({"submitted": REFUSED},
         HoldForReview(ReviewReason.REQUEST_REFUSED, "submit: 422 bad field")),
        # Our credentials refused: wait, no attempt used, never a decline or a failover.
        ({"submitted": CREDENTIALS},
         WaitFor("gateway_a", CREDENTIALS_UNTIL, "gateway_a refuses our credentials: 401")),
        # Ambiguous (a 5xx included): ask the same gateway, never fail over.
        ({"submitted": AMBIGUOUS}, AskStatus()),
        ({"submitted": AMBIGUOUS, "asked": ANSWER}, RecordAnswer("gateway_a", "submit")),
        ({"submitted": AMBIGUOUS, "asked": UNKNOWN},
         NotFinal("gateway_a does not know tx_1 after an ambiguous submit")),
        ({"submitted": AMBIGUOUS, "asked": NOT_REACHED},
         NotFinal("503 from gateway; then asking gateway_a for its status: connection refused")),
        ({"submitted": OTHER}, RetryWithError()),
    ],
)  # fmt: skip
def test_what_follows_a_submit(changes: dict[str, Any], expected: object) -> None:
    assert decide_submit(submit_facts(**changes)) == expected


OUT = {"out_of_routing": True}
PAST_MARGIN = LastSend(NOW - timedelta(seconds=61))
INSIDE_MARGIN = LastSend(NOW - timedelta(seconds=60))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # The last gateway of the route stays, out of routing or not.
        ({**OUT, "following": None}, SubmitIt()),
        ({**OUT}, LookAtBreaker("gateway_b")),
        ({**OUT, "next_breaker": OPEN},
         WaitFor("gateway_b", LATER, "gateway_a is out of routing; gateway_b down")),
        ({**OUT, "next_breaker": HALF_OPEN, "next_probed": True},
         WaitFor("gateway_b", NOW + TRIAL_WAIT, "gateway_a is out of routing; gateway_b down")),
        ({**OUT, "next_breaker": CLOSED}, CheckHistory()),
        ({**OUT, "next_breaker": CLOSED, "never_sent": True},
         FailOver("gateway_b", "gateway_a is out of routing; never sent")),
        # It may have been sent: ask the gateway out of routing what it knows.
        ({**OUT, "next_breaker": CLOSED, "never_sent": False}, AskStatus()),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": ANSWER},
         RecordAnswer("gateway_a", "status check")),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": UNKNOWN},
         CheckLastSend()),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": UNKNOWN,
          "last_send": INSIDE_MARGIN},
         NotFinal("gateway_a does not know tx_1 yet; asked inside the margin")),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": UNKNOWN,
          "last_send": PAST_MARGIN},
         FailOver("gateway_b", "gateway_a is out of routing and does not know the payment")),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": UNKNOWN,
          "last_send": LastSend(None)},
         FailOver("gateway_b", "gateway_a is out of routing and does not know the payment")),
        # A withdrawal that may have reached it never moves.
        ({**OUT, "kind": Kind.WITHDRAWAL, "next_breaker": CLOSED, "never_sent": False,
          "asked": UNKNOWN, "last_send": PAST_MARGIN},
         NotFinal("gateway_a is out of routing; a withdrawal that may have reached it stays")),
        # It cannot be asked: wait for it, or retry as not final.
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": BREAKER_OPEN},
         WaitFor("gateway_a", LATER,
                 "gateway_a is out of routing and may hold tx_1; cannot ask it: breaker open")),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": NOT_REACHED,
          "own_breaker": OPEN},
         WaitFor("gateway_a", LATER,
                 "gateway_a is out of routing and may hold tx_1; cannot ask it: "
                 "connection refused")),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": NOT_REACHED},
         NotFinal("gateway_a is out of routing and may hold tx_1; cannot ask it: "
                  "connection refused")),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": CREDENTIALS},
         WaitFor("gateway_a", CREDENTIALS_UNTIL, "gateway_a refuses our credentials: 401")),
        ({**OUT, "next_breaker": CLOSED, "never_sent": False, "asked": AMBIGUOUS},
         RetryWithError()),
    ],
)  # fmt: skip
def test_what_moves_a_payment_off_a_gateway_out_of_routing(
    changes: dict[str, Any], expected: object
) -> None:
    assert decide_submit(submit_facts(**changes)) == expected


@pytest.mark.parametrize(
    ("status", "asked", "expected"),
    [
        (Status.COMPLETED, None, NothingToDo()),
        (Status.SUBMITTED, None, AskStatus()),
        (Status.SUBMITTED, Call(CallResult.ANSWERED, answer_status="success"),
         RecordAnswer("gateway_b", "status check")),
        (Status.SUBMITTED, ANSWER, NotFinal("gateway_b has no final status for tx_1 yet")),
        (Status.SUBMITTED, UNKNOWN, NotFinal("gateway_b has no final status for tx_1 yet")),
        (Status.SUBMITTED, CREDENTIALS,
         WaitFor("gateway_b", CREDENTIALS_UNTIL, "gateway_b refuses our credentials: 401")),
        (Status.SUBMITTED, AMBIGUOUS, RetryWithError()),
        (Status.SUBMITTED, NOT_REACHED, RetryWithError()),
    ],
)  # fmt: skip
def test_what_follows_a_status_question(
    status: Status, asked: Call | None, expected: object
) -> None:
    facts = StatusFacts("tx_1", status, "gateway_b", NOW, 30.0, asked)
    assert decide_status_check(facts) == expected


def test_a_status_check_that_did_not_reach_an_open_gateway_waits_for_its_breaker() -> None:
    """No attempt is used: used-up attempts would hold the payment for review."""
    facts = StatusFacts(
        "tx_1", Status.SUBMITTED, "gateway_b", NOW, 30.0, NOT_REACHED, own_breaker=OPEN
    )
    assert decide_status_check(facts) == WaitFor(
        "gateway_b", LATER, "gateway_b unavailable: connection refused"
    )


def test_a_closed_breaker_reopens_at_no_time_whatever_it_last_said() -> None:
    assert Breaker("closed", LATER).reopens_at() is None
    assert Breaker("open", LATER).reopens_at() == LATER
    assert Breaker("half_open", LATER).reopens_at() == LATER


def test_a_status_check_refused_by_an_open_breaker_waits_without_an_attempt() -> None:
    retry_at = NOW + timedelta(seconds=30)
    facts = StatusFacts(
        transaction_id="tx_1", status=Status.SUBMITTED, gateway="gateway_a", now=NOW,
        credentials_retry_s=30, asked=Call(CallResult.BREAKER_OPEN, "open", retry_at=retry_at),
    )  # fmt: skip
    decision = decide_status_check(facts)
    assert isinstance(decision, WaitFor)
    assert (decision.resource, decision.until) == ("gateway_a", retry_at)
