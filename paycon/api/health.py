"""Service endpoints: liveness, readiness and the OpenAPI document.

``/healthz`` says the process serves, and nothing else: an orchestrator
restarts a process that stops answering it. ``/readyz`` says whether it can
take payments now; a database blip takes it out of rotation (503) instead of
getting it restarted.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from paycon.api.context import ApiContext, context
from paycon.api.responses import json_response
from paycon.storage.database import DatabaseUnavailable

OPENAPI = web.AppKey("paycon_openapi", dict)
# How long the readiness probe waits for the database's write lock.
READY_WRITE_TIMEOUT_S = 1.0


async def healthz(request: web.Request) -> web.Response:
    """200 while the process serves requests (no database call)."""
    return json_response({"status": "ok"})


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"name": name, "ok": ok, "detail": detail}


async def _checks(ctx: ApiContext) -> list[dict[str, Any]]:
    writable = await ctx.db.writable(READY_WRITE_TIMEOUT_S)
    database = _check(
        "database",
        writable,
        "writable" if writable else f"no write lock within {READY_WRITE_TIMEOUT_S:g} s",
    )
    try:
        current, head = await ctx.db.migration_state()
        migrations = _check("migrations", current == head, f"database at {current}, code at {head}")
    except DatabaseUnavailable:
        migrations = _check("migrations", False, "cannot be read")
    stopping = ctx.stopping.is_set()
    shutdown = _check("shutdown", not stopping, "shutting down" if stopping else "serving")
    return [database, migrations, shutdown]


async def readyz(request: web.Request) -> web.Response:
    """200 when this process can take payments now (every check ok), else 503."""
    checks = await _checks(context(request))
    ready = all(check["ok"] for check in checks)
    return json_response(
        {"status": "ready" if ready else "unready", "checks": checks},
        status=200 if ready else 503,
    )


async def openapi_document(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])
