from __future__ import annotations

import pytest

from paycon.domain.delivery import next_gateway, status_from_gateway
from paycon.domain.status import Status


def test_gateway_words_map_to_statuses() -> None:
    assert status_from_gateway("pending") is Status.SUBMITTED
    assert status_from_gateway("success") is Status.COMPLETED
    assert status_from_gateway("failure") is Status.FAILED
    with pytest.raises(ValueError, match="unknown gateway status"):
        status_from_gateway("refunded")


@pytest.mark.parametrize(
    ("route", "current", "expected"),
    [
        (("gateway_a", "gateway_b"), "gateway_a", "gateway_b"),
        (("gateway_a", "gateway_b"), "gateway_b", None),
        (("gateway_a",), "gateway_a", None),
        (("gateway_a", "gateway_b"), "gateway_z", None),
    ],
)
def test_failover_goes_down_the_route_once(
    route: tuple[str, ...], current: str, expected: str | None
) -> None:
    assert next_gateway(route, current) == expected


@pytest.mark.parametrize(
    ("disabled", "expected"),
    [
        (frozenset({"gateway_b"}), "gateway_c"),
        (frozenset({"gateway_b", "gateway_c"}), None),
        (frozenset({"gateway_a"}), "gateway_b"),
    ],
)
def test_failover_skips_gateways_out_of_routing(
    disabled: frozenset[str], expected: str | None
) -> None:
    route = ("gateway_a", "gateway_b", "gateway_c")
    assert next_gateway(route, "gateway_a", disabled=disabled) == expected
