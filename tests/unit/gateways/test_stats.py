"""Recent outcomes per gateway: what the operator API will show."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
import respx

from gateways import (
    GatewayBreakerOpen,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayNotReached,
    GatewayRequestRefused,
    GatewayServerError,
    GatewayTransient,
)
from gateways.stats import OutcomeWindow, percentile
from tests.unit.gateways.conftest import GatewayFactory, submit_request
from tests.unit.gateways.wires import Wire


def test_an_empty_window_has_no_rate_and_no_latency() -> None:
    stats = OutcomeWindow(10).snapshot()

    assert (stats.calls, stats.success_rate, stats.latency_p50_ms, stats.latency_p99_ms) == (
        0,
        None,
        None,
        None,
    )


def test_the_window_keeps_only_the_last_n_calls() -> None:
    window = OutcomeWindow(4)
    for _ in range(10):
        window.record("transient", 500.0)
    for latency_ms in (1.0, 2.0, 3.0, 4.0):
        window.record("answered", latency_ms)

    stats = window.snapshot()

    assert (stats.window_size, stats.calls, stats.success_rate) == (4, 4, 1.0)
    assert stats.outcomes == {"answered": 4}
    assert (stats.latency_p50_ms, stats.latency_p99_ms) == (2.0, 4.0)


def test_declines_count_as_success_the_gateway_answered() -> None:
    window = OutcomeWindow(10)
    for outcome in ("answered", "declined", "not_reached", "ambiguous"):
        window.record(outcome, 1.0)

    assert window.snapshot().success_rate == 0.5


@pytest.mark.parametrize(
    ("values", "rank", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([float(n) for n in range(1, 101)], 50, 50.0),
        ([float(n) for n in range(1, 101)], 99, 99.0),
        ([float(n) for n in range(1, 101)], 100, 100.0),
        ([1.0, 2.0, 3.0], 50, 2.0),
    ],
)
def test_percentiles_are_nearest_rank(values: list[float], rank: float, expected: float) -> None:
    assert percentile(values, rank) == expected


def test_a_window_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        OutcomeWindow(0)


async def test_a_gateway_records_each_call_once_with_its_outcome(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router)
    route.mock(
        side_effect=[
            wire.answer("pending", "tx-1"),
            wire.error(422, "currency_not_supported", "no"),
            wire.error(429, "slow_down", "x"),
            wire.error(500, "internal_error", "x"),
            wire.error(400, "invalid_amount", "no"),
            wire.error(401, "unauthorized", "no"),
            httpx.ConnectError("refused"),
            httpx.ConnectError("refused"),
            httpx.ConnectError("refused"),
        ]
    )
    gateway = make_gateway(wire, fail_max=10)

    await gateway.submit(submit_request("tx-1"))
    for expected in (
        GatewayDeclined,
        GatewayTransient,
        GatewayServerError,
        GatewayRequestRefused,
        GatewayCredentialsRefused,
        GatewayNotReached,
    ):
        with pytest.raises(expected):
            await gateway.submit(submit_request("tx-1"))

    stats = gateway.recent_stats()
    assert stats.calls == 7  # three tries of the last call are one call
    assert stats.outcomes == {
        "answered": 1,
        "declined": 1,
        "transient": 1,
        "server_error": 1,
        "request_refused": 1,
        "credentials_refused": 1,
        "not_reached": 1,
    }
    assert stats.success_rate == 2 / 7
    assert stats.latency_p50_ms is not None
    assert stats.latency_p99_ms is not None
    assert 0 <= stats.latency_p50_ms <= stats.latency_p99_ms


async def test_calls_refused_by_the_breaker_are_not_calls(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=1)

    with pytest.raises(GatewayServerError):
        await gateway.submit(submit_request())
    for _ in range(2):
        with pytest.raises(GatewayBreakerOpen):
            await gateway.submit(submit_request())

    assert gateway.recent_stats().calls == 1


async def test_a_gateway_keeps_its_last_errors_newest_first(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(
        side_effect=[
            wire.error(500, "internal_error", "disk full"),
            wire.error(422, "declined", "no"),
            wire.error(400, "invalid_amount", "cannot parse"),
            wire.answer("pending", "tx-2"),
            *[httpx.ConnectError("refused")] * 3,
        ]
    )
    gateway = make_gateway(wire)
    assert gateway.recent_errors() == ()

    with pytest.raises(GatewayServerError):
        await gateway.submit(submit_request("tx-1"))
    with pytest.raises(GatewayDeclined):
        await gateway.submit(submit_request("tx-1"))
    with pytest.raises(GatewayRequestRefused):
        await gateway.submit(submit_request("tx-1"))
    await gateway.submit(submit_request("tx-2"))
    with pytest.raises(GatewayNotReached):
        await gateway.submit(submit_request("tx-3"))

    errors = gateway.recent_errors()
    assert len(errors) == 3  # a decline is an answer, not an error
    assert errors[0].startswith("GatewayNotReached: ")
    assert errors[1].startswith("GatewayRequestRefused: ")
    assert "cannot parse" in errors[1]
    assert errors[2].startswith("GatewayServerError: ")
    assert "500" in errors[2]


async def test_a_gateway_keeps_only_its_last_five_errors(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=100)
    for n in range(7):
        with pytest.raises(GatewayServerError):
            await gateway.submit(submit_request(f"tx-{n}"))
    errors = gateway.recent_errors()
    assert len(errors) == 5
    assert "tx-6" in errors[0]


def credentials_log(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """Each credentials change logged so far: (level, what)."""
    return [
        (record.levelname, record.credentials)
        for record in caplog.records
        if hasattr(record, "credentials")
    ]


@pytest.mark.parametrize("status_code", [401, 403])
async def test_refused_credentials_are_remembered_until_a_2xx_and_logged_once_per_change(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    caplog: pytest.LogCaptureFixture,
    status_code: int,
) -> None:
    caplog.set_level(logging.INFO, logger="gateways")
    refused = wire.error(status_code, "unauthorized", "bad key")
    wire.submit_route(router).mock(side_effect=[refused, refused, refused])
    status = wire.status_route(router, "tx-1")
    gateway = make_gateway(wire, fail_max=10)
    assert gateway.recent_stats().credentials_refused_since is None

    before = datetime.now(UTC)
    for _ in range(3):
        with pytest.raises(GatewayCredentialsRefused):
            await gateway.submit(submit_request("tx-1"))
    since = gateway.recent_stats().credentials_refused_since

    assert since is not None
    assert before <= since <= datetime.now(UTC)  # from the first refusal, aware UTC
    assert credentials_log(caplog) == [("WARNING", "refused")]

    status.mock(return_value=wire.error(404, "unknown_transaction", "no such payment"))
    assert await gateway.status("tx-1") is None
    assert gateway.recent_stats().credentials_refused_since == since  # a 404 is not a 2xx

    status.mock(return_value=wire.answer("pending", "tx-1", operation="status"))
    await gateway.status("tx-1")
    await gateway.status("tx-1")

    assert gateway.recent_stats().credentials_refused_since is None
    assert credentials_log(caplog) == [("WARNING", "refused"), ("INFO", "accepted")]


async def test_a_status_read_refused_for_credentials_counts_too(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.status_route(router, "tx-1").mock(return_value=wire.error(403, "forbidden", "no"))
    gateway = make_gateway(wire)

    with pytest.raises(GatewayCredentialsRefused):
        await gateway.status("tx-1")

    assert gateway.recent_stats().credentials_refused_since is not None


async def test_other_failures_leave_the_credentials_state_alone(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(
        side_effect=[
            wire.error(401, "unauthorized", "no"),
            wire.error(500, "internal_error", "x"),
            wire.error(422, "declined", "no"),
        ]
    )
    gateway = make_gateway(wire, fail_max=10)
    with pytest.raises(GatewayCredentialsRefused):
        await gateway.submit(submit_request("tx-1"))
    since = gateway.recent_stats().credentials_refused_since

    with pytest.raises(GatewayServerError):
        await gateway.submit(submit_request("tx-1"))
    with pytest.raises(GatewayDeclined):
        await gateway.submit(submit_request("tx-1"))

    assert since is not None
    assert gateway.recent_stats().credentials_refused_since == since
