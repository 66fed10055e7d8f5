"""The HTTP edge: the production client, and one request/answer exchange.

Production builds one ``httpx.AsyncClient`` on the ``httpx-aiohttp``
transport (about five times the throughput of httpx's own here) with
``make_http_client`` and hands it to every gateway; tests hand in a client
whose transport is a respx router. Whoever builds the client closes it.

``exchange`` is the only place that talks to httpx: every httpx (and stray
aiohttp) exception is translated into a ``GatewayError`` here, chained with
``from exc``.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from gateways.classify import transport_error
from gateways.errors import GatewayProtocolError, Operation

DEFAULT_MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "paycon-gateways/1"


@dataclass(frozen=True)
class HttpReply:
    """A complete answer: status, headers and the (size-capped) body."""

    status_code: int
    headers: httpx.Headers
    body: bytes


def make_http_client(
    *,
    connect_timeout_s: float = 2.0,
    read_timeout_s: float = 10.0,
    pool_timeout_s: float = 5.0,
    max_connections: int = 100,
    max_keepalive_connections: int = 20,
    keepalive_expiry_s: float = 30.0,
) -> httpx.AsyncClient:
    """A client for all gateways on the ``httpx-aiohttp`` transport; close it when done.

    ``connect_timeout_s`` bounds opening a connection; ``read_timeout_s`` bounds
    each wait for answer bytes (past it, a submit is ambiguous); ``pool_timeout_s``
    bounds waiting for a free connection *and* connecting (aiohttp's "connect").
    aiohttp has no write timeout, so none is offered. The environment (proxies,
    certificates) is not read. Raises ``ValueError`` for non-positive timeouts.
    """
    for name, value in {
        "connect_timeout_s": connect_timeout_s,
        "read_timeout_s": read_timeout_s,
        "pool_timeout_s": pool_timeout_s,
    }.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive")
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        keepalive_expiry=keepalive_expiry_s,
    )
    return httpx.AsyncClient(
        transport=AiohttpTransport(limits=limits, trust_env=False),
        timeout=httpx.Timeout(
            connect=connect_timeout_s, read=read_timeout_s, write=None, pool=pool_timeout_s
        ),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        trust_env=False,
    )


async def exchange(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    gateway: str,
    operation: Operation,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> HttpReply:
    """Send ``request`` and read the whole answer, whatever its status.

    Raises ``GatewayNotReached`` (never sent), ``GatewayAmbiguous`` (sent, no
    answer; ``GatewayTransient`` for a status read) or ``GatewayProtocolError``
    (an answer body over ``max_body_bytes`` or undecodable). The response is
    always closed.
    """
    try:
        response = await client.send(request, stream=True)
        try:
            body = await _read_capped(response, max_body_bytes, gateway, operation)
        finally:
            await response.aclose()
    except httpx.TransportError as exc:
        raise transport_error(exc, gateway=gateway, operation=operation) from exc
    except aiohttp.ClientError as exc:
        # httpx-aiohttp lets some aiohttp errors through untranslated (a garbled status line).
        raise transport_error(exc, gateway=gateway, operation=operation) from exc
    except httpx.DecodingError as exc:
        raise GatewayProtocolError(
            f"{gateway} {operation}: answer body cannot be decoded: {exc}",
            gateway=gateway,
            operation=operation,
        ) from exc
    return HttpReply(response.status_code, response.headers, body)


async def _read_capped(
    response: httpx.Response, max_body_bytes: int, gateway: str, operation: Operation
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_body_bytes:
            raise GatewayProtocolError(
                f"{gateway} {operation}: answer body over {max_body_bytes} bytes",
                gateway=gateway,
                operation=operation,
            )
        chunks.append(chunk)
    return b"".join(chunks)
