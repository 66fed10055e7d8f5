"""Reconciling a settlement report in one transaction: book matched lines once, record breaks.

``reconcile_report`` runs in the caller's transaction (one commit per run):
it records the run, decides each line with ``paycon.domain.reconcile.decide``,
books what that decides, records every line under its unique
``(gateway, line_key)`` — so a line is booked at most once, ever, however
often its report is reconciled — and holds the payments behind new breaks
for review (``reconciliation_break``). A line that broke without booking is
decided again by every later run, and books once it matches.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from paycon.domain.balances import AccountName, EntryReason, Holder
from paycon.domain.errors import Conflict, NotFound
from paycon.domain.reconcile import (
    BreakKind,
    BreakRecord,
    CurrencyTotals,
    Decision,
    LineState,
    PayconRecord,
    RunRecord,
    RunSummary,
    decide,
    missing_says,
    totals,
)
from paycon.domain.review import ReviewReason
from paycon.domain.settlement_report import ReportLine
from paycon.domain.status import Kind, Status
from paycon.storage.holds import hold_for_review
from paycon.storage.ledger import write_entry
from paycon.storage.schema import (
    journal_entries,
    operator_audit,
    postings,
    reconciliation_lines,
    reconciliation_runs,
    transactions,
)

MISSING_TYPE = "missing"
# Entries that put a payment's money in its gateway's clearing account: completions.
_COMPLETIONS = (
    EntryReason.DEPOSIT_CREDIT.value,
    EntryReason.WITHDRAWAL_SETTLE.value,
    EntryReason.LATE_PAYOUT.value,
)
_CHUNK = 500


@dataclass(frozen=True)
class ReconcileRequest:
    """One report to reconcile: whose, which day, its lines, where it came from, and who asks.

    ``as_of``: the report covers what the gateway settled until then (when it
    was fetched, or its file written); only payments paycon completed before
    then can be missing from it.
    """

    gateway: str
    report_date: date
    lines: Sequence[ReportLine]
    source: str
    actor: str
    as_of: datetime


def reconcile_report(conn: Connection, request: ReconcileRequest, *, now: datetime) -> RunSummary:
    """Reconcile ``request``'s report; returns what the run did (also stored with the run)."""
    gateway = request.gateway
    run_id = _start_run(conn, request, now)
    records = paycon_records(conn, {line.transaction_id for line in request.lines})
    known = _known_lines(conn, gateway, [line.key for line in request.lines])
    matched = booked = new_breaks = 0
    open_kinds: Counter[str] = Counter()
    for line in request.lines:
        record = records.get(line.transaction_id)
        row = known.get(line.key)
        if row is not None and row.booked_at is not None:
            matched += row.break_kind is None
            state, kind = row.state, row.break_kind
        else:
            decision = decide(line, record, gateway)
            if decision.books:
                _book(conn, decision, record, now)
                booked += decision.break_kind is None
            matched += decision.break_kind is None
            if row is None:
                new_breaks += decision.break_kind is not None
                _insert_line(conn, gateway, line, decision, run_id, now)
                if decision.break_kind is not None and record is not None:
                    _hold(conn, record, decision.break_kind, line.describe(), decision, now)
            else:
                _update_line(conn, row, decision, run_id, now)
            if decision.break_kind is None and record is not None:
                _close_missing(conn, gateway, record.transaction_id, line, now)
            kind = None if decision.break_kind is None else decision.break_kind.value
            state = LineState.OPEN.value if row is None or kind is None else row.state
            if kind is None:
                state = LineState.BOOKED.value
        if state == LineState.OPEN.value and kind is not None:
            open_kinds[kind] += 1
    missing = _find_missing(conn, request, {line.transaction_id for line in request.lines})
    for record in missing:
        new_breaks += 1
        _insert_missing(conn, gateway, record, request.report_date, run_id, now)
        says = missing_says(gateway, request.report_date)
        _hold(
            conn,
            record,
            BreakKind.MISSING_FROM_REPORT,
            says,
            Decision(BreakKind.MISSING_FROM_REPORT, paycon_says=record.describe()),
            now,
        )
    open_kinds[BreakKind.MISSING_FROM_REPORT.value] += _open_missing_of_day(
        conn, gateway, request.report_date
    )
    if not open_kinds[BreakKind.MISSING_FROM_REPORT.value]:
        del open_kinds[BreakKind.MISSING_FROM_REPORT.value]
    summary = RunSummary(
        run_id=run_id,
        gateway=gateway,
        report_date=request.report_date,
        lines=len(request.lines),
        matched=matched,
        booked=booked,
        breaks=dict(sorted(open_kinds.items())),
        new_breaks=new_breaks,
        open_breaks=count_open(conn, gateway),
        totals=totals(list(request.lines)),
    )
    _finish_run(conn, summary)
    return summary


def paycon_records(conn: Connection, transaction_ids: Iterable[str]) -> dict[str, PayconRecord]:
    """What paycon says of each of these payments that it holds."""
    ids = sorted(transaction_ids)
    found: dict[str, PayconRecord] = {}
    columns = (
        transactions.c.id,
        transactions.c.kind,
        transactions.c.status,
        transactions.c.gateway,
        transactions.c.amount_minor,
        transactions.c.currency,
    )
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in conn.execute(select(*columns).where(transactions.c.id.in_(chunk))):
            found[row.id] = PayconRecord(
                row.id,
                Kind(row.kind),
                Status(row.status),
                row.gateway,
                row.amount_minor,
                row.currency,
            )
    return found


def count_open(conn: Connection, gateway: str | None = None) -> int:
    """How many breaks are open (of ``gateway``, or of every gateway)."""
    query = select(func.count()).where(reconciliation_lines.c.state == LineState.OPEN.value)
    if gateway is not None:
        query = query.where(reconciliation_lines.c.gateway == gateway)
    return int(conn.execute(query).scalar_one())


def _start_run(conn: Connection, request: ReconcileRequest, now: datetime) -> int:
    result = conn.execute(
        insert(reconciliation_runs).values(
            gateway=request.gateway,
            report_date=request.report_date.isoformat(),
            source=request.source[:2048],
            actor=request.actor[:64],
            at=now,
            lines=0,
            matched=0,
            booked=0,
            new_breaks=0,
            open_breaks=0,
            summary="{}",
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _finish_run(conn: Connection, summary: RunSummary) -> None:
    details = {
        "breaks": summary.breaks,
        "totals": {currency: asdict(t) for currency, t in summary.totals.items()},
    }
    conn.execute(
        update(reconciliation_runs)
        .where(reconciliation_runs.c.id == summary.run_id)
        .values(
            lines=summary.lines,
            matched=summary.matched,
            booked=summary.booked,
            new_breaks=summary.new_breaks,
            open_breaks=summary.open_breaks,
            summary=json.dumps(details, sort_keys=True),
        )
    )


def _known_lines(conn: Connection, gateway: str, keys: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = list(keys[start : start + _CHUNK])
        query = select(reconciliation_lines).where(
            reconciliation_lines.c.gateway == gateway, reconciliation_lines.c.line_key.in_(chunk)
        )
        for row in conn.execute(query):
            found[row.line_key] = row
    return found


def _book(conn: Connection, decision: Decision, record: PayconRecord | None, now: datetime) -> None:
    transaction_id = record.transaction_id if record is not None else None
    for entry in decision.entries:
        write_entry(conn, entry, transaction_id=transaction_id, now=now)


def _insert_line(
    conn: Connection,
    gateway: str,
    line: ReportLine,
    decision: Decision,
    run_id: int,
    now: datetime,
) -> None:
    state = LineState.BOOKED if decision.break_kind is None else LineState.OPEN
    conn.execute(
        insert(reconciliation_lines).values(
            gateway=gateway,
            line_key=line.key,
            gateway_reference=line.gateway_reference,
            transaction_id=line.transaction_id,
            type=line.type.value,
            currency=line.currency,
            gross_minor=line.gross_minor,
            fee_minor=line.fee_minor,
            net_minor=line.net_minor,
            value_date=line.value_date.isoformat(),
            state=state.value,
            break_kind=None if decision.break_kind is None else decision.break_kind.value,
            report_says=line.describe(),
            paycon_says=decision.paycon_says,
            suspense_minor=decision.suspense_minor,
            booked_at=now if decision.books else None,
            first_run_id=run_id,
            last_run_id=run_id,
        )
    )


def _update_line(
    conn: Connection, row: Any, decision: Decision, run_id: int, now: datetime
) -> None:
    """A line seen before and not booked yet, decided again."""
    values: dict[str, Any] = {"last_run_id": run_id, "paycon_says": decision.paycon_says}
    if decision.books:
        values.update(booked_at=now, suspense_minor=decision.suspense_minor)
    if decision.break_kind is None:
        values.update(state=LineState.BOOKED.value, break_kind=None)
        if row.state == LineState.OPEN.value:
            values.update(resolved_at=now, resolved_by="paycon", resolution="it matches paycon now")
    elif row.state == LineState.OPEN.value:
        values["break_kind"] = decision.break_kind.value
    conn.execute(
        update(reconciliation_lines).where(reconciliation_lines.c.id == row.id).values(**values)
    )


def _hold(
    conn: Connection,
    record: PayconRecord,
    kind: BreakKind,
    report_says: str,
    decision: Decision,
    now: datetime,
) -> None:
    """Hold the payment for review, unless it already waits for a person."""
    held = conn.execute(
        select(transactions.c.review_reason).where(transactions.c.id == record.transaction_id)
    ).scalar_one_or_none()
    if held is not None:
        return
    detail = f"{kind.value}: the report: {report_says}; paycon: {decision.paycon_says}"
    hold_for_review(
        conn,
        record.transaction_id,
        ReviewReason.RECONCILIATION_BREAK,
        detail,
        actor="paycon",
        now=now,
    )


def _missing_key(transaction_id: str) -> str:
    return f"{MISSING_TYPE}:{transaction_id}"


def _find_missing(
    conn: Connection, request: ReconcileRequest, in_report: set[str]
) -> list[PayconRecord]:
    """Payments completed through the gateway on the report's day, before ``as_of``, that
    no report line ever named (and no missing break names yet)."""
    start = datetime.combine(request.report_date, time(), tzinfo=UTC)
    until = min(start + timedelta(days=1), request.as_of)
    completed = (
        select(journal_entries.c.transaction_id)
        .join(postings, postings.c.entry_id == journal_entries.c.id)
        .where(
            journal_entries.c.reason.in_(_COMPLETIONS),
            journal_entries.c.at >= start,
            journal_entries.c.at < until,
            postings.c.holder == Holder.GATEWAY.value,
            postings.c.name == AccountName.CLEARING.value,
            postings.c.owner == request.gateway,
        )
        .distinct()
    )
    candidates = {tx for tx in conn.execute(completed).scalars() if tx is not None} - in_report
    if not candidates:
        return []
    named: set[str] = set()
    ids = sorted(candidates)
    for begin in range(0, len(ids), _CHUNK):
        chunk = ids[begin : begin + _CHUNK]
        named.update(
            conn.execute(
                select(reconciliation_lines.c.transaction_id).where(
                    reconciliation_lines.c.gateway == request.gateway,
                    reconciliation_lines.c.transaction_id.in_(chunk),
                )
            ).scalars()
        )
    records = paycon_records(conn, candidates - named)
    return [records[tx] for tx in sorted(records)]


def _insert_missing(
    conn: Connection, gateway: str, record: PayconRecord, on: date, run_id: int, now: datetime
) -> None:
    conn.execute(
        insert(reconciliation_lines).values(
            gateway=gateway,
            line_key=_missing_key(record.transaction_id),
            gateway_reference=None,
            transaction_id=record.transaction_id,
            type=MISSING_TYPE,
            currency=record.currency,
            gross_minor=None,
            fee_minor=None,
            net_minor=None,
            value_date=on.isoformat(),
            state=LineState.OPEN.value,
            break_kind=BreakKind.MISSING_FROM_REPORT.value,
            report_says=missing_says(gateway, on),
            paycon_says=record.describe(),
            suspense_minor=0,
            booked_at=None,
            first_run_id=run_id,
            last_run_id=run_id,
        )
    )


def _open_missing_of_day(conn: Connection, gateway: str, on: date) -> int:
    return int(
        conn.execute(
            select(func.count()).where(
                reconciliation_lines.c.gateway == gateway,
                reconciliation_lines.c.type == MISSING_TYPE,
                reconciliation_lines.c.value_date == on.isoformat(),
                reconciliation_lines.c.state == LineState.OPEN.value,
            )
        ).scalar_one()
    )


def _close_missing(
    conn: Connection, gateway: str, transaction_id: str, line: ReportLine, now: datetime
) -> None:
    """A payment found missing from an earlier report is settled by ``line`` after all."""
    conn.execute(
        update(reconciliation_lines)
        .where(
            reconciliation_lines.c.gateway == gateway,
            reconciliation_lines.c.line_key == _missing_key(transaction_id),
            reconciliation_lines.c.state == LineState.OPEN.value,
        )
        .values(
            state=LineState.RESOLVED.value,
            resolved_at=now,
            resolved_by="paycon",
            resolution=f"settled by the report of {line.value_date.isoformat()}",
        )
    )


# --- resolving breaks -----------------------------------------------------------


def close_breaks_of(
    conn: Connection, transaction_id: str, *, actor: str, reason: str, now: datetime
) -> int:
    """An operator resolved this payment: its open breaks are resolved too; returns how many.

    A break that booked nothing is decided again by the next run of its report
    (and books if it matches then).
    """
    return conn.execute(
        update(reconciliation_lines)
        .where(
            reconciliation_lines.c.transaction_id == transaction_id,
            reconciliation_lines.c.state == LineState.OPEN.value,
        )
        .values(
            state=LineState.RESOLVED.value,
            resolved_at=now,
            resolved_by=actor[:64],
            resolution=reason,
        )
    ).rowcount


def resolve_break(
    conn: Connection, line_id: int, *, actor: str, reason: str, now: datetime
) -> None:
    """Mark one open break resolved by an operator, audited.

    For a break whose payment paycon holds, resolving the payment (the review
    list) does this. Raises NotFound, or Conflict when the break is not open.
    """
    row = conn.execute(
        select(reconciliation_lines.c.state, reconciliation_lines.c.gateway).where(
            reconciliation_lines.c.id == line_id
        )
    ).first()
    if row is None:
        raise NotFound(f"reconciliation break {line_id} does not exist")
    if row.state != LineState.OPEN.value:
        raise Conflict(f"reconciliation break {line_id} is not open ({row.state})")
    conn.execute(
        update(reconciliation_lines)
        .where(reconciliation_lines.c.id == line_id)
        .values(
            state=LineState.RESOLVED.value,
            resolved_at=now,
            resolved_by=actor[:64],
            resolution=reason,
        )
    )
    conn.execute(
        insert(operator_audit).values(
            at=now,
            actor=actor[:64],
            action="resolve_break",
            subject=f"reconciliation:{row.gateway}:{line_id}",
            reason=reason,
            detail=None,
        )
    )


# --- reads ------------------------------------------------------------------------


def list_runs(conn: Connection, *, gateway: str | None, limit: int) -> list[RunRecord]:
    """The latest runs, newest first (of ``gateway``, or of all)."""
    query = select(reconciliation_runs).order_by(reconciliation_runs.c.id.desc()).limit(limit)
    if gateway is not None:
        query = query.where(reconciliation_runs.c.gateway == gateway)
    found = []
    for row in conn.execute(query):
        details = json.loads(row.summary or "{}")
        found.append(
            RunRecord(
                id=row.id,
                gateway=row.gateway,
                report_date=row.report_date,
                at=row.at,
                actor=row.actor,
                source=row.source,
                lines=row.lines,
                matched=row.matched,
                booked=row.booked,
                new_breaks=row.new_breaks,
                open_breaks=row.open_breaks,
                breaks=dict(details.get("breaks", {})),
                totals={c: CurrencyTotals(**t) for c, t in details.get("totals", {}).items()},
            )
        )
    return found


def list_breaks(
    conn: Connection, *, gateway: str | None, state: LineState, limit: int
) -> list[BreakRecord]:
    """Breaks in ``state``, newest first (of ``gateway``, or of all)."""
    table = reconciliation_lines
    query = (
        select(table)
        .where(table.c.state == state.value, table.c.break_kind.is_not(None))
        .order_by(table.c.id.desc())
        .limit(limit)
    )
    if gateway is not None:
        query = query.where(table.c.gateway == gateway)
    return [_break_of(row) for row in conn.execute(query)]


def get_break(conn: Connection, break_id: int) -> BreakRecord | None:
    """One break by its id (None when there is none, or it is a matched line)."""
    row = conn.execute(
        select(reconciliation_lines).where(
            reconciliation_lines.c.id == break_id, reconciliation_lines.c.break_kind.is_not(None)
        )
    ).first()
    return None if row is None else _break_of(row)


def _break_of(row: Any) -> BreakRecord:
    return BreakRecord(
        id=row.id,
        gateway=row.gateway,
        kind=row.break_kind,
        state=row.state,
        transaction_id=row.transaction_id,
        gateway_reference=row.gateway_reference,
        type=row.type,
        currency=row.currency,
        value_date=row.value_date,
        report_says=row.report_says,
        paycon_says=row.paycon_says,
        suspense_minor=row.suspense_minor,
        booked=row.booked_at is not None,
        first_run_id=row.first_run_id,
        last_run_id=row.last_run_id,
        resolution=row.resolution,
    )
