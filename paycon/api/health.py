"""Service endpoints: health and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from paycon.api.context import context
from paycon.api.responses import json_response

OPENAPI = web.AppKey("paycon_openapi", dict)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 when it does not."""
    reachable = await context(request).db.ping()
    return json_response(
        {"status": "ok" if reachable else "unavailable",
         "database": "ok" if reachable else "unreachable"},
        status=200 if reachable else 503,
    )  # fmt: skip


async def openapi_document(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])
