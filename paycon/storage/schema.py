"""paycon's tables (the outbox's own live in ``outbox.schema``)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from outbox.schema import BigId, UtcDateTime

metadata = MetaData()

transactions = Table(
    "transactions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("country", String(2), nullable=False),
    Column("gateway", String(64), nullable=False),
    # The ordered gateways this payment may use, comma-separated.
    Column("route", String(255), nullable=False),
    Column("reference", String(255), nullable=True),
    Column("notify_url", String(2048), nullable=True),
    Column("destination_masked", String(64), nullable=True),
    Column("holder_masked", String(128), nullable=True),
    # Fernet token of the destination JSON; only the gateway call decrypts it.
    Column("destination_sealed", Text, nullable=True),
    Column("failure_reason", String(512), nullable=True),
    Column("client_id", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Held for review (see paycon.domain.review): why, what was said last, since when.
    Column("review_reason", String(32), nullable=True),
    Column("review_detail", String(1024), nullable=True),
    Column("review_since", UtcDateTime, nullable=True),
    CheckConstraint("amount_minor > 0", name="ck_transactions_amount_positive"),
    # Lists are newest first (ids sort by time) under each filter.
    Index("ix_transactions_status_id", "status", "id"),
    Index("ix_transactions_kind_id", "kind", "id"),
    Index("ix_transactions_gateway_id", "gateway", "id"),
    Index("ix_transactions_customer_id_id", "customer_id", "id"),
    Index("ix_transactions_reference", "reference"),
    # The review list: only held payments are in it, newest first.
    Index(
        "ix_transactions_review_id",
        "id",
        sqlite_where=text("review_reason IS NOT NULL"),
        postgresql_where=text("review_reason IS NOT NULL"),
    ),
)

transaction_events = Table(
    "transaction_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transaction_id", String(32), ForeignKey("transactions.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Index("ix_transaction_events_transaction_id", "transaction_id", "id"),
)

# The double-entry ledger (see paycon.domain.balances). An account's balance is
# the sum of its postings, debit positive; what paycon owes a customer is a
# credit (negative) balance.
ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("holder", String(16), primary_key=True),
    Column("owner", String(64), primary_key=True),
    Column("name", String(16), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("balance_minor", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The last line of defence: the rules never let these go below zero as shown.
    CheckConstraint(
        "name NOT IN ('available', 'held') OR balance_minor <= 0",
        name="ck_ledger_accounts_customer_funds_not_negative",
    ),
    CheckConstraint(
        "name != 'owed' OR balance_minor >= 0", name="ck_ledger_accounts_owed_not_negative"
    ),
    # The periodic check reads the accounts that changed since its last run.
    Index("ix_ledger_accounts_updated_at", "updated_at"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    # ``jrn_`` ids sort by creation time (paycon.domain.ids).
    Column("id", String(32), primary_key=True),
    Column("transaction_id", String(32), ForeignKey("transactions.id"), nullable=True),
    Column("reason", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_journal_entries_transaction_id", "transaction_id"),
    Index("ix_journal_entries_at", "at"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("entry_id", String(32), ForeignKey("journal_entries.id"), nullable=False),
    Column("holder", String(16), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("name", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("delta_minor", BigInteger, nullable=False),
    Index("ix_postings_entry_id", "entry_id"),
    Index("ix_postings_account", "holder", "owner", "name", "currency"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # One merchant back end per deployment: keys are unique across its API keys,
    # so a rotated API key still replays the answers of the old one.
    Column("key", String(255), primary_key=True),
    Column("client_id", String(32), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("transaction_id", String(32), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# Every gateway callback that passed its signature check, as received: the
# inbox. A duplicate event id is recognised here and applied only once.
callback_inbox = Table(
    "callback_inbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("gateway", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("transaction_id", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(512), nullable=True),
    # The amount and currency as the gateway stated them (not necessarily the payment's).
    Column("amount", String(40), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("raw_body", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # apply | unchanged | backwards | conflict | unknown_transaction | wrong_gateway
    # | amount_mismatch
    Column("outcome", String(32), nullable=False),
    UniqueConstraint("gateway", "event_id", name="uq_callback_inbox_gateway_event"),
    Index("ix_callback_inbox_transaction_id", "transaction_id"),
)

# Operators' routing switches: a gateway with a row here and enabled false
# takes no new payments. No row means enabled.
gateway_switches = Table(
    "gateway_switches",
    metadata,
    Column("gateway", String(64), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("changed_by", String(64), nullable=False),
)

# Operators' actions outside the outbox (whose own trail is outbox_audit): who,
# when, what, on what (``subject``, like ``gateway:gateway_a``) and why.
operator_audit = Table(
    "operator_audit",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text, nullable=True),
    Index("ix_operator_audit_subject_id", "subject", "id"),
)

# Reconciliation against the gateways' settlement reports (paycon.domain.reconcile):
# every run, audited, and every report line ever reconciled — booked once, by the
# unique (gateway, line_key) — or a break, open until it books or is resolved.
reconciliation_runs = Table(
    "reconciliation_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("gateway", String(64), nullable=False),
    Column("report_date", String(10), nullable=False),
    Column("source", String(2048), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("booked", Integer, nullable=False),
    Column("new_breaks", Integer, nullable=False),
    Column("open_breaks", Integer, nullable=False),
    # JSON: this report's open breaks by kind and its totals per currency.
    Column("summary", Text, nullable=False),
    Index("ix_reconciliation_runs_gateway_id", "gateway", "id"),
)

reconciliation_lines = Table(
    "reconciliation_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("gateway", String(64), nullable=False),
    # "<gateway reference>:<type>" for a report line; "missing:<transaction id>".
    Column("line_key", String(160), nullable=False),
    Column("gateway_reference", String(128), nullable=True),
    # As the report (or paycon, for a missing line) names it: not always paycon's.
    Column("transaction_id", String(128), nullable=False),
    Column("type", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("gross_minor", BigInteger, nullable=True),
    Column("fee_minor", BigInteger, nullable=True),
    Column("net_minor", BigInteger, nullable=True),
    Column("value_date", String(10), nullable=False),
    Column("state", String(16), nullable=False),
    Column("break_kind", String(32), nullable=True),
    Column("report_says", Text, nullable=False),
    Column("paycon_says", Text, nullable=False),
    Column("suspense_minor", BigInteger, nullable=False),
    Column("booked_at", UtcDateTime, nullable=True),
    Column("first_run_id", BigId, ForeignKey("reconciliation_runs.id"), nullable=False),
    Column("last_run_id", BigId, ForeignKey("reconciliation_runs.id"), nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolution", Text, nullable=True),
    UniqueConstraint("gateway", "line_key", name="uq_reconciliation_lines_gateway_key"),
    Index("ix_reconciliation_lines_state_id", "state", "id"),
    Index("ix_reconciliation_lines_transaction_id", "transaction_id"),
)
