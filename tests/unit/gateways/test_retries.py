"""Retries within one attempt: only what never reached the gateway, and only a few times."""

from __future__ import annotations

import time

import httpx
import pytest
import respx

from gateways import (
    GatewayAmbiguous,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayNotReached,
    GatewayProtocolError,
    GatewayRequestRefused,
    GatewayServerError,
    RetryPolicy,
)
from tests.unit.gateways.conftest import FAST_RETRY, GatewayFactory, submit_request
from tests.unit.gateways.wires import Wire


async def test_a_connect_failure_is_retried_a_bounded_number_of_times(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(GatewayNotReached):
        await make_gateway(wire).submit(submit_request())

    assert route.call_count == FAST_RETRY.max_tries


async def test_a_connect_failure_that_clears_up_is_answered_within_the_attempt(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("slow"),
            wire.answer("pending", "tx-1"),
        ]
    )

    answer = await make_gateway(wire).submit(submit_request("tx-1"))

    assert answer.status == "pending"
    assert route.call_count == 3


async def test_a_503_is_not_retried_within_the_attempt_it_may_have_been_recorded(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(
        side_effect=[wire.error(503, "service_unavailable", "down"), wire.answer("pending", "tx-1")]
    )

    with pytest.raises(GatewayServerError):
        await make_gateway(wire).submit(submit_request("tx-1"))

    assert route.call_count == 1


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadTimeout("slow"), GatewayAmbiguous),
        (httpx.RemoteProtocolError("dropped"), GatewayAmbiguous),
        ("500", GatewayServerError),
        ("400", GatewayRequestRefused),
        ("401", GatewayCredentialsRefused),
        ("422", GatewayDeclined),
        ("garbled", GatewayProtocolError),
    ],
)
async def test_anything_that_may_have_reached_the_gateway_is_tried_once(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    failure: Exception | str,
    expected: type[Exception],
) -> None:
    route = wire.submit_route(router)
    if failure == "500":
        route.mock(return_value=wire.error(500, "internal_error", "boom"))
    elif failure == "400":
        route.mock(return_value=wire.error(400, "invalid_amount", "no"))
    elif failure == "401":
        route.mock(return_value=wire.error(401, "unauthorized", "no"))
    elif failure == "422":
        route.mock(return_value=wire.error(422, "currency_not_supported", "no"))
    elif failure == "garbled":
        route.mock(return_value=wire.garbled_answer())
    else:
        assert isinstance(failure, Exception)
        route.mock(side_effect=failure)

    with pytest.raises(expected):
        await make_gateway(wire).submit(submit_request())

    assert route.call_count == 1


async def test_status_reads_are_retried_the_same_way(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.status_route(router, "tx-1").mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(GatewayNotReached):
        await make_gateway(wire).status("tx-1")

    assert route.call_count == FAST_RETRY.max_tries


async def test_one_try_means_no_retry(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    route = wire.submit_route(router).mock(side_effect=httpx.ConnectError("refused"))

    with pytest.raises(GatewayNotReached):
        await make_gateway(wire, retry=RetryPolicy(max_tries=1)).submit(submit_request())

    assert route.call_count == 1


async def test_waits_between_tries_stay_within_the_policy(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    policy = RetryPolicy(max_tries=4, initial_wait_s=0.01, max_wait_s=0.02, jitter_s=0.01)
    wire.submit_route(router).mock(side_effect=httpx.ConnectError("refused"))
    started_s = time.monotonic()

    with pytest.raises(GatewayNotReached):
        await make_gateway(wire, retry=policy).submit(submit_request())

    elapsed_s = time.monotonic() - started_s
    # Three waits: 0.01, 0.02, 0.02 (capped), each plus at most 0.01 of jitter.
    assert 0.05 <= elapsed_s < 0.08 + 0.5  # generous ceiling for a shared machine


@pytest.mark.parametrize(
    "changes",
    [{"max_tries": 0}, {"initial_wait_s": -1.0}, {"max_wait_s": -1.0}, {"jitter_s": -0.1}],
)
def test_a_policy_that_cannot_work_is_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**changes)  # type: ignore[arg-type]
