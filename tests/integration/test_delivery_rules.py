"""The submit handler's rules against gateways that answer as the test says (the Gateway
interface is the boundary), on a real paycon database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from gateways import (
    CallbackEvent,
    GatewayAnswer,
    GatewayBreakerOpen,
    GatewayDeclined,
    GatewayError,
    GatewayNotReached,
    GatewayRequestRefused,
    SubmitRequest,
)
from gateways.breaker import BreakerState, BreakerStateName
from gateways.stats import GatewayStats
from outbox import Defer, Done, Retry, Task
from outbox import tasks as outbox_tasks
from paycon.usecases.delivery import Delivery
from tests.integration.facade.support import deposit
from tests.paycon_fixtures import RunningPaycon

NOW = datetime.now(UTC)


@dataclass
class ScriptedGateway:
    """A gateway whose submit raises or answers what it is told; counts its calls."""

    name: str
    submit_error: GatewayError | None = None
    status_error: GatewayError | None = None
    breaker: BreakerStateName = "closed"
    submits: list[str] = field(default_factory=list)

    @property
    def protocol(self) -> str:
        return "json"

    async def submit(self, request: SubmitRequest) -> GatewayAnswer:
        self.submits.append(request.transaction_id)
        if self.submit_error is not None:
            raise self.submit_error
        return GatewayAnswer(
            request.transaction_id, "pending", None, request.amount, request.currency
        )

    async def status(self, transaction_id: str) -> GatewayAnswer | None:
        if self.status_error is not None:
            raise self.status_error
        return None

    def parse_callback(
        self, raw_body: bytes, signature_header: str | None, *, now_s: float
    ) -> CallbackEvent:
        raise NotImplementedError

    def breaker_state(self) -> BreakerState:
        is_open = self.breaker == "open"
        return BreakerState(
            self.breaker, 5 if is_open else 0, 5, 30.0, NOW if is_open else None,
            NOW + timedelta(seconds=30) if is_open else None,
        )  # fmt: skip

    def recent_stats(self) -> GatewayStats:
        return GatewayStats(100, 0, None, None, None, {})

    def recent_errors(self) -> tuple[str, ...]:
        return ()


async def run_submit(
    paycon: RunningPaycon, a: ScriptedGateway, b: ScriptedGateway
) -> tuple[dict[str, Any], Done | Defer | Retry]:
    tx = await deposit(paycon, "k1")
    db = paycon.service.db
    row = await db.lookup(
        lambda conn: (
            conn.execute(select(outbox_tasks).where(outbox_tasks.c.kind == "submit"))
            .mappings()
            .one()
        )
    )
    delivery = Delivery(
        db, {"gateway_a": a, "gateway_b": b}, callback_base_url="http://127.0.0.1:1",
        status_check_after_s=60, max_attempts=5,
    )  # fmt: skip
    outcome = await delivery.submit(Task.from_row(row))
    if isinstance(outcome, Done) and outcome.writes is not None:
        await db.write(outcome.writes)
    _, body = await paycon.get(f"/v1/transactions/{tx['id']}")
    return dict(body), outcome


@pytest.mark.parametrize("status_code", [400, 409, 422])
async def test_a_request_refused_without_a_documented_decline_is_held_not_failed(
    paycon: RunningPaycon, status_code: int
) -> None:
    refused = GatewayRequestRefused(
        f"gateway_a submit: HTTP {status_code} bad_field", gateway="gateway_a",
        operation="submit", status_code=status_code, code="bad_field",
    )  # fmt: skip
    a, b = ScriptedGateway("gateway_a", refused), ScriptedGateway("gateway_b")
    tx, _ = await run_submit(paycon, a, b)
    assert (tx["status"], tx["gateway"], tx["failure_reason"]) == ("pending", "gateway_a", None)
    assert tx["review"]["reason"] == "request_refused"
    assert f"HTTP {status_code}" in tx["review"]["detail"]
    assert b.submits == []


@pytest.mark.parametrize("breaker", ["closed", "open", "half_open"])
async def test_a_documented_decline_moves_only_to_a_gateway_that_is_up(
    paycon: RunningPaycon, breaker: BreakerStateName
) -> None:
    declined = GatewayDeclined(
        "gateway_a submit: HTTP 422 currency_not_supported", gateway="gateway_a",
        operation="submit", reason="currency_not_supported", retry_elsewhere=True,
        status_code=422,
    )  # fmt: skip
    a, b = ScriptedGateway("gateway_a", declined), ScriptedGateway("gateway_b", breaker=breaker)
    tx, outcome = await run_submit(paycon, a, b)
    if breaker == "closed":
        assert tx["gateway"] == "gateway_b"
        assert "failover" in [e["type"] for e in tx["events"]]
    else:  # open, or on trial (a probe could not close it): wait, use no attempt
        assert isinstance(outcome, Defer)
        assert outcome.resource == "gateway_b"
        assert tx["gateway"] == "gateway_a"
    assert tx["status"] == "pending"
    assert b.submits == []


async def test_a_definitive_decline_fails_the_payment(paycon: RunningPaycon) -> None:
    declined = GatewayDeclined(
        "gateway_a submit: HTTP 422 do_not_honor", gateway="gateway_a", operation="submit",
        reason="do_not_honor", retry_elsewhere=False, status_code=422,
    )  # fmt: skip
    a, b = ScriptedGateway("gateway_a", declined), ScriptedGateway("gateway_b")
    tx, _ = await run_submit(paycon, a, b)
    assert (tx["status"], tx["failure_reason"], tx["review"]) == ("failed", "do_not_honor", None)
    assert b.submits == []


async def test_a_run_that_never_reached_the_gateway_says_so_with_its_error(
    paycon: RunningPaycon,
) -> None:
    not_reached = GatewayNotReached(
        "gateway_a submit: connection refused", gateway="gateway_a", operation="submit"
    )
    # The next gateway is down: no failover; this one's breaker is closed: no time to wait for.
    a = ScriptedGateway("gateway_a", not_reached)
    b = ScriptedGateway("gateway_b", breaker="open")
    tx, outcome = await run_submit(paycon, a, b)
    assert isinstance(outcome, Retry)
    assert outcome.error is not_reached
    assert outcome.touched is False
    assert (tx["status"], tx["gateway"]) == ("pending", "gateway_a")


async def test_a_status_check_waits_for_an_open_breaker_without_using_an_attempt(
    paycon: RunningPaycon,
) -> None:
    # A gateway's outage opens its breaker; status checks that burnt an attempt on every
    # refusal died within seconds and held their payments for review.
    a, b = ScriptedGateway("gateway_a"), ScriptedGateway("gateway_b")
    tx, _ = await run_submit(paycon, a, b)
    assert tx["status"] == "submitted"
    row = await paycon.service.db.lookup(
        lambda conn: (
            conn.execute(select(outbox_tasks).where(outbox_tasks.c.kind == "status_check"))
            .mappings()
            .one()
        )
    )
    retry_at = NOW + timedelta(seconds=30)
    a.status_error = GatewayBreakerOpen(
        "gateway_a: circuit breaker open", gateway="gateway_a", operation="status",
        retry_at=retry_at,
    )  # fmt: skip
    delivery = Delivery(
        paycon.service.db, {"gateway_a": a, "gateway_b": b},
        callback_base_url="http://127.0.0.1:1", status_check_after_s=60, max_attempts=5,
    )  # fmt: skip
    outcome = await delivery.status_check(Task.from_row(row))
    assert isinstance(outcome, Defer)
    assert (outcome.resource, outcome.until) == ("gateway_a", retry_at)
