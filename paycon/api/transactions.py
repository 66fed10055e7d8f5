"""Reading transactions and balances."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from paycon.api.auth import Role
from paycon.api.context import context, principal
from paycon.api.responses import json_response
from paycon.api.schemas import CUSTOMER_ID_PATTERN, CustomerId, parse_model
from paycon.api.views import ledger_line_json, task_json, transaction_detail_json
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.status import Kind, Status
from paycon.domain.transactions import TRANSACTION_ID_PATTERN, is_transaction_id
from paycon.storage.queries import TransactionFilter

_CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)


class TransactionListQuery(BaseModel):
    """Query parameters of ``GET /v1/transactions``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Status | None = None
    kind: Kind | None = None
    gateway: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    customer_id: CustomerId | None = None
    reference: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="exactly this merchant reference"
    )
    review: Literal["true"] | None = Field(
        default=None, description="only payments held for review (an operator key)"
    )
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    cursor: Annotated[str, Field(pattern=TRANSACTION_ID_PATTERN)] | None = Field(
        default=None, description="next_cursor of the previous page"
    )


def transaction_path_id(request: web.Request) -> str:
    transaction_id = request.match_info["id"]
    if not is_transaction_id(transaction_id):
        raise InvalidInput(
            "not a transaction id", errors=[FieldError("id", "expected tx_ and 26 characters")]
        )
    return transaction_id


async def get_transaction(request: web.Request) -> web.Response:
    transaction, events = await context(request).queries.transaction(transaction_path_id(request))
    return json_response(transaction_detail_json(transaction, events))


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
    return json_response({"items": [t.as_json() for t in items], "next_cursor": next_cursor})


async def get_ledger(request: web.Request) -> web.Response:
    lines = await context(request).queries.ledger(transaction_path_id(request))
    return json_response({"items": [ledger_line_json(line) for line in lines]})


async def get_transaction_tasks(request: web.Request) -> web.Response:
    tasks = await context(request).queries.tasks(transaction_path_id(request))
    return json_response({"items": [task_json(task) for task in tasks]})


async def get_balances(request: web.Request) -> web.Response:
    customer_id = request.match_info["customer_id"]
    if not _CUSTOMER_ID.fullmatch(customer_id):
        raise InvalidInput(
            "not a customer id",
            errors=[FieldError("customer_id", "1-64 of letters, digits and _ . : -")],
        )
    balances = await context(request).queries.balances(customer_id)
    return json_response({"customer_id": customer_id, "balances": [b.as_json() for b in balances]})
