"""Payments from acceptance to a final status, against the real mock gateways on loopback."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateways.errors import CallbackRejected
from gateways.signatures import sign, verify
from mock_gateways.faults import Faults
from mock_gateways.server import MockGateways
from paycon.logs import setup_logging
from paycon.runtime.service import Service
from tests.mock_gateway_fixtures import (
    GATEWAY_A_SECRET,
    GATEWAY_B_SECRET,
    CallbackReceiver,
    MockGatewaysFactory,
)
from tests.paycon_fixtures import (
    CLIENT_KEY,
    OPERATOR_KEY,
    WEBHOOK_SECRET,
    RunningPaycon,
    make_settings,
)

IBAN = "DE89370400440532013000"
StartPaycon = Callable[..., Awaitable[RunningPaycon]]


@pytest.fixture
async def start_paycon(db_path: Path) -> AsyncIterator[StartPaycon]:
    """A factory: paycon wired to the given mock gateways, stopped after the test."""
    running: list[tuple[Service, aiohttp.ClientSession]] = []

    async def start(
        mocks: MockGateways,
        *,
        outbox: dict[str, Any] | None = None,
        urls: dict[str, str] | None = None,
        **overrides: Any,
    ) -> RunningPaycon:
        urls = {"gateway_a": mocks.url_a, "gateway_b": mocks.url_b, **(urls or {})}
        settings = make_settings(
            db_path,
            gateways={
                "gateway_a": {"url": urls["gateway_a"], "secret": GATEWAY_A_SECRET},
                "gateway_b": {"url": urls["gateway_b"], "secret": GATEWAY_B_SECRET},
            },
            outbox={
                "workers": 4,
                "retry_base_s": 0.05,
                "retry_max_s": 0.2,
                "status_check_after_s": 0.3,
                **(outbox or {}),
            },
            breaker={"fail_max": 3, "reset_s": 0.5},
            gateway_http={"read_timeout_s": 0.5},
            **overrides,
        )
        service = Service(settings)
        await service.start()
        http = aiohttp.ClientSession()
        running.append((service, http))
        return RunningPaycon(service, http, db_path)

    yield start
    for service, http in running:
        await http.close()
        await service.stop()


async def wait_for_status(
    paycon: RunningPaycon, transaction_id: str, wanted: str, timeout_s: float = 15
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        _, body = await paycon.get(f"/v1/transactions/{transaction_id}")
        if body["status"] == wanted or time.monotonic() > deadline:
            assert body["status"] == wanted, (
                body["id"],
                body["gateway"],
                body["review"],
                [e["detail"] for e in body["events"]],
            )
            return dict(body)
        await asyncio.sleep(0.05)


def deposit(amount: str = "100.00", **extra: Any) -> dict[str, Any]:
    return {"customer_id": "cus_1", "amount": amount, "currency": "EUR", "country": "DE", **extra}


def withdrawal(amount: str, **extra: Any) -> dict[str, Any]:
    return {**deposit(amount), "destination": {"iban": IBAN, "holder": "Jane Doe"}, **extra}


async def balances(paycon: RunningPaycon) -> list[dict[str, str]]:
    _, body = await paycon.get("/v1/customers/cus_1/balances")
    return list(body["balances"])


@pytest.mark.parametrize("gateway", ["gateway_a", "gateway_b"])
async def test_deposit_then_withdrawal_complete_and_settle(
    mock_gateways: MockGateways, start_paycon: StartPaycon, gateway: str
) -> None:
    paycon = await start_paycon(mock_gateways)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(gateway=gateway), key="d1")
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert [e["type"] for e in done["events"]][:3] == ["accepted", "submitted", "completed"]
    assert await balances(paycon) == [{"currency": "EUR", "available": "100.00", "held": "0.00"}]

    status, _, wd = await paycon.post_json(
        "/v1/withdrawals", withdrawal("30.00", gateway=gateway), key="w1"
    )
    assert status == 202
    await wait_for_status(paycon, wd["id"], "completed")
    assert await balances(paycon) == [{"currency": "EUR", "available": "70.00", "held": "0.00"}]
    ledger = mock_gateways.gateway_a if gateway == "gateway_a" else mock_gateways.gateway_b
    charged = {p.request.transaction_id: p.charges for p in ledger.ledger.entries()}
    assert charged == {dep["id"]: 1, wd["id"]: 1}


async def test_declined_withdrawal_fails_and_releases_the_hold(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways()
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    await wait_for_status(paycon, dep["id"], "completed")
    mocks.gateway_a.set_faults({"decline_rate": 1.0})
    _, _, wd = await paycon.post_json("/v1/withdrawals", withdrawal("40.00"), key="w1")
    failed = await wait_for_status(paycon, wd["id"], "failed")
    assert failed["failure_reason"]
    assert await balances(paycon) == [{"currency": "EUR", "available": "100.00", "held": "0.00"}]


async def test_lost_callbacks_are_made_up_for_by_status_checks(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, callback_drop_rate=1))
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert "status check via gateway_a" in json.dumps(done["events"])


async def test_a_gateway_nothing_listens_on_fails_over_to_b(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways()
    # Nothing listens on port 9 of the loopback: the connection is refused, nothing was sent.
    paycon = await start_paycon(mocks, urls={"gateway_a": "http://127.0.0.1:9"})
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert done["gateway"] == "gateway_b"
    assert "failover" in [e["type"] for e in done["events"]]
    assert mocks.gateway_a.ledger.entries() == []


async def test_a_503_outage_never_moves_the_payment_to_another_gateway(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    # A 503 proves the request arrived somewhere: the payment stays with A until A answers.
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, outage="503"))
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    # Each run sends to A again (it is idempotent on the id) and asks A's status.
    await wait_for_task(paycon, dep["id"], lambda t: len(t["attempts_log"]) >= 2)
    mocks.gateway_a.set_faults({"outage": False})
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert done["gateway"] == "gateway_a"
    assert "failover" not in [e["type"] for e in done["events"]]
    assert mocks.gateway_b.ledger.entries() == []


async def test_an_unreachable_only_gateway_defers_without_using_attempts(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways()
    paycon = await start_paycon(mocks, urls={"gateway_a": "http://127.0.0.1:9"})
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(gateway="gateway_a"), key="d1")
    # Failures open A's breaker; from then on the task waits for it instead of failing.
    detail = await wait_for_task(
        paycon, dep["id"], lambda t: "deferred" in [a["outcome"] for a in t["attempts_log"]]
    )
    # Waiting, or trying again now that the breaker lets a trial through; never dead.
    assert detail["state"] in ("pending", "running")
    assert detail["attempts"] < detail["max_attempts"]
    _, seen = await paycon.get("/v1/transactions/" + dep["id"])
    assert (seen["status"], seen["gateway"]) == ("pending", "gateway_a")


async def test_duplicate_and_reordered_callbacks_apply_once(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(
        faults_a=Faults(callback_delay_ms=10, callback_duplicate_rate=1, callback_reorder=True)
    )
    paycon = await start_paycon(mocks)
    ids = []
    for i in range(5):
        _, _, dep = await paycon.post_json("/v1/deposits", deposit("10.00"), key=f"d{i}")
        ids.append(dep["id"])
    for transaction_id in ids:
        await wait_for_status(paycon, transaction_id, "completed")
    # Wait for the stale "pending" after each success to be stored, not for a guessed time.
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(paycon.db_path) as conn:
            outcomes = dict(conn.execute("SELECT outcome, count(*) FROM callback_inbox GROUP BY 1"))
        if outcomes.get("backwards", 0) >= 5 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert outcomes.get("backwards", 0) == 5, outcomes
    assert await balances(paycon) == [{"currency": "EUR", "available": "50.00", "held": "0.00"}]


async def test_timeouts_never_charge_twice(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    """A timed-out submit may have charged: paycon keeps asking that gateway and never
    sends the payment to the next one of its route, although both serve it."""
    # gateway_a records and charges the payment, then keeps every answer back past paycon's
    # read timeout; its callbacks are lost, so only asking gateway_a can settle the payment.
    mocks = await start_mock_gateways(
        faults_a=Faults(
            callback_delay_ms=10, callback_drop_rate=1, timeout_rate=1, timeout_hang_ms=2000
        )
    )
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    # The first run ended: its submit timed out (ambiguous), and so did its status check.
    first = await wait_for_task(paycon, dep["id"], lambda t: bool(t["attempts_log"]))
    mocks.gateway_a.set_faults({"timeout_rate": 0})
    done = await wait_for_status(paycon, dep["id"], "completed")

    assert charged_by(mocks, "gateway_a") == {dep["id"]: 1}
    assert charged_by(mocks, "gateway_b") == {}  # never sent there, so never charged there
    assert done["gateway"] == "gateway_a"
    assert [a["outcome"] for a in first["attempts_log"]] == ["retry"]


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("t=1,v1=00", 401),
        ("garbage", 401),
    ],
)
async def test_forged_callbacks_are_refused_and_change_nothing(
    mock_gateways: MockGateways, start_paycon: StartPaycon, header: str | None, status: int
) -> None:
    paycon = await start_paycon(mock_gateways)
    body = json.dumps(
        {"eventId": "e1", "transactionId": "tx_x", "status": "success", "amount": "1.00",
         "currency": "EUR"}
    ).encode()  # fmt: skip
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Signature"] = header
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_a", data=body, headers=headers
    ) as response:
        assert response.status == status
    with sqlite3.connect(paycon.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM callback_inbox").fetchone()[0] == 0


async def test_signed_callback_for_an_unknown_transaction_is_stored_and_404(
    mock_gateways: MockGateways, start_paycon: StartPaycon
) -> None:
    paycon = await start_paycon(mock_gateways)
    body = json.dumps(
        {"eventId": "e1", "transactionId": "tx_x", "status": "success", "amount": "1.00",
         "currency": "EUR"}
    ).encode()  # fmt: skip
    headers = {"X-Signature": sign(GATEWAY_A_SECRET, body, int(time.time()))}
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_a", data=body, headers=headers
    ) as response:
        assert response.status == 404
    stale = {"X-Signature": sign(GATEWAY_A_SECRET, body, int(time.time()) - 301)}
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_a", data=body, headers=stale
    ) as response:
        assert response.status == 401
    with sqlite3.connect(paycon.db_path) as conn:
        rows = conn.execute("SELECT outcome FROM callback_inbox").fetchall()
    assert rows == [("unknown_transaction",)]


async def wait_for_event(
    paycon: RunningPaycon, transaction_id: str, event_type: str, timeout_s: float = 15
) -> dict[str, Any]:
    """The transaction once its timeline holds ``event_type`` (committed, not merely sent)."""
    deadline = time.monotonic() + timeout_s
    while True:
        _, body = await paycon.get(f"/v1/transactions/{transaction_id}")
        types = [event["type"] for event in body["events"]]
        if event_type in types or time.monotonic() > deadline:
            assert event_type in types, body
            return dict(body)
        await asyncio.sleep(0.05)


async def test_merchant_is_notified_signed_and_retried(
    mock_gateways: MockGateways, start_paycon: StartPaycon, callback_receiver: CallbackReceiver
) -> None:
    paycon = await start_paycon(mock_gateways)
    callback_receiver.fail_next(2, status=503)
    _, _, dep = await paycon.post_json(
        "/v1/deposits", deposit(notify_url=callback_receiver.url_for("/paycon")), key="d1"
    )
    # The receiver answers 200 before paycon commits the event: wait for the event.
    done = await wait_for_event(paycon, dep["id"], "merchant_notified")
    assert done["status"] == "completed"
    assert done["events"][-1]["type"] == "merchant_notified"
    received = callback_receiver.received
    assert [r.answered for r in received] == [503, 503, 200]
    notification = received[2]
    assert json.loads(notification.body)["status"] == "completed"
    headers = {name.lower(): value for name, value in notification.headers.items()}
    verify(
        WEBHOOK_SECRET, notification.body, headers["x-signature"], now_s=time.time(), gateway="-"
    )
    with pytest.raises(CallbackRejected):  # never signed with the merchant's API key
        verify(
            CLIENT_KEY, notification.body, headers["x-signature"], now_s=time.time(), gateway="-"
        )


async def test_gateways_show_the_breaker_opening(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=Faults(callback_delay_ms=10, outage="503"))
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(gateway="gateway_b"), key="d1")
    await wait_for_status(paycon, dep["id"], "completed")
    for i in range(3):  # pinned to A: each attempt fails until the breaker opens
        await paycon.post_json("/v1/deposits", deposit(gateway="gateway_a"), key=f"a{i}")
    deadline = time.monotonic() + 10
    while True:
        status, body = await paycon.get("/v1/gateways", token=OPERATOR_KEY)
        states = {g["name"]: g["breaker"]["state"] for g in body["gateways"]}
        if states["gateway_a"] != "closed" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert status == 200
    assert states["gateway_a"] in ("open", "half_open")
    assert states["gateway_b"] == "closed"
    a, b = body["gateways"]
    assert (a["protocol"], b["protocol"]) == ("json", "xml")
    assert a["recent"]["success_rate"] < 1
    assert b["recent"]["success_rate"] == 1


async def test_no_log_line_of_a_full_run_holds_the_account_number(
    mock_gateways: MockGateways, start_paycon: StartPaycon
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    setup_logging("DEBUG", stream)
    for name in ("sqlalchemy", "aiosqlite", "asyncio"):  # libraries' debug: not ours to judge
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        paycon = await start_paycon(mock_gateways)
        _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
        await wait_for_status(paycon, dep["id"], "completed")
        spaced = "DE89 3704 0044 0532 0130 00"
        body = {**withdrawal("10.00"), "destination": {"iban": spaced, "holder": "Jane Doe"}}
        _, _, wd = await paycon.post_json("/v1/withdrawals", body, key="w1")
        await wait_for_status(paycon, wd["id"], "completed")
        bad = {**body, "destination": {"iban": IBAN[:-1] + "1", "holder": "Jane Doe"}}
        await paycon.post_json("/v1/withdrawals", bad, key="w2")
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    logs = stream.getvalue()
    assert "payment" in logs or "outbox" in logs  # the run did log
    for secret in (IBAN, "DE89 3704 0044 0532 0130 00", "0532013000", "Jane Doe"):
        assert secret not in logs


async def test_metrics_expose_what_operators_alert_on(
    mock_gateways: MockGateways, start_paycon: StartPaycon
) -> None:
    paycon = await start_paycon(mock_gateways)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    await wait_for_status(paycon, dep["id"], "completed")
    async with paycon.http.get(paycon.url + "/metrics") as response:
        assert response.status == 200
        text = await response.text()
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert found[("paycon_transactions", (("status", "completed"),))] == 1
    route = (("method", "POST"), ("route", "/v1/deposits"), ("status", "202"))
    assert found[("paycon_http_requests_total", route)] == 1
    assert found[("paycon_gateway_breaker_state", (("gateway", "gateway_a"),))] == 0
    callbacks = (("gateway", "gateway_a"), ("outcome", "apply"))
    assert found[("paycon_callbacks_total", callbacks)] == 1
    assert ("paycon_outbox_tasks", (("state", "pending"),)) in found


async def test_malformed_callback_is_400_and_stores_nothing(
    mock_gateways: MockGateways, start_paycon: StartPaycon
) -> None:
    paycon = await start_paycon(mock_gateways)
    body = b'{"eventId": "e1", "transactionId": '
    headers = {"X-Signature": sign(GATEWAY_A_SECRET, body, int(time.time()))}
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_a", data=body, headers=headers
    ) as response:
        assert response.status == 400
    hostile = b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY x "y">]><Callback>&x;</Callback>'
    headers = {"X-Signature": sign(GATEWAY_B_SECRET, hostile, int(time.time()))}
    async with paycon.http.post(
        paycon.url + "/v1/callbacks/gateway_b", data=hostile, headers=headers
    ) as response:
        assert response.status == 400
    with sqlite3.connect(paycon.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM callback_inbox").fetchone()[0] == 0


async def operator_post(paycon: RunningPaycon, path: str, reason: str) -> dict[str, Any]:
    async with paycon.http.post(
        paycon.url + path,
        json={"reason": reason},
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
    ) as response:
        assert response.status == 200, await response.text()
        return dict(await response.json())


async def submit_task(paycon: RunningPaycon, transaction_id: str) -> dict[str, Any]:
    """The submit task that carries the transaction to the first gateway of its route."""
    _, tasks = await paycon.get(f"/v1/transactions/{transaction_id}/tasks", token=OPERATOR_KEY)
    return next(t for t in tasks["items"] if t["kind"] == "submit")


async def wait_for_task(
    paycon: RunningPaycon, transaction_id: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        task = await submit_task(paycon, transaction_id)
        _, detail = await paycon.get(f"/v1/outbox/tasks/{task['id']}", token=OPERATOR_KEY)
        if done(detail):
            return dict(detail)
        assert time.monotonic() < deadline, detail
        await asyncio.sleep(0.05)


def charged_by(mocks: MockGateways, gateway: str) -> dict[str, int]:
    mock = mocks.gateway_a if gateway == "gateway_a" else mocks.gateway_b
    return {p.request.transaction_id: p.charges for p in mock.ledger.entries()}


async def _a_disabled_after_its_outage(
    mocks: MockGateways, paycon: RunningPaycon
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two payments for A during its 503 outage, then A out of routing and every fault lifted:
    one payment whose task died after A answered 503 (A may hold it), replayed, and one that
    only ever waited for A's breaker (never sent)."""
    # A payment pinned to B dies opening B's breaker, and nothing calls B after it:
    # payments for A cannot fail over, so they wait for A.
    _, _, pinned = await paycon.post_json("/v1/deposits", deposit(gateway="gateway_b"), key="b")
    await wait_for_task(paycon, pinned["id"], lambda t: t["state"] == "dead")
    # One dies of A's outage; the next (A's breaker now open) waits without using attempts.
    _, _, dead = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    await wait_for_task(paycon, dead["id"], lambda t: t["state"] == "dead")
    _, _, waiting = await paycon.post_json("/v1/deposits", deposit(), key="d2")
    await wait_for_task(
        paycon, waiting["id"], lambda t: "deferred" in [a["outcome"] for a in t["attempts_log"]]
    )
    await operator_post(paycon, "/v1/gateways/gateway_a/disable", "A's maintenance")
    mocks.gateway_b.set_faults({"outage": False})
    # A could take both payments now; it must not, being out of routing.
    mocks.gateway_a.set_faults({"outage": False})
    dead_task = await submit_task(paycon, dead["id"])
    await operator_post(paycon, f"/v1/outbox/tasks/{dead_task['id']}/replay", "after the outage")
    return dead, waiting


OUTAGE_A = Faults(callback_delay_ms=10, outage="503")
OUTAGE_B = Faults(callback_delay_ms=10, outage="refuse")


async def test_payments_not_yet_at_a_disabled_gateway_go_to_the_next_one(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=OUTAGE_A, faults_b=OUTAGE_B)
    # A's "not known" proves the 503'd payment never reached it, once the margin has passed.
    paycon = await start_paycon(
        mocks, outbox={"max_attempts": 2}, review={"not_known_margin_s": 0.2}
    )
    dead, waiting = await _a_disabled_after_its_outage(mocks, paycon)
    for payment in (waiting, dead):
        done = await wait_for_status(paycon, payment["id"], "completed")
        assert done["gateway"] == "gateway_b"
        (failover,) = [e["detail"] for e in done["events"] if e["type"] == "failover"]
        assert "out of routing" in failover
    assert charged_by(mocks, "gateway_a") == {}
    assert charged_by(mocks, "gateway_b") == {waiting["id"]: 1, dead["id"]: 1}


async def test_a_not_known_inside_the_margin_does_not_move_the_payment(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=OUTAGE_A, faults_b=OUTAGE_B)
    paycon = await start_paycon(
        mocks, outbox={"max_attempts": 2}, review={"not_known_margin_s": 60}
    )
    dead, waiting = await _a_disabled_after_its_outage(mocks, paycon)
    # The payment that never reached A moves at once; the one A answered 503 for stays.
    done = await wait_for_status(paycon, waiting["id"], "completed")
    assert done["gateway"] == "gateway_b"
    task = await wait_for_task(
        paycon,
        dead["id"],
        lambda t: any("inside the margin" in (a["error_message"] or "")
                      for a in t["attempts_log"]),
    )  # fmt: skip
    assert task["state"] in ("pending", "running", "dead")
    _, stays = await paycon.get(f"/v1/transactions/{dead['id']}")
    assert (stays["status"], stays["gateway"]) == ("pending", "gateway_a")
    assert "failover" not in [e["type"] for e in stays["events"]]
    assert dead["id"] not in charged_by(mocks, "gateway_b")


# A records each payment but its answer never comes back (an ambiguous submit), and
# its callbacks are lost: only its answers to paycon's questions tell what it holds.
AMBIGUOUS_A = Faults(callback_drop_rate=1, timeout_rate=1, timeout_hang_ms=2000)


async def wait_until_recorded(mocks: MockGateways, transaction_id: str) -> None:
    deadline = time.monotonic() + 10
    while transaction_id not in charged_by(mocks, "gateway_a"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def test_a_gateway_that_may_hold_a_payment_keeps_it_when_it_goes_down(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon
) -> None:
    mocks = await start_mock_gateways(faults_a=AMBIGUOUS_A)
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    await wait_until_recorded(mocks, dep["id"])
    # Down now: the next submit provably does not reach A, but the first one may have.
    mocks.gateway_a.set_faults({"timeout_rate": 0, "outage": "503"})
    await wait_for_task(paycon, dep["id"], lambda t: len(t["attempts_log"]) >= 2)
    _, waiting = await paycon.get(f"/v1/transactions/{dep['id']}")
    assert (waiting["status"], waiting["gateway"]) == ("pending", "gateway_a")

    mocks.gateway_a.set_faults({"outage": False})
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert done["gateway"] == "gateway_a"
    assert charged_by(mocks, "gateway_a") == {dep["id"]: 1}
    assert charged_by(mocks, "gateway_b") == {}


@pytest.mark.parametrize(
    "asked_then",
    [{"timeout_rate": 1}, {"timeout_rate": 0, "outage": "503"}],
    ids=["status-answer-lost", "status-refused"],
)
async def test_a_payment_a_disabled_gateway_may_hold_stays_there(
    start_mock_gateways: MockGatewaysFactory, start_paycon: StartPaycon, asked_then: dict[str, Any]
) -> None:
    mocks = await start_mock_gateways(faults_a=AMBIGUOUS_A)
    paycon = await start_paycon(mocks)
    _, _, dep = await paycon.post_json("/v1/deposits", deposit(), key="d1")
    # Asked for the status right after, A cannot say (its answer lost, or A down).
    await wait_until_recorded(mocks, dep["id"])
    mocks.gateway_a.set_faults(asked_then)
    await wait_for_task(paycon, dep["id"], lambda t: len(t["attempts_log"]) > 0)

    await operator_post(paycon, "/v1/gateways/gateway_a/disable", "maintenance")
    mocks.gateway_a.set_faults({"timeout_rate": 0, "outage": False})
    done = await wait_for_status(paycon, dep["id"], "completed")
    assert done["gateway"] == "gateway_a"
    assert "failover" not in [e["type"] for e in done["events"]]
    assert charged_by(mocks, "gateway_a") == {dep["id"]: 1}
    assert charged_by(mocks, "gateway_b") == {}
