"""Gateway B's XML, answers and callbacks alike, is refused past 64 nested elements."""

from __future__ import annotations

import httpx
import pytest
import respx

from gateways import CallbackMalformed, GatewayProtocolError, sign
from gateways.xmldoc import MAX_DEPTH, XmlRejected, parse
from tests.unit.gateways.conftest import SECRET, GatewayFactory, submit_request
from tests.unit.gateways.wires import BASE_B, WIRES

NOW_S = 1_750_000_000.0


def nested(depth: int) -> bytes:
    """One element inside another, ``depth`` deep (the root is 1)."""
    return ("<a>" * depth + "</a>" * depth).encode()


def with_deep_extra(root: str, fields: dict[str, str], depth: int) -> bytes:
    """A flat document of gateway B with an unknown child nesting to ``depth`` in all."""
    children = "".join(f"<{name}>{text}</{name}>" for name, text in fields.items())
    extra = "<Extra>" * (depth - 1) + "</Extra>" * (depth - 1)
    return f"<{root}>{children}{extra}</{root}>".encode()


def test_64_levels_are_read_and_65_are_refused() -> None:
    assert MAX_DEPTH == 64
    assert parse(nested(64)).tag == "a"
    for depth in (65, 1500):
        with pytest.raises(XmlRejected, match="nested deeper than 64") as refused:
            parse(nested(depth))
        assert refused.value.forbidden


CALLBACK = {"EventId": "evt-1", "TransactionId": "tx-1", "Status": "success", "Amount": "10.00",
            "Currency": "EUR", "Reason": ""}  # fmt: skip
ANSWER = {"Status": "pending", "TransactionId": "tx-1", "Amount": "10.00", "Currency": "EUR"}


def test_a_callback_64_deep_is_read(make_gateway: GatewayFactory) -> None:
    body = with_deep_extra("Callback", CALLBACK, 64)
    event = make_gateway(WIRES["gateway_b"]).parse_callback(
        body, sign(SECRET, body, int(NOW_S)), now_s=NOW_S
    )
    assert event.event_id == "evt-1"


@pytest.mark.parametrize("depth", [65, 1500])
def test_a_callback_nested_deeper_is_malformed(make_gateway: GatewayFactory, depth: int) -> None:
    body = with_deep_extra("Callback", CALLBACK, depth)
    with pytest.raises(CallbackMalformed, match="nested deeper than 64"):
        make_gateway(WIRES["gateway_b"]).parse_callback(
            body, sign(SECRET, body, int(NOW_S)), now_s=NOW_S
        )


async def test_an_answer_64_deep_is_read(
    router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    body = with_deep_extra("PaymentResponse", ANSWER, 64)
    router.post(f"{BASE_B}/ProcessPayment").mock(return_value=httpx.Response(200, content=body))

    answer = await make_gateway(WIRES["gateway_b"]).submit(submit_request("tx-1"))

    assert answer.status == "pending"


@pytest.mark.parametrize("depth", [65, 1500])
async def test_an_answer_nested_deeper_is_a_protocol_error(
    router: respx.MockRouter, make_gateway: GatewayFactory, depth: int
) -> None:
    body = with_deep_extra("PaymentResponse", ANSWER, depth)
    router.post(f"{BASE_B}/ProcessPayment").mock(return_value=httpx.Response(200, content=body))

    with pytest.raises(GatewayProtocolError, match="nested deeper than 64"):
        await make_gateway(WIRES["gateway_b"]).submit(submit_request("tx-1"))
