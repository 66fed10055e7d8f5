"""A seed makes every random choice repeat: same requests, same fates."""

from __future__ import annotations

from collections import Counter

import aiohttp

from tests.integration.mock_gateways.conftest import gateway_under_test
from tests.integration.mock_gateways.helpers import gather_limited
from tests.mock_gateway_fixtures import CallbackReceiver, MockGatewaysFactory

MIXED_FAULTS = {
    "error_rate": 0.3,
    "decline_rate": 0.3,
    "callback_drop_rate": 0.3,
    "callback_duplicate_rate": 0.3,
    "callback_delay_ms": 0,
}

Outcome = tuple[list[int], dict[str, tuple[str, int]]]


async def run_script(
    which: str,
    seed: int,
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> Outcome:
    """Sixty payments one after another; each request's answer and each payment's fate."""
    mocks = await start_mock_gateways(seed=seed)
    gateway = gateway_under_test(which, mocks, http, callback_receiver)
    await gateway.admin.set_faults(**MIXED_FAULTS)
    answers = [(await gateway.client.submit(f"tx-{n}")).http_status for n in range(60)]
    payments = await gateway.admin.wait_callbacks_done(answers.count(200))
    fates = {tx: (entry["status"], entry["callbacks_sent"]) for tx, entry in payments.items()}
    await mocks.stop()
    return answers, fates


async def test_the_same_seed_gives_the_same_answers_and_fates(
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> None:
    for which in ("a", "b"):
        first = await run_script(which, 7, start_mock_gateways, http, callback_receiver)
        second = await run_script(which, 7, start_mock_gateways, http, callback_receiver)
        other = await run_script(which, 8, start_mock_gateways, http, callback_receiver)

        assert first == second
        assert first != other
        answers, fates = first
        assert {500, 200} == set(answers)  # the script really exercised the faults
        assert {status for status, _ in fates.values()} == {"success", "failure"}
        assert {sent for _, sent in fates.values()} == {0, 1, 2}


async def test_reset_replays_the_seeded_sequence(
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> None:
    mocks = await start_mock_gateways(seed=11)
    gateway = gateway_under_test("a", mocks, http, callback_receiver)
    await gateway.admin.set_faults(error_rate=0.5, callback_delay_ms=60_000)

    first = [(await gateway.client.submit(f"tx-{n}")).http_status for n in range(40)]
    await gateway.admin.reset()
    second = [(await gateway.client.submit(f"tx-{n}")).http_status for n in range(40)]

    assert first == second
    assert 0 < first.count(500) < 40


async def test_concurrent_seeded_runs_give_the_same_counts(
    start_mock_gateways: MockGatewaysFactory,
    http: aiohttp.ClientSession,
    callback_receiver: CallbackReceiver,
) -> None:
    counts = []
    for _ in range(2):
        mocks = await start_mock_gateways(seed=3)
        gateway = gateway_under_test("b", mocks, http, callback_receiver)
        await gateway.admin.set_faults(error_rate=0.3, callback_delay_ms=60_000)
        answers = await gather_limited(gateway.client.submit(f"tx-{n}") for n in range(300))
        counts.append(Counter(answer.http_status for answer in answers))
        await mocks.stop()

    assert counts[0] == counts[1]
