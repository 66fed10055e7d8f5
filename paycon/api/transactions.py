"""Reading transactions and balances."""

from __future__ import annotations

import re

from aiohttp import web

from paycon.api.auth import Role
from paycon.api.context import context, principal
from paycon.api.responses import model_response
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.transactions import is_transaction_id
from paycon.models.outbox import OutboxTaskOut, TransactionTasksOut
from paycon.models.requests import CUSTOMER_ID_PATTERN, TransactionListQuery, parse_model
from paycon.models.transactions import (
    BalanceOut,
    BalancesOut,
    LedgerLineOut,
    LedgerOut,
    TransactionDetailOut,
    TransactionOut,
    TransactionPageOut,
)
from paycon.storage.queries import TransactionFilter

_CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)


def transaction_path_id(request: web.Request) -> str:
    transaction_id = request.match_info["id"]
    if not is_transaction_id(transaction_id):
        raise InvalidInput(
            "not a transaction id", errors=[FieldError("id", "expected tx_ and 26 characters")]
        )
    return transaction_id


async def get_transaction(request: web.Request) -> web.Response:
    transaction, events = await context(request).queries.transaction(transaction_path_id(request))
    return model_response(TransactionDetailOut.with_events(transaction, events))


async def list_transactions(request: web.Request) -> web.Response:
    if len(request.query) != len(set(request.query.keys())):
        raise InvalidInput("each query parameter may appear only once")
    query = parse_model(TransactionListQuery, dict(request.query))
    if query.review is not None:
        principal(request).require(Role.OPERATOR)
    items, next_cursor = await context(request).queries.transactions(
        TransactionFilter(
            status=query.status,
            kind=query.kind,
            gateway=query.gateway,
            customer_id=query.customer_id,
            reference=query.reference,
            held=query.review is not None,
        ),
        limit=query.limit,
        cursor=query.cursor,
    )
    page = [TransactionOut.of(t) for t in items]
    return model_response(TransactionPageOut.model_construct(items=page, next_cursor=next_cursor))


async def get_ledger(request: web.Request) -> web.Response:
    lines = await context(request).queries.ledger(transaction_path_id(request))
    return model_response(
        LedgerOut.model_construct(items=[LedgerLineOut.of(line) for line in lines])
    )


async def get_transaction_tasks(request: web.Request) -> web.Response:
    tasks = await context(request).queries.tasks(transaction_path_id(request))
    return model_response(
        TransactionTasksOut.model_construct(items=[OutboxTaskOut.of(t) for t in tasks])
    )


async def get_balances(request: web.Request) -> web.Response:
    customer_id = request.match_info["customer_id"]
    if not _CUSTOMER_ID.fullmatch(customer_id):
        raise InvalidInput(
            "not a customer id",
            errors=[FieldError("customer_id", "1-64 of letters, digits and _ . : -")],
        )
    balances = await context(request).queries.balances(customer_id)
    shown = [BalanceOut.of(balance) for balance in balances]
    return model_response(BalancesOut.model_construct(customer_id=customer_id, balances=shown))
