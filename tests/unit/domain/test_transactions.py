"""What the API shows of a customer's balance and a withdrawal's destination."""

from __future__ import annotations

from typing import Any

from paycon.domain.money import Money
from paycon.domain.transactions import BalanceView, Destination
from paycon.models.transactions import BalanceOut


def test_a_balance_shows_its_amounts_and_owed_only_when_something_is_owed() -> None:
    def view(owed: Money | None) -> dict[str, Any]:
        balance = BalanceView("EUR", Money(12_050, "EUR"), Money(300, "EUR"), owed)
        return BalanceOut.of(balance).model_dump(mode="json")

    shown = {"currency": "EUR", "available": "120.50", "held": "3.00"}
    assert view(None) == shown
    assert view(Money(0, "EUR")) == shown
    assert view(Money(1_999, "EUR")) == {**shown, "owed": "19.99"}


def test_a_destination_is_shown_masked() -> None:
    destination = Destination("DE89370400440532013000", "Jane Doe")

    assert destination.masked() == {"iban": "DE89 **** **** 3000", "holder": "J*** D***"}
    assert "3704" not in repr(destination)
    assert "Jane" not in repr(destination)
