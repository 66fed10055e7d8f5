"""The circuit breaker per gateway: opens, refuses with retry_at, half-opens, closes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from gateways import (
    GatewayAmbiguous,
    GatewayBreakerOpen,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayRequestRefused,
    GatewayServerError,
    RetryPolicy,
)
from gateways.breaker import GatewayBreaker
from gateways.http_gateway import HttpGateway
from tests.unit.gateways.conftest import GatewayFactory, submit_request
from tests.unit.gateways.wires import Wire

RESET_S = 0.1


async def fail_times(gateway: HttpGateway, count: int) -> None:
    """Make ``count`` calls that the breaker counts as failures (the route answers 500)."""
    for _ in range(count):
        with pytest.raises(GatewayServerError):
            await gateway.submit(submit_request())


async def test_the_breaker_opens_after_fail_max_failures(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=3, reset_timeout_s=30)

    await fail_times(gateway, 2)
    assert gateway.breaker_state().state == "closed"
    assert gateway.breaker_state().failures == 2
    await fail_times(gateway, 1)  # the call that trips it still says what happened to it

    state = gateway.breaker_state()
    assert (state.state, state.failures, state.fail_max) == ("open", 3, 3)
    assert state.opened_at is not None
    assert state.may_half_open_at == state.opened_at + timedelta(seconds=30)
    assert route.call_count == 3


async def test_an_open_breaker_refuses_without_a_request_and_says_when_to_come_back(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=2, reset_timeout_s=30)
    await fail_times(gateway, 2)

    with pytest.raises(GatewayBreakerOpen) as caught:
        await gateway.submit(submit_request())

    refused = caught.value
    assert isinstance(refused, GatewayNotReached)  # failing over is safe
    assert refused.breaker_open
    assert refused.retry_at == gateway.breaker_state().may_half_open_at
    assert datetime.now(UTC) < refused.retry_at <= datetime.now(UTC) + timedelta(seconds=30)
    assert route.call_count == 2


async def test_status_calls_are_refused_too(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    status = wire.status_route(router, "tx-1")
    gateway = make_gateway(wire, fail_max=1)
    await fail_times(gateway, 1)

    with pytest.raises(GatewayBreakerOpen) as caught:
        await gateway.status("tx-1")

    assert caught.value.operation == "status"
    assert status.call_count == 0


async def test_after_the_reset_timeout_a_successful_trial_closes_it(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=2, reset_timeout_s=RESET_S)
    await fail_times(gateway, 2)
    route.mock(return_value=wire.answer("pending", "tx-1"))

    await asyncio.sleep(RESET_S * 1.5)
    answer = await gateway.submit(submit_request("tx-1"))

    assert answer.status == "pending"
    state = gateway.breaker_state()
    assert (state.state, state.failures, state.opened_at) == ("closed", 0, None)


async def test_a_failed_trial_opens_it_again_for_another_reset_timeout(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=2, reset_timeout_s=RESET_S)
    await fail_times(gateway, 2)
    first_opened_at = gateway.breaker_state().opened_at
    assert first_opened_at is not None

    await asyncio.sleep(RESET_S * 1.5)
    await fail_times(gateway, 1)  # the trial

    state = gateway.breaker_state()
    assert state.state == "open"
    assert state.opened_at is not None
    assert state.opened_at > first_opened_at
    assert state.may_half_open_at == state.opened_at + timedelta(seconds=RESET_S)
    assert route.call_count == 3


async def test_it_says_since_when_it_is_open_and_how_many_trials_failed(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=2, reset_timeout_s=RESET_S)
    assert (gateway.breaker_state().open_since, gateway.breaker_state().failed_trials) == (None, 0)
    await fail_times(gateway, 2)
    first = gateway.breaker_state()
    assert (first.open_since, first.failed_trials) == (first.opened_at, 0)

    for trials in (1, 2):
        await asyncio.sleep(RESET_S * 1.5)
        await fail_times(gateway, 1)
        state = gateway.breaker_state()
        assert (state.state, state.open_since, state.failed_trials) == (
            "open",
            first.open_since,
            trials,
        )

    route.mock(return_value=wire.answer("pending", "tx-1"))
    await asyncio.sleep(RESET_S * 1.5)
    await gateway.submit(submit_request("tx-1"))
    closed = gateway.breaker_state()
    assert (closed.state, closed.open_since, closed.failed_trials) == ("closed", None, 0)


async def test_while_the_trial_is_in_flight_other_calls_are_refused(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=1, reset_timeout_s=RESET_S)
    await fail_times(gateway, 1)
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow_answer(request: httpx.Request) -> httpx.Response:
        arrived.set()
        await release.wait()
        return wire.answer("pending", "tx-1")

    route.mock(side_effect=slow_answer)
    await asyncio.sleep(RESET_S * 1.5)
    async with asyncio.TaskGroup() as tasks:
        trial = tasks.create_task(gateway.submit(submit_request("tx-1")), name="trial")
        async with asyncio.timeout(5):
            await arrived.wait()
        assert gateway.breaker_state().state == "half_open"
        with pytest.raises(GatewayBreakerOpen) as caught:
            await gateway.submit(submit_request("tx-1"))
        release.set()

    assert trial.result().status == "pending"
    assert caught.value.retry_at <= datetime.now(UTC) + timedelta(seconds=RESET_S)
    assert gateway.breaker_state().state == "closed"
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("status_code", "code", "expected"),
    [
        (422, "declined", GatewayDeclined),
        (422, "currency_not_supported", GatewayDeclined),
        (400, "invalid_amount", GatewayRequestRefused),
        (409, "conflicting_repeat", GatewayRequestRefused),
    ],
)
async def test_declines_and_refused_requests_do_not_trip_it(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    status_code: int,
    code: str,
    expected: type[GatewayError],
) -> None:
    wire.submit_route(router).mock(return_value=wire.error(status_code, code, "no"))
    gateway = make_gateway(wire, fail_max=2)

    for _ in range(5):
        with pytest.raises(expected):
            await gateway.submit(submit_request())

    assert (gateway.breaker_state().state, gateway.breaker_state().failures) == ("closed", 0)


async def test_a_decline_as_the_trial_closes_it_the_gateway_is_answering(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=1, reset_timeout_s=RESET_S)
    await fail_times(gateway, 1)
    route.mock(return_value=wire.error(422, "amount_limit_exceeded", "no"))
    await asyncio.sleep(RESET_S * 1.5)

    with pytest.raises(GatewayDeclined):
        await gateway.submit(submit_request())

    assert gateway.breaker_state().state == "closed"


@pytest.mark.parametrize("status_code", [401, 403])
async def test_refused_credentials_open_it_the_gateway_is_unusable_to_us(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory, status_code: int
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(status_code, "nope", "no"))
    gateway = make_gateway(wire, fail_max=2, reset_timeout_s=30)

    for _ in range(2):
        with pytest.raises(GatewayCredentialsRefused):
            await gateway.submit(submit_request())
    with pytest.raises(GatewayBreakerOpen):
        await gateway.submit(submit_request())

    assert gateway.breaker_state().state == "open"
    assert route.call_count == 2  # no more refused credentials presented while it is open


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ConnectError("refused"), GatewayNotReached),
        (httpx.ReadTimeout("slow"), GatewayAmbiguous),
        (httpx.Response(503), GatewayServerError),
    ],
)
async def test_not_reached_and_ambiguous_outcomes_count_as_failures(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    failure: Exception | httpx.Response,
    expected: type[Exception],
) -> None:
    route = wire.submit_route(router)
    if isinstance(failure, httpx.Response):
        route.mock(return_value=failure)
    else:
        route.mock(side_effect=failure)
    gateway = make_gateway(wire, fail_max=2)

    for _ in range(2):
        with pytest.raises(expected):
            await gateway.submit(submit_request())

    assert gateway.breaker_state().state == "open"


async def test_one_call_counts_once_however_many_tries_it_made(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(side_effect=httpx.ConnectError("refused"))
    gateway = make_gateway(wire, fail_max=3, retry=RetryPolicy(max_tries=3, initial_wait_s=0))

    with pytest.raises(GatewayNotReached):
        await gateway.submit(submit_request())

    assert route.call_count == 3
    assert gateway.breaker_state().failures == 1


async def test_a_success_resets_the_failure_count(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=3)
    await fail_times(gateway, 2)
    route.mock(return_value=wire.answer("pending", "tx-1"))

    await gateway.submit(submit_request("tx-1"))

    assert gateway.breaker_state().failures == 0


async def test_gateways_have_breakers_of_their_own(
    router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    from tests.unit.gateways.wires import WIRES

    a, b = WIRES["gateway_a"], WIRES["gateway_b"]
    a.submit_route(router).mock(return_value=a.error(500, "internal_error", "x"))
    b.submit_route(router).mock(return_value=b.answer("pending", "tx-1"))
    gateway_a, gateway_b = make_gateway(a, fail_max=1), make_gateway(b, fail_max=1)

    await fail_times(gateway_a, 1)

    assert gateway_a.breaker_state().state == "open"
    assert (await gateway_b.submit(submit_request("tx-1"))).status == "pending"


async def test_state_changes_are_logged_with_the_gateway_and_states(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(500, "internal_error", "x"))
    gateway = make_gateway(wire, fail_max=1, reset_timeout_s=RESET_S)
    caplog.set_level(logging.INFO, logger="gateways.breaker")

    await fail_times(gateway, 1)
    route.mock(return_value=wire.answer("pending", "tx-1"))
    await asyncio.sleep(RESET_S * 1.5)
    await gateway.submit(submit_request("tx-1"))

    changes = [
        (record.gateway, record.breaker_from, record.breaker_to, record.levelname)  # type: ignore[attr-defined]
        for record in caplog.records
        if record.name == "gateways.breaker"
    ]
    assert changes == [
        (wire.name, "closed", "open", "WARNING"),
        (wire.name, "open", "half_open", "INFO"),
        (wire.name, "half_open", "closed", "INFO"),
    ]


async def test_a_cancelled_call_counts_as_a_failure_a_slow_gateway_looks_like_that(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    async def never_answers(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    wire.submit_route(router).mock(side_effect=never_answers)
    gateway = make_gateway(wire, fail_max=1)

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.02):
            await gateway.submit(submit_request())

    assert gateway.breaker_state().state == "open"


@pytest.mark.parametrize(("fail_max", "reset_timeout_s"), [(0, 1.0), (1, 0.0)])
def test_a_breaker_that_cannot_work_is_refused(fail_max: int, reset_timeout_s: float) -> None:
    with pytest.raises(ValueError, match="must"):
        GatewayBreaker("g", fail_max=fail_max, reset_timeout_s=reset_timeout_s)
