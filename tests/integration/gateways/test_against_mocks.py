"""The clients over real HTTP on loopback, against the real mock gateways and their faults."""

from __future__ import annotations

import asyncio
import socket
import time
from decimal import Decimal

import pytest

from gateways import (
    DECLINE_CODES,
    CallbackEvent,
    CallbackRejected,
    GatewayAmbiguous,
    GatewayAnswer,
    GatewayBreakerOpen,
    GatewayConfig,
    GatewayCredentialsRefused,
    GatewayDeclined,
    GatewayNotReached,
    GatewayRequestRefused,
    GatewayServerError,
    GatewayTransient,
    RetryPolicy,
    SubmitRequest,
    build_gateway,
    make_http_client,
)
from mock_gateways.faults import Faults
from tests.integration.gateways.conftest import READ_TIMEOUT_S, SetupFactory, Side
from tests.mock_gateway_fixtures import LOOPBACK, CallbackReceiver


def request_for(side: Side, transaction_id: str, amount: str = "10.50") -> SubmitRequest:
    return SubmitRequest(transaction_id, Decimal(amount), "EUR", "deposit", side.callback_url)


async def final_callback(side: Side, receiver: CallbackReceiver) -> CallbackEvent:
    """The first callback the receiver got, verified and parsed by the client."""
    (callback, *_) = await receiver.wait_for(1)
    return side.client.parse_callback(callback.body, callback.signature or None, now_s=time.time())


async def test_a_payment_goes_through_and_its_signed_callback_verifies(
    side: Side, callback_receiver: CallbackReceiver
) -> None:
    answer = await side.client.submit(request_for(side, "tx-happy"))
    event = await final_callback(side, callback_receiver)

    money = {"amount": Decimal("10.50"), "currency": "EUR"}
    assert answer == GatewayAnswer("tx-happy", "pending", **money)  # type: ignore[arg-type]
    assert (event.transaction_id, event.status, event.reason) == ("tx-happy", "success", None)
    assert (event.amount, event.currency) == (Decimal("10.50"), "EUR")
    assert event.event_id
    assert callback_receiver.received[0].path == f"/callbacks/{side.client.name}"
    assert await side.client.status("tx-happy") == GatewayAnswer("tx-happy", "success", **money)  # type: ignore[arg-type]
    (entry,) = side.mock.ledger.entries()
    assert (str(entry.request.amount), entry.request.currency, entry.charges) == ("10.50", "EUR", 1)


async def test_a_repeat_submission_answers_the_current_state_and_charges_once(
    side: Side, callback_receiver: CallbackReceiver
) -> None:
    await side.client.submit(request_for(side, "tx-repeat"))
    await final_callback(side, callback_receiver)

    again = await side.client.submit(request_for(side, "tx-repeat"))

    assert again.status == "success"
    (entry,) = side.mock.ledger.entries()
    assert (entry.submissions, entry.charges) == (2, 1)


async def test_status_of_a_payment_the_gateway_never_saw_is_none(side: Side) -> None:
    assert await side.client.status("tx-never-sent") is None


async def test_a_repeat_with_other_terms_is_refused_not_declined(side: Side) -> None:
    await side.client.submit(request_for(side, "tx-conflict", amount="10.00"))

    with pytest.raises(GatewayRequestRefused) as caught:
        await side.client.submit(request_for(side, "tx-conflict", amount="99.00"))

    assert (caught.value.code, caught.value.status_code) == ("conflicting_repeat", 409)


async def test_a_request_the_gateway_cannot_take_is_refused_not_declined(side: Side) -> None:
    # The mocks take at most 8 decimal places; ours does not pretend to know that.
    with pytest.raises(GatewayRequestRefused) as caught:
        await side.client.submit(request_for(side, "tx-precise", amount="0.123456789"))

    assert (caught.value.code, caught.value.status_code) == ("invalid_amount", 400)
    assert side.mock.ledger.entries() == []


async def test_concurrent_submissions_share_one_client(side: Side) -> None:
    answers = await asyncio.gather(
        *(side.client.submit(request_for(side, f"tx-many-{n}")) for n in range(40))
    )

    assert {answer.status for answer in answers} == {"pending"}
    assert len(side.mock.ledger.entries()) == 40
    assert side.client.recent_stats().success_rate == 1.0


async def test_an_outage_answering_503_is_ambiguous_the_answer_proves_nothing(
    start_setup: SetupFactory, which: str
) -> None:
    side = (await start_setup(faults=Faults(callback_delay_ms=10, outage="503"))).sides[which]

    with pytest.raises(GatewayServerError) as caught:
        await side.client.submit(request_for(side, "tx-503"))
    with pytest.raises(GatewayTransient):
        await side.client.status("tx-503")

    assert caught.value.status_code == 503
    assert side.mock.ledger.entries() == []  # this time; a ghost 503 looks the same


async def test_a_ghost_503_was_recorded_and_its_status_says_so(
    start_setup: SetupFactory, which: str, callback_receiver: CallbackReceiver
) -> None:
    side = (await start_setup(faults=Faults(callback_delay_ms=10, ghost_503_rate=1.0))).sides[which]

    with pytest.raises(GatewayServerError) as caught:
        await side.client.submit(request_for(side, "tx-ghost"))
    event = await final_callback(side, callback_receiver)
    known = await side.client.status("tx-ghost")

    assert caught.value.status_code == 503
    assert known is not None
    assert (known.status, known.amount) == ("success", Decimal("10.50"))
    assert event.status == "success"
    (entry,) = side.mock.ledger.entries()
    assert (entry.charges, entry.injected["ghost_503"]) == (1, 1)


async def test_a_port_where_nothing_listens_is_not_reached(which: str) -> None:
    with socket.socket() as probe:  # a loopback port that was free a moment ago
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    config = GatewayConfig(
        name=which,
        base_url=f"http://{LOOPBACK}:{port}",
        secret="s",
        protocol="json" if which == "gateway_a" else "xml",
        retry=RetryPolicy(max_tries=2, initial_wait_s=0.01),
    )
    request = SubmitRequest("tx-refused", Decimal("1"), "EUR", "deposit", "http://127.0.0.1:9/")

    async with make_http_client(connect_timeout_s=1.0) as client:
        with pytest.raises(GatewayNotReached) as caught:
            await build_gateway(config, client).submit(request)

    assert "never reached" in str(caught.value)


async def test_an_outage_resetting_connections_is_ambiguous_then_the_breaker_opens(
    start_setup: SetupFactory, which: str
) -> None:
    # outage="refuse" accepts the connection, reads the request, then resets it:
    # from the client's side the request was sent, so the outcome is unknown
    # (a crashed gateway looks exactly like this). Once the breaker opens, calls
    # are refused before sending, and failing over becomes safe.
    faults = Faults(callback_delay_ms=10, outage="refuse")
    side = (await start_setup(faults=faults, fail_max=2)).sides[which]

    for n in range(2):
        with pytest.raises(GatewayAmbiguous):
            await side.client.submit(request_for(side, f"tx-reset-{n}"))
    with pytest.raises(GatewayBreakerOpen) as caught:
        await side.client.submit(request_for(side, "tx-reset-2"))

    assert isinstance(caught.value, GatewayNotReached)
    assert side.mock.ledger.entries() == []


async def test_a_gateway_error_is_ambiguous_even_when_nothing_was_recorded(
    start_setup: SetupFactory, which: str
) -> None:
    side = (await start_setup(faults=Faults(callback_delay_ms=10, error_rate=1.0))).sides[which]

    with pytest.raises(GatewayServerError) as caught:
        await side.client.submit(request_for(side, "tx-500"))

    assert caught.value.status_code == 500
    assert side.mock.ledger.entries() == []


async def test_a_timeout_after_recording_is_ambiguous_and_status_then_shows_the_payment(
    start_setup: SetupFactory, which: str
) -> None:
    faults = Faults(callback_delay_ms=10, timeout_rate=1.0, timeout_hang_ms=60_000)
    side = (await start_setup(faults=faults, read_timeout_s=0.3)).sides[which]

    started_s = time.monotonic()
    with pytest.raises(GatewayAmbiguous) as caught:
        await side.client.submit(request_for(side, "tx-hang"))
    elapsed_s = time.monotonic() - started_s
    side.mock.set_faults({"timeout_rate": 0.0})
    answer = await side.client.status("tx-hang")

    assert "sent; outcome unknown" in str(caught.value)
    assert elapsed_s < READ_TIMEOUT_S  # one read timeout, no blind retry
    assert answer is not None
    assert answer.status in {"pending", "success"}
    (entry,) = side.mock.ledger.entries()
    assert entry.submissions == 1


async def test_a_declined_payment_ends_in_failure_by_callback_and_by_status(
    start_setup: SetupFactory, which: str, callback_receiver: CallbackReceiver
) -> None:
    side = (await start_setup(faults=Faults(callback_delay_ms=10, decline_rate=1.0))).sides[which]

    answer = await side.client.submit(request_for(side, "tx-declined"))
    event = await final_callback(side, callback_receiver)

    assert answer.status == "pending"
    assert (event.status, event.reason) == ("failure", "declined")
    final = await side.client.status("tx-declined")
    assert final is not None
    assert final.status == "failure"
    assert side.mock.ledger.entries()[0].charges == 0


async def test_a_callback_signed_with_another_secret_is_rejected(
    start_setup: SetupFactory, which: str, callback_receiver: CallbackReceiver
) -> None:
    setup = await start_setup(secret_a="not-the-mocks-secret", secret_b="not-the-mocks-secret")
    side = setup.sides[which]

    await side.client.submit(request_for(side, "tx-forged"))
    with pytest.raises(CallbackRejected) as caught:
        await final_callback(side, callback_receiver)

    assert caught.value.reason == "mismatch"


async def test_a_healthy_gateway_reports_a_closed_breaker_and_recent_latency(
    side: Side,
) -> None:
    for n in range(3):
        await side.client.submit(request_for(side, f"tx-stats-{n}"))

    state, stats = side.client.breaker_state(), side.client.recent_stats()

    assert (state.state, state.failures, state.may_half_open_at) == ("closed", 0, None)
    assert (stats.calls, stats.success_rate) == (3, 1.0)
    assert stats.latency_p99_ms is not None
    assert 0 < stats.latency_p99_ms < 2_000


async def test_refused_credentials_are_not_a_decline_and_are_remembered_until_accepted(
    start_setup: SetupFactory, which: str
) -> None:
    setup = await start_setup(faults=Faults(callback_delay_ms=10, auth_failure=True), fail_max=5)
    side = setup.sides[which]

    with pytest.raises(GatewayCredentialsRefused) as submitted:
        await side.client.submit(request_for(side, "tx-auth"))
    with pytest.raises(GatewayCredentialsRefused):
        await side.client.status("tx-auth")
    refused_since = side.client.recent_stats().credentials_refused_since
    side.mock.set_faults({"auth_failure": False})
    answer = await side.client.submit(request_for(side, "tx-auth"))

    assert submitted.value.status_code == 401
    assert refused_since is not None
    assert answer.status == "pending"
    assert side.client.recent_stats().credentials_refused_since is None
    assert side.mock.injected_faults() == {"auth_failure": 2}
    (entry,) = side.mock.ledger.entries()
    assert entry.submissions == 1  # the refused one recorded nothing


async def test_a_skewed_callback_says_another_amount(
    start_setup: SetupFactory, which: str, callback_receiver: CallbackReceiver
) -> None:
    faults = Faults(callback_delay_ms=10, callback_amount_skew=1.0)
    side = (await start_setup(faults=faults)).sides[which]

    await side.client.submit(request_for(side, "tx-skew", amount="10.50"))
    event = await final_callback(side, callback_receiver)
    known = await side.client.status("tx-skew")

    assert (event.amount, event.currency) == (Decimal("10.51"), "EUR")
    assert known is not None
    assert known.amount == Decimal("10.50")  # the gateway's own record is not skewed


async def test_a_wrong_route_callback_verifies_only_as_the_other_gateway(
    start_setup: SetupFactory, which: str, callback_receiver: CallbackReceiver
) -> None:
    setup = await start_setup(faults=Faults(callback_delay_ms=10, callback_wrong_route=1.0))
    side = setup.sides[which]
    (other,) = (s for name, s in setup.sides.items() if name != which)

    await side.client.submit(request_for(side, "tx-misrouted"))
    (callback, *_) = await callback_receiver.wait_for(1)
    event = other.client.parse_callback(callback.body, callback.signature, now_s=time.time())

    assert callback.path == f"/callbacks/{other.client.name}"
    assert (event.transaction_id, event.status) == ("tx-misrouted", "success")
    with pytest.raises(CallbackRejected):
        side.client.parse_callback(callback.body, callback.signature, now_s=time.time())
    assert other.mock.ledger.entries() == []  # the other gateway never held it


async def test_a_late_failure_follows_the_success_with_a_new_event(
    start_setup: SetupFactory, which: str, callback_receiver: CallbackReceiver
) -> None:
    side = (await start_setup(faults=Faults(callback_delay_ms=10, late_failure_rate=1.0))).sides[
        which
    ]

    await side.client.submit(request_for(side, "tx-late"))
    first, second = await callback_receiver.wait_for(2)
    success, failure = (
        side.client.parse_callback(c.body, c.signature, now_s=time.time()) for c in (first, second)
    )
    known = await side.client.status("tx-late")

    assert (success.status, failure.status) == ("success", "failure")
    assert failure.event_id != success.event_id
    assert failure.reason == "late_failure"
    assert known is not None
    assert known.status == "failure"


@pytest.mark.parametrize("code", sorted(DECLINE_CODES))
async def test_the_mocks_decline_codes_are_the_documented_ones(
    start_setup: SetupFactory, which: str, code: str
) -> None:
    side = (await start_setup(faults=Faults(callback_delay_ms=10, submit_decline=code))).sides[
        which
    ]

    with pytest.raises(GatewayDeclined) as caught:
        await side.client.submit(request_for(side, "tx-declined-now"))

    assert (caught.value.reason, caught.value.status_code) == (code, 422)
    assert caught.value.retry_elsewhere is DECLINE_CODES[code]
    assert side.mock.ledger.entries() == []
