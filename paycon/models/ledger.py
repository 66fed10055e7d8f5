"""Ledger accounts and journal entries, as the operators' ledger API answers them."""

from __future__ import annotations

from pydantic import Field

from paycon.domain.balances import Account
from paycon.domain.money import Money
from paycon.models.fields import DecimalText, Out, Time, ms
from paycon.models.transactions import AccountRefOut
from paycon.storage.queries import AccountRow, JournalRow


class LedgerAccountOut(Out):
    """One ledger account and its balance."""

    account: AccountRefOut
    currency: str
    balance: DecimalText = Field(
        description="the balance as people read it: positive when normal (what paycon owes "
        "a customer in available and held; what is owed to paycon in owed and clearing)"
    )
    debit_balance: DecimalText = Field(
        description="the sum of the account's postings, debit positive (credit negative)"
    )
    updated_at: Time

    @classmethod
    def of(cls, row: AccountRow) -> LedgerAccountOut:
        account = row.account
        return cls.model_construct(
            account=AccountRefOut.of(account),
            currency=account.currency,
            balance=Money(account.shown(row.balance_minor), account.currency).amount,
            debit_balance=Money(row.balance_minor, account.currency).amount,
            updated_at=ms(row.updated_at),
        )


class LedgerAccountPageOut(Out):
    items: list[LedgerAccountOut]
    next_cursor: str | None


class JournalPostingOut(Out):
    account: AccountRefOut
    delta: DecimalText = Field(description="the change of the account's balance as people read it")
    posting: DecimalText = Field(description="debit positive; an entry's postings sum to zero")

    @classmethod
    def of(cls, account: Account, delta_minor: int) -> JournalPostingOut:
        return cls.model_construct(
            account=AccountRefOut.of(account),
            delta=Money(account.shown(delta_minor), account.currency).amount,
            posting=Money(delta_minor, account.currency).amount,
        )


class JournalEntryOut(Out):
    """One movement: postings in one currency that sum to zero."""

    id: str
    transaction_id: str | None
    reason: str
    currency: str
    at: Time
    postings: list[JournalPostingOut]

    @classmethod
    def of(cls, entry: JournalRow) -> JournalEntryOut:
        return cls.model_construct(
            id=entry.id,
            transaction_id=entry.transaction_id,
            reason=entry.reason,
            currency=entry.currency,
            at=ms(entry.at),
            postings=[JournalPostingOut.of(account, delta) for account, delta in entry.postings],
        )


class JournalPageOut(Out):
    items: list[JournalEntryOut]
    next_cursor: str | None
