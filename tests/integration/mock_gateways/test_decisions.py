"""The pure parts: dice, plans, callback sequences, backoff, signatures, fault updates."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import random
from decimal import Decimal

import pytest

from mock_gateways.callbacks import DeliveryPolicy, callback_events, skewed, wrong_route_url
from mock_gateways.decisions import PaymentPlan, Roll, plan_payment, plan_request
from mock_gateways.errors import InvalidFaults
from mock_gateways.faults import Faults, parse_assignment
from mock_gateways.payments import PaymentRequest
from mock_gateways.signing import signature_header

PAYMENT = PaymentRequest("tx-1", Decimal("10.50"), "EUR", "deposit", "http://127.0.0.1:1/cb")


def roll(**values: float) -> Roll:
    fields = {field.name: 0.5 for field in dataclasses.fields(Roll)}
    return Roll(**{**fields, **values})


def test_every_roll_takes_the_same_number_of_draws() -> None:
    rng, reference = random.Random(1), random.Random(1)

    Roll.draw(rng)

    for _ in range(len(dataclasses.fields(Roll))):
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

    events = callback_events(PAYMENT, "success", None, plan, lambda: next(ids))

    assert [event.status for event in events] == statuses
    assert {(event.amount, event.currency) for event in events} <= {(Decimal("10.50"), "EUR")}
    if duplicate and not drop:
        assert events[0] == events[1]  # the same event, id included
    if reorder and not drop:
        assert events[-1].event_id == "evt_2"


def test_the_money_faults_apply_when_the_draw_falls_below_them() -> None:
    faults = Faults(
        callback_amount_skew=0.3,
        callback_wrong_route=0.3,
        late_failure_rate=0.3,
        ghost_503_rate=0.3,
    )
    below = roll(skew=0.29, wrong_route=0.29, late_failure=0.29, ghost=0.29)
    above = roll(skew=0.3, wrong_route=0.3, late_failure=0.3, ghost=0.3)

    plan_below, plan_above = plan_payment(faults, below), plan_payment(faults, above)

    assert (plan_below.skew_amount, plan_below.wrong_route, plan_below.late_failure) == (
        True,
        True,
        True,
    )
    assert (plan_above.skew_amount, plan_above.wrong_route, plan_above.late_failure) == (
        False,
        False,
        False,
    )
    assert plan_request(faults, below).ghost_503
    assert not plan_request(faults, above).ghost_503
    assert not plan_request(Faults(), roll(ghost=0.0)).ghost_503


def test_a_skewed_plan_skews_every_callback_of_the_payment() -> None:
    plan = PaymentPlan(0, False, False, True, True, skew_amount=True)

    events = callback_events(PAYMENT, "success", None, plan)

    assert [event.amount for event in events] == [Decimal("10.51")] * 3
    assert [event.wire_amount for event in events] == ["10.51"] * 3


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("10.50", "10.51"), ("7", "8"), ("0.001", "0.002"), ("99.99", "100.00"), ("100", "101")],
)
def test_a_skew_is_one_unit_in_the_last_written_place(amount: str, expected: str) -> None:
    assert format(skewed(Decimal(amount)), "f") == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://127.0.0.1:8080/v1/callbacks/gateway_a",
            "http://127.0.0.1:8080/v1/callbacks/gateway_b",
        ),
        (
            "http://h/gateway_a/x/gateway_a?k=gateway_a",
            "http://h/gateway_a/x/gateway_b?k=gateway_a",
        ),
        ("http://h/v1/callbacks/gateway_c", None),
        ("http://h/v1/callbacks/gateway_ab", None),
    ],
)
def test_the_wrong_route_swaps_the_gateways_name_in_the_path(
    url: str, expected: str | None
) -> None:
    assert wrong_route_url(url, "gateway_a", "gateway_b") == expected


def test_the_new_faults_are_read_from_the_command_line() -> None:
    assert parse_assignment("callback_amount_skew=0.5") == {"callback_amount_skew": 0.5}
    assert parse_assignment("auth_failure=true") == {"auth_failure": True}
    with pytest.raises(InvalidFaults, match="ghost_503_rate"):
        parse_assignment("ghost_503_rate=2")
    with pytest.raises(InvalidFaults, match="auth_failure"):
        Faults().updated({"auth_failure": 1})


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
