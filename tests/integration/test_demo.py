"""The demo against a real paycon with embedded mock gateways on loopback: traffic and faults."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from paycon.config import Settings
from paycon.domain.errors import ConfigError
from paycon.domain.masking import is_valid_iban
from paycon.runtime.demo import (
    DEFAULT_CUSTOMERS,
    DEFAULT_SCHEDULE,
    Customer,
    Demo,
    Phase,
    TrafficShape,
    check_schedule,
    demo_for,
    usable_customers,
)
from paycon.runtime.service import Service
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, make_settings

# Short phases: every fault the default cycle uses, a second or so each.
SCHEDULE = (
    Phase("calm", 1.2),
    Phase("a down", 1.5, {"gateway_a": {"outage": "503"}}),
    Phase("b drops callbacks", 1.2, {"gateway_b": {"callback_drop_rate": 1.0}}),
)
QUICK = TrafficShape(interval_s=0.04, withdrawal_share=0.4)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def embedded_settings(db_path: Path, **overrides: Any) -> Settings:
    """paycon with its mock gateways embedded on free loopback ports, quick retries and checks."""
    settings: dict[str, Any] = {
        "mock_gateways": "embedded",
        "gateways": {
            "gateway_a": {"url": f"http://127.0.0.1:{free_port()}", "secret": "secret-a"},
            "gateway_b": {"url": f"http://127.0.0.1:{free_port()}", "secret": "secret-b"},
        },
        "outbox": {
            "workers": 4,
            "retry_base_s": 0.05,
            "retry_max_s": 0.2,
            "status_check_after_s": 0.3,
        },
        "breaker": {"fail_max": 3, "reset_s": 0.5},
        "gateway_http": {"read_timeout_s": 0.5},
        "log_level": "INFO",
    }
    return make_settings(db_path, **{**settings, **overrides})


@pytest.fixture
async def service(db_path: Path) -> AsyncIterator[Service]:
    service = Service(embedded_settings(db_path))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def mocks_of(service: Service) -> dict[str, Any]:
    assert service.mocks is not None
    return {"gateway_a": service.mocks.gateway_a, "gateway_b": service.mocks.gateway_b}


async def get(http: aiohttp.ClientSession, url: str, token: str = CLIENT_KEY) -> Any:
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def wait_until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def faults_over_http(
    http: aiohttp.ClientSession, service: Service
) -> dict[str, dict[str, Any]]:
    """``GET /_mock/faults`` of both embedded gateways: ``{"a": {...}, "b": {...}}``."""
    assert service.mocks is not None
    return {
        "a": await get(http, f"{service.mocks.url_a}/_mock/faults"),
        "b": await get(http, f"{service.mocks.url_b}/_mock/faults"),
    }


async def all_transactions(http: aiohttp.ClientSession, url: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = await get(http, f"{url}/v1/transactions?limit=200{cursor}")
        items.extend(page["items"])
        if page["next_cursor"] is None:
            return items
        cursor = f"&cursor={page['next_cursor']}"


async def test_demo_payments_complete_while_the_faults_follow_the_schedule(
    service: Service,
) -> None:
    demo = Demo(
        api_url=service.url,
        client_key=CLIENT_KEY,
        mocks=mocks_of(service),
        schedule=SCHEDULE,
        shape=QUICK,
        seed=7,
    )
    seen: dict[str, dict[str, Any]] = {}
    async with aiohttp.ClientSession() as http:
        await demo.start()
        try:
            for phase in (*SCHEDULE, SCHEDULE[0]):  # and the cycle comes round again
                await wait_until(lambda phase=phase: demo.phase is phase)  # type: ignore[misc]
                seen[phase.name] = await faults_over_http(http, service)
        finally:
            await demo.stop()
        assert not demo.running
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("paycon-demo")]

        # Each phase switched exactly its faults, on top of the calm ones.
        assert seen["calm"]["a"]["outage"] is False
        assert seen["calm"]["b"]["callback_drop_rate"] == 0.0
        assert seen["a down"]["a"]["outage"] == "503"
        assert seen["a down"]["b"]["outage"] is False
        assert seen["b drops callbacks"]["a"]["outage"] is False
        assert seen["b drops callbacks"]["b"]["callback_drop_rate"] == 1.0
        # Stopping gives the mocks their starting faults back.
        for mock in mocks_of(service).values():
            assert mock.faults.outage is False
            assert mock.faults.callback_drop_rate == 0.0

        assert demo.stats.failed_requests == 0
        assert demo.stats.by_kind["deposit"] >= 20
        assert demo.stats.by_kind["withdrawal"] >= 1
        # Everything accepted settles: lost callbacks by status checks, A's outage by failover.
        await wait_until_settled(http, service.url, demo.stats.accepted)
        transactions = await all_transactions(http, service.url)

    assert len(transactions) == demo.stats.accepted
    assert {t["status"] for t in transactions} == {"completed"}
    assert {t["gateway"] for t in transactions} == {"gateway_a", "gateway_b"}
    assert {t["currency"] for t in transactions} >= {"EUR", "GBP", "SEK", "PLN"}
    failed_over = [t for t in transactions if t["customer_id"] == "demo_anna"
                   and t["gateway"] == "gateway_b"]  # fmt: skip
    assert failed_over, "no payment of a routed customer failed over to B during A's outage"


async def wait_until_settled(http: aiohttp.ClientSession, url: str, count: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        transactions = await all_transactions(http, url)
        final = [t for t in transactions if t["status"] in ("completed", "failed")]
        if len(final) == count or time.monotonic() > deadline:
            assert len(final) == count, f"{count - len(final)} payments not final"
            return
        await asyncio.sleep(0.1)


async def test_withdrawals_never_exceed_what_the_customer_has(service: Service) -> None:
    demo = Demo(
        api_url=service.url,
        client_key=CLIENT_KEY,
        mocks=mocks_of(service),
        customers=DEFAULT_CUSTOMERS[:1],
        schedule=(Phase("calm", 60),),
        shape=TrafficShape(interval_s=0.03, withdrawal_share=0.6),
        seed=3,
    )
    await demo.start()
    try:
        await wait_until(lambda: demo.stats.by_kind["withdrawal"] >= 5)
    finally:
        await demo.stop()
    assert demo.stats.refused == 0  # no insufficient_funds: it only asks for what is there
    async with aiohttp.ClientSession() as http:
        await wait_until_settled(http, service.url, demo.stats.accepted)
        body = await get(http, f"{service.url}/v1/customers/demo_anna/balances")
        transactions = await all_transactions(http, service.url)
    first = min(transactions, key=lambda t: t["created_at"])
    assert first["kind"] == "deposit"
    [balance] = body["balances"]
    assert balance["held"] == "0.00"
    assert float(balance["available"]) > 0


async def test_stop_before_the_first_phase_ends_is_prompt(service: Service) -> None:
    demo = Demo(api_url=service.url, client_key=CLIENT_KEY, mocks=mocks_of(service),
                schedule=(Phase("a down", 600, {"gateway_a": {"outage": "503"}}),))  # fmt: skip
    await demo.start()
    await wait_until(lambda: demo.phase is not None)
    assert mocks_of(service)["gateway_a"].faults.outage == "503"
    started = time.monotonic()
    await demo.stop()
    assert time.monotonic() - started < 2
    assert not demo.running
    assert mocks_of(service)["gateway_a"].faults.outage is False


async def test_faults_switched_by_hand_stop_the_cycle_and_stay(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="paycon.runtime.demo")
    mocks = mocks_of(service)
    schedule = (Phase("calm", 0.3), Phase("a down", 0.3, {"gateway_a": {"outage": "503"}}))
    demo = Demo(
        api_url=service.url, client_key=CLIENT_KEY, mocks=mocks, shape=QUICK, schedule=schedule
    )
    await demo.start()
    try:
        await wait_until(lambda: demo.phase is schedule[1])
        mocks["gateway_b"].set_faults({"error_rate": 0.5}, actor="console:alice")
        accepted = demo.stats.accepted
        await asyncio.sleep(1.0)  # over three phase changes
        assert demo.phase is schedule[1]
        assert mocks["gateway_a"].faults.outage == "503"
        assert mocks["gateway_b"].faults.error_rate == 0.5
        assert demo.running
        await wait_until(lambda: demo.stats.accepted > accepted)
    finally:
        await demo.stop()
    assert "faults of gateway_b were switched by console:alice" in caplog.text


async def test_a_switch_back_to_what_the_demo_set_still_stops_the_cycle(service: Service) -> None:
    mocks = mocks_of(service)
    schedule = (Phase("a down", 0.4, {"gateway_a": {"outage": "503"}}), Phase("calm", 0.4))
    demo = Demo(
        api_url=service.url, client_key=CLIENT_KEY, mocks=mocks, shape=QUICK, schedule=schedule
    )
    await demo.start()
    try:
        await wait_until(lambda: demo.phase is schedule[0])
        # The console's "o" twice: off, then on again, as the demo had left it.
        for outage in (False, "503"):
            mocks["gateway_a"].set_faults({"outage": outage}, actor="console:alice")
        await asyncio.sleep(1.2)  # past three phase changes
        assert demo.phase is schedule[0]
        assert mocks["gateway_a"].faults.outage == "503"
        history = mocks["gateway_a"].fault_history.newest_first()
        assert [entry.actor for entry in history[:2]] == ["console:alice", "console:alice"]
        assert history[2].actor == "demo"
        assert history[2].reason == "demo phase: a down"
        assert ("outage", False, "503") in history[2].changes
    finally:
        await demo.stop()


async def test_a_put_to_the_mock_stops_the_cycle_at_once(service: Service) -> None:
    mocks = mocks_of(service)
    schedule = (Phase("calm", 30), Phase("a down", 30, {"gateway_a": {"outage": "503"}}))
    demo = Demo(
        api_url=service.url, client_key=CLIENT_KEY, mocks=mocks, shape=QUICK, schedule=schedule
    )
    await demo.start()
    try:
        await wait_until(lambda: demo.phase is schedule[0])
        assert service.mocks is not None
        async with (
            aiohttp.ClientSession() as http,
            http.put(
                service.mocks.url_b + "/_mock/faults", json={"callback_drop_rate": 1.0}
            ) as response,
        ):
            assert response.status == 200
        await wait_until(lambda: demo.switched_by_hand() == ["gateway_b"])
        cycle = next(t for t in asyncio.all_tasks() if t.get_name() == "paycon-demo-faults")
        await wait_until(cycle.done)
        [entry] = mocks["gateway_b"].fault_history.newest_first(1)
        assert entry.actor == "http:127.0.0.1"
    finally:
        await demo.stop()


async def test_demo_for_uses_the_service_key_and_mocks(service: Service) -> None:
    demo = demo_for(service)
    await demo.start()
    try:
        await wait_until(lambda: demo.stats.accepted >= 2)
    finally:
        await demo.stop()
    assert demo.phase is DEFAULT_SCHEDULE[0]


async def test_demo_for_refuses_without_embedded_mocks(db_path: Path) -> None:
    service = Service(make_settings(db_path))  # mock_gateways = "off"
    await service.start()
    try:
        with pytest.raises(ConfigError, match="embedded mock gateways"):
            demo_for(service)
    finally:
        await service.stop()


def test_demo_for_refuses_without_a_client_key(db_path: Path) -> None:
    settings = embedded_settings(db_path, auth={"client_api_keys": [],
                                                "operator_api_keys": [OPERATOR_KEY]})  # fmt: skip
    with pytest.raises(ConfigError, match="client API key"):
        Demo.for_service(settings, api_url="http://127.0.0.1:1", mocks={})


@pytest.mark.parametrize(
    ("phase", "problem"),
    [
        (Phase("x", 1, {"gateway_c": {"error_rate": 0.1}}), "no embedded mock gateway"),
        (Phase("x", 1, {"gateway_a": {"error_rate": 2}}), "between 0 and 1"),
        (Phase("x", 1, {"gateway_a": {"errors": 0.1}}), "unknown fault"),
        (Phase("x", 0), "duration_s"),
    ],
)
def test_a_bad_schedule_is_refused_up_front(phase: Phase, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        check_schedule([phase], ["gateway_a", "gateway_b"])


def test_the_default_schedule_and_customers_are_valid(db_path: Path) -> None:
    check_schedule(DEFAULT_SCHEDULE, ["gateway_a", "gateway_b"])
    assert all(20 <= phase.duration_s <= 40 for phase in DEFAULT_SCHEDULE)
    assert all(is_valid_iban(customer.iban) for customer in DEFAULT_CUSTOMERS)
    table = embedded_settings(db_path).routing_table()
    assert usable_customers(DEFAULT_CUSTOMERS, table) == DEFAULT_CUSTOMERS


def test_customers_follow_the_configured_gateways(db_path: Path) -> None:
    settings = embedded_settings(db_path)
    served = {"gateway_a": ["EUR", "SEK"], "gateway_b": ["EUR", "GBP"]}
    gateways = {
        name: {**gateway.model_dump(), "currencies": served[name]}
        for name, gateway in settings.gateways.items()
    }
    table = embedded_settings(db_path, gateways=gateways).routing_table()
    usable = usable_customers(DEFAULT_CUSTOMERS, table)
    by_id: dict[str, Customer] = {c.customer_id: c for c in usable}
    # No gateway serves PLN; GBP is routed to B; SEK loses its pin on B, which does not serve it.
    assert set(by_id) == {"demo_anna", "demo_ben", "demo_chloe", "demo_daan", "demo_elin"}
    assert by_id["demo_chloe"].gateway == "gateway_b"
    assert by_id["demo_elin"].gateway is None
