"""Operator endpoints (operator keys only)."""

from __future__ import annotations

from aiohttp import web

from paycon.api.context import context
from paycon.api.responses import json_response


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
