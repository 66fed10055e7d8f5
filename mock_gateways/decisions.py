"""Pure decisions: given the faults and one roll of the dice, what happens.

Every gateway request draws exactly one ``Roll`` (a fixed number of values in
a fixed order) from its gateway's seeded ``random.Random`` before anything
else happens. So the n-th request a seeded gateway receives always gets the
n-th roll, whatever the faults, and counts over a run are reproducible even
when requests arrive concurrently.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from mock_gateways.faults import Faults


@dataclass(frozen=True)
class Roll:
    """Uniform draws in [0, 1), one per random choice a request may need."""

    error: float
    timeout: float
    jitter: float
    decline: float
    drop: float
    duplicate: float
    skew: float
    wrong_route: float
    late_failure: float
    ghost: float
    unreported: float
    report_missing: float
    report_skew: float

    @classmethod
    def draw(cls, rng: random.Random) -> Roll:
        """Draw all thirteen values, always in the same order."""
        return cls(
            error=rng.random(),
            timeout=rng.random(),
            jitter=rng.random(),
            decline=rng.random(),
            drop=rng.random(),
            duplicate=rng.random(),
            skew=rng.random(),
            wrong_route=rng.random(),
            late_failure=rng.random(),
            ghost=rng.random(),
            unreported=rng.random(),
            report_missing=rng.random(),
            report_skew=rng.random(),
        )


@dataclass(frozen=True)
class RequestPlan:
    """How the mock treats one gateway request."""

    latency_ms: int
    fail: bool  # answer 5xx before anything is recorded
    hang: bool  # record, then keep the answer back for timeout_hang_ms
    ghost_503: bool = False  # a submission: record it, then answer 503


@dataclass(frozen=True)
class PaymentPlan:
    """How a newly recorded payment ends and how its callbacks travel."""

    callback_delay_ms: int
    declined: bool
    drop_callbacks: bool
    duplicate_callback: bool
    stale_pending_callback: bool  # send "pending" after the final status
    skew_amount: bool = False  # callbacks say another amount than the payment's
    wrong_route: bool = False  # callbacks go to the other gateway's route, as that gateway
    late_failure: bool = False  # a success later turns into a failure, with its own callback
    unreported: bool = False  # a success is settled, but callbacks and status never say so
    report_missing: bool = False  # its settlement line is left out of the daily report
    report_skew: bool = False  # its settlement line says one minor unit more


def plan_request(faults: Faults, roll: Roll) -> RequestPlan:
    """Decide latency, injected error and hang for one request."""
    # jitter spreads latency evenly over [latency - jitter, latency + jitter]
    offset_ms = round((2.0 * roll.jitter - 1.0) * faults.latency_jitter_ms)
    return RequestPlan(
        latency_ms=max(0, faults.latency_ms + offset_ms),
        fail=roll.error < faults.error_rate,
        hang=roll.timeout < faults.timeout_rate,
        ghost_503=roll.ghost < faults.ghost_503_rate,
    )


def plan_payment(faults: Faults, roll: Roll) -> PaymentPlan:
    """Decide the outcome and callback faults of a payment recorded now."""
    return PaymentPlan(
        callback_delay_ms=faults.callback_delay_ms,
        declined=roll.decline < faults.decline_rate,
        drop_callbacks=roll.drop < faults.callback_drop_rate,
        duplicate_callback=roll.duplicate < faults.callback_duplicate_rate,
        stale_pending_callback=faults.callback_reorder,
        skew_amount=roll.skew < faults.callback_amount_skew,
        wrong_route=roll.wrong_route < faults.callback_wrong_route,
        late_failure=roll.late_failure < faults.late_failure_rate,
        unreported=roll.unreported < faults.settle_unreported_rate,
        report_missing=roll.report_missing < faults.report_missing_rate,
        report_skew=roll.report_skew < faults.report_amount_skew_rate,
    )
