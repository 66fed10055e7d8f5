"""What operators read, the same through either facade."""

from __future__ import annotations

from decimal import Decimal

import pytest

from paycon.domain.errors import InvalidInput, NotFound
from paycon.models.queries import TaskQuery, TransactionQuery
from tests.integration.facade.conftest import Attached
from tests.integration.facade.support import complete, deposit, set_task_states
from tests.paycon_fixtures import RunningPaycon


async def test_overview_counts_the_outbox_and_lists_every_gateway(
    attached: Attached, paycon: RunningPaycon
) -> None:
    await deposit(paycon, "k1")
    await deposit(paycon, "k2")
    overview = await attached.facade.overview()
    assert overview.outbox.counts.pending == 2
    assert overview.outbox.backlog == 2
    assert [g.name for g in overview.gateways] == ["gateway_a", "gateway_b"]
    assert all(g.enabled for g in overview.gateways)
    assert overview.gateways[0].breaker.state == "closed"
    assert 1.0 <= overview.traffic.window_s < 60.0  # the service is younger than the window
    assert overview.traffic.payments_per_s == pytest.approx(2 / overview.traffic.window_s, rel=0.1)
    assert overview.traffic.error_rate == 0


async def test_transactions_page_newest_first_under_filters(
    attached: Attached, paycon: RunningPaycon
) -> None:
    first = await deposit(paycon, "k1")
    second = await deposit(paycon, "k2", customer_id="cus_2", amount="2.50")
    third = await deposit(paycon, "k3", gateway="gateway_b")
    page = await attached.facade.transactions(TransactionQuery(), limit=2)
    assert [t.id for t in page.items] == [third["id"], second["id"]]
    assert page.next_cursor is not None
    rest = await attached.facade.transactions(TransactionQuery(), limit=2, cursor=page.next_cursor)
    assert [t.id for t in rest.items] == [first["id"]]
    assert rest.next_cursor is None
    mine = await attached.facade.transactions(TransactionQuery(customer_id="cus_2"))
    assert [(t.id, t.amount) for t in mine.items] == [(second["id"], Decimal("2.50"))]
    on_b = await attached.facade.transactions(TransactionQuery(gateway="gateway_b"))
    assert [t.id for t in on_b.items] == [third["id"]]


async def test_bad_transaction_filters_are_invalid_input(attached: Attached) -> None:
    with pytest.raises(InvalidInput):
        await attached.facade.transactions(TransactionQuery(status="lost"))
    with pytest.raises(InvalidInput):
        await attached.facade.transactions(TransactionQuery(), cursor="not-a-cursor")
    with pytest.raises(InvalidInput):
        await attached.facade.transactions(TransactionQuery(), limit=0)


async def test_search_finds_an_id_or_a_reference_exactly(
    attached: Attached, paycon: RunningPaycon
) -> None:
    older = await deposit(paycon, "k1", reference="order-7")
    newer = await deposit(paycon, "k2", reference="order-7")
    other = await deposit(paycon, "k3", reference="order-8")
    by_reference = await attached.facade.search_transactions("order-7")
    assert [t.id for t in by_reference] == [newer["id"], older["id"]]
    by_id = await attached.facade.search_transactions(other["id"])
    assert [(t.id, t.reference) for t in by_id] == [(other["id"], "order-8")]
    assert await attached.facade.search_transactions("ORDER-7") == ()
    assert await attached.facade.search_transactions("order") == ()
    assert await attached.facade.search_transactions("") == ()


async def test_transaction_detail_has_timeline_ledger_and_tasks(
    attached: Attached, paycon: RunningPaycon
) -> None:
    tx = await deposit(paycon, "k1", notify_url="http://127.0.0.1:9/hook")
    await complete(paycon, tx["id"])
    detail = await attached.facade.transaction(tx["id"])
    assert detail.transaction.status == "completed"
    assert detail.events[0].type == "accepted"
    assert detail.events[-1].actor == "gateway:gateway_a"
    # One journal entry: the gateway's clearing against the customer's available.
    assert [(line.bucket, line.delta) for line in detail.ledger] == [
        ("clearing", Decimal("10.00")),
        ("available", Decimal("10.00")),
    ]
    assert {line.customer_id for line in detail.ledger} == {"cus_1"}
    assert [(t.kind, t.dedupe_key) for t in detail.tasks] == [
        ("submit", f"submit:gateway_a:{tx['id']}"),
        ("notify", f"notify:{tx['id']}"),
    ]


async def test_unknown_transaction_is_not_found(attached: Attached) -> None:
    with pytest.raises(NotFound):
        await attached.facade.transaction("tx_01JDXK3M6Y8Q2R4T6V8X0Z2B4D")


async def test_tasks_filter_by_state_kind_and_gateway(
    attached: Attached, paycon: RunningPaycon
) -> None:
    await deposit(paycon, "k1")
    await deposit(paycon, "k2", gateway="gateway_b")
    await deposit(paycon, "k3")
    set_task_states(paycon, "dead", where="dedupe_key LIKE 'submit:gateway_b:%'")
    pending = await attached.facade.tasks(TaskQuery(state="pending"))
    assert len(pending.items) == 2
    assert pending.items[0].id > pending.items[1].id
    on_b = await attached.facade.tasks(TaskQuery(gateway="gateway_b"))
    assert [(t.state, (t.dedupe_key or "")[:17]) for t in on_b.items] == [
        ("dead", "submit:gateway_b:")
    ]
    on_a = await attached.facade.tasks(TaskQuery(state="pending", gateway="gateway_a"), limit=1)
    assert len(on_a.items) == 1
    assert on_a.next_cursor is not None
    rest = await attached.facade.tasks(
        TaskQuery(state="pending", gateway="gateway_a"), limit=1, cursor=on_a.next_cursor
    )
    assert len(rest.items) == 1
    assert rest.items[0].id < on_a.items[0].id
    assert (await attached.facade.tasks(TaskQuery(kind="notify"))).items == ()


async def test_bad_task_filters_are_invalid_input(attached: Attached) -> None:
    with pytest.raises(InvalidInput):
        await attached.facade.tasks(TaskQuery(state="sleeping"))
    with pytest.raises(InvalidInput):
        await attached.facade.tasks(TaskQuery(kind="notify", gateway="gateway_a"))
    with pytest.raises(InvalidInput):
        await attached.facade.tasks(TaskQuery(), cursor="abc")


async def test_task_detail_and_unknown_task(attached: Attached, paycon: RunningPaycon) -> None:
    tx = await deposit(paycon, "k1")
    page = await attached.facade.tasks(TaskQuery())
    detail = await attached.facade.task(page.items[0].id)
    assert detail.payload["transaction_id"] == tx["id"]
    assert detail.attempts_log == []
    assert detail.audit == []
    with pytest.raises(NotFound):
        await attached.facade.task(999_999)
