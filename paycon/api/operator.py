"""Operator endpoints (operator keys only): the outbox at a glance, its tasks, replays."""

from __future__ import annotations

import re
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from outbox import Attempt, AuditEntry, Task, TaskState
from paycon.api.bodies import parse_json, read_body
from paycon.api.context import context, principal
from paycon.api.responses import json_response
from paycon.api.schemas import DiscardIn, ReplayFilterIn, ReplayIn, parse_model
from paycon.domain.errors import FieldError, InvalidInput
from paycon.domain.masking import mask_payload
from paycon.domain.transactions import rfc3339

_TASK_ID = re.compile(r"[1-9][0-9]{0,17}")


class TaskListQuery(BaseModel):
    """Query parameters of ``GET /v1/outbox/tasks``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: TaskState | None = None
    kind: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str, Field(max_length=64)] | None = None


def _time(moment: Any) -> str | None:
    return None if moment is None else rfc3339(moment)


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind,
        "state": task.state.value,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "run_at": rfc3339(task.run_at),
        "dedupe_key": task.dedupe_key,
        "lease_owner": task.lease_owner,
        "lease_expires_at": _time(task.lease_expires_at),
        "last_error": task.last_error,
        "payload": mask_payload(dict(task.payload)),
        "created_at": rfc3339(task.created_at),
        "updated_at": rfc3339(task.updated_at),
    }


def _attempt_json(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "started_at": rfc3339(attempt.started_at),
        "finished_at": _time(attempt.finished_at),
        "outcome": None if attempt.outcome is None else attempt.outcome.value,
        "error_class": attempt.error_class,
        "error_message": attempt.error_message,
        "duration_ms": attempt.duration_ms,
    }


def _audit_json(entry: AuditEntry) -> dict[str, Any]:
    return {"at": rfc3339(entry.at), "actor": entry.actor, "action": entry.action,
            "reason": entry.reason, "detail": entry.detail}  # fmt: skip


def _task_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not _TASK_ID.fullmatch(text):
        raise InvalidInput("not a task id", errors=[FieldError("id", "a positive integer")])
    return int(text)


def _actor(request: web.Request) -> str:
    return f"operator:{principal(request).client_id}"


async def _optional_body(request: web.Request) -> Any:
    raw = await read_body(request, context(request).settings.server.max_body_bytes)
    return parse_json(raw) if raw.strip() else {}


async def outbox_stats(request: web.Request) -> web.Response:
    stats = await context(request).operations.stats()
    return json_response(
        {
            "counts": {state.value: count for state, count in stats.counts.items()},
            "backlog": stats.backlog,
            "oldest_due_age_s": stats.oldest_due_age_s,
            "done_per_s": round(stats.done_per_s, 3),
            "window_s": stats.window_s,
        }
    )


async def list_tasks(request: web.Request) -> web.Response:
    if len(request.query) != len(set(request.query.keys())):
        raise InvalidInput("each query parameter may appear only once")
    query = parse_model(TaskListQuery, dict(request.query))
    page = await context(request).operations.tasks(
        state=query.state, kind=query.kind, limit=query.limit, cursor=query.cursor
    )
    return json_response(
        {"items": [task_json(t) for t in page.items], "next_cursor": page.next_cursor}
    )


async def get_task(request: web.Request) -> web.Response:
    detail = await context(request).operations.task(_task_id(request))
    body = task_json(detail.task)
    body["attempts_log"] = [_attempt_json(a) for a in detail.attempts]
    body["audit"] = [_audit_json(e) for e in detail.audit]
    return json_response(body)


async def replay_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)
    body = parse_model(ReplayIn, await _optional_body(request))
    task = await context(request).operations.replay(
        task_id, actor=_actor(request), reason=body.reason
    )
    return json_response(task_json(task))


async def discard_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)
    body = parse_model(DiscardIn, await _optional_body(request))
    task = await context(request).operations.discard(
        task_id, actor=_actor(request), reason=body.reason
    )
    return json_response(task_json(task))


async def replay_matching(request: web.Request) -> web.Response:
    body = parse_model(ReplayFilterIn, await _optional_body(request))
    count = await context(request).operations.replay_matching(
        state=TaskState(body.state),
        kind=body.kind,
        gateway=body.gateway,
        actor=_actor(request),
        reason=body.reason,
    )
    return json_response({"replayed": count})
