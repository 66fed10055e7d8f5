"""The filter line's parsing and the console's ways of writing ages, money and breakers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from paycon.models.gateways import BreakerOut, GatewayOut, GatewayRecentOut
from paycon.models.queries import TaskQuery, TransactionQuery
from paycon.tui import formatting as fmt
from paycon.tui.filters import (
    FilterError,
    TaskFilter,
    TransactionFilter,
    describe_task_query,
    describe_transaction_filter,
    parse_task_filter,
    parse_transaction_filter,
)
from paycon.tui.widgets.cards import breaker_line

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def test_transaction_filters_and_a_search_word() -> None:
    parsed = parse_transaction_filter(" status:failed  gateway:gateway_b customer:cus_42 ref-7 ")
    assert parsed == TransactionFilter(
        TransactionQuery(status="failed", gateway="gateway_b", customer_id="cus_42"), "ref-7"
    )
    assert describe_transaction_filter(parsed) == (
        "id or reference ref-7 · status failed · gateway gateway_b · customer cus_42"
    )
    assert parse_transaction_filter("") == TransactionFilter()
    assert describe_transaction_filter(TransactionFilter()) == "all"


def test_the_held_for_review_filter() -> None:
    parsed = parse_transaction_filter("review:held kind:deposit")
    assert parsed == TransactionFilter(TransactionQuery(kind="deposit", review=True))
    assert describe_transaction_filter(parsed) == "held for review · kind deposit"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status:lost", "status: 'lost' is not one of pending, submitted, completed, failed"),
        ("kind:refund", "kind: 'refund' is not one of deposit, withdrawal"),
        ("colour:blue", "colour: unknown filter (known: status, kind, gateway, customer, review)"),
        ("review:yes", "review: 'yes' is not one of held"),
        ("status:", "status: needs a value"),
        ("kind:deposit kind:withdrawal", "kind: given twice"),
        ("tx_1 tx_2", "one id or reference at a time"),
    ],
)
def test_bad_transaction_filters_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=re.escape(message)):
        parse_transaction_filter(text)


def test_task_filters_or_a_task_id() -> None:
    assert parse_task_filter("kind:submit gateway:gateway_a") == TaskFilter("submit", "gateway_a")
    assert parse_task_filter("1234") == TaskFilter(task_id=1234)
    assert TaskFilter("notify").query("dead") == TaskQuery(state="dead", kind="notify")
    for bad in ("12 34", "kind:submit 12", "abc", "state:dead", "kind:carrier_pigeon"):
        with pytest.raises(FilterError):
            parse_task_filter(bad)


def test_bulk_actions_are_described_by_what_they_touch() -> None:
    query = TaskQuery(state="dead", kind="submit", gateway="gateway_b")
    assert describe_task_query(query) == "dead submit tasks for gateway_b"
    assert describe_task_query(TaskQuery()) == "tasks"


@pytest.mark.parametrize(
    ("seconds_ago", "said"),
    [
        (0.4, "now"),
        (3, "3 s ago"),
        (59.9, "59 s ago"),
        (61, "1 min ago"),
        (7200, "2 h ago"),
        (3 * 86400, "3 d ago"),
        (-12, "in 12 s"),
        (-600, "in 10 min"),
    ],
)
def test_ages_read_as_people_say_them(seconds_ago: float, said: str) -> None:
    assert fmt.age(NOW - timedelta(seconds=seconds_ago), NOW) == said


def test_money_rates_and_dashes() -> None:
    assert fmt.money(Decimal("1234.50"), "EUR") == "1,234.50 EUR"
    assert fmt.signed_money(Decimal("-20.00"), "EUR") == "-20.00 EUR"
    assert fmt.percent(0.98765) == "98.8%"
    assert fmt.percent(None) == fmt.NOTHING
    assert fmt.millis(1234.4) == "1,234 ms"
    assert fmt.one_line("first\nsecond") == "first"
    assert fmt.one_line("x" * 10, 5) == "xxxx…"


def test_an_open_breaker_says_since_when_its_trials_and_the_next_one() -> None:
    # Reopened 18 s ago by its second failed trial; open since three minutes.
    opened = BreakerOut(
        state="open", failures=7, fail_max=5, opened_at=NOW - timedelta(seconds=18),
        may_half_open_at=NOW + timedelta(seconds=12), open_since=NOW - timedelta(minutes=3),
        failed_trials=2,
    )  # fmt: skip
    assert fmt.next_trial(opened, NOW) == "next trial in 12 s"
    assert fmt.next_trial(opened, NOW + timedelta(seconds=13)) == "next trial now"
    assert fmt.open_for(opened, NOW) == "for 3 min"
    assert fmt.failed_trials(opened) == "2 trials failed"
    recent = GatewayRecentOut(
        calls=0, success_rate=None, latency_p50_ms=None, latency_p99_ms=None, outcomes={}
    )
    gateway = GatewayOut(
        name="gateway_b", protocol="xml", enabled=True, breaker=opened, recent=recent,
        credentials_refused_since=None, recent_errors=[], routing_changes=[], faults=None,
    )  # fmt: skip
    line = str(breaker_line(gateway, NOW))
    assert line == "open for 3 min · 2 trials failed · next trial in 12 s"
    assert "7/5" not in line
    assert (
        str(
            fmt.breaker_state(
                BreakerOut(
                    state="half_open", failures=5, fail_max=5, opened_at=None, may_half_open_at=None
                )
            )
        )
        == "half-open"
    )
    closed = BreakerOut(
        state="closed", failures=2, fail_max=5, opened_at=None, may_half_open_at=None
    )
    assert (
        fmt.next_trial(closed, NOW) == fmt.open_for(closed, NOW) == fmt.failed_trials(closed) == ""
    )
    assert str(breaker_line(gateway.model_copy(update={"breaker": closed}), NOW)) == (
        "closed 2/5 failures"
    )
