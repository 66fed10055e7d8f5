"""Merchant notifications end to end, against the real mock gateways on loopback.

paycon runs as deployed (https and public addresses only). Merchants' names
resolve through a fake resolver and every notification connection goes to a
scripted network that records it and refuses or plays back an answer: no
connection ever leaves the machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateways.errors import CallbackRejected
from gateways.signatures import verify
from mock_gateways.server import MockGateways
from paycon.runtime.service import Service
from tests.mock_gateway_fixtures import GATEWAY_A_SECRET, GATEWAY_B_SECRET
from tests.notify_fakes import PUBLIC_V4, PUBLIC_V6, FakeResolver, ScriptedNetwork
from tests.paycon_fixtures import CLIENT_KEY, OPERATOR_KEY, RunningPaycon, make_settings

NEW_SECRET = "whsec_new_0123456789abcdef"
OLD_SECRET = "whsec_old_0123456789abcdef"
HOOK = "https://merchant.example/hooks/paycon"
Start = Callable[..., Awaitable[RunningPaycon]]


@pytest.fixture
async def start(db_path: Path, mock_gateways: MockGateways) -> AsyncIterator[Start]:
    """A factory: a strict paycon with the given resolver and notification network."""
    running: list[tuple[Service, aiohttp.ClientSession]] = []

    async def start(resolver: FakeResolver, network: ScriptedNetwork) -> RunningPaycon:
        settings = make_settings(
            db_path,
            gateways={
                "gateway_a": {"url": mock_gateways.url_a, "secret": GATEWAY_A_SECRET},
                "gateway_b": {"url": mock_gateways.url_b, "secret": GATEWAY_B_SECRET},
            },
            outbox={"workers": 4, "max_attempts": 2, "retry_base_s": 0.05, "retry_max_s": 0.1},
            notify={"allow_private": False, "webhook_secrets": [NEW_SECRET, OLD_SECRET]},
        )
        service = Service(settings, resolver=resolver, notify_network=network)
        await service.start()
        http = aiohttp.ClientSession()
        running.append((service, http))
        return RunningPaycon(service, http, db_path)

    yield start
    for service, http in running:
        await http.close()
        await service.stop()


async def notified_deposit(paycon: RunningPaycon) -> str:
    body = {"customer_id": "cus_1", "amount": "10.00", "currency": "EUR", "country": "DE"}
    status, _, answer = await paycon.post_json("/v1/deposits", {**body, "notify_url": HOOK})
    assert status == 202, answer
    return str(answer["id"])


async def notify_task(
    paycon: RunningPaycon, transaction_id: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The transaction's notify task once ``done`` says so (within 15 s)."""
    deadline = time.monotonic() + 15
    while True:
        _, tasks = await paycon.get(f"/v1/transactions/{transaction_id}/tasks", token=OPERATOR_KEY)
        notify = [t for t in tasks["items"] if t["kind"] == "notify"]
        if notify:
            _, detail = await paycon.get(f"/v1/outbox/tasks/{notify[0]['id']}", token=OPERATOR_KEY)
            if done(detail):
                return dict(detail)
        assert time.monotonic() < deadline, tasks
        await asyncio.sleep(0.05)


def finished(task: dict[str, Any]) -> bool:
    return task["state"] in ("done", "dead")


async def test_a_name_rebound_to_a_private_address_gets_no_connection(start: Start) -> None:
    # Public when the payment is accepted, 10.0.0.1 by the time it is delivered.
    resolver = FakeResolver({"merchant.example": [[PUBLIC_V4], ["10.0.0.1"]]})
    network = ScriptedNetwork.refusing()
    paycon = await start(resolver, network)
    transaction_id = await notified_deposit(paycon)
    task = await notify_task(paycon, transaction_id, finished)
    assert task["state"] == "dead"  # refused at once, not retried
    assert task["attempts"] == 1
    assert "private" in task["last_error"]
    assert network.connections == []
    assert resolver.asked == ["merchant.example", "merchant.example"]


async def test_notifications_connect_to_the_checked_address_with_the_name_in_host_and_sni(
    start: Start,
) -> None:
    resolver = FakeResolver({"merchant.example": [PUBLIC_V4]})
    network = ScriptedNetwork.answering(200)
    paycon = await start(resolver, network)
    transaction_id = await notified_deposit(paycon)
    assert (await notify_task(paycon, transaction_id, finished))["state"] == "done"
    (connection,) = network.connections
    assert (connection.host, connection.port) == (PUBLIC_V4, 443)
    assert connection.server_hostname == "merchant.example"
    assert connection.request_head["host"] == "merchant.example"


async def test_every_listed_webhook_secret_signs_and_no_api_key_does(start: Start) -> None:
    network = ScriptedNetwork.answering(200)
    paycon = await start(FakeResolver({"merchant.example": [PUBLIC_V4]}), network)
    transaction_id = await notified_deposit(paycon)
    assert (await notify_task(paycon, transaction_id, finished))["state"] == "done"
    (connection,) = network.connections
    signature = connection.request_head["x-signature"]
    assert signature.count("v1=") == 2
    for secret in (NEW_SECRET, OLD_SECRET):
        verify(secret, connection.request_body, signature, now_s=time.time(), gateway="-")
    for key in (CLIENT_KEY, OPERATOR_KEY):
        with pytest.raises(CallbackRejected):
            verify(key, connection.request_body, signature, now_s=time.time(), gateway="-")


async def test_redirects_are_not_followed(start: Start) -> None:
    resolver = FakeResolver({"merchant.example": [PUBLIC_V4], "elsewhere.example": [PUBLIC_V6]})
    network = ScriptedNetwork.answering(302, headers={"Location": "https://elsewhere.example/"})
    paycon = await start(resolver, network)
    transaction_id = await notified_deposit(paycon)
    task = await notify_task(paycon, transaction_id, finished)
    assert task["state"] == "dead"  # a 3xx is a failed delivery, retried until attempts run out
    assert "302" in task["last_error"]
    assert [c.host for c in network.connections] == [PUBLIC_V4, PUBLIC_V4]
    assert "elsewhere.example" not in resolver.asked


async def test_an_endless_answer_is_read_4_kib_at_most(start: Start) -> None:
    network = ScriptedNetwork.endless(chunk_bytes=1024)
    paycon = await start(FakeResolver({"merchant.example": [PUBLIC_V4]}), network)
    transaction_id = await notified_deposit(paycon)
    assert (await notify_task(paycon, transaction_id, finished))["state"] == "done"
    (connection,) = network.connections
    assert connection.body_bytes_served <= 4096
    assert connection.closed


class SlowReceivers:
    """A loopback endpoint that takes every request and answers only when released."""

    def __init__(self) -> None:
        self.holding = 0
        self.release = asyncio.Event()
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _hold(self, request: web.Request) -> web.Response:
        await request.read()
        self.holding += 1
        self._changed.set()
        try:
            await self.release.wait()
        finally:
            self.holding -= 1
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._hold)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/slow"

    async def holding_at_least(self, count: int, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while self.holding < count:
                self._changed.clear()
                await self._changed.wait()

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def slow_receivers() -> AsyncIterator[SlowReceivers]:
    receivers = SlowReceivers()
    await receivers.start()
    yield receivers
    await receivers.stop()


async def time_to_complete(paycon: RunningPaycon, body: dict[str, Any], timeout_s: float) -> float:
    """Seconds from posting ``body`` as a deposit to its ``completed`` (fails past timeout_s)."""
    started = time.monotonic()
    status, _, answer = await paycon.post_json("/v1/deposits", body, key=f"k-{time.monotonic()}")
    assert status == 202, answer
    while True:
        _, tx = await paycon.get(f"/v1/transactions/{answer['id']}")
        elapsed = time.monotonic() - started
        if tx["status"] == "completed":
            return elapsed
        assert elapsed < timeout_s, f"still {tx['status']} after {elapsed:.1f} s"
        await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_slow_merchants_never_hold_up_gateway_submissions(
    db_path: Path, mock_gateways: MockGateways, slow_receivers: SlowReceivers
) -> None:
    settings = make_settings(
        db_path,
        gateways={
            "gateway_a": {"url": mock_gateways.url_a, "secret": GATEWAY_A_SECRET},
            "gateway_b": {"url": mock_gateways.url_b, "secret": GATEWAY_B_SECRET},
        },
        outbox={"workers": 4},
        notify={"deadline_s": 60},  # the receivers hold their connections all along
    )
    service = Service(settings)  # the real network: everything here is on loopback
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            paycon = RunningPaycon(service, http, db_path)
            body = {"customer_id": "cus_1", "amount": "10.00", "currency": "EUR", "country": "DE"}
            usual_s = await time_to_complete(paycon, body, timeout_s=10)
            for _ in range(8):
                await time_to_complete(paycon, {**body, "notify_url": slow_receivers.url}, 10)
            await slow_receivers.holding_at_least(8, timeout_s=10)
            # Eight merchants hold their connections, more than there are gateway workers.
            took_s = await time_to_complete(paycon, body, timeout_s=max(3.0, 5 * usual_s))
            assert slow_receivers.holding == 8
            assert took_s < max(3.0, 5 * usual_s)
    finally:
        await slow_receivers.stop()
        await service.stop()
