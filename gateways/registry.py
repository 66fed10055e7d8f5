"""From configuration to running clients.

Adding a gateway that speaks a new protocol means one module (a subclass of
``HttpGateway`` with its wire) and one line in ``GATEWAY_TYPES``; another
gateway speaking an existing protocol is only a config entry.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from gateways.base import Gateway
from gateways.config import GatewayConfig
from gateways.errors import GatewayConfigError
from gateways.gateway_a import GatewayA
from gateways.gateway_b import GatewayB
from gateways.http_gateway import HttpGateway

GATEWAY_TYPES: Mapping[str, type[HttpGateway]] = {
    GatewayA.protocol: GatewayA,
    GatewayB.protocol: GatewayB,
}


def build_gateway(config: GatewayConfig, client: httpx.AsyncClient) -> Gateway:
    """The client for one gateway, sharing ``client``.

    Raises ``GatewayConfigError`` for a protocol not in ``GATEWAY_TYPES``.
    """
    gateway_type = GATEWAY_TYPES.get(config.protocol)
    if gateway_type is None:
        raise GatewayConfigError(
            f"gateway {config.name!r}: unknown protocol {config.protocol!r} "
            f"(known: {', '.join(sorted(GATEWAY_TYPES))})"
        )
    return gateway_type(config, client)


def build_gateways(
    configs: Mapping[str, GatewayConfig], client: httpx.AsyncClient
) -> dict[str, Gateway]:
    """Every configured gateway by name, all sharing ``client`` (which the caller closes).

    Each has its own breaker and stats. Raises ``GatewayConfigError`` when a key
    differs from its config's ``name`` or a protocol is unknown.
    """
    gateways: dict[str, Gateway] = {}
    for key, config in configs.items():
        if key != config.name:
            raise GatewayConfigError(f"gateway {key!r} is configured with name {config.name!r}")
        gateways[key] = build_gateway(config, client)
    return gateways
