"""Settlement reports over real HTTP: what each day settled, its fees, and the faults in them.

The mocks here run on a clock the test holds, so every value date is known.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from mock_gateways.cli import faults_from
from mock_gateways.faults import parse_assignment
from mock_gateways.server import MockGateways
from mock_gateways.settlement import at_scale, settlement_fee
from tests.integration.mock_gateways.conftest import GatewayUnderTest, gateway_under_test
from tests.integration.mock_gateways.helpers import parse_flat_xml
from tests.mock_gateway_fixtures import (
    GATEWAY_A_SECRET,
    GATEWAY_B_SECRET,
    LOOPBACK,
    MOCK_SEED,
    QUICK_DELIVERY,
    QUICK_FAULTS,
    CallbackReceiver,
)

HEADER = [
    "gateway_reference",
    "transaction_id",
    "type",
    "gross",
    "fee",
    "net",
    "currency",
    "value_date",
]
DAY = date(2026, 3, 14)
Report = list[dict[str, str]]


class Clock:
    """Unix time that stands still until the test moves it."""

    def __init__(self, day: date) -> None:
        self.now_s = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now_s

    def next_day(self) -> None:
        self.now_s += 86_400


@pytest.fixture
def clock() -> Clock:
    return Clock(DAY)


@pytest.fixture
async def dated_mocks(clock: Clock) -> AsyncIterator[MockGateways]:
    """Both mocks on loopback, seeded, dating everything by ``clock``."""
    mocks = MockGateways(
        secret_a=GATEWAY_A_SECRET,
        secret_b=GATEWAY_B_SECRET,
        host=LOOPBACK,
        seed=MOCK_SEED,
        faults_a=QUICK_FAULTS,
        faults_b=QUICK_FAULTS,
        delivery=QUICK_DELIVERY,
        clock_s=clock,
    )
    async with mocks:
        yield mocks


@pytest.fixture(params=["a", "b"])
def dated(
    request: pytest.FixtureRequest,
    dated_mocks: MockGateways,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> GatewayUnderTest:
    """Each dated gateway in turn, calling back to ``callback_receiver``."""
    which: str = request.param
    return gateway_under_test(which, dated_mocks, http, callback_receiver)


async def fetch_report(
    http: aiohttp.ClientSession, base_url: str, query: str
) -> tuple[int, str, str]:
    """``GET /_mock/settlements`` with ``query``: HTTP status, content type, body text."""
    async with http.get(f"{base_url}/_mock/settlements{query}") as response:
        return response.status, response.content_type, await response.text()


async def report(gateway: GatewayUnderTest, http: aiohttp.ClientSession, day: date) -> Report:
    """The report for ``day``, checked to be CSV under the documented header, as dicts."""
    status, content_type, text = await fetch_report(http, gateway.base_url, f"?date={day}")
    assert (status, content_type) == (200, "text/csv"), text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADER
    assert text.endswith("\r\n")
    return [dict(zip(HEADER, row, strict=True)) for row in rows[1:]]


def by_transaction(lines: Report) -> dict[str, dict[str, str]]:
    found = {line["transaction_id"]: line for line in lines}
    assert len(found) == len(lines), lines  # one line per payment and day here
    return found


async def submit_under(gateway: GatewayUnderTest, transaction_id: str, **faults: object) -> None:
    """Submit one payment under ``faults``, switched back afterwards."""
    before = await gateway.admin.faults()
    await gateway.admin.set_faults(**faults)
    await gateway.client.submit(transaction_id)
    await gateway.admin.set_faults(**{name: before[name] for name in faults})


async def test_the_report_lists_exactly_the_days_settled_payments_with_fee_and_net(
    dated: GatewayUnderTest, http: aiohttp.ClientSession
) -> None:
    await submit_under(dated, "tx-declined", decline_rate=1.0)
    await submit_under(dated, "tx-pending", callback_delay_ms=600_000)
    await dated.admin.set_faults(settlement_fee_bps=150, settlement_fee_minor=25)
    await dated.client.submit("tx-eur", amount="100.00", currency="EUR")
    await dated.client.submit("tx-out", amount="20", currency="EUR", type="withdrawal")
    await dated.client.submit("tx-jpy", amount="1000", currency="JPY")
    await dated.client.submit("tx-kwd", amount="12.345", currency="KWD")
    await dated.client.submit("tx-small", amount="0.50", currency="EUR")
    payments = await dated.admin.wait_until(
        lambda payments: sum(entry["status"] != "pending" for entry in payments.values()) == 6
    )

    lines = by_transaction(await report(dated, http, DAY))

    assert set(lines) == {"tx-eur", "tx-out", "tx-jpy", "tx-kwd", "tx-small"}
    got = {
        tx: (line["type"], line["gross"], line["fee"], line["net"]) for tx, line in lines.items()
    }
    assert got == {
        "tx-eur": ("deposit", "100.00", "1.75", "98.25"),
        "tx-out": ("withdrawal", "20.00", "0.55", "-20.55"),
        "tx-jpy": ("deposit", "1000", "40", "960"),
        "tx-kwd": ("deposit", "12.345", "0.210", "12.135"),
        "tx-small": ("deposit", "0.50", "0.26", "0.24"),
    }
    for tx, line in lines.items():
        assert line["gateway_reference"] == payments[tx]["gateway_reference"]
        assert (line["currency"], line["value_date"]) == (payments[tx]["currency"], "2026-03-14")
    prefix = "GA" if dated.client.name == "gateway_a" else "GB"
    assert payments["tx-declined"]["gateway_reference"] == f"{prefix}0000000001"
    assert await report(dated, http, DAY - timedelta(days=1)) == []
    assert await report(dated, http, DAY + timedelta(days=1)) == []


class DayTurningReceiver:
    """A callback receiver that turns the clock to the next day on each success callback,
    before it answers: whatever the gateway does after that callback happens a day later."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, 0).start()
        self.url = f"http://{LOOPBACK}:{self._runner.addresses[0][1]}/callbacks"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.content_type == "application/json":
            status = json.loads(body)["status"]
        else:
            status = parse_flat_xml(body)[1]["status"]
        if status == "success":
            self._clock.next_day()
        return web.Response(text="ok")


@pytest.fixture
async def day_turning_receiver(clock: Clock) -> AsyncIterator[DayTurningReceiver]:
    receiver = DayTurningReceiver(clock)
    await receiver.start()
    yield receiver
    await receiver.stop()


def has_failed(transaction_id: str) -> Callable[[dict[str, dict[str, Any]]], bool]:
    return lambda payments: payments[transaction_id]["status"] == "failure"


async def test_a_reversal_is_a_line_on_the_day_the_success_failed(
    dated: GatewayUnderTest, http: aiohttp.ClientSession, day_turning_receiver: DayTurningReceiver
) -> None:
    await dated.admin.set_faults(late_failure_rate=1.0, settlement_fee_bps=100)

    for tx, kind in (("tx-in", "deposit"), ("tx-out", "withdrawal")):
        await dated.client.submit(
            tx, amount="50.00", type=kind, callback_url=day_turning_receiver.url
        )
        payments = await dated.admin.wait_until(has_failed(tx))
    day_1, day_2, day_3 = [await report(dated, http, DAY + timedelta(days=n)) for n in range(3)]

    def lines(report: Report) -> list[tuple[str, ...]]:
        return [
            (line["transaction_id"], line["type"], line["gross"], line["fee"], line["net"])
            for line in report
        ]

    assert lines(day_1) == [("tx-in", "deposit", "50.00", "0.50", "49.50")]
    assert lines(day_2) == [
        ("tx-in", "reversal", "50.00", "0.00", "-50.00"),
        ("tx-out", "withdrawal", "50.00", "0.50", "-50.50"),
    ]
    assert lines(day_3) == [("tx-out", "reversal", "50.00", "0.00", "50.00")]
    assert [line["value_date"] for line in day_1 + day_2 + day_3] == [
        "2026-03-14",
        "2026-03-15",
        "2026-03-15",
        "2026-03-16",
    ]
    references = {tx: entry["gateway_reference"] for tx, entry in payments.items()}
    assert day_2[0]["gateway_reference"] == day_1[0]["gateway_reference"] == references["tx-in"]
    assert day_3[0]["gateway_reference"] == day_2[1]["gateway_reference"] == references["tx-out"]
    assert (await dated.admin.ledger())["summary"]["injected_faults"] == {"late_failure": 2}


def with_fault(payments: dict[str, dict[str, Any]], fault: str) -> set[str]:
    return {tx for tx, entry in payments.items() if entry["injected_faults"].get(fault)}


async def test_seeded_report_faults_appear_as_counted(
    dated: GatewayUnderTest, http: aiohttp.ClientSession
) -> None:
    await dated.admin.set_faults(
        settle_unreported_rate=0.3, report_missing_rate=0.3, report_amount_skew_rate=0.3
    )
    for n in range(60):
        await dated.client.submit(f"tx-{n}", amount="10.00")
    payments = await dated.admin.wait_settled(60)
    ledger = await dated.admin.ledger()
    answers = {tx: (await dated.client.status(tx)).payment_status for tx in payments}

    lines = by_transaction(await report(dated, http, DAY))

    counted = ledger["summary"]["injected_faults"]
    missing = with_fault(payments, "report_missing")
    skewed = with_fault(payments, "report_amount_skew")
    unreported = with_fault(payments, "settle_unreported")
    assert all(count > 0 for count in (len(missing), len(skewed), len(unreported)))
    assert counted == {
        "report_missing": len(missing),
        "report_amount_skew": len(skewed),
        "settle_unreported": len(unreported),
    }
    assert set(lines) == set(payments) - missing
    assert {tx for tx, line in lines.items() if line["gross"] != "10.00"} == skewed
    assert {lines[tx]["gross"] for tx in skewed} == {"10.01"}
    assert all(line["net"] == line["gross"] and line["fee"] == "0.00" for line in lines.values())
    # Settled and charged, yet the gateway's answers and callbacks never say so.
    assert {tx for tx, said in answers.items() if said == "pending"} == unreported
    for tx in unreported:
        entry = payments[tx]
        assert (entry["status"], entry["reported_status"], entry["charges"]) == (
            "success",
            "pending",
            1,
        )
        assert entry["callbacks_sent"] == 0


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "missing_date"),
        ("?date=", "missing_date"),
        ("?date=2026-02-30", "invalid_date"),
        ("?date=2026-2-3", "invalid_date"),
        ("?date=14.03.2026", "invalid_date"),
        ("?date=2026-03-14T00:00:00", "invalid_date"),
        ("?date=%EF%BC%92026-03-14", "invalid_date"),
        ("?date=2026-03-14&date=2026-03-15", "invalid_date"),
    ],
)
async def test_a_bad_date_is_400_saying_what_a_date_looks_like(
    dated: GatewayUnderTest, http: aiohttp.ClientSession, query: str, code: str
) -> None:
    async with http.get(f"{dated.base_url}/_mock/settlements{query}") as response:
        body = await response.json()

    assert (response.status, body["error"]) == (400, code)
    assert "YYYY-MM-DD" in body["message"] or "calendar date" in body["message"]


async def test_a_day_without_settlements_is_the_header_alone(
    dated: GatewayUnderTest, http: aiohttp.ClientSession
) -> None:
    await dated.client.submit("tx-1")
    await dated.admin.wait_settled(1)

    status, content_type, text = await fetch_report(http, dated.base_url, "?date=2026-03-13")

    assert (status, content_type, text) == (200, "text/csv", ",".join(HEADER) + "\r\n")


async def test_reset_forgets_the_settlements(
    dated: GatewayUnderTest, http: aiohttp.ClientSession
) -> None:
    await dated.client.submit("tx-1")
    await dated.admin.wait_settled(1)
    assert len(await report(dated, http, DAY)) == 1

    await dated.admin.reset()

    assert await report(dated, http, DAY) == []


@pytest.mark.parametrize(
    ("gross", "currency", "fee_bps", "fee_minor", "fee"),
    [
        ("1.00", "EUR", 50, 0, "0.01"),  # half a cent rounds up
        ("0.99", "EUR", 50, 0, "0.00"),
        ("1000", "JPY", 5, 0, "1"),
        ("999", "JPY", 5, 0, "0"),
        ("12.345", "KWD", 150, 25, "0.210"),
        ("999999999999999999.99999999", "EUR", 10_000, 0, "1000000000000000000.00"),
        ("10.00", "EUR", 0, 0, "0.00"),
    ],
)
def test_the_fee_is_the_share_rounded_half_up_plus_the_fixed_part(
    gross: str, currency: str, fee_bps: int, fee_minor: int, fee: str
) -> None:
    got = settlement_fee(Decimal(gross), currency, fee_bps=fee_bps, fee_minor=fee_minor)

    assert at_scale(got, currency) == fee


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("10.5", "EUR", "10.50"),
        ("7", "JPY", "7"),
        ("1.5", "JPY", "1.5"),  # more decimals than the currency has: never rounded
        ("-20.55", "EUR", "-20.55"),
        ("-0.00", "EUR", "0.00"),
        ("0.001", "KWD", "0.001"),
    ],
)
def test_amounts_are_written_at_the_currencys_scale(
    amount: str, currency: str, written: str
) -> None:
    assert at_scale(Decimal(amount), currency) == written


def test_the_fee_settings_are_set_at_start_like_faults() -> None:
    assignments = [
        parse_assignment("settlement_fee_bps=150"),
        parse_assignment("settlement_fee_minor=25"),
    ]

    faults = faults_from(assignments)

    assert (faults.settlement_fee_bps, faults.settlement_fee_minor) == (150, 25)
