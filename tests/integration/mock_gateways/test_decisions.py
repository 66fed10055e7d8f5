"""The pure parts: dice, plans, callback sequences, backoff, signatures, fault updates."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from mock_gateways.callbacks import DeliveryPolicy, callback_events
from mock_gateways.decisions import PaymentPlan, Roll, plan_payment, plan_request
from mock_gateways.errors import InvalidFaults
from mock_gateways.faults import Faults
from mock_gateways.signing import signature_header


def roll(**values: float) -> Roll:
    fields = {"error": 0.5, "timeout": 0.5, "jitter": 0.5, "decline": 0.5, "drop": 0.5}
    return Roll(**{**fields, "duplicate": 0.5, **values})


def test_every_roll_takes_the_same_number_of_draws() -> None:
    rng, reference = random.Random(1), random.Random(1)

    Roll.draw(rng)

    for _ in range(6):
        reference.random()
    assert rng.random() == reference.random()


@pytest.mark.parametrize(("jitter", "latency_ms"), [(0.0, 150), (0.5, 250), (0.999999, 350)])
def test_latency_spreads_over_plus_or_minus_the_jitter(jitter: float, latency_ms: int) -> None:
    faults = Faults(latency_ms=250, latency_jitter_ms=100)

    assert plan_request(faults, roll(jitter=jitter)).latency_ms == latency_ms


def test_latency_never_goes_below_zero() -> None:
    faults = Faults(latency_ms=10, latency_jitter_ms=100)

    assert plan_request(faults, roll(jitter=0.0)).latency_ms == 0


def test_a_rate_applies_when_the_draw_falls_below_it() -> None:
    faults = Faults(error_rate=0.3, timeout_rate=0.3, decline_rate=0.3)

    below, above = roll(error=0.29, timeout=0.29, decline=0.29), roll(error=0.3, timeout=0.3)

    assert (plan_request(faults, below).fail, plan_request(faults, below).hang) == (True, True)
    assert (plan_request(faults, above).fail, plan_request(faults, above).hang) == (False, False)
    assert plan_payment(faults, below).declined
    assert not plan_payment(Faults(), roll(decline=0.0)).declined


@pytest.mark.parametrize(
    ("drop", "duplicate", "reorder", "statuses"),
    [
        (False, False, False, ["success"]),
        (True, True, True, []),
        (False, True, False, ["success", "success"]),
        (False, False, True, ["success", "pending"]),
        (False, True, True, ["success", "success", "pending"]),
    ],
)
def test_callback_sequences_follow_the_plan(
    drop: bool, duplicate: bool, reorder: bool, statuses: list[str]
) -> None:
    plan = PaymentPlan(0, False, drop, duplicate, reorder)
    ids = iter(["evt_1", "evt_2"])

    events = callback_events("tx-1", "success", None, plan, lambda: next(ids))

    assert [event.status for event in events] == statuses
    if duplicate and not drop:
        assert events[0] == events[1]  # the same event, id included
    if reorder and not drop:
        assert events[-1].event_id == "evt_2"


def test_retry_delays_double_up_to_the_cap() -> None:
    policy = DeliveryPolicy(retry_base_ms=500, retry_max_ms=3_000)

    assert [policy.retry_delay_ms(n) for n in range(1, 6)] == [500, 1000, 2000, 3000, 3000]


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"eventId": "evt_1"}'
    digest = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()

    assert signature_header("s3cret", body, 1_700_000_000) == f"t=1700000000,v1={digest}"


def test_a_fault_update_applies_all_or_nothing() -> None:
    faults = Faults(error_rate=0.1)

    with pytest.raises(InvalidFaults, match=r"latency_ms: .*; nope: unknown fault"):
        faults.updated({"error_rate": 0.5, "latency_ms": -1, "nope": 1})

    assert faults.updated({"outage": 503}).outage == "503"
    assert faults == Faults(error_rate=0.1)
