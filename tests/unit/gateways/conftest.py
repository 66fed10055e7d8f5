"""Gateway clients over a respx router: no sockets, every request counted."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Protocol

import httpx
import pytest
import respx

from gateways import GatewayConfig, RetryPolicy, SubmitRequest
from gateways.http_gateway import HttpGateway
from gateways.registry import build_gateway
from tests.unit.gateways.wires import WIRES, Wire

SECRET = "unit-test-gateway-secret"
CALLBACK_URL = "http://127.0.0.1:8080/v1/callbacks/gateway"
# Retries a test can count without waiting on them.
FAST_RETRY = RetryPolicy(max_tries=3, initial_wait_s=0.001, max_wait_s=0.002, jitter_s=0.0)


def submit_request(
    transaction_id: str = "tx-1", amount: str = "10.50", currency: str = "EUR"
) -> SubmitRequest:
    """A valid deposit."""
    return SubmitRequest(transaction_id, Decimal(amount), currency, "deposit", CALLBACK_URL)


class GatewayFactory(Protocol):
    """Builds a client for ``wire`` on the test's respx router."""

    def __call__(
        self,
        wire: Wire,
        *,
        fail_max: int = 5,
        reset_timeout_s: float = 30.0,
        retry: RetryPolicy = FAST_RETRY,
        secret: str = SECRET,
    ) -> HttpGateway: ...


@pytest.fixture
def router() -> respx.MockRouter:
    """Routes for the test to fill; an unrouted request fails the call loudly."""
    return respx.MockRouter(assert_all_called=False, assert_all_mocked=True)


@pytest.fixture
async def http_client(router: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` whose transport is ``router``."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
        yield client


@pytest.fixture
def make_gateway(http_client: httpx.AsyncClient) -> GatewayFactory:
    """A factory of gateway clients sharing the test's client."""

    def make(
        wire: Wire,
        *,
        fail_max: int = 5,
        reset_timeout_s: float = 30.0,
        retry: RetryPolicy = FAST_RETRY,
        secret: str = SECRET,
    ) -> HttpGateway:
        config = GatewayConfig(
            name=wire.name,
            base_url=wire.base_url,
            secret=secret,
            protocol=wire.protocol,
            fail_max=fail_max,
            reset_timeout_s=reset_timeout_s,
            retry=retry,
        )
        gateway = build_gateway(config, http_client)
        assert isinstance(gateway, HttpGateway)
        return gateway

    return make


@pytest.fixture(params=sorted(WIRES))
def wire(request: pytest.FixtureRequest) -> Wire:
    """Each gateway's wire in turn."""
    return WIRES[request.param]
