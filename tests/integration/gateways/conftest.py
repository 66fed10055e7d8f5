"""The gateway clients, built as production builds them, against the real mock gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import httpx
import pytest

from gateways import GatewayConfig, RetryPolicy, build_gateways, make_http_client
from gateways.http_gateway import HttpGateway
from mock_gateways.faults import Faults
from mock_gateways.gateway import MockGateway
from mock_gateways.server import MockGateways
from tests.mock_gateway_fixtures import (
    GATEWAY_A_SECRET,
    GATEWAY_B_SECRET,
    QUICK_FAULTS,
    CallbackReceiver,
    MockGatewaysFactory,
)

# Short enough for a test to wait out, long enough for a loaded shared machine.
CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 2.0
QUICK_RETRY = RetryPolicy(max_tries=3, initial_wait_s=0.01, max_wait_s=0.05, jitter_s=0.01)


@dataclass(frozen=True)
class Side:
    """One gateway under test: our client, the mock behind it, and where it calls back."""

    client: HttpGateway
    mock: MockGateway
    callback_url: str


@dataclass(frozen=True)
class Setup:
    """Both clients on one shared production-style HTTP client, and the mocks they talk to."""

    mocks: MockGateways
    sides: dict[str, Side]


class SetupFactory(Protocol):
    """Starts mocks with ``faults`` on the gateway under test and builds clients for them."""

    async def __call__(
        self,
        *,
        faults: Faults = QUICK_FAULTS,
        read_timeout_s: float = READ_TIMEOUT_S,
        fail_max: int = 5,
        secret_a: str = GATEWAY_A_SECRET,
        secret_b: str = GATEWAY_B_SECRET,
    ) -> Setup: ...


@pytest.fixture
async def start_setup(
    start_mock_gateways: MockGatewaysFactory, callback_receiver: CallbackReceiver
) -> AsyncIterator[SetupFactory]:
    """A factory of running mocks plus clients; every HTTP client is closed afterwards."""
    clients: list[httpx.AsyncClient] = []

    async def start(
        *,
        faults: Faults = QUICK_FAULTS,
        read_timeout_s: float = READ_TIMEOUT_S,
        fail_max: int = 5,
        secret_a: str = GATEWAY_A_SECRET,
        secret_b: str = GATEWAY_B_SECRET,
    ) -> Setup:
        mocks = await start_mock_gateways(faults_a=faults, faults_b=faults)
        client = make_http_client(
            connect_timeout_s=CONNECT_TIMEOUT_S, read_timeout_s=read_timeout_s
        )
        clients.append(client)
        configs = {
            "gateway_a": GatewayConfig(
                name="gateway_a",
                base_url=mocks.url_a,
                secret=secret_a,
                protocol="json",
                fail_max=fail_max,
                retry=QUICK_RETRY,
            ),
            "gateway_b": GatewayConfig(
                name="gateway_b",
                base_url=mocks.url_b,
                secret=secret_b,
                protocol="xml",
                fail_max=fail_max,
                retry=QUICK_RETRY,
            ),
        }
        gateways = build_gateways(configs, client)
        sides = {}
        for name, mock in (("gateway_a", mocks.gateway_a), ("gateway_b", mocks.gateway_b)):
            gateway = gateways[name]
            assert isinstance(gateway, HttpGateway)
            sides[name] = Side(gateway, mock, callback_receiver.url_for(f"/callbacks/{name}"))
        return Setup(mocks, sides)

    yield start
    for client in clients:
        await client.aclose()


@pytest.fixture(params=["gateway_a", "gateway_b"])
def which(request: pytest.FixtureRequest) -> str:
    """Each gateway in turn."""
    name: str = request.param
    return name


@pytest.fixture
async def side(start_setup: SetupFactory, which: str) -> Side:
    """Each gateway in turn, healthy, with quick callbacks."""
    return (await start_setup()).sides[which]
