"""A gateway's settings as this package takes them; paycon converts its own settings into these."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gateways.errors import GatewayConfigError
from gateways.http import DEFAULT_MAX_BODY_BYTES
from gateways.retries import RetryPolicy
from gateways.signatures import DEFAULT_TOLERANCE_S


@dataclass(frozen=True)
class GatewayConfig:
    """One gateway: where it is, how to trust it, how patient to be with it.

    ``protocol`` picks the client class (see ``gateways.registry.GATEWAY_TYPES``);
    ``secret`` verifies its callbacks and never appears in ``repr``. Raises
    ``GatewayConfigError`` when a value cannot work.
    """

    name: str
    base_url: str
    secret: str = field(repr=False)
    protocol: str
    fail_max: int = 5
    reset_timeout_s: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats_window: int = 200
    signature_tolerance_s: float = DEFAULT_TOLERANCE_S
    max_response_bytes: int = DEFAULT_MAX_BODY_BYTES

    def __post_init__(self) -> None:
        problems = [problem for check in _CHECKS if (problem := check(self)) is not None]
        if problems:
            raise GatewayConfigError(f"gateway {self.name!r}: " + "; ".join(problems))


def _name(config: GatewayConfig) -> str | None:
    return None if config.name and config.name.isidentifier() else "name must be an identifier"


def _base_url(config: GatewayConfig) -> str | None:
    parts = urlsplit(config.base_url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "base_url must be an absolute http(s) URL"
    if parts.query or parts.fragment:
        return "base_url must not have a query or fragment"
    return None


def _secret(config: GatewayConfig) -> str | None:
    return None if config.secret else "secret must not be empty"


def _bounds(config: GatewayConfig) -> str | None:
    problems = [
        problem
        for problem, broken in (
            ("fail_max must be at least 1", config.fail_max < 1),
            ("reset_timeout_s must be positive", not config.reset_timeout_s > 0),
            ("stats_window must be at least 1", config.stats_window < 1),
            ("signature_tolerance_s must be positive", not config.signature_tolerance_s > 0),
            ("max_response_bytes must be positive", config.max_response_bytes < 1),
        )
        if broken
    ]
    return "; ".join(problems) or None


_CHECKS = (_name, _base_url, _secret, _bounds)
