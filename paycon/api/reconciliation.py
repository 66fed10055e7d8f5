"""Operators' view of reconciliation: the runs against the gateways' settlement reports,
the breaks they found, and resolving a break that no payment carries."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from paycon.api.bodies import parse_json, read_body
from paycon.api.context import context, principal
from paycon.api.responses import json_response
from paycon.domain.actors import OPERATOR_NAME_HEADER, operator_actor
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.money import Money
from paycon.domain.reasons import MAX_REASON_CHARS, REASON_PATTERN
from paycon.domain.reconcile import BreakKind, BreakRecord, LineState, RunRecord
from paycon.domain.transactions import rfc3339
from paycon.models.requests import CUSTOMER_ID_PATTERN, parse_model
from paycon.usecases.reconcile import Reconciliation

_GATEWAY_PATTERN = CUSTOMER_ID_PATTERN
# Break ids are the lines' BIGINT keys.
MAX_BREAK_ID = 2**63 - 1
_BREAK_ID = re.compile(r"[0-9]{1,19}")
BreakKindName = Literal[
    "unknown_transaction", "other_gateway", "not_final", "status_differs", "reversal",
    "amount_differs", "missing_from_report",
]  # fmt: skip
assert set(get_args(BreakKindName)) == {k.value for k in BreakKind}  # one list of kinds


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CurrencyTotalsOut(_Out):
    """A report's lines in one currency, summed (gross and fee unsigned, net signed)."""

    lines: int
    gross: str
    fee: str
    net: str


class ReconciliationRunOut(_Out):
    """One run of ``paycon reconcile`` (or the demo's), as stored."""

    id: int
    gateway: str
    report_date: str = Field(description="YYYY-MM-DD")
    at: str = Field(description="RFC 3339, UTC")
    actor: str
    source: str = Field(description="the report's file or URL")
    lines: int
    matched: int = Field(description="lines matching paycon, booked now or before")
    booked: int = Field(description="lines this run booked")
    new_breaks: int
    open_breaks: int = Field(description="the gateway's open breaks after the run")
    breaks: dict[str, int] = Field(description="this report's open breaks by kind")
    totals: dict[str, CurrencyTotalsOut] = Field(description="per currency")


class ReconciliationRunsOut(_Out):
    items: list[ReconciliationRunOut]


class ReconciliationBreakOut(_Out):
    """A report line (or a payment missing from a report) that does not match paycon."""

    id: int
    gateway: str
    kind: BreakKindName
    state: Literal["open", "resolved"]
    transaction_id: str = Field(description="as the report names it (paycon's for a missing one)")
    gateway_reference: str | None
    type: Literal["deposit", "withdrawal", "reversal", "missing"]
    currency: str
    value_date: str
    report_says: str
    paycon_says: str
    suspense: str = Field(description="what the break put in the gateway's suspense account")
    booked: bool = Field(description="whether its money is booked (partly to suspense)")
    first_run_id: int
    last_run_id: int
    resolution: str | None


class ReconciliationBreaksOut(_Out):
    items: list[ReconciliationBreakOut]


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


def run_json(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id, "gateway": run.gateway, "report_date": run.report_date,
        "at": rfc3339(run.at), "actor": run.actor, "source": run.source, "lines": run.lines,
        "matched": run.matched, "booked": run.booked, "new_breaks": run.new_breaks,
        "open_breaks": run.open_breaks, "breaks": run.breaks,
        "totals": {
            currency: {
                "lines": t.lines,
                "gross": Money(t.gross_minor, currency).wire(),
                "fee": Money(t.fee_minor, currency).wire(),
                "net": Money(t.net_minor, currency).wire(),
            }
            for currency, t in run.totals.items()
        },
    }  # fmt: skip


def break_json(found: BreakRecord) -> dict[str, Any]:
    return {
        "id": found.id, "gateway": found.gateway, "kind": found.kind, "state": found.state,
        "transaction_id": found.transaction_id, "gateway_reference": found.gateway_reference,
        "type": found.type, "currency": found.currency, "value_date": found.value_date,
        "report_says": found.report_says, "paycon_says": found.paycon_says,
        "suspense": Money(found.suspense_minor, found.currency).wire(), "booked": found.booked,
        "first_run_id": found.first_run_id, "last_run_id": found.last_run_id,
        "resolution": found.resolution,
    }  # fmt: skip


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
    return json_response({"items": [run_json(run) for run in runs]})


async def list_breaks(request: web.Request) -> web.Response:
    query = parse_model(BreaksQuery, _single_query(request))
    found = await _desk(request).breaks(
        gateway=query.gateway, state=LineState(query.state), limit=query.limit
    )
    return json_response({"items": [break_json(b) for b in found]})


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
    return json_response(break_json(found))
