"""Records, configuration and the registry: bad values are refused where they are made."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from gateways import (
    GATEWAY_TYPES,
    GatewayConfig,
    GatewayConfigError,
    SubmitRequest,
    build_gateways,
)
from gateways.gateway_a import GatewayA
from gateways.gateway_b import GatewayB
from tests.unit.gateways.conftest import CALLBACK_URL


def config(**changes: Any) -> GatewayConfig:
    values: dict[str, Any] = {
        "name": "gateway_a",
        "base_url": "http://127.0.0.1:8081",
        "secret": "s3cr3t-value",
        "protocol": "json",
    }
    values.update(changes)
    return GatewayConfig(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {"transaction_id": ""},
        {"transaction_id": "-starts-with-dash"},
        {"transaction_id": "has/slash"},
        {"transaction_id": "x" * 129},
        {"amount": Decimal("0")},
        {"amount": Decimal("-1")},
        {"amount": Decimal("NaN")},
        {"amount": Decimal("Infinity")},
        {"amount": 10.5},
        {"currency": "eur"},
        {"currency": "EURO"},
        {"kind": "refund"},
        {"callback_url": "/relative"},
        {"callback_url": "ftp://127.0.0.1/x"},
        {"callback_url": "http://127.0.0.1/a b"},
        {"callback_url": "http://127.0.0.1/\n"},
    ],
)
def test_a_submit_request_that_no_gateway_would_accept_is_refused(changes: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "transaction_id": "tx-1",
        "amount": Decimal("1.00"),
        "currency": "EUR",
        "kind": "deposit",
        "callback_url": CALLBACK_URL,
    }
    values.update(changes)

    with pytest.raises(ValueError, match="must"):
        SubmitRequest(**values)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": ""}, "name"),
        ({"name": "gateway a"}, "name"),
        ({"base_url": "127.0.0.1:8081"}, "base_url"),
        ({"base_url": "ftp://127.0.0.1"}, "base_url"),
        ({"base_url": "http://127.0.0.1/?x=1"}, "base_url"),
        ({"secret": ""}, "secret"),
        ({"fail_max": 0}, "fail_max"),
        ({"reset_timeout_s": 0}, "reset_timeout_s"),
        ({"stats_window": 0}, "stats_window"),
        ({"signature_tolerance_s": 0}, "signature_tolerance_s"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
    ],
)
def test_a_config_that_cannot_work_is_refused_naming_the_field(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(GatewayConfigError, match=problem):
        config(**changes)


def test_the_secret_never_shows_in_the_configs_repr() -> None:
    assert "s3cr3t-value" not in repr(config())


def test_the_registry_maps_each_protocol_to_its_client() -> None:
    assert dict(GATEWAY_TYPES) == {"json": GatewayA, "xml": GatewayB}


async def test_build_gateways_builds_each_configured_gateway_on_the_shared_client() -> None:
    configs = {
        "gateway_a": config(),
        "gateway_b": config(name="gateway_b", base_url="http://127.0.0.1:8082", protocol="xml"),
        "gateway_c": config(name="gateway_c", base_url="http://127.0.0.1:8083"),
    }
    async with httpx.AsyncClient() as client:
        gateways = build_gateways(configs, client)

    assert {name: (g.name, g.protocol) for name, g in gateways.items()} == {
        "gateway_a": ("gateway_a", "json"),
        "gateway_b": ("gateway_b", "xml"),
        "gateway_c": ("gateway_c", "json"),  # a third gateway speaking A's protocol: config only
    }
    assert gateways["gateway_a"].breaker_state().state == "closed"
    assert gateways["gateway_a"].recent_stats().calls == 0


async def test_an_unknown_protocol_is_refused_listing_the_known_ones() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(
            GatewayConfigError, match=r"unknown protocol 'soap' \(known: json, xml\)"
        ):
            build_gateways({"gateway_a": config(protocol="soap")}, client)


async def test_a_key_that_differs_from_the_configs_name_is_refused() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(GatewayConfigError, match="gateway_x"):
            build_gateways({"gateway_x": config()}, client)
