from __future__ import annotations

import pytest

from paycon.domain.errors import GatewayNotAllowed, NoRoute, RoutingPaused
from paycon.domain.routing import RouteRule, RoutingTable
from paycon.domain.status import Kind

TABLE = RoutingTable(
    rules=(
        RouteRule(gateways=("gateway_b", "gateway_a"), countries=frozenset({"DE", "AT"}),
                  currencies=frozenset({"EUR"})),
        RouteRule(gateways=("gateway_b",), kinds=frozenset({Kind.WITHDRAWAL})),
    ),
    default=("gateway_a", "gateway_b"),
    gateway_currencies={"gateway_a": frozenset(), "gateway_b": frozenset({"EUR", "USD"})},
)  # fmt: skip


def test_first_matching_rule_wins() -> None:
    assert TABLE.route(Kind.DEPOSIT, "DE", "EUR") == ("gateway_b", "gateway_a")
    assert TABLE.route(Kind.WITHDRAWAL, "DE", "EUR") == ("gateway_b", "gateway_a")
    assert TABLE.route(Kind.WITHDRAWAL, "FR", "USD") == ("gateway_b",)


def test_default_list_catches_the_rest_and_skips_gateways_without_the_currency() -> None:
    assert TABLE.route(Kind.DEPOSIT, "FR", "USD") == ("gateway_a", "gateway_b")
    assert TABLE.route(Kind.DEPOSIT, "JP", "JPY") == ("gateway_a",)


def test_no_gateway_for_the_currency_is_no_route() -> None:
    with pytest.raises(NoRoute):
        TABLE.route(Kind.WITHDRAWAL, "JP", "JPY")


def test_pinned_gateway_is_used_alone() -> None:
    assert TABLE.route(Kind.DEPOSIT, "DE", "EUR", pinned="gateway_a") == ("gateway_a",)


@pytest.mark.parametrize(("pinned", "message"), [("gateway_b", "does not serve JPY"),
                                                 ("gateway_z", "unknown gateway")])  # fmt: skip
def test_pinned_gateway_must_exist_and_serve_the_currency(pinned: str, message: str) -> None:
    with pytest.raises(GatewayNotAllowed, match=message):
        TABLE.route(Kind.DEPOSIT, "JP", "JPY", pinned=pinned)


def test_gateways_out_of_routing_are_left_out_of_the_route() -> None:
    off = frozenset({"gateway_b"})
    assert TABLE.route(Kind.DEPOSIT, "DE", "EUR", disabled=off) == ("gateway_a",)
    assert TABLE.route(Kind.DEPOSIT, "FR", "USD", disabled=off) == ("gateway_a",)


def test_a_route_with_every_gateway_out_of_routing_is_paused_not_impossible() -> None:
    with pytest.raises(RoutingPaused, match=r"\(gateway_b\) is out of routing; retry later"):
        TABLE.route(Kind.WITHDRAWAL, "FR", "USD", disabled=frozenset({"gateway_b"}))
    with pytest.raises(NoRoute):  # no gateway serves it at all, whatever is out of routing
        TABLE.route(Kind.WITHDRAWAL, "JP", "JPY", disabled=frozenset({"gateway_b"}))


def test_a_pinned_gateway_out_of_routing_is_not_allowed() -> None:
    with pytest.raises(GatewayNotAllowed, match="out of routing"):
        TABLE.route(Kind.DEPOSIT, "DE", "EUR", pinned="gateway_b",
                    disabled=frozenset({"gateway_b"}))  # fmt: skip
