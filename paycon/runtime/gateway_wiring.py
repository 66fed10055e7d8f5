"""Building the gateway clients from the settings (process wiring)."""

from __future__ import annotations

import httpx

from gateways import GatewayConfig, GatewayConfigError, make_http_client
from paycon.config import Settings
from paycon.domain.errors import ConfigError

# The protocol of the gateways paycon knows by name; others must say theirs.
DEFAULT_PROTOCOLS = {"gateway_a": "json", "gateway_b": "xml"}


def gateway_configs(settings: Settings) -> dict[str, GatewayConfig]:
    """One GatewayConfig per configured gateway. Raises ConfigError naming the setting."""
    configs = {}
    for name, gateway in settings.gateways.items():
        protocol = gateway.protocol or DEFAULT_PROTOCOLS.get(name)
        if protocol is None:
            raise ConfigError(f"invalid setting gateways.{name}.protocol: say json or xml")
        try:
            configs[name] = GatewayConfig(
                name=name,
                base_url=gateway.url,
                secret=gateway.secret,
                protocol=protocol,
                fail_max=settings.breaker.fail_max,
                reset_timeout_s=settings.breaker.reset_s,
            )
        except GatewayConfigError as exc:
            raise ConfigError(f"invalid setting gateways.{name}: {exc}") from None
    return configs


def http_client(settings: Settings) -> httpx.AsyncClient:
    """The one HTTP client every gateway shares; the caller closes it."""
    return make_http_client(
        connect_timeout_s=settings.gateway_http.connect_timeout_s,
        read_timeout_s=settings.gateway_http.read_timeout_s,
    )
