"""Operators' view of reconciliation: the runs against the gateways' settlement reports,
the breaks they found, and resolving a break that no payment carries."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from paycon.api.bodies import parse_json, read_body
from paycon.api.context import context, principal
from paycon.api.responses import model_response
from paycon.domain.actors import OPERATOR_NAME_HEADER, operator_actor
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.reasons import MAX_REASON_CHARS, REASON_PATTERN
from paycon.domain.reconcile import LineState
from paycon.models.reconciliation import (
    ReconciliationBreakOut,
    ReconciliationBreaksOut,
    ReconciliationRunOut,
    ReconciliationRunsOut,
)
from paycon.models.requests import CUSTOMER_ID_PATTERN, parse_model
from paycon.usecases.reconcile import Reconciliation

_GATEWAY_PATTERN = CUSTOMER_ID_PATTERN
# Break ids are the lines' BIGINT keys.
MAX_BREAK_ID = 2**63 - 1
_BREAK_ID = re.compile(r"[0-9]{1,19}")


class RunsQuery(BaseModel):
    """Query parameters of ``GET /v1/reconciliation/runs``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway: Annotated[str, Field(pattern=_GATEWAY_PATTERN)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50


class BreaksQuery(BaseModel):
    """Query parameters of ``GET /v1/reconciliation/breaks``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway: Annotated[str, Field(pattern=_GATEWAY_PATTERN)] | None = None
    state: Literal["open", "resolved"] = "open"
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class ResolveBreakIn(BaseModel):
    """Body of ``POST /v1/reconciliation/breaks/{id}/resolve``: why it is settled."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS, pattern=REASON_PATTERN)]


def _desk(request: web.Request) -> Reconciliation:
    ctx = context(request)
    return Reconciliation(ctx.db, ctx.settings.gateways)


def _single_query(request: web.Request) -> dict[str, str]:
    if len(request.query) != len(set(request.query.keys())):
        raise InvalidInput("each query parameter may appear only once")
    return dict(request.query)


async def list_runs(request: web.Request) -> web.Response:
    query = parse_model(RunsQuery, _single_query(request))
    runs = await _desk(request).runs(gateway=query.gateway, limit=query.limit)
    return model_response(
        ReconciliationRunsOut(items=[ReconciliationRunOut.of(run) for run in runs])
    )


async def list_breaks(request: web.Request) -> web.Response:
    query = parse_model(BreaksQuery, _single_query(request))
    found = await _desk(request).breaks(
        gateway=query.gateway, state=LineState(query.state), limit=query.limit
    )
    return model_response(
        ReconciliationBreaksOut(items=[ReconciliationBreakOut.of(b) for b in found])
    )


async def resolve_break(request: web.Request) -> web.Response:
    raw_id = request.match_info["id"]
    if not _BREAK_ID.fullmatch(raw_id) or not 1 <= int(raw_id) <= MAX_BREAK_ID:
        raise InvalidInput(
            "not a break id", errors=[FieldError("id", f"an integer from 1 to {MAX_BREAK_ID}")]
        )
    raw = await read_body(request, context(request).settings.server.max_body_bytes)
    body = parse_model(ResolveBreakIn, parse_json(raw) if raw.strip() else {})
    actor = operator_actor(principal(request).client_id, request.headers.get(OPERATOR_NAME_HEADER))
    found = await _desk(request).resolve_break(int(raw_id), reason=body.reason, actor=actor)
    return model_response(ReconciliationBreakOut.of(found))
