"""Every failure of a call comes out as the error class that tells the caller what to do."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import httpx
import pytest
import respx
from aiohttp.client_reqrep import ConnectionKey

from gateways import (
    DECLINE_CODES,
    GatewayAmbiguous,
    GatewayConfig,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayProtocolError,
    GatewayRequestRefused,
    GatewayServerError,
    GatewayTransient,
    RetryPolicy,
)
from gateways.classify import parse_retry_after, status_error, transport_error, transport_verdict
from gateways.errors import Operation
from gateways.registry import build_gateway
from tests.unit.gateways.conftest import GatewayFactory, submit_request
from tests.unit.gateways.wires import Wire

NO_RETRY = RetryPolicy(max_tries=1)


def chained(exc: httpx.TransportError, cause: Exception) -> httpx.TransportError:
    """``exc`` as httpx-aiohttp raises it: with the aiohttp error as its cause."""
    exc.__cause__ = cause
    return exc


def refused() -> aiohttp.ClientConnectorError:
    key = ConnectionKey("127.0.0.1", 9, False, True, None, None, None, None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connect call failed"))


# What httpx-aiohttp actually raises for each aiohttp failure (it maps every
# ClientConnectionError to ConnectTimeout), next to httpx's own exceptions.
# Factories, because raising an exception rewrites its __cause__.
TRANSPORT_FAILURES: list[tuple[str, Callable[[], Exception], str]] = [
    ("httpx connect error", lambda: httpx.ConnectError("refused"), "not_reached"),
    ("httpx connect timeout", lambda: httpx.ConnectTimeout("slow"), "not_reached"),
    ("httpx pool timeout", lambda: httpx.PoolTimeout("busy"), "not_reached"),
    ("httpx proxy error", lambda: httpx.ProxyError("proxy"), "not_reached"),
    ("httpx read timeout", lambda: httpx.ReadTimeout("slow"), "ambiguous"),
    ("httpx read error", lambda: httpx.ReadError("reset"), "ambiguous"),
    ("httpx remote protocol", lambda: httpx.RemoteProtocolError("dropped"), "ambiguous"),
    ("httpx write error", lambda: httpx.WriteError("broken pipe"), "ambiguous"),
    ("httpx write timeout", lambda: httpx.WriteTimeout("slow"), "ambiguous"),
    (
        "aiohttp refused",
        lambda: chained(httpx.ConnectTimeout("refused"), refused()),
        "not_reached",
    ),
    (
        "aiohttp connect timeout",
        lambda: chained(httpx.ConnectTimeout("t"), aiohttp.ConnectionTimeoutError("t")),
        "not_reached",
    ),
    (
        "aiohttp reset after sending",
        lambda: chained(httpx.ConnectTimeout("reset"), aiohttp.ClientOSError(104, "reset")),
        "ambiguous",
    ),
    (
        "aiohttp disconnected",
        lambda: chained(httpx.ConnectTimeout("gone"), aiohttp.ServerDisconnectedError()),
        "ambiguous",
    ),
    (
        "aiohttp read timeout",
        lambda: chained(httpx.ReadTimeout("slow"), aiohttp.SocketTimeoutError("slow")),
        "ambiguous",
    ),
    (
        "aiohttp payload",
        lambda: chained(httpx.ReadError("cut"), aiohttp.ClientPayloadError()),
        "ambiguous",
    ),
]
FAILURE_IDS = [label for label, _, _ in TRANSPORT_FAILURES]
FAILURE_CASES = [(make, verdict) for _, make, verdict in TRANSPORT_FAILURES]


class RaisingTransport(httpx.AsyncBaseTransport):
    """Raises a fresh exception for every request, its cause intact (respx replaces causes)."""

    def __init__(self, make_exc: Callable[[], Exception]) -> None:
        self._make_exc = make_exc
        self.raised: list[Exception] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exc = self._make_exc()
        self.raised.append(exc)
        raise exc


@pytest.mark.parametrize(("make_exc", "verdict"), FAILURE_CASES, ids=FAILURE_IDS)
def test_transport_failures_are_judged_by_what_really_happened(
    make_exc: Callable[[], Exception], verdict: str
) -> None:
    assert transport_verdict(make_exc()) == verdict


@pytest.mark.parametrize(("make_exc", "verdict"), FAILURE_CASES, ids=FAILURE_IDS)
async def test_a_submit_transport_failure_raises_the_matching_class_chained(
    wire: Wire, make_exc: Callable[[], Exception], verdict: str
) -> None:
    transport = RaisingTransport(make_exc)
    expected = GatewayNotReached if verdict == "not_reached" else GatewayAmbiguous
    config = GatewayConfig(
        name=wire.name,
        base_url=wire.base_url,
        secret="s",
        protocol=wire.protocol,
        retry=NO_RETRY,
    )

    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(expected) as caught:
            await build_gateway(config, client).submit(submit_request())

    assert type(caught.value) is expected
    assert caught.value.__cause__ is transport.raised[-1]
    assert (caught.value.gateway, caught.value.operation) == (wire.name, "submit")


async def test_a_lost_status_answer_is_transient_not_ambiguous(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.status_route(router, "tx-1").mock(side_effect=httpx.ReadTimeout("slow"))

    with pytest.raises(GatewayTransient) as caught:
        await make_gateway(wire, retry=NO_RETRY).status("tx-1")

    assert caught.value.operation == "status"


async def test_an_unroutable_name_is_not_reached(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    # What a DNS failure looks like to httpx; no name is ever resolved here.
    wire.submit_route(router).mock(
        side_effect=httpx.ConnectError("[Errno -2] Name or service not known")
    )

    with pytest.raises(GatewayNotReached, match="Name or service not known"):
        await make_gateway(wire, retry=NO_RETRY).submit(submit_request())


# What the caller must do for each answer; the documented decline codes are in DECLINE_CODES.
SUBMIT_TABLE: list[tuple[int, str, type[GatewayError]]] = [
    (500, "internal_error", GatewayServerError),
    (502, "bad_gateway", GatewayServerError),
    (503, "service_unavailable", GatewayServerError),
    (504, "gateway_timeout", GatewayServerError),
    (507, "some_code", GatewayServerError),
    (429, "slow_down", GatewayTransient),
    (408, "request_timeout", GatewayTransient),
    (401, "unauthorized", GatewayCredentialsRefused),
    (403, "forbidden", GatewayCredentialsRefused),
    (403, "declined", GatewayCredentialsRefused),  # a decline code does not make it a decline
    (400, "invalid_amount", GatewayRequestRefused),
    (404, "not_found", GatewayRequestRefused),
    (409, "conflicting_repeat", GatewayRequestRefused),
    (413, "too_large", GatewayRequestRefused),
    (422, "some_code", GatewayRequestRefused),
    (422, "currency_not_supported", GatewayDeclined),
    (400, "declined", GatewayDeclined),
    (402, "amount_limit_exceeded", GatewayDeclined),
    (302, "moved", GatewayProtocolError),
]
STATUS_TABLE: list[tuple[int, str, type[GatewayError]]] = [
    (500, "internal_error", GatewayTransient),
    (503, "service_unavailable", GatewayTransient),
    (429, "slow_down", GatewayTransient),
    (401, "unauthorized", GatewayCredentialsRefused),
    (403, "forbidden", GatewayCredentialsRefused),
    (400, "invalid_transaction_id", GatewayRequestRefused),
    (422, "declined", GatewayRequestRefused),  # a read declines nothing
    (302, "moved", GatewayProtocolError),
]


@pytest.mark.parametrize(("status_code", "code", "expected"), SUBMIT_TABLE)
async def test_each_answer_to_a_submit_raises_its_class(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    status_code: int,
    code: str,
    expected: type[GatewayError],
) -> None:
    route = wire.submit_route(router).mock(return_value=wire.error(status_code, code, "msg"))

    with pytest.raises(expected) as caught:
        await make_gateway(wire).submit(submit_request())

    assert type(caught.value) is expected
    assert not isinstance(caught.value, GatewayNotReached)  # an answer came: it arrived
    assert route.call_count == 1  # and nothing that arrived is retried within the attempt


@pytest.mark.parametrize(("status_code", "code", "expected"), STATUS_TABLE)
async def test_each_answer_to_a_status_read_raises_its_class(
    wire: Wire,
    router: respx.MockRouter,
    make_gateway: GatewayFactory,
    status_code: int,
    code: str,
    expected: type[GatewayError],
) -> None:
    wire.status_route(router, "tx-1").mock(return_value=wire.error(status_code, code, "msg"))

    with pytest.raises(expected) as caught:
        await make_gateway(wire).status("tx-1")

    assert type(caught.value) is expected


@pytest.mark.parametrize(
    ("operation", "status_code", "code", "expected"),
    [("submit", *row) for row in SUBMIT_TABLE] + [("status", *row) for row in STATUS_TABLE],
)
def test_the_rules_are_pure(
    operation: Operation, status_code: int, code: str, expected: type[GatewayError]
) -> None:
    error = status_error(status_code, gateway="gw", operation=operation, code=code, message="m")

    assert type(error) is expected
    assert (error.gateway, error.operation) == ("gw", operation)


async def test_a_503_to_a_submit_is_ambiguous_never_grounds_for_failover(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    response = wire.error(503, "service_unavailable", "down for maintenance")
    response.headers["Retry-After"] = "5"
    route = wire.submit_route(router).mock(return_value=response)

    with pytest.raises(GatewayServerError) as caught:
        await make_gateway(wire).submit(submit_request())

    assert isinstance(caught.value, GatewayAmbiguous)
    assert (caught.value.status_code, caught.value.retry_after_s) == (503, 5.0)
    assert route.call_count == 1


@pytest.mark.parametrize("code", sorted(DECLINE_CODES))
async def test_a_documented_decline_says_whether_another_gateway_may_try(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory, code: str
) -> None:
    wire.submit_route(router).mock(return_value=wire.error(422, code, "not here"))

    with pytest.raises(GatewayDeclined) as caught:
        await make_gateway(wire).submit(submit_request())

    assert caught.value.reason == code
    assert caught.value.retry_elsewhere is DECLINE_CODES[code]
    assert caught.value.status_code == 422
    assert "not here" in str(caught.value)


def test_only_what_a_gateway_does_not_serve_lets_another_try() -> None:
    elsewhere = {code for code, allowed in DECLINE_CODES.items() if allowed}

    assert elsewhere == {
        "currency_not_supported",
        "country_not_supported",
        "type_not_supported",
        "amount_limit_exceeded",
    }
    assert DECLINE_CODES["declined"] is False


async def test_a_refused_request_carries_the_gateways_code(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(
        return_value=wire.error(400, "invalid_amount", "Amount must be a plain decimal")
    )

    with pytest.raises(GatewayRequestRefused) as caught:
        await make_gateway(wire).submit(submit_request())

    assert (caught.value.code, caught.value.status_code) == ("invalid_amount", 400)
    assert "Amount must be a plain decimal" in str(caught.value)


async def test_a_conflicting_repeat_is_refused_not_declined(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(
        return_value=wire.error(409, "conflicting_repeat", "tx-1 was submitted with 10.00 EUR")
    )

    with pytest.raises(GatewayRequestRefused) as caught:
        await make_gateway(wire).submit(submit_request())

    assert (caught.value.code, caught.value.status_code) == ("conflicting_repeat", 409)


async def test_an_error_body_that_cannot_be_read_still_gives_a_code(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    wire.submit_route(router).mock(return_value=httpx.Response(400, content=b"<html>nope"))

    with pytest.raises(GatewayRequestRefused) as caught:
        await make_gateway(wire).submit(submit_request())

    assert caught.value.code == "http_400"


@pytest.mark.parametrize("status_code", [401, 403])
async def test_refused_credentials_are_their_own_error_not_a_decline(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory, status_code: int
) -> None:
    wire.submit_route(router).mock(return_value=wire.error(status_code, "unauthorized", "no"))

    with pytest.raises(GatewayCredentialsRefused) as caught:
        await make_gateway(wire).submit(submit_request())

    assert caught.value.status_code == status_code
    assert "credentials" in str(caught.value)


async def test_retry_after_is_passed_on(
    wire: Wire, router: respx.MockRouter, make_gateway: GatewayFactory
) -> None:
    response = wire.error(429, "slow_down", "too many requests")
    response.headers["Retry-After"] = "7"
    wire.submit_route(router).mock(return_value=response)

    with pytest.raises(GatewayTransient) as caught:
        await make_gateway(wire).submit(submit_request())

    assert (caught.value.status_code, caught.value.retry_after_s) == (429, 7.0)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_retry_after_as_a_date_counts_from_now_by_default() -> None:
    in_an_hour = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)

    waited_s = parse_retry_after(in_an_hour)

    assert waited_s is not None
    assert 3500 < waited_s <= 3600


@pytest.mark.parametrize(
    ("operation", "last_5xx"), [("submit", GatewayServerError), ("status", GatewayTransient)]
)
def test_a_status_past_599_is_no_server_error_but_an_answer_that_makes_no_sense(
    operation: Operation, last_5xx: type[GatewayError]
) -> None:
    def classed(status_code: int) -> type[GatewayError]:
        error = status_error(status_code, gateway="gw", operation=operation, code="x", message="")
        return type(error)

    assert classed(599) is last_5xx
    assert classed(600) is GatewayProtocolError


def test_each_error_says_which_gateway_operation_and_failure() -> None:
    """What the attempts log and the transaction's events show an operator."""
    not_reached = transport_error(httpx.ConnectError("refused"), gateway="gw", operation="submit")
    lost = transport_error(httpx.ReadTimeout("slow"), gateway="gw", operation="status")
    sent = transport_error(httpx.ReadTimeout("slow"), gateway="gw", operation="submit")
    moved = status_error(302, gateway="gw", operation="submit", code="moved", message="elsewhere")
    down = status_error(503, gateway="gw", operation="status", code=None, message="down")

    assert str(not_reached) == "gw submit: ConnectError: refused (never reached)"
    assert str(lost) == "gw status: ReadTimeout: slow"
    assert (type(lost), lost.gateway, lost.operation) == (GatewayTransient, "gw", "status")
    assert str(sent) == "gw submit: ReadTimeout: slow (sent; outcome unknown)"
    assert str(moved) == "gw submit: HTTP 302 moved: elsewhere"
    assert str(down) == "gw status: HTTP 503 http_503: down"


def test_a_gateways_long_message_is_cut_to_200_characters() -> None:
    def shown(message: str) -> str:
        error = status_error(400, gateway="gw", operation="submit", code="c", message=message)
        return str(error)

    assert "x" * 200 + " (refused" in shown("x" * 200)
    cut = shown("x" * 300)
    assert "x" * 199 + "… (refused" in cut
    assert "x" * 200 not in cut
    assert "a b c (refused" in shown("a\n  b\tc")


def test_protocol_errors_are_ambiguous_because_the_request_arrived() -> None:
    assert issubclass(GatewayProtocolError, GatewayAmbiguous)
