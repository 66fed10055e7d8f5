"""The answer models: built from records, spelt in JSON as the API always has, and read
back by the HTTP facade into the same values the in-process facade hands out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from mock_gateways.faults import Faults
from outbox import Task, TaskState
from paycon.domain.money import Money
from paycon.domain.status import Kind, Status
from paycon.domain.transactions import BalanceView, Review, Transaction
from paycon.models.gateways import FaultsOut
from paycon.models.outbox import OutboxCountOut, OutboxTaskOut
from paycon.models.transactions import BalanceOut, TransactionOut

AT = datetime(2026, 11, 27, 4, 40, 28, 123456, tzinfo=UTC)


def transaction(**changes: object) -> Transaction:
    fields: dict[str, object] = {
        "id": "tx_01JDXK3M6Y8Q2R4T6V8X0Z2B4D",
        "kind": Kind.DEPOSIT,
        "status": Status.PENDING,
        "customer_id": "cus_42",
        "money": Money(10050, "EUR"),
        "country": "DE",
        "gateway": "gateway_a",
        "route": ("gateway_a",),
        "reference": "Bestellung «42»",
        "notify_url": None,
        "destination_masked": None,
        "failure_reason": None,
        "created_at": AT,
        "updated_at": AT,
    }
    return Transaction(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_transaction_is_spelt_as_the_api_answers_it() -> None:
    body = TransactionOut.of(transaction()).model_dump(mode="json")
    assert body["amount"] == "100.50"
    assert body["kind"] == "deposit"
    assert body["created_at"] == "2026-11-27T04:40:28.123Z"
    assert body["review"] is None
    assert "destination" not in body  # a deposit's answer has none, not null
    yen = TransactionOut.of(transaction(money=Money(1000, "JPY"))).model_dump(mode="json")
    assert yen["amount"] == "1000"


def test_a_withdrawal_held_for_review_shows_its_masked_destination_and_why() -> None:
    held = transaction(
        kind=Kind.WITHDRAWAL,
        destination_masked={"iban": "DE89 **** **** 3000", "holder": "J*** D**"},
        review=Review("task_dead", "the submit task died", AT),
    )
    body = TransactionOut.of(held).model_dump(mode="json")
    assert body["destination"] == {"iban": "DE89 **** **** 3000", "holder": "J*** D**"}
    assert body["review"] == {
        "reason": "task_dead",
        "detail": "the submit task died",
        "since": "2026-11-27T04:40:28.123Z",
    }


def test_an_answer_parsed_back_equals_the_model_built_in_the_process() -> None:
    """What keeps the two facades' reads equal: times go to the millisecond both ways."""
    built = TransactionOut.of(transaction(review=Review("task_dead", "x", AT)))
    parsed = TransactionOut.model_validate(json.loads(built.model_dump_json()))
    assert parsed == built
    assert parsed.amount == Decimal("100.50")
    task = Task(
        id=7, kind="submit", payload={"transaction_id": "tx_1"}, dedupe_key=None,
        state=TaskState.PENDING, attempts=0, max_attempts=10, run_at=AT, lease_owner=None,
        lease_expires_at=None, last_error=None, created_at=AT, updated_at=AT,
    )  # fmt: skip
    shown = OutboxTaskOut.of(task)
    assert OutboxTaskOut.model_validate_json(shown.model_dump_json()) == shown


def test_a_count_keeps_its_moment_to_the_microsecond() -> None:
    """A replay handed the count's as_of must take exactly the tasks counted."""
    count = OutboxCountOut.counted(3, AT)
    assert count.model_dump(mode="json") == {"matching": 3, "as_of": "2026-11-27T04:40:28.123456Z"}
    assert OutboxCountOut.model_validate_json(count.model_dump_json()).as_of == AT


def test_a_balance_shows_owed_only_when_the_customer_owes_something() -> None:
    settled = BalanceView("EUR", Money(500, "EUR"), Money(0, "EUR"), owed=Money(0, "EUR"))
    assert BalanceOut.of(settled).model_dump(mode="json") == {
        "currency": "EUR",
        "available": "5.00",
        "held": "0.00",
    }
    owing = BalanceView("EUR", Money(0, "EUR"), Money(0, "EUR"), owed=Money(1250, "EUR"))
    assert BalanceOut.of(owing).model_dump(mode="json")["owed"] == "12.50"


def test_a_mock_gateways_faults_are_shown_whole() -> None:
    """The status shows every fault the mock has, not only the ones the model names."""
    faults = Faults(error_rate=0.3, auth_failure=True).to_json()
    shown = FaultsOut.model_validate(faults)
    assert shown.model_dump(mode="json") == faults
    assert shown.error_rate == 0.3
