"""Fixtures for the mock gateway tests: an HTTP client and each gateway behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from mock_gateways.server import MockGateways
from tests.integration.mock_gateways.helpers import (
    AdminClient,
    GatewayAClient,
    GatewayBClient,
    GatewayClient,
)
from tests.mock_gateway_fixtures import GATEWAY_A_SECRET, GATEWAY_B_SECRET, CallbackReceiver


@dataclass(frozen=True)
class GatewayUnderTest:
    """One running gateway: its protocol client and its admin routes."""

    client: GatewayClient
    admin: AdminClient
    base_url: str


def gateway_under_test(
    which: str, mocks: MockGateways, http: aiohttp.ClientSession, receiver: CallbackReceiver
) -> GatewayUnderTest:
    """Clients for gateway ``which`` ("a" or "b") of ``mocks``, calling back to ``receiver``."""
    callback_url = receiver.url_for(f"/callbacks/gateway_{which}")
    client: GatewayClient
    if which == "a":
        client = GatewayAClient(http, mocks.url_a, GATEWAY_A_SECRET, callback_url)
        base_url = mocks.url_a
    else:
        client = GatewayBClient(http, mocks.url_b, GATEWAY_B_SECRET, callback_url)
        base_url = mocks.url_b
    return GatewayUnderTest(client, AdminClient(http, base_url), base_url)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client session for the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture(params=["a", "b"])
def gateway(
    request: pytest.FixtureRequest,
    mock_gateways: MockGateways,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> GatewayUnderTest:
    """Each gateway in turn, calling back to ``callback_receiver``."""
    which: str = request.param
    return gateway_under_test(which, mock_gateways, http, callback_receiver)


@pytest.fixture
def gateway_a(
    mock_gateways: MockGateways, http: aiohttp.ClientSession, callback_receiver: CallbackReceiver
) -> GatewayUnderTest:
    """Gateway A, calling back to ``callback_receiver``."""
    return gateway_under_test("a", mock_gateways, http, callback_receiver)


@pytest.fixture
def gateway_b(
    mock_gateways: MockGateways, http: aiohttp.ClientSession, callback_receiver: CallbackReceiver
) -> GatewayUnderTest:
    """Gateway B, calling back to ``callback_receiver``."""
    return gateway_under_test("b", mock_gateways, http, callback_receiver)
