"""double-entry ledger: accounts, journal entries and postings replace balances and ledger_entries

Every old ledger entry becomes a posting, grouped into one journal entry per
transaction, reason and moment; the other side of an entry that moved money
in or out of a customer's balance is the transaction's gateway's clearing
account. The customer accounts built from the postings must equal the old
``balances`` rows, or the migration stops (nothing converted).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from outbox.schema import BigId, UtcDateTime
from paycon.domain.ids import id_made_at

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_meta = sa.MetaData()
_old_entries = sa.Table(
    "ledger_entries", _meta,
    sa.Column("id", BigId), sa.Column("customer_id", sa.String), sa.Column("currency", sa.String),
    sa.Column("bucket", sa.String), sa.Column("delta_minor", sa.BigInteger),
    sa.Column("reason", sa.String), sa.Column("transaction_id", sa.String),
    sa.Column("at", UtcDateTime),
)  # fmt: skip
_old_balances = sa.Table(
    "balances", _meta,
    sa.Column("customer_id", sa.String), sa.Column("currency", sa.String),
    sa.Column("available_minor", sa.BigInteger), sa.Column("held_minor", sa.BigInteger),
    sa.Column("updated_at", UtcDateTime),
)  # fmt: skip
_transactions = sa.Table(
    "transactions", _meta, sa.Column("id", sa.String), sa.Column("gateway", sa.String)
)
_accounts = sa.Table(
    "ledger_accounts", _meta,
    sa.Column("holder", sa.String), sa.Column("owner", sa.String), sa.Column("name", sa.String),
    sa.Column("currency", sa.String), sa.Column("balance_minor", sa.BigInteger),
    sa.Column("updated_at", UtcDateTime),
)  # fmt: skip
_journal = sa.Table(
    "journal_entries", _meta,
    sa.Column("id", sa.String), sa.Column("transaction_id", sa.String),
    sa.Column("reason", sa.String), sa.Column("currency", sa.String), sa.Column("at", UtcDateTime),
)  # fmt: skip
_postings = sa.Table(
    "postings", _meta,
    sa.Column("entry_id", sa.String), sa.Column("holder", sa.String), sa.Column("owner", sa.String),
    sa.Column("name", sa.String), sa.Column("currency", sa.String),
    sa.Column("delta_minor", sa.BigInteger),
)  # fmt: skip

_Key = tuple[str, str, str, str]


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("holder", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "name NOT IN ('available', 'held') OR balance_minor <= 0",
            name="ck_ledger_accounts_customer_funds_not_negative",
        ),
        sa.CheckConstraint(
            "name != 'owed' OR balance_minor >= 0", name="ck_ledger_accounts_owed_not_negative"
        ),
        sa.PrimaryKeyConstraint("holder", "owner", "name", "currency"),
    )
    op.create_index("ix_ledger_accounts_updated_at", "ledger_accounts", ["updated_at"])
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("transaction_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_journal_entries_transaction_id", "journal_entries", ["transaction_id"])
    op.create_index("ix_journal_entries_at", "journal_entries", ["at"])
    op.create_table(
        "postings",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("delta_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_postings_entry_id", "postings", ["entry_id"])
    op.create_index("ix_postings_account", "postings", ["holder", "owner", "name", "currency"])
    _convert(op.get_bind())
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_transaction_id")
        batch_op.drop_index("ix_ledger_entries_customer_currency")
    op.drop_table("ledger_entries")
    op.drop_table("balances")


def _convert(conn: sa.Connection) -> None:
    gateway_of = dict(conn.execute(sa.select(_transactions.c.id, _transactions.c.gateway)).all())
    groups: dict[tuple[str, str, datetime], list[sa.Row[tuple[object, ...]]]] = defaultdict(list)
    for row in conn.execute(sa.select(_old_entries).order_by(_old_entries.c.id)):
        groups[(row.transaction_id, row.reason, row.at)].append(row)
    balances: dict[_Key, int] = defaultdict(int)
    touched: dict[_Key, datetime] = {}
    journal: list[dict[str, object]] = []
    lines: list[dict[str, object]] = []
    for (transaction_id, reason, at), rows in groups.items():
        entry_id = id_made_at(at, int(rows[0].id), "jrn")
        currency = str(rows[0].currency)
        journal.append({"id": entry_id, "transaction_id": transaction_id, "reason": reason,
                        "currency": currency, "at": at})  # fmt: skip
        postings: list[tuple[_Key, int]] = [
            # What paycon owes a customer is a credit: an old +delta is a -posting.
            (("customer", str(r.customer_id), str(r.bucket), currency), -int(r.delta_minor))
            for r in rows
        ]
        rest = sum(delta for _, delta in postings)
        if rest:
            postings.append((("gateway", gateway_of[transaction_id], "clearing", currency), -rest))
        for key, delta in postings:
            balances[key] += delta
            touched[key] = max(touched.get(key, at), at)
            lines.append({"entry_id": entry_id, "holder": key[0], "owner": key[1],
                          "name": key[2], "currency": key[3], "delta_minor": delta})  # fmt: skip
    for old in conn.execute(sa.select(_old_balances)):
        for name, minor in (("available", old.available_minor), ("held", old.held_minor)):
            converted = -balances.get(("customer", old.customer_id, name, old.currency), 0)
            if converted != minor:
                raise RuntimeError(
                    f"customer {old.customer_id} {old.currency} {name}: the balance says "
                    f"{minor}, its ledger entries sum to {converted}; the ledger is not "
                    f"converted until they agree"
                )
    if journal:
        conn.execute(sa.insert(_journal), journal)
        conn.execute(sa.insert(_postings), lines)
        conn.execute(
            sa.insert(_accounts),
            [{"holder": k[0], "owner": k[1], "name": k[2], "currency": k[3],
              "balance_minor": v, "updated_at": touched[k]} for k, v in balances.items()],
        )  # fmt: skip


def downgrade() -> None:
    op.create_table(
        "balances",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("available_minor", sa.BigInteger(), nullable=False),
        sa.Column("held_minor", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("available_minor >= 0", name="ck_balances_available_not_negative"),
        sa.CheckConstraint("held_minor >= 0", name="ck_balances_held_not_negative"),
        sa.PrimaryKeyConstraint("customer_id", "currency"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("delta_minor", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("transaction_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["transaction_id"], ["transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_customer_currency", ["customer_id", "currency"], unique=False
        )
        batch_op.create_index("ix_ledger_entries_transaction_id", ["transaction_id"], unique=False)
    # Customer postings go back as entries (owed has no place there and is left out).
    op.execute(
        "INSERT INTO ledger_entries (customer_id, currency, bucket, delta_minor, reason, "
        "transaction_id, at) SELECT p.owner, p.currency, p.name, -p.delta_minor, j.reason, "
        "j.transaction_id, j.at FROM postings p JOIN journal_entries j ON j.id = p.entry_id "
        "WHERE p.holder = 'customer' AND p.name IN ('available', 'held') "
        "AND j.transaction_id IS NOT NULL ORDER BY p.id"
    )
    op.execute(
        "INSERT INTO balances (customer_id, currency, available_minor, held_minor, updated_at) "
        "SELECT owner, currency, "
        "-sum(CASE WHEN name = 'available' THEN balance_minor ELSE 0 END), "
        "-sum(CASE WHEN name = 'held' THEN balance_minor ELSE 0 END), max(updated_at) "
        "FROM ledger_accounts WHERE holder = 'customer' AND name IN ('available', 'held') "
        "GROUP BY owner, currency"
    )
    op.drop_index("ix_postings_account", table_name="postings")
    op.drop_index("ix_postings_entry_id", table_name="postings")
    op.drop_table("postings")
    op.drop_index("ix_journal_entries_at", table_name="journal_entries")
    op.drop_index("ix_journal_entries_transaction_id", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_index("ix_ledger_accounts_updated_at", table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
