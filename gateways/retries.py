"""Retries inside one attempt: only for requests that provably never reached the gateway.

A connect failure leaves nothing behind at the gateway, so trying again a few
milliseconds later is free of risk and often succeeds (a dropped pooled
connection, a restarting instance). Anything that may have reached it (any
HTTP answer, a 503 included; ambiguous, transient, garbled) is left to the
caller, which decides with the full picture (status check, outbox backoff).
Waits are short and capped, so one attempt stays short; the outbox does the
patient retrying.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from gateways.errors import GatewayNotReached

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how fast one attempt retries a request that never reached the gateway.

    ``max_tries`` counts the first try (1 = no retry). Waits grow from
    ``initial_wait_s`` by doubling up to ``max_wait_s``, plus up to ``jitter_s``
    of random spread so many workers do not retry in step; one attempt thus
    waits at most ``(max_tries - 1) * (max_wait_s + jitter_s)`` in all. Raises
    ``ValueError`` for values that cannot work.
    """

    max_tries: int = 3
    initial_wait_s: float = 0.05
    max_wait_s: float = 0.5
    jitter_s: float = 0.05

    def __post_init__(self) -> None:
        if self.max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        if self.initial_wait_s < 0 or self.max_wait_s < 0 or self.jitter_s < 0:
            raise ValueError("waits must not be negative")


def is_retryable(exc: BaseException) -> bool:
    """Whether retrying within the attempt is safe: never reached, not refused by the breaker."""
    return isinstance(exc, GatewayNotReached) and not exc.breaker_open


async def call_with_retries(policy: RetryPolicy, call: Callable[[], Awaitable[T]]) -> T:
    """Await ``call()``, retrying per ``policy`` while it raises a retryable error.

    Re-raises the last error when the tries run out, and any other error at once.
    """
    retrying: AsyncRetrying = AsyncRetrying(
        stop=stop_after_attempt(policy.max_tries),
        # Composed rather than wait_exponential_jitter, whose arguments moved between
        # tenacity releases.
        wait=wait_exponential(multiplier=policy.initial_wait_s, max=policy.max_wait_s)
        + wait_random(0, policy.jitter_s),
        retry=retry_if_exception(is_retryable),
        before_sleep=_log_retry,
        reraise=True,
    )
    # The iterator form: it awaits our coroutine itself, whatever the callable looks like.
    async for try_ in retrying:
        with try_:
            return await call()
    raise AssertionError("tenacity stops by raising (reraise=True), never by running out")


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    logger.info(
        "retrying a request that never reached the gateway (try %d): %s",
        state.attempt_number,
        exc,
        extra={
            "gateway": getattr(exc, "gateway", None),
            "operation": getattr(exc, "operation", None),
            "try_number": state.attempt_number,
            "wait_s": state.upcoming_sleep,
        },
    )
