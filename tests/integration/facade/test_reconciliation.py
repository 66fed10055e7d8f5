"""Reconciliation runs and breaks read the same through either facade; a break no
payment carries is resolved through it, once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from paycon.domain.errors import Conflict
from paycon.models.reconciliation import ReconciliationBreakOut, ReconciliationRunOut
from paycon.usecases.reconcile import Reconciliation, Report
from tests.integration.facade.conftest import Attached
from tests.integration.facade.support import complete, deposit
from tests.paycon_fixtures import RunningPaycon


async def test_runs_and_breaks_read_as_stored_and_a_break_resolves_once(
    attached: Attached, paycon: RunningPaycon
) -> None:
    tx = await deposit(paycon, "k1")
    await complete(paycon, tx["id"])
    today = datetime.now(UTC).date().isoformat()
    desk = Reconciliation(paycon.service.db, paycon.service.settings.gateways)
    text = (
        "gateway_reference,transaction_id,type,gross,fee,net,currency,value_date\r\n"
        f"GA0000000001,{tx['id']},deposit,10.00,0.25,9.75,EUR,{today}\r\n"
        f"GA0000000002,tx_stranger,deposit,3.00,0.00,3.00,EUR,{today}\r\n"
    )
    await desk.reconcile(
        "gateway_a", Report(text, "r.csv", datetime.now(UTC)), day=None, actor="cli:t"
    )

    runs = await attached.facade.reconciliation_runs()
    assert runs == tuple(ReconciliationRunOut.of(run) for run in await desk.runs())
    totals = runs[0].totals["EUR"]
    assert (runs[0].lines, runs[0].matched, totals.net) == (2, 1, Decimal("12.75"))
    assert (totals.gross, totals.fee) == (Decimal("13.00"), Decimal("0.25"))
    breaks = await attached.facade.reconciliation_breaks()
    assert breaks == tuple(ReconciliationBreakOut.of(b) for b in await desk.breaks())
    [found] = breaks
    assert (found.kind, found.suspense) == ("unknown_transaction", Decimal("-3.00"))

    resolved = await attached.facade.resolve_break(found.id, reason="the bank's own test")
    assert (resolved.state, resolved.resolution) == ("resolved", "the bank's own test")
    assert await attached.facade.reconciliation_breaks() == ()
    with pytest.raises(Conflict):
        await attached.facade.resolve_break(found.id, reason="again")
