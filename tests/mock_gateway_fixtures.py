"""Pytest plugin: the mock gateways on ephemeral loopback ports, and a callback receiver.

Fixtures:

- ``start_mock_gateways`` — a factory: ``await start_mock_gateways(seed=..., faults_a=...)``
  starts a ``MockGateways`` pair (known secrets, seeded, quick callbacks and
  retries) and stops every pair it started when the test ends.
- ``mock_gateways`` — one running pair with the defaults above.
- ``callback_receiver`` — a loopback HTTP server that records every callback
  it receives and answers failures on demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import pytest
from aiohttp import web

from mock_gateways.callbacks import DeliveryPolicy
from mock_gateways.faults import Faults
from mock_gateways.server import MockGateways

LOOPBACK = "127.0.0.1"
GATEWAY_A_SECRET = "test-gateway-a-secret"
GATEWAY_B_SECRET = "test-gateway-b-secret"
MOCK_SEED = 20240611
# Callbacks soon after a payment, and retries quick enough for a test to watch them run out.
QUICK_FAULTS = Faults(callback_delay_ms=10)
QUICK_DELIVERY = DeliveryPolicy(
    max_attempts=5, retry_base_ms=20, retry_max_ms=100, attempt_timeout_ms=2_000
)


class MockGatewaysFactory(Protocol):
    """Starts a ``MockGateways`` pair that is stopped when the test ends."""

    async def __call__(
        self,
        *,
        seed: int | None = MOCK_SEED,
        faults_a: Faults = QUICK_FAULTS,
        faults_b: Faults = QUICK_FAULTS,
        delivery: DeliveryPolicy = QUICK_DELIVERY,
    ) -> MockGateways: ...


@pytest.fixture
async def start_mock_gateways() -> AsyncIterator[MockGatewaysFactory]:
    """Yield a factory of running mock gateway pairs; stop them all afterwards."""
    started: list[MockGateways] = []

    async def start(
        *,
        seed: int | None = MOCK_SEED,
        faults_a: Faults = QUICK_FAULTS,
        faults_b: Faults = QUICK_FAULTS,
        delivery: DeliveryPolicy = QUICK_DELIVERY,
    ) -> MockGateways:
        mocks = MockGateways(
            secret_a=GATEWAY_A_SECRET,
            secret_b=GATEWAY_B_SECRET,
            host=LOOPBACK,
            port_a=0,
            port_b=0,
            seed=seed,
            faults_a=faults_a,
            faults_b=faults_b,
            delivery=delivery,
        )
        await mocks.start()
        started.append(mocks)
        return mocks

    yield start
    for mocks in reversed(started):
        await mocks.stop()


@pytest.fixture
async def mock_gateways(start_mock_gateways: MockGatewaysFactory) -> MockGateways:
    """Both mock gateways running on loopback with the test secrets and seed."""
    return await start_mock_gateways()


@dataclass(frozen=True)
class ReceivedCallback:
    """One request the receiver got, and the status it answered."""

    path: str
    headers: Mapping[str, str]
    body: bytes
    answered: int

    @property
    def signature(self) -> str:
        """The ``X-Signature`` header ("" when missing)."""
        return self.headers.get("X-Signature", "")


class CallbackReceiver:
    """Records every request to any path; answers 200 unless told to fail."""

    def __init__(self) -> None:
        self.received: list[ReceivedCallback] = []
        self._fail_next: list[int] = []
        self._fail_all: int | None = None
        self._arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url = ""

    def url_for(self, path: str = "/callbacks") -> str:
        """An absolute loopback URL on this receiver."""
        return f"{self._base_url}{path}"

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status``."""
        self._fail_next.extend([status] * count)

    def fail_all(self, status: int | None = 500) -> None:
        """Answer every request with ``status`` from now on (``None``: accept again)."""
        self._fail_all = status

    @property
    def accepted(self) -> list[ReceivedCallback]:
        """The requests answered 2xx."""
        return [callback for callback in self.received if 200 <= callback.answered < 300]

    async def wait_for(self, count: int, timeout_s: float = 5.0) -> list[ReceivedCallback]:
        """Wait until at least ``count`` requests arrived; raises ``TimeoutError`` otherwise."""
        async with asyncio.timeout(timeout_s):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self.received)

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, 0).start()
        self._base_url = f"http://{LOOPBACK}:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self._fail_next.pop(0) if self._fail_next else self._fail_all or 200
        self.received.append(ReceivedCallback(request.path, dict(request.headers), body, status))
        self._arrived.set()
        return web.Response(status=status, text="ok" if status < 300 else "failing on purpose")


@pytest.fixture
async def callback_receiver() -> AsyncIterator[CallbackReceiver]:
    """A running ``CallbackReceiver`` on loopback, stopped after the test."""
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()
