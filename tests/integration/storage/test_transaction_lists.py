"""Which index a transaction list reads: with a reference given, the reference's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url

from paycon.domain.status import Kind, Status
from paycon.storage.migrate import upgrade_to_head
from paycon.storage.queries import TransactionFilter, transaction_page_query

CURSOR = "tx_01M8DNAQ4ZCZK2H8784FBQXF10"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('lists') / 'paycon.db'}")
    with engine.begin() as conn:
        upgrade_to_head(conn)
    yield engine
    engine.dispose()


def plan(engine: Engine, where: TransactionFilter, cursor: str | None) -> str:
    query = transaction_page_query(where, limit=50, cursor=cursor)
    sql = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
    return " / ".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("cursor", [None, CURSOR])
@pytest.mark.parametrize(
    "where",
    [
        TransactionFilter(reference="order-1"),
        TransactionFilter(status=Status.COMPLETED, reference="order-1"),
        TransactionFilter(kind=Kind.DEPOSIT, reference="order-1"),
        TransactionFilter(gateway="gateway_a", reference="order-1"),
        TransactionFilter(customer_id="cus_1", reference="order-1"),
        TransactionFilter(
            status=Status.PENDING, kind=Kind.WITHDRAWAL, gateway="gateway_b",
            customer_id="cus_1", reference="order-1",
        ),
    ],
    ids=["alone", "status", "kind", "gateway", "customer", "all"],
)  # fmt: skip
def test_a_reference_is_looked_up_in_its_index(
    engine: Engine, where: TransactionFilter, cursor: str | None
) -> None:
    found = plan(engine, where, cursor)
    assert "USING INDEX ix_transactions_reference (reference=?)" in found, found


def test_other_filters_keep_their_own_indexes(engine: Engine) -> None:
    found = plan(engine, TransactionFilter(status=Status.COMPLETED), None)
    assert "ix_transactions_status_id" in found, found


def test_the_hint_is_for_sqlite_only() -> None:
    query = transaction_page_query(TransactionFilter(reference="x"), limit=5, cursor=None)
    postgresql = make_url("postgresql+asyncpg://paycon@db/paycon").get_dialect()()
    assert "INDEXED BY" in str(query.compile(dialect=sqlite.dialect()))
    assert "INDEXED BY" not in str(query.compile(dialect=postgresql))
