"""The mock gateways inside paycon's own process (``PAYCON_MOCK_GATEWAYS=embedded``)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from mock_gateways.errors import StartError
from mock_gateways.server import MockGateways
from paycon.config import Settings
from paycon.domain.errors import ConfigError, PortUnavailable


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_is_private(settings: Settings) -> None:
    """Embedded mock gateways complete payments without moving money: refuse them
    beside an API that listens beyond this machine (all addresses, or a public one).

    Raises ConfigError naming the settings to change.
    """
    host = settings.server.host
    if settings.mock_gateways == "embedded" and not _is_loopback(host):
        raise ConfigError(
            f"invalid setting mock_gateways: the embedded mock gateways complete payments "
            f"without moving money, and the API listens on {host or 'every address'!r}, "
            "not loopback; set PAYCON_MOCK_GATEWAYS=off (real gateways), or PAYCON_HOST=127.0.0.1"
        )


def _loopback_address(name: str, url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not _is_loopback(host) or parts.port is None:
        raise ConfigError(
            f"invalid setting gateways.{name}.url: embedded mock gateways listen on a loopback "
            f"address with an explicit port (got {url!r}); point it at http://127.0.0.1:PORT "
            "or set PAYCON_MOCK_GATEWAYS=off"
        )
    return host, parts.port


async def start_embedded_mocks(settings: Settings) -> MockGateways:
    """Start gateways A and B where their configured URLs point, with their secrets.

    Raises ConfigError for a URL that is not loopback with a port, PortUnavailable for a
    port in use.
    """
    gateway_a, gateway_b = settings.gateways.get("gateway_a"), settings.gateways.get("gateway_b")
    if gateway_a is None or gateway_b is None:
        raise ConfigError(
            "invalid setting gateways: embedded mock gateways need gateway_a and gateway_b "
            "configured; add them or set PAYCON_MOCK_GATEWAYS=off"
        )
    host_a, port_a = _loopback_address("gateway_a", gateway_a.url)
    host_b, port_b = _loopback_address("gateway_b", gateway_b.url)
    if host_a != host_b:
        raise ConfigError("invalid setting gateways: embedded mocks need one host for A and B")
    mocks = MockGateways(
        secret_a=gateway_a.secret,
        secret_b=gateway_b.secret,
        host=host_a,
        port_a=port_a,
        port_b=port_b,
    )
    try:
        await mocks.start()
    except StartError as exc:
        raise PortUnavailable(
            f"cannot start the embedded mock gateways: {exc}; stop what uses the port, point "
            "PAYCON_GATEWAY_A_URL / PAYCON_GATEWAY_B_URL elsewhere, or set "
            "PAYCON_MOCK_GATEWAYS=off"
        ) from exc
    return mocks
