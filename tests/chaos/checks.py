"""The end-of-run checks: pure functions from what was observed to one line each.

Each check compares paycon's own record (its transactions, balances, outbox
and logs) with what the merchant was told and with the mock gateways' ledger,
the independent record of what the gateways did.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select

from paycon.domain.reconcile import RunSummary
from paycon.storage.ledger_check import verify
from paycon.storage.schema import journal_entries, ledger_accounts
from tests.chaos.load import Answer

Json = dict[str, Any]
FINAL = ("completed", "failed")
GATEWAY_WORD = {"success": "completed", "failure": "failed"}


@dataclass(frozen=True)
class Check:
    """One check's verdict (None: not checked in this version) and its line of numbers."""

    name: str
    ok: bool | None
    numbers: str

    def line(self) -> str:
        verdict = {True: "ok  ", False: "FAIL", None: "skip"}[self.ok]
        return f"{verdict} {self.name:<10} {self.numbers}"


def counts(counter: Mapping[str, int]) -> str:
    """``a 1, b 2`` (``none`` when empty)."""
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "none"


def check_accepted(answers: Sequence[Answer], transactions: Sequence[Json]) -> Check:
    """Every 202 has its transaction (the id it was told, for its key, amount and customer),
    no key has two transactions, and no transaction exists for a key that was not a 202."""
    by_id = {t["id"]: t for t in transactions}
    per_key = Counter(t["reference"] for t in transactions)
    accepted = [a for a in answers if a.status == 202]
    accepted_keys = {a.payment.key for a in accepted}
    missing = 0
    for answer in accepted:
        seen = by_id.get(answer.transaction_id or "")
        payment = answer.payment
        if seen is None or (seen["reference"], seen["kind"], seen["customer_id"]) != (
            payment.key, payment.kind, payment.customer_id
        ) or Decimal(seen["amount"]) != payment.amount:  # fmt: skip
            missing += 1
    twice = sum(1 for n in per_key.values() if n > 1)
    orphans = sum(1 for t in transactions if t["reference"] not in accepted_keys)
    refused = sum(1 for a in answers if a.status == 422 and a.problem == "insufficient_funds")
    other = Counter(
        f"{a.status} {a.problem}" for a in answers if a.status not in (None, 202) and
        not (a.status == 422 and a.problem == "insufficient_funds")
    )  # fmt: skip
    unanswered = sum(1 for a in answers if a.status is None)
    retries: Counter[str] = Counter()
    for answer in answers:
        retries.update(answer.retried)
    retried = sum(1 for a in answers if a.retried)
    replayed = sum(1 for a in answers if a.replayed)
    ok = not (missing or twice or orphans or other or unanswered)
    return Check(
        "accepted",
        ok,
        f"{len(answers)} payments sent, {len(accepted)} answered 202 -> {len(transactions)}"
        f" transactions; {missing} missing, {twice} keys with two, {orphans} without a 202;"
        f" {replayed} of them replayed (an earlier try had been taken);"
        f" {refused} refused 422 insufficient_funds, {sum(other.values())} other answers"
        f" ({counts(other)}), {unanswered} unanswered; {retried} retried with the same key"
        f" ({counts(retries)})",
    )


def ledger_index(ledgers: Mapping[str, Sequence[Json]]) -> dict[str, dict[str, Json]]:
    """Each gateway's ledger entries by transaction id."""
    return {g: {e["transaction_id"]: e for e in entries} for g, entries in ledgers.items()}


def late_failure_unseen(entry: Json, status: str | None) -> bool:
    """A late failure paycon cannot know of: it had completed the payment, and no failure
    callback ever reached it (dropped, or given up while paycon was down). Nothing asks a
    gateway about a final payment again: reconciliation finds it as a reversal break."""
    return (
        bool(entry["injected_faults"].get("late_failure"))
        and status == "completed"
        and not any(c["status"] == "failure" and c["delivered"] for c in entry["callbacks"])
    )


def check_final(transactions: Sequence[Json], ledgers: Mapping[str, Sequence[Json]]) -> Check:
    """Every transaction is final with its gateway's status, or held for review; the one
    exception, counted apart, is a late failure that never reached paycon."""
    index = ledger_index(ledgers)
    statuses = Counter(t["status"] for t in transactions)
    held = held_in_flight = stray = differ = unknown = unseen = 0
    for t in transactions:
        entry = index.get(t["gateway"], {}).get(t["id"])
        if entry is None:
            # Never reached its gateway: only a failure (a refusal) is consistent with that.
            agrees = t["status"] == "failed"
            unknown += 1
        else:
            agrees = t["status"] in FINAL and t["status"] == GATEWAY_WORD.get(entry["status"])
        if t["review"] is not None:
            held += 1
            held_in_flight += t["status"] not in FINAL
        elif t["status"] not in FINAL:
            stray += 1
        elif not agrees and entry is not None and late_failure_unseen(entry, t["status"]):
            unseen += 1
        elif not agrees:
            differ += 1
    return Check(
        "final",
        stray == 0 and differ == 0,
        f"{len(transactions)} transactions ({counts(statuses)}), {held} held"
        f" ({held_in_flight} of them in flight); {stray} neither final nor held,"
        f" {differ} final but not what their gateway's ledger says"
        f" ({unknown} unknown to their gateway); {unseen} completed whose late failure never"
        f" reached paycon (the reconcile check finds them as reversal breaks)",
    )


def expected_holds(
    transactions: Sequence[Json], ledgers: Mapping[str, Sequence[Json]], dead: Iterable[str]
) -> dict[str, set[str]]:
    """Why each payment should be held, from the gateways' ledgers and the tasks that died.

    - a skewed callback (another amount) that reached paycon (answered 2xx) holds;
    - a callback on the other gateway's route that reached paycon holds;
    - a late failure whose callback reached paycon holds when paycon had the
      success first (its status is completed); when paycon learnt only the
      failure, it failed the payment as the gateway says, and nothing needs a
      person;
    - a payment whose submit or status task died holds (kills, outages and
      errors can use up a task's attempts);
    - a 503 after charging, refused credentials, dropped, duplicated or stale
      callbacks, errors and timeouts hold nothing: paycon asks and finds out.
    """
    status = {t["id"]: t["status"] for t in transactions}
    causes: dict[str, set[str]] = defaultdict(set)
    for entries in ledgers.values():
        for entry in entries:
            tx = entry["transaction_id"]
            for callback in entry["callbacks"]:
                if not callback["delivered"]:
                    continue
                if callback["as_gateway"] is not None:
                    causes[tx].add("wrong_route")
                if Decimal(callback["amount"]) != Decimal(entry["amount"]):
                    causes[tx].add("amount_skew")
            late = entry["injected_faults"].get("late_failure")
            if (
                late
                and status.get(tx) == "completed"
                and not late_failure_unseen(entry, "completed")
            ):
                causes[tx].add("late_failure")
    for tx in dead:
        causes[tx].add("task_dead")
    return dict(causes)


def injected_totals(ledgers: Mapping[str, Sequence[Json]]) -> Counter[str]:
    """Every money fault the mocks injected, over both gateways."""
    totals: Counter[str] = Counter()
    for entries in ledgers.values():
        for entry in entries:
            totals.update(entry["injected_faults"])
    return totals


def check_holds(
    transactions: Sequence[Json], ledgers: Mapping[str, Sequence[Json]], dead: Iterable[str]
) -> Check:
    """The payments held are exactly those some injected misbehaviour (or a dead task) should
    hold: none held without cause, none missed."""
    expected = expected_holds(transactions, ledgers, dead)
    held = {t["id"]: t["review"]["reason"] for t in transactions if t["review"] is not None}
    missed = sorted(set(expected) - set(held))
    unexplained = sorted(set(held) - set(expected))
    by_cause = Counter(cause for causes in expected.values() for cause in causes)
    overlapping = sum(1 for causes in expected.values() if len(causes) > 1)
    status = {t["id"]: t["status"] for t in transactions}
    late_failed = sum(
        1
        for entries in ledgers.values()
        for entry in entries
        if entry["injected_faults"].get("late_failure")
        and status.get(entry["transaction_id"]) == "failed"
    )
    examples = ", ".join([*(f"missed {t}" for t in missed[:3]),
                          *(f"unexplained {t} ({held[t]})" for t in unexplained[:3])])  # fmt: skip
    return Check(
        "held",
        not missed and not unexplained,
        f"{len(held)} held, {len(expected)} expected ({counts(by_cause)}; {overlapping} with"
        f" two causes); {len(unexplained)} held without cause, {len(missed)} missed;"
        f" reasons {counts(Counter(held.values()))}; mocks injected"
        f" {counts(injected_totals(ledgers))} ({late_failed} late failures learnt only as"
        f" failures)" + (f"; {examples}" if examples else ""),
    )


def check_charges(ledgers: Mapping[str, Sequence[Json]]) -> Check:
    """No gateway charged a payment twice, and no payment was charged on two gateways."""
    charged_by: dict[str, list[str]] = defaultdict(list)
    twice = 0
    parts = []
    for gateway, entries in sorted(ledgers.items()):
        charged = [e for e in entries if e["charges"] > 0]
        twice += sum(1 for e in entries if e["charges"] > 1)
        submissions = sum(e["submissions"] for e in entries)
        parts.append(
            f"{gateway} holds {len(entries)} ({submissions} submissions), charged {len(charged)}"
        )
        for entry in charged:
            charged_by[entry["transaction_id"]].append(gateway)
    on_two = sum(1 for gateways in charged_by.values() if len(gateways) > 1)
    return Check(
        "charges",
        twice == 0 and on_two == 0,
        f"{'; '.join(parts)}; {twice} charged twice, {on_two} charged on two gateways",
    )


def check_balances(transactions: Sequence[Json], balances: Mapping[str, Sequence[Json]]) -> Check:
    """Each customer's balances equal completed deposits minus completed withdrawals
    (minus the withdrawals in flight, which are ``held``)."""
    available: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    on_hold: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for t in transactions:
        where = (t["customer_id"], t["currency"])
        amount = Decimal(t["amount"])
        if t["kind"] == "deposit":
            available[where] += amount if t["status"] == "completed" else Decimal(0)
        elif t["status"] in ("pending", "submitted"):
            available[where] -= amount
            on_hold[where] += amount
        elif t["status"] == "completed":
            available[where] -= amount
    differ = negative = 0
    total_available = total_held = Decimal(0)
    reported: set[tuple[str, str]] = set()
    for customer, rows in balances.items():
        for row in rows:
            where = (customer, row["currency"])
            reported.add(where)
            got = (Decimal(row["available"]), Decimal(row["held"]))
            total_available, total_held = total_available + got[0], total_held + got[1]
            if got != (available[where], on_hold[where]):
                differ += 1
            if got[0] < 0:
                negative += 1
    for where in set(available) | set(on_hold):
        if where not in reported and (available[where], on_hold[where]) != (Decimal(0), Decimal(0)):
            differ += 1
    return Check(
        "balances",
        differ == 0 and negative == 0,
        f"{len(balances)} customers: available {total_available} and held {total_held} in all;"
        f" {differ} balances differ from completed deposits minus completed withdrawals,"
        f" {negative} negative",
    )


def check_ledger(db_path: Path) -> Check:
    """The ledger's invariants on paycon's database once it stopped, as `paycon ledger
    verify` checks them: every entry sums to zero, every balance equals its postings, no
    customer's available below zero (settlement entries of the reconciliation included)."""
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            breaks = verify(conn)
            entries = conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()
            accounts = conn.execute(select(func.count()).select_from(ledger_accounts)).scalar_one()
    finally:
        engine.dispose()
    first = f"; first: {breaks[0].line()}" if breaks else ""
    return Check(
        "ledger",
        not breaks,
        f"{entries} journal entries over {accounts} accounts: {len(breaks)} breaks{first}",
    )


# Breaks no fault of the chaos schedule explains: paycon's record of money would be wrong
# (the schedule injects no report faults; late failures, ghost 503s, wrong routes and
# skewed callbacks make reversal, other_gateway, not_final and status_differs breaks).
UNEXPLAINED_BREAKS = ("unknown_transaction", "missing_from_report", "amount_differs")


def check_reconcile(first: Sequence[RunSummary], again: Sequence[RunSummary]) -> Check:
    """Each gateway's settlement reports reconciled after the run, then once more: the
    first books every matched line and finds only breaks the faults explain; the second
    books nothing and finds nothing new."""
    kinds: Counter[str] = Counter()
    for summary in first:
        kinds.update(summary.breaks)
    unexplained = {k: v for k, v in kinds.items() if k in UNEXPLAINED_BREAKS}
    rebooked = sum(s.booked for s in again)
    renewed = sum(s.new_breaks for s in again)
    return Check(
        "reconcile",
        bool(first) and not unexplained and not rebooked and not renewed,
        f"{len(first)} reports, {sum(s.lines for s in first)} lines:"
        f" {sum(s.matched for s in first)} matched, {sum(s.booked for s in first)} booked;"
        f" breaks {counts(kinds)}; run again: {rebooked} booked, {renewed} new breaks",
    )


def check_outbox(stats: Json) -> Check:
    """No task running or due at the end."""
    counts = stats["counts"]
    return Check(
        "outbox",
        counts.get("running", 0) == 0 and stats["backlog"] == 0,
        f"{counts.get('running', 0)} running, {stats['backlog']} due,"
        f" {stats['scheduled']} scheduled, {counts.get('dead', 0)} dead,"
        f" {counts.get('done', 0)} done",
    )


def check_logs(lines: Sequence[str], *, secrets: Iterable[str], ibans: Iterable[str]) -> Check:
    """No IBAN (compact or in groups of four), API key or secret in any log line."""
    secret_list = [s for s in secrets if s]
    iban_forms = [form for iban in ibans for form in (iban, " ".join(_groups(iban)))]
    with_secret = sum(1 for line in lines if any(s in line for s in secret_list))
    with_iban = sum(1 for line in lines if any(i in line for i in iban_forms))
    return Check(
        "logs",
        with_secret == 0 and with_iban == 0 and len(lines) > 0,
        f"{len(lines)} lines of paycon's log: {with_iban} with an IBAN,"
        f" {with_secret} with an API key or secret ({len(secret_list)} looked for)",
    )


def _groups(text: str) -> list[str]:
    return [text[i : i + 4] for i in range(0, len(text), 4)]
