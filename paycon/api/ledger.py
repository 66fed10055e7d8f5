"""Operators' view of the double-entry ledger: accounts and the journal."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from paycon.api.context import context
from paycon.api.responses import json_response
from paycon.domain.balances import Account, AccountName, EntryReason, Holder
from paycon.domain.errors import InvalidInput
from paycon.domain.money import Money
from paycon.domain.transactions import TRANSACTION_ID_PATTERN, rfc3339
from paycon.models.requests import CUSTOMER_ID_PATTERN, parse_model
from paycon.models.transactions import AccountRefOut
from paycon.storage.queries import (
    AccountFilter,
    AccountRow,
    JournalFilter,
    JournalRow,
    journal_page,
    ledger_account_page,
)

JOURNAL_ID_PATTERN = r"^jrn_[0-9A-HJKMNP-TV-Z]{26}$"
# holder/owner/name/currency of the last account of the previous page.
ACCOUNT_CURSOR_PATTERN = (
    r"^(customer|gateway)/[A-Za-z0-9_.:-]{1,64}/"
    r"(available|held|owed|clearing|fees|suspense|settled)/[A-Z]{3}$"
)
_OWNER_PATTERN = CUSTOMER_ID_PATTERN  # customer ids; gateway names fit it too


class AccountListQuery(BaseModel):
    """Query parameters of ``GET /v1/ledger/accounts``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holder: Literal["customer", "gateway"] | None = None
    owner: Annotated[str, Field(pattern=_OWNER_PATTERN)] | None = Field(
        default=None, description="a customer id or a gateway name"
    )
    name: Literal["available", "held", "owed", "clearing", "fees", "suspense", "settled"] | None = (
        None
    )
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    cursor: Annotated[str, Field(pattern=ACCOUNT_CURSOR_PATTERN)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


class JournalQuery(BaseModel):
    """Query parameters of ``GET /v1/ledger/journal``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    transaction_id: Annotated[str, Field(pattern=TRANSACTION_ID_PATTERN)] | None = None
    holder: Literal["customer", "gateway"] | None = Field(
        default=None, description="only entries with a posting on an account of this holder"
    )
    owner: Annotated[str, Field(pattern=_OWNER_PATTERN)] | None = Field(
        default=None,
        description="only entries with a posting on this customer's or gateway's accounts",
    )
    reason: Literal[
        "deposit_credit", "withdrawal_hold", "withdrawal_settle", "withdrawal_release",
        "deposit_reversal", "payout_return", "late_payout",
    ] | None = None  # fmt: skip
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    cursor: Annotated[str, Field(pattern=JOURNAL_ID_PATTERN)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


def _single_query(request: web.Request) -> dict[str, str]:
    if len(request.query) != len(set(request.query.keys())):
        raise InvalidInput("each query parameter may appear only once")
    return dict(request.query)


def account_json(row: AccountRow) -> dict[str, Any]:
    account = row.account
    return {
        "account": AccountRefOut.of(account).model_dump(mode="json"),
        "currency": account.currency,
        "balance": Money(account.shown(row.balance_minor), account.currency).wire(),
        "debit_balance": Money(row.balance_minor, account.currency).wire(),
        "updated_at": rfc3339(row.updated_at),
    }


def posting_json(account: Account, delta_minor: int) -> dict[str, Any]:
    return {
        "account": AccountRefOut.of(account).model_dump(mode="json"),
        "delta": Money(account.shown(delta_minor), account.currency).wire(),
        "posting": Money(delta_minor, account.currency).wire(),
    }


def journal_entry_json(entry: JournalRow) -> dict[str, Any]:
    return {
        "id": entry.id,
        "transaction_id": entry.transaction_id,
        "reason": entry.reason,
        "currency": entry.currency,
        "at": rfc3339(entry.at),
        "postings": [posting_json(account, delta) for account, delta in entry.postings],
    }


async def list_accounts(request: web.Request) -> web.Response:
    query = parse_model(AccountListQuery, _single_query(request))
    after = None
    if query.cursor is not None:
        holder, owner, name, currency = query.cursor.split("/")
        after = (holder, owner, name, currency)
    where = AccountFilter(
        holder=Holder(query.holder) if query.holder else None,
        owner=query.owner,
        name=AccountName(query.name) if query.name else None,
        currency=query.currency,
    )
    async with context(request).db.read() as conn:
        page, last = await ledger_account_page(conn, where, limit=query.limit, after=after)
    return json_response(
        {"items": [account_json(row) for row in page],
         "next_cursor": "/".join(last) if last else None}
    )  # fmt: skip


async def list_journal(request: web.Request) -> web.Response:
    query = parse_model(JournalQuery, _single_query(request))
    where = JournalFilter(
        transaction_id=query.transaction_id,
        holder=Holder(query.holder) if query.holder else None,
        owner=query.owner,
        reason=EntryReason(query.reason).value if query.reason else None,
    )
    async with context(request).db.read() as conn:
        page, next_cursor = await journal_page(conn, where, limit=query.limit, cursor=query.cursor)
    return json_response(
        {"items": [journal_entry_json(entry) for entry in page], "next_cursor": next_cursor}
    )
