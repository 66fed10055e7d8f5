"""Gateway clients: one interface, one module per gateway.

Build the shared HTTP client once, the gateways from their configs, and close
the client at the end::

    async with make_http_client(connect_timeout_s=2, read_timeout_s=10) as client:
        gateways = build_gateways({"gateway_a": GatewayConfig(...)}, client)
        answer = await gateways["gateway_a"].submit(SubmitRequest(...))

What each error means for the caller is in ``gateways.errors``.
"""

from __future__ import annotations

from gateways.base import (
    CallbackEvent,
    Gateway,
    GatewayAnswer,
    PaymentKind,
    PaymentStatus,
    SubmitRequest,
)
from gateways.breaker import BreakerState
from gateways.config import GatewayConfig
from gateways.errors import (
    DECLINE_CODES,
    CallbackError,
    CallbackMalformed,
    CallbackRejected,
    GatewayAmbiguous,
    GatewayBreakerOpen,
    GatewayConfigError,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayProtocolError,
    GatewayRequestRefused,
    GatewayServerError,
    GatewayTransient,
)
from gateways.http import make_http_client
from gateways.registry import GATEWAY_TYPES, build_gateway, build_gateways
from gateways.retries import RetryPolicy
from gateways.signatures import SIGNATURE_HEADER, sign, verify
from gateways.stats import GatewayStats

__all__ = [
    "DECLINE_CODES",
    "GATEWAY_TYPES",
    "SIGNATURE_HEADER",
    "BreakerState",
    "CallbackError",
    "CallbackEvent",
    "CallbackMalformed",
    "CallbackRejected",
    "Gateway",
    "GatewayAmbiguous",
    "GatewayAnswer",
    "GatewayBreakerOpen",
    "GatewayConfig",
    "GatewayConfigError",
    "GatewayCredentialsRefused",
    "GatewayDeclined",
    "GatewayError",
    "GatewayNotReached",
    "GatewayProtocolError",
    "GatewayRequestRefused",
    "GatewayServerError",
    "GatewayStats",
    "GatewayTransient",
    "PaymentKind",
    "PaymentStatus",
    "RetryPolicy",
    "SubmitRequest",
    "build_gateway",
    "build_gateways",
    "make_http_client",
    "sign",
    "verify",
]
