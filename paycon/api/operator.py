"""Operator endpoints (operator keys only): the outbox at a glance, its tasks, replays."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from outbox import MAX_TASK_ID, TaskState, task_id_from_text
from paycon.api.bodies import parse_json, read_body
from paycon.api.context import context, principal
from paycon.api.responses import json_response, model_response
from paycon.api.schemas import DiscardIn, FaultsIn, GatewaySwitchIn, ReplayFilterIn, ReplayIn
from paycon.api.transactions import transaction_path_id
from paycon.domain.actors import OPERATOR_NAME_HEADER, operator_actor
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.status import Status
from paycon.models.gateways import GatewaysOut
from paycon.models.outbox import (
    OutboxStatsOut,
    OutboxTaskDetailOut,
    OutboxTaskOut,
    OutboxTaskPageOut,
    ReplayCountOut,
)
from paycon.models.requests import ResolveIn, TaskListQuery, parse_model
from paycon.models.transactions import TransactionDetailOut
from paycon.usecases.overview import read_overview


def _task_id(request: web.Request) -> int:
    task_id = task_id_from_text(request.match_info["id"])
    if task_id is None:
        raise InvalidInput(
            "not a task id", errors=[FieldError("id", f"an integer from 1 to {MAX_TASK_ID}")]
        )
    return task_id


def _actor(request: web.Request) -> str:
    """``operator:<key id>``, or ``operator:<key id>/<name>`` with an X-Operator-Name header.

    Raises InvalidInput for a bad name (before anything changes).
    """
    return operator_actor(principal(request).client_id, request.headers.get(OPERATOR_NAME_HEADER))


async def _optional_body(request: web.Request) -> Any:
    raw = await read_body(request, context(request).settings.server.max_body_bytes)
    return parse_json(raw) if raw.strip() else {}


async def outbox_stats(request: web.Request) -> web.Response:
    return model_response(OutboxStatsOut.of(await context(request).operations.stats()))


async def list_tasks(request: web.Request) -> web.Response:
    query = parse_model(TaskListQuery, _single_query(request))
    page = await context(request).operations.tasks(
        state=query.state,
        kind=query.kind,
        gateway=query.gateway,
        limit=query.limit,
        cursor=query.cursor,
    )
    items = [OutboxTaskOut.of(t) for t in page.items]
    return model_response(
        OutboxTaskPageOut.model_construct(items=items, next_cursor=page.next_cursor)
    )


async def get_task(request: web.Request) -> web.Response:
    detail = await context(request).operations.task(_task_id(request))
    return model_response(OutboxTaskDetailOut.of_detail(detail))


async def replay_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)
    body = parse_model(ReplayIn, await _optional_body(request))
    task = await context(request).operations.replay(
        task_id, actor=_actor(request), reason=body.reason
    )
    return model_response(OutboxTaskOut.of(task))


async def discard_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)
    body = parse_model(DiscardIn, await _optional_body(request))
    task = await context(request).operations.discard(
        task_id, actor=_actor(request), reason=body.reason
    )
    return model_response(OutboxTaskOut.of(task))


async def resolve_transaction(request: web.Request) -> web.Response:
    transaction_id = transaction_path_id(request)
    body = parse_model(ResolveIn, await _optional_body(request))
    ctx = context(request)
    await ctx.review.resolve(
        transaction_id, Status(body.status), reason=body.reason, actor=_actor(request)
    )
    transaction, events = await ctx.queries.transaction(transaction_id)
    return model_response(TransactionDetailOut.with_events(transaction, events))


async def replay_matching(request: web.Request) -> web.Response:
    body = parse_model(ReplayFilterIn, await _optional_body(request))
    count = await context(request).operations.replay_matching(
        state=TaskState(body.state),
        kind=body.kind,
        gateway=body.gateway,
        actor=_actor(request),
        reason=body.reason,
        as_of=body.as_of,
    )
    return model_response(ReplayCountOut.model_construct(replayed=count))


class CountQuery(BaseModel):
    """Query parameters of ``GET /v1/outbox/count``: the filter of ``POST /v1/outbox/replay``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: Literal["dead", "pending"] = Field(description="only dead and pending tasks replay")
    kind: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    gateway: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="only submit tasks bound for this gateway"
    )


async def count_matching(request: web.Request) -> web.Response:
    query = parse_model(CountQuery, _single_query(request))
    count = await context(request).operations.count_matching(
        state=TaskState(query.state), kind=query.kind, gateway=query.gateway
    )
    return model_response(count)


def _single_query(request: web.Request) -> dict[str, str]:
    if len(request.query) != len(set(request.query.keys())):
        raise InvalidInput("each query parameter may appear only once")
    return dict(request.query)


def _gateway_name(request: web.Request) -> str:
    return request.match_info["name"]


async def disable_gateway(request: web.Request) -> web.Response:
    return await _switch_gateway(request, enabled=False)


async def enable_gateway(request: web.Request) -> web.Response:
    return await _switch_gateway(request, enabled=True)


async def _switch_gateway(request: web.Request, *, enabled: bool) -> web.Response:
    control = context(request).gateway_control
    name = _gateway_name(request)
    control.check_gateway(name)  # 404 before looking at the body
    body = parse_model(GatewaySwitchIn, await _optional_body(request))
    status = await control.set_enabled(
        name, enabled=enabled, actor=_actor(request), reason=body.reason
    )
    return model_response(status)


async def get_faults(request: web.Request) -> web.Response:
    return json_response(context(request).gateway_control.faults(_gateway_name(request)))


async def put_faults(request: web.Request) -> web.Response:
    control = context(request).gateway_control
    name = _gateway_name(request)
    control.faults(name)  # 404 before looking at the body
    body = await _optional_body(request)
    reason = parse_model(FaultsIn, body).reason  # the shape; the mock gateway checks values
    changes = {key: value for key, value in body.items() if key != "reason"}
    faults = await control.set_faults(name, changes, actor=_actor(request), reason=reason)
    return json_response(faults)


async def list_gateways(request: web.Request) -> web.Response:
    statuses = await context(request).gateway_control.statuses()
    return model_response(GatewaysOut.model_construct(gateways=statuses))


async def overview(request: web.Request) -> web.Response:
    ctx = context(request)
    answer = await read_overview(
        operations=ctx.operations,
        queries=ctx.queries,
        gateway_control=ctx.gateway_control,
        metrics=ctx.metrics,
        now=datetime.now(UTC),
    )
    return model_response(answer)
