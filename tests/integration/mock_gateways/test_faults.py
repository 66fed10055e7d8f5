"""Each fault does what it says, measured over seeded runs; admin routes are never faulted."""

from __future__ import annotations

import json
import time
from collections import Counter

import aiohttp
import pytest

from tests.integration.mock_gateways.conftest import GatewayUnderTest
from tests.integration.mock_gateways.helpers import gather_limited

NO_CALLBACKS_SOON = 60_000  # callback_delay_ms that keeps callbacks out of a short test


async def test_error_rate_answers_5xx_before_anything_is_recorded(
    gateway_a: GatewayUnderTest,
) -> None:
    await gateway_a.admin.set_faults(error_rate=0.3, callback_delay_ms=NO_CALLBACKS_SOON)

    answers = await gather_limited(gateway_a.client.submit(f"tx-{n}") for n in range(1000))

    statuses = Counter(answer.http_status for answer in answers)
    # 1,000 requests at 0.3: 300 expected, sd ~14.5; the seed fixes the count inside 3 sd.
    assert 255 <= statuses[500] <= 345, statuses
    assert statuses[200] == 1000 - statuses[500]
    failed = next(answer for answer in answers if answer.http_status == 500)
    assert (failed.content_type, failed.error) == ("application/json", "internal_error")
    payments = await gateway_a.admin.payments()
    assert len(payments) == statuses[200]


async def test_an_injected_error_comes_in_the_gateways_format(
    gateway: GatewayUnderTest,
) -> None:
    await gateway.admin.set_faults(error_rate=1.0)

    submitted = await gateway.client.submit("tx-error")
    status = await gateway.client.status("tx-error")

    assert [(a.http_status, a.error) for a in (submitted, status)] == [
        (500, "internal_error"),
        (500, "internal_error"),
    ]
    assert await gateway.admin.payments() == {}


async def test_a_timeout_records_the_payment_then_hangs_past_the_client_timeout(
    gateway: GatewayUnderTest,
) -> None:
    await gateway.admin.set_faults(timeout_rate=1.0, timeout_hang_ms=3_000)
    started_s = time.monotonic()

    with pytest.raises(TimeoutError):
        await gateway.client.submit("tx-ambiguous", timeout_s=0.3)

    assert time.monotonic() - started_s < 2.0
    assert list(await gateway.admin.payments()) == ["tx-ambiguous"]
    await gateway.admin.set_faults(timeout_rate=0.0)
    repeat = await gateway.client.submit("tx-ambiguous")
    assert repeat.http_status == 200
    entry = (await gateway.admin.wait_settled(1))["tx-ambiguous"]
    assert (entry["submissions"], entry["charges"]) == (2, 1)


async def test_timeout_rate_hangs_that_share_of_requests_and_records_every_one(
    gateway_b: GatewayUnderTest,
) -> None:
    await gateway_b.admin.set_faults(
        timeout_rate=0.5, timeout_hang_ms=1_500, callback_delay_ms=NO_CALLBACKS_SOON
    )

    async def submit(n: int) -> bool:
        try:
            await gateway_b.client.submit(f"tx-{n}", timeout_s=0.75)
        except TimeoutError:
            return True
        return False

    timed_out = await gather_limited((submit(n) for n in range(100)), limit=100)

    # 100 requests at 0.5: 50 expected, sd 5; the seed fixes the count inside 3 sd.
    assert 35 <= sum(timed_out) <= 65
    assert len(await gateway_b.admin.payments()) == 100


@pytest.mark.parametrize("format_", ["a", "b"])
async def test_outage_503_answers_every_gateway_request_with_503(
    gateway_a: GatewayUnderTest, gateway_b: GatewayUnderTest, format_: str
) -> None:
    gateway = gateway_a if format_ == "a" else gateway_b
    await gateway.client.submit("tx-before")
    await gateway.admin.set_faults(outage="503")

    answers = [
        await gateway.client.submit("tx-during"),
        await gateway.client.submit("tx-before"),
        await gateway.client.status("tx-before"),
    ]

    assert [(a.http_status, a.error) for a in answers] == [(503, "service_unavailable")] * 3
    payments = await gateway.admin.payments()
    assert list(payments) == ["tx-before"]
    assert payments["tx-before"]["submissions"] == 1
    await gateway.admin.set_faults(outage=False)
    assert (await gateway.client.submit("tx-after")).http_status == 200


async def test_outage_refuse_drops_connections_and_records_nothing(
    gateway: GatewayUnderTest,
) -> None:
    await gateway.admin.set_faults(outage="refuse")

    for _ in range(3):
        with pytest.raises(aiohttp.ClientConnectionError):
            await gateway.client.submit("tx-refused")

    assert await gateway.admin.payments() == {}
    await gateway.admin.set_faults(outage=False)
    assert (await gateway.client.submit("tx-refused")).http_status == 200


async def test_latency_delays_answers_by_latency_plus_or_minus_jitter(
    gateway_a: GatewayUnderTest,
) -> None:
    await gateway_a.admin.set_faults(latency_ms=250, latency_jitter_ms=100)

    async def timed_submit(n: int) -> float:
        started_s = time.monotonic()
        answer = await gateway_a.client.submit(f"tx-{n}")
        assert answer.http_status == 200
        return time.monotonic() - started_s

    durations_s = await gather_limited(timed_submit(n) for n in range(20))

    assert min(durations_s) >= 0.15
    assert max(durations_s) - min(durations_s) >= 0.03  # jitter spreads them
    assert sorted(durations_s)[10] < 1.0


async def test_decline_rate_fails_that_share_of_payments(gateway_b: GatewayUnderTest) -> None:
    await gateway_b.admin.set_faults(decline_rate=0.25, callback_drop_rate=1.0)

    await gather_limited(gateway_b.client.submit(f"tx-{n}") for n in range(400))
    payments = await gateway_b.admin.wait_settled(400)

    statuses = Counter(entry["status"] for entry in payments.values())
    # 400 payments at 0.25: 100 expected, sd ~8.7; the seed fixes the count inside 3 sd.
    assert 74 <= statuses["failure"] <= 126, statuses
    assert sum(entry["charges"] for entry in payments.values()) == statuses["success"]


async def test_admin_routes_are_never_subject_to_faults(gateway: GatewayUnderTest) -> None:
    await gateway.admin.set_faults(error_rate=1.0, timeout_rate=1.0, latency_ms=5_000)
    await gateway.admin.set_faults(outage="refuse")
    started_s = time.monotonic()

    faults = await gateway.admin.faults()
    await gateway.admin.ledger()
    status, _ = await gateway.admin.reset()

    assert (faults["outage"], status) == ("refuse", 200)
    assert time.monotonic() - started_s < 1.0


async def test_faults_change_at_run_time_and_read_back(
    gateway_a: GatewayUnderTest, gateway_b: GatewayUnderTest
) -> None:
    before_b = await gateway_b.admin.faults()

    first = await gateway_a.admin.set_faults(error_rate=0.25, outage="503")
    second = await gateway_a.admin.set_faults(latency_ms=40, callback_reorder=True)
    read_back = await gateway_a.admin.faults()

    assert (first["error_rate"], first["outage"]) == (0.25, "503")
    assert second == read_back
    assert read_back["error_rate"] == 0.25  # a partial update keeps the rest
    assert (read_back["latency_ms"], read_back["callback_reorder"]) == (40, True)
    assert set(read_back) == {
        "latency_ms",
        "latency_jitter_ms",
        "error_rate",
        "timeout_rate",
        "timeout_hang_ms",
        "outage",
        "decline_rate",
        "callback_delay_ms",
        "callback_drop_rate",
        "callback_duplicate_rate",
        "callback_reorder",
        "callback_amount_skew",
        "callback_wrong_route",
        "late_failure_rate",
        "ghost_503_rate",
        "auth_failure",
        "submit_decline",
        "settlement_fee_bps",
        "settlement_fee_minor",
        "settle_unreported_rate",
        "report_missing_rate",
        "report_amount_skew_rate",
    }
    assert await gateway_b.admin.faults() == before_b  # faults are per gateway


@pytest.mark.parametrize(
    "body",
    [
        {"error_rate": 1.5},
        {"error_rate": -0.1},
        {"error_rate": "0.3"},
        {"error_rate": True},
        {"decline_rate": None},
        {"latency_ms": -1},
        {"latency_ms": 2.5},
        {"latency_ms": "100"},
        {"timeout_hang_ms": 10**12},
        {"outage": "502"},
        {"outage": True},
        {"callback_reorder": 1},
        {"settlement_fee_bps": 10_001},
        {"settlement_fee_bps": 1.5},
        {"settlement_fee_minor": -1},
        {"settlement_fee_minor": "25"},
        {"report_missing_rate": 1.01},
        {"no_such_fault": 1},
        {"latency_ms": 10, "error_rate": 2},
        [],
    ],
    ids=lambda body: json.dumps(body),
)
async def test_bad_fault_values_are_400_and_change_nothing(
    gateway: GatewayUnderTest, body: object
) -> None:
    before = await gateway.admin.faults()

    status, answer = await gateway.admin.put_faults_raw(json.dumps(body).encode())

    assert (status, answer["error"]) == (400, "invalid_faults" if body else "malformed_json")
    assert answer["message"]
    assert await gateway.admin.faults() == before


async def test_malformed_fault_json_is_400(gateway_a: GatewayUnderTest) -> None:
    status, answer = await gateway_a.admin.put_faults_raw(b"{error_rate: 0.3}")

    assert (status, answer["error"]) == (400, "malformed_json")


async def test_reset_clears_the_ledger_and_optionally_the_faults(
    gateway: GatewayUnderTest,
) -> None:
    started_with = await gateway.admin.faults()
    await gateway.client.submit("tx-old")
    await gateway.admin.set_faults(decline_rate=0.5)

    kept_status, kept = await gateway.admin.reset()
    assert (kept_status, kept["faults"]["decline_rate"]) == (200, 0.5)
    assert await gateway.admin.payments() == {}
    assert (await gateway.client.status("tx-old")).http_status == 404

    restored_status, restored = await gateway.admin.reset(b'{"faults": true}')
    assert (restored_status, restored["faults"]) == (200, started_with)

    bad_status, bad = await gateway.admin.reset(b'{"faults": "yes"}')
    assert (bad_status, bad["error"]) == (400, "invalid_reset")
