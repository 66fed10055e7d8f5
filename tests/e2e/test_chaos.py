"""The short chaos run: paycon SIGKILLed 3 times under every gateway fault, then checked.

The full run is ``make chaos`` (``python -m tests.chaos``); this one keeps
each fault phase a few seconds so ``make test`` stays quick. Every wait in it
is for an event, with a generous deadline.
"""

from __future__ import annotations

import re

import pytest

from tests.chaos.run import ChaosOptions, run_chaos

SHORT = ChaosOptions(
    seed=20261203, kills=3, duration_s=16.0, outage_s=3.0, rate_per_s=10.0, settle_timeout_s=120.0
)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_paycon_survives_kills_and_misbehaving_gateways() -> None:
    report = await run_chaos(SHORT, out=lambda line: None)
    assert report.passed, "\n".join(report.lines)
    names = [check.name for check in report.checks if check.ok]
    assert names == [
        "settled",
        "kills",
        "accepted",
        "final",
        "held",
        "charges",
        "balances",
        "outbox",
        "reconcile",
        "ledger",
        "logs",
    ]
    # Not vacuous: the gateways' misbehaviours reached paycon and held payments.
    [held] = [check.numbers for check in report.checks if check.name == "held"]
    match = re.match(r"(\d+) held, (\d+) expected", held)
    assert match is not None, held
    assert int(match[1]) > 0, held
