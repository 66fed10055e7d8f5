"""Running both mock gateways: one aiohttp server each, started and stopped together.

``MockGateways`` is what paycon embeds, what the CLI serves and what the test
fixtures start::

    async with MockGateways(secret_a="...", secret_b="...") as mocks:
        print(mocks.url_a, mocks.url_b)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web
from yarl import URL

from mock_gateways.app import build_app
from mock_gateways.callbacks import CallbackIdentity, DeliveryPolicy
from mock_gateways.dialect import Dialect
from mock_gateways.errors import StartError
from mock_gateways.faults import Faults
from mock_gateways.gateway import MockGateway
from mock_gateways.gateway_a import GATEWAY_A
from mock_gateways.gateway_b import GATEWAY_B

logger = logging.getLogger(__name__)

# In-flight requests get this long to finish once stopping has ended their hangs.
_SHUTDOWN_TIMEOUT_S = 2.0


class RunningGateway:
    """One gateway and the HTTP server in front of it."""

    def __init__(self, gateway: MockGateway, dialect: Dialect, host: str, port: int) -> None:
        self.gateway = gateway
        self.dialect = dialect
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The base URL it listens on, like ``http://127.0.0.1:8081``."""
        if self._url is None:
            raise RuntimeError(f"{self.gateway.name} is not running")
        return self._url

    async def start(self) -> None:
        """Start the gateway and listen; raises ``StartError`` if the address is unusable."""
        await self.gateway.start()
        runner = web.AppRunner(
            build_app(self.gateway, self.dialect),
            access_log=None,  # the app logs each request itself, with its fault
            shutdown_timeout=_SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        self._runner = runner
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError as exc:
            await self.stop()
            raise StartError(
                f"{self.gateway.name} cannot listen on {self._host}:{self._port}: {exc.strerror}"
            ) from exc
        port = runner.addresses[0][1]
        self._url = str(URL.build(scheme="http", host=self._host, port=port))
        logger.info("%s listening on %s", self.gateway.name, self._url)

    async def stop(self) -> None:
        """End hangs, stop serving, then cancel deliveries and close the session."""
        self.gateway.begin_stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.gateway.stop()
        self._url = None


class MockGateways:
    """Gateways A and B on ``host``; port 0 picks a free port (see ``url_a``/``url_b``).

    The same ``seed`` makes every random choice of both gateways repeat. Each
    knows the other's callback format and secret, for the
    ``callback_wrong_route`` fault. ``clock_s`` (unix seconds) dates what they
    record, settlements' value dates included, and signs their callbacks.
    """

    def __init__(
        self,
        *,
        secret_a: str,
        secret_b: str,
        host: str = "127.0.0.1",
        port_a: int = 0,
        port_b: int = 0,
        seed: int | None = None,
        faults_a: Faults | None = None,
        faults_b: Faults | None = None,
        delivery: DeliveryPolicy | None = None,
        clock_s: Callable[[], float] = time.time,
    ) -> None:
        delivery = delivery or DeliveryPolicy()

        def running(
            dialect: Dialect, secret: str, port: int, faults: Faults | None, peer: CallbackIdentity
        ) -> RunningGateway:
            gateway = MockGateway(
                name=dialect.name,
                secret=secret,
                encode_callback=dialect.encode_callback,
                faults=faults,
                seed=seed,
                delivery=delivery,
                clock_s=clock_s,
                peer=peer,
            )
            return RunningGateway(gateway, dialect, host, port)

        identity_a = CallbackIdentity(GATEWAY_A.name, secret_a, GATEWAY_A.encode_callback)
        identity_b = CallbackIdentity(GATEWAY_B.name, secret_b, GATEWAY_B.encode_callback)
        self.a = running(GATEWAY_A, secret_a, port_a, faults_a, peer=identity_b)
        self.b = running(GATEWAY_B, secret_b, port_b, faults_b, peer=identity_a)

    @property
    def gateway_a(self) -> MockGateway:
        """Gateway A itself, for switching faults or reading the ledger in-process."""
        return self.a.gateway

    @property
    def gateway_b(self) -> MockGateway:
        """Gateway B itself, for switching faults or reading the ledger in-process."""
        return self.b.gateway

    @property
    def url_a(self) -> str:
        """Gateway A's base URL; raises ``RuntimeError`` before ``start``."""
        return self.a.url

    @property
    def url_b(self) -> str:
        """Gateway B's base URL; raises ``RuntimeError`` before ``start``."""
        return self.b.url

    async def start(self) -> None:
        """Start both; if either cannot listen, stop what started and raise ``StartError``."""
        await self.a.start()
        try:
            await self.b.start()
        except BaseException:
            await self.a.stop()
            raise

    async def stop(self) -> None:
        """Stop both: hangs end, servers close, timers and deliveries are cancelled."""
        # End both gateways' hangs first, so neither server waits on the other's.
        self.gateway_a.begin_stop()
        self.gateway_b.begin_stop()
        try:
            await self.a.stop()
        finally:
            await self.b.stop()

    async def __aenter__(self) -> MockGateways:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
