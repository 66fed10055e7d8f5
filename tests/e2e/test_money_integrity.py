"""A gateway's word moves only its own payment, for its own amount; failover only on proof.

Real paycon, real mock gateways on loopback, each misbehaving as its fault says.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mock_gateways.faults import Faults
from tests.e2e.test_payment_flow import (
    StartPaycon,
    balances,
    charged_by,
    deposit,
    start_paycon,
    wait_for_status,
    wait_for_task,
)
from tests.mock_gateway_fixtures import MockGatewaysFactory
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon

__all__ = ["start_paycon"]  # the fixture these tests share with test_payment_flow's


async def wait_for_hold(paycon: RunningPaycon, transaction_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        _, body = await paycon.get(f"/v1/transactions/{transaction_id}")
        if body["review"] is not None:
            return dict(body)
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


async def held(paycon: RunningPaycon) -> dict[str, str]:
    _, page = await paycon.get("/v1/transactions?review=true", token=OPERATOR_KEY)
    return {item["id"]: item["review"]["reason"] for item in page["items"]}


async def test_a_503_after_charging_never_sends_the_payment_to_a_second_gateway(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, ghost_503_rate=1))
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert done["gateway"] == "gateway_a"
    assert "failover" not in [e["type"] for e in done["events"]]
    assert charged_by(mocks, "gateway_a") == {dep["id"]: 1}
    assert charged_by(mocks, "gateway_b") == {}
    assert mocks.gateway_a.injected_faults()["ghost_503"] >= 1
    assert await balances(paycon) == [{"currency": "EUR", "available": "100.00", "held": "0.00"}]


async def test_refused_credentials_defer_and_never_fail_the_payment(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, auth_failure=True))
    paycon = await start_paycon(mocks, review={"credentials_retry_s": 0.2})
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    task = await wait_for_task(
        paycon,
        dep["id"],
        lambda t: [a["outcome"] for a in t["attempts_log"]].count("deferred") >= 2,
    )
    assert task["attempts"] <= 1  # waiting uses no attempt
    _, gateways = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
    refused = {g["name"]: g["credentials_refused_since"] for g in gateways["gateways"]}
    assert refused["gateway_a"] is not None
    assert refused["gateway_b"] is None
    async with paycon.http.get(paycon.url + "/metrics") as response:
        metrics = (await response.text()).splitlines()
    assert 'paycon_gateway_credentials_refused{gateway="gateway_a"} 1.0' in metrics
    _, seen = await paycon.get(f"/v1/transactions/{dep['id']}")
    assert (seen["status"], seen["gateway"], seen["failure_reason"]) == (
        "pending", "gateway_a", None,
    )  # fmt: skip
    # The credentials are fixed: the same payment completes where it was.
    mocks.gateway_a.set_faults({"auth_failure": False})
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert done["gateway"] == "gateway_a"
    assert charged_by(mocks, "gateway_b") == {}
    _, gateways = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
    assert gateways["gateways"][0]["credentials_refused_since"] is None


async def test_a_skewed_callback_is_held_and_never_credits_its_amount(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, callback_amount_skew=1))
    paycon = await start_paycon(mocks)
    ids = []
    for i in range(3):
        _, _, dep = await paycon.post_json("/v1/deposits", deposit("10.00"), key=f"d{i}")
        ids.append(dep["id"])
    for transaction_id in ids:
        seen = await wait_for_hold(paycon, transaction_id)
        assert seen["review"]["reason"] == "amount_mismatch"
        # The status answer (the right amount) settles it; the skewed amount never does.
        await wait_for_status(paycon, transaction_id, "completed")
    assert await held(paycon) == dict.fromkeys(ids, "amount_mismatch")
    assert len(ids) <= mocks.gateway_a.injected_faults()["callback_amount_skew"]
    assert await balances(paycon) == [{"currency": "EUR", "available": "30.00", "held": "0.00"}]


async def test_a_callback_on_the_other_gateways_route_is_held(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, callback_wrong_route=1))
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    seen = await wait_for_hold(paycon, dep["id"])
    assert seen["review"]["reason"] == "wrong_gateway"
    assert "gateway_b says" in seen["review"]["detail"]
    await wait_for_status(paycon, dep["id"], "completed")  # A's own status answer
    assert await balances(paycon) == [{"currency": "EUR", "available": "100.00", "held": "0.00"}]


async def test_a_failure_after_success_is_held_and_the_money_stays_until_decided(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, late_failure_rate=1))
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    seen = await wait_for_hold(paycon, dep["id"])
    assert (seen["status"], seen["review"]["reason"]) == ("completed", "conflicting_status")
    assert await balances(paycon) == [{"currency": "EUR", "available": "100.00", "held": "0.00"}]
    assert mocks.gateway_a.injected_faults()["late_failure"] == 1
