"""The merchants' HTTP client: every connection goes only to an address just checked.

``GuardedNetwork`` is the network layer under httpx (an ``httpcore`` network
backend). For each connection it resolves the host once (or reads the
address the host spells), refuses it when any address is not public, and
connects to a checked address itself, so a name that answers a public
address at acceptance and a private one now (DNS rebinding) never gets a
connection. httpx still sends the URL's host in ``Host`` and as the TLS
server name, so certificates are checked against the merchant's name.

``notify_client`` builds the client: its own connection pool, no redirects,
no proxies from the environment, no kept-alive connections.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Sequence

import httpcore
import httpx

from paycon.domain.addresses import IPAddress, host_address, refusal
from paycon.network.resolver import ResolveFailed, Resolver

USER_AGENT = "paycon-notify/1"


class AddressRefused(httpcore.ConnectError):
    """The host is, or resolves to, an address notifications may not go to.

    httpx raises it as the ``__cause__`` of an ``httpx.ConnectError``.
    """


class NameNotResolved(httpcore.ConnectError):
    """The host did not resolve; nothing was sent."""


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """Connects only to checked addresses, through ``network`` (the real sockets by default).

    With ``allow_private`` every address is allowed, but connections still
    go to the address resolved here.
    """

    def __init__(
        self,
        resolver: Resolver,
        *,
        allow_private: bool,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._resolver = resolver
        self._allow_private = allow_private
        self._network = network or httpcore.AnyIOBackend()

    async def addresses(self, host: str) -> Sequence[IPAddress]:
        """The checked addresses of ``host``. Raises AddressRefused or NameNotResolved."""
        try:
            literal = host_address(host)
        except ValueError as exc:
            raise AddressRefused(str(exc)) from None
        if literal is not None:
            found: Sequence[IPAddress] = [literal]
        else:
            try:
                found = await self._resolver.resolve(host)
            except ResolveFailed as exc:
                raise NameNotResolved(str(exc)) from exc
        if not self._allow_private:
            for address in found:
                why = refusal(address)
                if why is not None:
                    raise AddressRefused(f"{host} resolves to a {why} address ({address})")
        return found

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection to the first checked address of ``host`` that takes one."""
        error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in await self.addresses(host):
            try:
                return await self._network.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # addresses() returns at least one
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("notifications never go to a local socket")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its request and error mapping) on a guarded pool.

    httpx takes no network backend, so the pool it built is replaced by one on
    ``network`` (httpx 0.27 to 0.29 keep it in ``_pool``; a test covers it).
    """

    def __init__(self, network: GuardedNetwork, *, max_connections: int) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=max_connections,
            max_keepalive_connections=0,
            http1=True,
            http2=False,
            network_backend=network,
        )


def notify_client(
    network: GuardedNetwork, *, max_connections: int, deadline_s: float
) -> httpx.AsyncClient:
    """The client notifications are sent with; the caller closes it.

    Redirects are not followed (a 3xx is an answer, not a new target), the
    environment's proxies and certificates are not read, and no connection
    is kept alive between deliveries. Each step (connecting, each write,
    each read) is bounded by ``deadline_s``; the caller bounds each delivery
    as a whole by the same deadline.
    """
    return httpx.AsyncClient(
        transport=_GuardedTransport(network, max_connections=max_connections),
        timeout=httpx.Timeout(deadline_s),
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        follow_redirects=False,
        trust_env=False,
    )
