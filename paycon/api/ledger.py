"""Operators' view of the double-entry ledger: accounts and the journal."""

from __future__ import annotations

from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from paycon.api.context import context
from paycon.api.responses import model_response
from paycon.domain.balances import AccountName, EntryReason, Holder
from paycon.domain.errors import InvalidInput
from paycon.domain.transactions import TRANSACTION_ID_PATTERN
from paycon.models.ledger import (
    JournalEntryOut,
    JournalPageOut,
    LedgerAccountOut,
    LedgerAccountPageOut,
)
from paycon.models.requests import CUSTOMER_ID_PATTERN, parse_model
from paycon.storage.queries import (
    AccountFilter,
    JournalFilter,
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
        "deposit_reversal", "payout_return", "late_payout", "settlement", "settlement_fee",
    ] | None = None  # fmt: skip
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    cursor: Annotated[str, Field(pattern=JOURNAL_ID_PATTERN)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


def _single_query(request: web.Request) -> dict[str, str]:
    if len(request.query) != len(set(request.query.keys())):
        raise InvalidInput("each query parameter may appear only once")
    return dict(request.query)


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
    items = [LedgerAccountOut.of(row) for row in page]
    next_cursor = "/".join(last) if last else None
    return model_response(
        LedgerAccountPageOut.model_construct(items=items, next_cursor=next_cursor)
    )


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
    items = [JournalEntryOut.of(entry) for entry in page]
    return model_response(JournalPageOut.model_construct(items=items, next_cursor=next_cursor))
