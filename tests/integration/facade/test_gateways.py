"""Gateway controls through either facade: routing switches, audits and embedded faults."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from paycon.domain.errors import InvalidInput, NotFound
from paycon.facade.local import LocalFacade
from paycon.facade.protocol import OperatorFacade
from paycon.facade.remote import RemoteFacade
from paycon.runtime.service import Service
from tests.integration.facade.conftest import LOCAL_ACTOR, Attached
from tests.integration.facade.support import audit_rows, deposit
from tests.paycon_fixtures import OPERATOR_KEY, RunningPaycon, make_settings


async def test_gateways_are_listed_by_name_with_their_switch(attached: Attached) -> None:
    gateways = await attached.facade.gateways()
    assert [(g.name, g.protocol, g.enabled) for g in gateways] == [
        ("gateway_a", "json", True),
        ("gateway_b", "xml", True),
    ]
    assert gateways[0].breaker.state == "closed"
    assert gateways[0].faults is None
    assert gateways[0].routing_changes == []


async def test_disable_stops_new_payments_routing_there_and_is_audited(
    attached: Attached, paycon: RunningPaycon
) -> None:
    status = await attached.facade.set_gateway_enabled(
        "gateway_a", enabled=False, reason="A times out"
    )
    assert (status.name, status.enabled) == ("gateway_a", False)
    assert [(c.action, c.reason) for c in status.routing_changes] == [("disable", "A times out")]
    assert status.routing_changes[0].actor.startswith(attached.actor_prefix)
    assert (await deposit(paycon, "k1"))["gateway"] == "gateway_b"
    [actor, action, reason] = audit_rows(paycon, "operator_audit")[0]
    assert (action, reason) == ("disable", "A times out")
    assert actor.startswith(attached.actor_prefix)

    back = await attached.facade.set_gateway_enabled("gateway_a", enabled=True, reason="fixed")
    assert back.enabled
    assert (await deposit(paycon, "k2"))["gateway"] == "gateway_a"
    listed = {g.name: g for g in await attached.facade.gateways()}
    assert [c.action for c in listed["gateway_a"].routing_changes] == ["enable", "disable"]


async def test_an_unknown_gateway_is_not_found(attached: Attached, paycon: RunningPaycon) -> None:
    with pytest.raises(NotFound):
        await attached.facade.set_gateway_enabled("gateway_z", enabled=False, reason="x")
    with pytest.raises(NotFound):
        await attached.facade.set_faults("gateway_z", {"error_rate": 0.1})
    assert audit_rows(paycon, "operator_audit") == []


async def test_faults_are_not_found_unless_the_mocks_are_embedded(attached: Attached) -> None:
    with pytest.raises(NotFound, match="embedded"):
        await attached.facade.set_faults("gateway_a", {"error_rate": 0.1})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["local", "remote"])
async def embedded_facade(
    request: pytest.FixtureRequest, db_path: Path
) -> AsyncIterator[tuple[OperatorFacade, Service]]:
    settings = make_settings(
        db_path,
        mock_gateways="embedded",
        gateways={
            "gateway_a": {"url": f"http://127.0.0.1:{_free_port()}"},
            "gateway_b": {"url": f"http://127.0.0.1:{_free_port()}"},
        },
    )
    service = Service(settings)
    await service.start()
    facade: OperatorFacade = (
        LocalFacade.for_service(service, actor=LOCAL_ACTOR)
        if request.param == "local"
        else RemoteFacade(service.url, OPERATOR_KEY)
    )
    try:
        yield facade, service
    finally:
        await facade.aclose()
        await service.stop()


async def test_embedded_faults_are_switched_and_shown(
    embedded_facade: tuple[OperatorFacade, Service],
) -> None:
    facade, service = embedded_facade
    assert service.mocks is not None
    faults = await facade.set_faults("gateway_a", {"decline_rate": 0.5, "callback_reorder": True})
    assert (faults["decline_rate"], faults["callback_reorder"]) == (0.5, True)
    assert service.mocks.gateway_a.faults.decline_rate == 0.5
    listed = {g.name: g for g in await facade.gateways()}
    assert listed["gateway_a"].faults is not None
    assert listed["gateway_a"].faults.decline_rate == 0.5
    assert listed["gateway_b"].faults is not None
    assert listed["gateway_b"].faults.decline_rate == 0.0
    (change,) = listed["gateway_a"].fault_changes
    assert (change.action, change.reason) == ("faults", "faults switched from the console")
    assert change.detail == "decline_rate: 0 → 0.5; callback_reorder: off → on"
    assert change.actor == LOCAL_ACTOR or change.actor.startswith("operator:key_")
    assert listed["gateway_b"].fault_changes == []


async def test_a_bad_fault_is_invalid_input_and_changes_nothing(
    embedded_facade: tuple[OperatorFacade, Service],
) -> None:
    facade, service = embedded_facade
    with pytest.raises(InvalidInput) as refused:
        await facade.set_faults("gateway_b", {"latency_ms": 5, "error_rate": 1.5})
    assert [e.field for e in refused.value.errors] == ["error_rate"]
    with pytest.raises(InvalidInput):
        await facade.set_faults("gateway_b", {"chaos_monkey": True})
    assert service.mocks is not None
    assert service.mocks.gateway_b.faults.latency_ms == 0


async def test_both_facades_see_the_same_routing_change(paycon: RunningPaycon) -> None:
    local = LocalFacade.for_service(paycon.service, actor=LOCAL_ACTOR)
    remote = RemoteFacade(paycon.url, OPERATOR_KEY)
    try:
        await local.set_gateway_enabled("gateway_b", enabled=False, reason="from the console")
        seen = {g.name: g for g in await remote.gateways()}
        assert not seen["gateway_b"].enabled
        assert seen["gateway_b"].routing_changes[0].actor == LOCAL_ACTOR
    finally:
        await remote.aclose()
