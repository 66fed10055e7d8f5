"""Starting and stopping: ephemeral ports, clean stops that end hangs and deliveries."""

from __future__ import annotations

import time

import aiohttp
import pytest

from mock_gateways.callbacks import DeliveryPolicy
from mock_gateways.errors import StartError
from mock_gateways.server import MockGateways
from tests.integration.mock_gateways.conftest import gateway_under_test
from tests.mock_gateway_fixtures import CallbackReceiver, MockGatewaysFactory


async def test_both_gateways_listen_on_their_own_ephemeral_loopback_port(
    mock_gateways: MockGateways,
) -> None:
    assert mock_gateways.url_a.startswith("http://127.0.0.1:")
    assert mock_gateways.url_b.startswith("http://127.0.0.1:")
    assert mock_gateways.url_a != mock_gateways.url_b


async def test_stop_ends_a_hanging_request_at_once(
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> None:
    mocks = await start_mock_gateways()
    gateway = gateway_under_test("a", mocks, http, callback_receiver)
    await gateway.admin.set_faults(timeout_rate=1.0, timeout_hang_ms=30_000)
    with pytest.raises(TimeoutError):
        await gateway.client.submit("tx-hung", timeout_s=0.2)
    started_s = time.monotonic()

    await mocks.stop()

    assert time.monotonic() - started_s < 2.0
    with pytest.raises(RuntimeError):
        _ = mocks.url_a


async def test_stop_cancels_waiting_settlements_and_callback_retries(
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> None:
    slow_retries = DeliveryPolicy(max_attempts=5, retry_base_ms=10_000, retry_max_ms=10_000)
    mocks = await start_mock_gateways(delivery=slow_retries)
    gateway = gateway_under_test("b", mocks, http, callback_receiver)
    callback_receiver.fail_all(500)
    await gateway.client.submit("tx-retrying")
    await callback_receiver.wait_for(1)  # its first attempt failed; a retry is now waiting
    await gateway.admin.set_faults(callback_delay_ms=30_000)
    await gateway.client.submit("tx-waiting")
    started_s = time.monotonic()

    await mocks.stop()

    assert time.monotonic() - started_s < 2.0
    assert len(callback_receiver.received) == 1


async def test_a_taken_port_is_a_start_error_and_leaves_nothing_running(
    callback_receiver: CallbackReceiver,
) -> None:
    taken_port = int(callback_receiver.url_for("").rsplit(":", 1)[1])
    mocks = MockGateways(secret_a="a", secret_b="b", port_a=0, port_b=taken_port)

    with pytest.raises(StartError, match=f"gateway_b cannot listen on 127.0.0.1:{taken_port}"):
        await mocks.start()

    with pytest.raises(RuntimeError):
        _ = mocks.url_a


async def test_the_pair_works_as_an_async_context_manager(http: aiohttp.ClientSession) -> None:
    async with MockGateways(secret_a="a", secret_b="b", seed=1) as mocks:
        async with http.get(f"{mocks.url_b}/_mock/faults") as response:
            assert response.status == 200
        url = mocks.url_a

    with pytest.raises(aiohttp.ClientConnectionError):
        async with http.get(f"{url}/_mock/faults"):
            pass
