"""Tasks, figures, gateways and transaction details as JSON objects: one rendering for
the operator API, the CLI and the in-process facade."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from outbox import Attempt, AuditEntry, OutboxStats, Task, TaskDetail
from paycon.domain.balances import Account
from paycon.domain.masking import mask_payload
from paycon.domain.money import Money
from paycon.domain.transactions import Transaction, TransactionEvent, rfc3339
from paycon.storage.gateway_switches import OperatorAction
from paycon.storage.queries import LedgerLineRow
from paycon.usecases.operations import ReplayCount

if TYPE_CHECKING:  # the gateway clients (aiohttp) are not needed to describe one
    from gateways import Gateway


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def task_json(task: Task) -> dict[str, Any]:
    """A task as operators see it; account data in the payload is masked."""
    return {
        "id": task.id,
        "kind": task.kind,
        "state": task.state.value,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "run_at": rfc3339(task.run_at),
        "dedupe_key": task.dedupe_key,
        "lease_owner": task.lease_owner,
        "lease_expires_at": _time(task.lease_expires_at),
        "last_error": task.last_error,
        "payload": mask_payload(dict(task.payload)),
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
    }


def attempt_json(attempt: Attempt) -> dict[str, Any]:
    """One run of a task: when, how it ended, the error, how long it took."""
    return {
        "number": attempt.number,
        "started_at": rfc3339(attempt.started_at),
        "finished_at": _time(attempt.finished_at),
        "outcome": None if attempt.outcome is None else attempt.outcome.value,
        "error_class": attempt.error_class,
        "error_message": attempt.error_message,
        "duration_ms": attempt.duration_ms,
    }


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """One audited action: when, who, what and why."""
    return {"at": rfc3339(entry.at), "actor": entry.actor, "action": entry.action,
            "reason": entry.reason, "detail": entry.detail}  # fmt: skip


def replay_count_json(count: ReplayCount) -> dict[str, Any]:
    # To the microsecond, as the outbox stores times: a replay given it takes exactly the count.
    return {"matching": count.matching, "as_of": rfc3339(count.as_of, timespec="microseconds")}


def task_detail_json(detail: TaskDetail) -> dict[str, Any]:
    """The task with ``attempts_log`` and ``audit``, both oldest first."""
    body = task_json(detail.task)
    body["attempts_log"] = [attempt_json(a) for a in detail.attempts]
    body["audit"] = [audit_json(e) for e in detail.audit]
    return body


def stats_json(stats: OutboxStats) -> dict[str, Any]:
    """Counts by state, backlog (due work), scheduled tasks, the oldest due task's age and
    done tasks per second."""
    return {
        "counts": {state.value: count for state, count in stats.counts.items()},
        "backlog": stats.backlog,
        "scheduled": stats.scheduled,
        "oldest_due_age_s": stats.oldest_due_age_s,
        "done_per_s": round(stats.done_per_s, 3),
        "window_s": stats.window_s,
    }


def gateway_json(
    gateway: Gateway,
    *,
    enabled: bool = True,
    routing_changes: list[dict[str, Any]] | None = None,
    recent_errors: list[str] | None = None,
    faults: dict[str, Any] | None = None,
    fault_changes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A gateway as operators see it: routing switch, breaker, recent figures and errors,
    the latest routing changes (newest first) and, for an embedded mock, its faults and
    their latest switches (newest first)."""
    breaker = gateway.breaker_state()
    stats = gateway.recent_stats()
    return {
        "name": gateway.name,
        "protocol": gateway.protocol,
        "enabled": enabled,
        "breaker": {
            "state": breaker.state,
            "failures": breaker.failures,
            "fail_max": breaker.fail_max,
            "opened_at": _time(breaker.opened_at),
            "may_half_open_at": _time(breaker.may_half_open_at),
            "open_since": _time(breaker.open_since),
            "failed_trials": breaker.failed_trials,
        },
        "recent": {
            "calls": stats.calls,
            "success_rate": stats.success_rate,
            "latency_p50_ms": stats.latency_p50_ms,
            "latency_p99_ms": stats.latency_p99_ms,
            "outcomes": dict(stats.outcomes),
        },
        "credentials_refused_since": _time(stats.credentials_refused_since),
        "recent_errors": list(recent_errors or []),
        "routing_changes": list(routing_changes or []),
        "faults": faults,
        "fault_changes": list(fault_changes or []),
    }


def operator_action_json(action: OperatorAction) -> dict[str, Any]:
    """One audited operator action, in the same shape as a task's audit entries."""
    return {"at": rfc3339(action.at), "actor": action.actor, "action": action.action,
            "reason": action.reason, "detail": action.detail}  # fmt: skip


def transaction_detail_json(
    transaction: Transaction, events: list[TransactionEvent]
) -> dict[str, Any]:
    """The transaction with its ``events`` timeline, oldest first."""
    body = transaction.as_json()
    body["events"] = [event.as_json() for event in events]
    return body


def ledger_line_json(line: LedgerLineRow) -> dict[str, Any]:
    """One posting: ``delta`` is the signed change of the account's balance as people
    read it, ``posting`` the same amount the accountant's way (debit positive; an
    entry's postings sum to zero); ``bucket`` is the account's name."""
    account = line.account
    return {
        "at": rfc3339(line.at),
        "entry_id": line.entry_id,
        "customer_id": line.customer_id,
        "account": account_ref_json(account),
        "currency": account.currency,
        "bucket": account.name.value,
        "delta": line.delta.wire(),
        "posting": Money(line.posting_minor, account.currency).wire(),
        "reason": line.reason,
    }


def account_ref_json(account: Account) -> dict[str, str]:
    """Which account: ``holder`` (customer | gateway), ``owner`` (its id or name), ``name``."""
    return {"holder": account.holder.value, "owner": account.owner, "name": account.name.value}
