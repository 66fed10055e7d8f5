"""The retry policy: pure decisions, no database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection

from outbox import (
    ConfigError,
    Defer,
    Done,
    PermanentError,
    ResourceUnavailable,
    Retry,
    RetryPolicy,
)
from outbox.retry import DeferUntil, ErrorInfo, MarkDead, MarkDone, RetryLater

UNTIL = datetime(2030, 1, 1, tzinfo=UTC)


def _policies(min_spread: float) -> st.SearchStrategy[RetryPolicy]:
    return st.builds(
        lambda base_s, spread: RetryPolicy(base_s=base_s, max_s=base_s * spread),
        st.floats(min_value=0.001, max_value=100.0),
        st.floats(min_value=min_spread, max_value=10_000.0),
    )


policies = _policies(1.0)
# With max_s == base_s there is nothing to jitter between.
spread_policies = _policies(1.5)


def _writes(conn: Connection) -> None:
    return None


def test_success_is_done_with_the_handlers_writes() -> None:
    policy = RetryPolicy()
    assert policy.decide(None, attempts=1, max_attempts=3) == MarkDone()
    assert policy.decide(Done(), attempts=1, max_attempts=3) == MarkDone()
    assert policy.decide(Done(writes=_writes), attempts=3, max_attempts=3) == MarkDone(_writes)


@given(attempts=st.integers(min_value=0, max_value=1000))
def test_defer_never_uses_up_attempts(attempts: int) -> None:
    """However many attempts are gone, an unavailable resource defers, never kills."""
    policy = RetryPolicy()
    by_value = policy.decide(
        Defer("gateway_a", UNTIL, "breaker open"), attempts=attempts, max_attempts=1
    )
    by_error = policy.decide(
        ResourceUnavailable("gateway_a", UNTIL, "breaker open"),
        attempts=attempts,
        max_attempts=1,
    )
    assert by_value == by_error == DeferUntil(UNTIL, "gateway_a", "breaker open")


@given(attempts=st.integers(min_value=1, max_value=50), spare=st.integers(min_value=0, max_value=5))
def test_a_permanent_error_is_dead_at_once(attempts: int, spare: int) -> None:
    decision = RetryPolicy().decide(
        PermanentError("declined"), attempts=attempts, max_attempts=attempts + spare
    )
    assert decision == MarkDead(ErrorInfo("outbox.exceptions.PermanentError", "declined"), False)


@given(max_attempts=st.integers(min_value=1, max_value=50))
def test_an_error_on_the_last_attempt_is_dead_with_that_error(max_attempts: int) -> None:
    decision = RetryPolicy().decide(
        TimeoutError("read timed out"), attempts=max_attempts, max_attempts=max_attempts
    )
    assert decision == MarkDead(ErrorInfo("TimeoutError", "read timed out"), exhausted=True)


@given(policy=policies, attempts=st.integers(min_value=1, max_value=200), seed=st.integers())
def test_backoff_stays_between_base_and_the_capped_exponential(
    policy: RetryPolicy, attempts: int, seed: int
) -> None:
    decision = policy.decide(
        OSError("refused"), attempts=attempts, max_attempts=1000, rng=random.Random(seed)
    )
    assert isinstance(decision, RetryLater)
    ceiling = min(policy.max_s, policy.base_s * 2.0**attempts)
    assert policy.base_s <= decision.delay_s <= ceiling <= policy.max_s
    assert decision.error == ErrorInfo("OSError", "refused")


@given(policy=spread_policies, attempts=st.integers(min_value=1, max_value=60))
def test_backoff_jitters(policy: RetryPolicy, attempts: int) -> None:
    """Tasks that failed together do not come back together."""
    rng = random.Random(7)
    delays = {policy.backoff_s(attempts, rng) for _ in range(20)}
    assert len(delays) > 10


def test_the_ceiling_doubles_per_attempt_up_to_max() -> None:
    policy = RetryPolicy(base_s=1.0, max_s=30.0)
    assert [policy.ceiling_s(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.ceiling_s(10_000) == 30.0


@pytest.mark.parametrize(("base_s", "max_s"), [(0, 1), (-1, 1), (2, 1)])
def test_nonsense_settings_are_refused(base_s: float, max_s: float) -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(base_s=base_s, max_s=max_s)


def test_a_handler_returning_something_else_is_a_failed_attempt() -> None:
    decision = RetryPolicy(base_s=1, max_s=1).decide("ok", attempts=1, max_attempts=3)
    assert decision == RetryLater(
        1.0, ErrorInfo("TypeError", "handler returned str, not Done, Defer or Retry")
    )


def test_stored_errors_are_named_by_module_and_truncated() -> None:
    class GatewayDown(Exception):
        pass

    info = ErrorInfo.of(GatewayDown("x" * 5000))
    assert (
        info.class_name
        == f"{__name__}.test_stored_errors_are_named_by_module_and_truncated.<locals>.GatewayDown"
    )
    assert len(info.message) == 2000
    assert ErrorInfo.of(KeyError()).summary == "KeyError"


def test_defer_and_resource_unavailable_need_an_aware_time() -> None:
    naive = datetime(2030, 1, 1)
    with pytest.raises(ValueError, match="aware"):
        Defer("gateway_a", naive)
    with pytest.raises(ValueError, match="aware"):
        ResourceUnavailable("gateway_a", naive)
    assert "until" in str(ResourceUnavailable("gateway_a", UNTIL + timedelta(seconds=1)))


@pytest.mark.parametrize("touched", [True, False, None])
def test_every_decision_carries_what_the_run_touched(touched: bool | None) -> None:
    policy = RetryPolicy(base_s=1, max_s=1)
    error = OSError("refused")
    assert policy.decide(Done(touched=touched), attempts=1, max_attempts=3) == MarkDone(
        None, touched
    )
    assert policy.decide(
        Defer("gateway", UNTIL, "down", touched=touched), attempts=1, max_attempts=3
    ) == DeferUntil(UNTIL, "gateway", "down", touched)
    assert policy.decide(Retry(error, touched), attempts=1, max_attempts=3) == RetryLater(
        1.0, ErrorInfo.of(error), touched
    )
    assert policy.decide(Retry(error, touched), attempts=3, max_attempts=3) == MarkDead(
        ErrorInfo.of(error), exhausted=True, touched=touched
    )
    permanent = PermanentError("no")
    assert policy.decide(Retry(permanent, touched), attempts=1, max_attempts=3) == MarkDead(
        ErrorInfo.of(permanent), exhausted=False, touched=touched
    )


def test_a_deferral_has_not_touched_its_resource_unless_the_handler_says_so() -> None:
    policy = RetryPolicy()
    assert policy.decide(Defer("r", UNTIL), attempts=1, max_attempts=3).touched is False
    unavailable = ResourceUnavailable("r", UNTIL, "down")
    assert policy.decide(unavailable, attempts=1, max_attempts=3).touched is False
    # A raised error says nothing of it.
    assert policy.decide(OSError("x"), attempts=1, max_attempts=3).touched is None
