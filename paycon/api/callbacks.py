"""``POST /v1/callbacks/{gateway}``: gateways report payments' outcomes, signed."""

from __future__ import annotations

from aiohttp import web

from gateways import SIGNATURE_HEADER
from paycon.api.bodies import read_body
from paycon.api.context import context
from paycon.api.responses import json_response


async def receive_callback(request: web.Request) -> web.Response:
    """200 once stored and applied (a duplicate too); 401 for a bad signature."""
    ctx = context(request)
    raw = await read_body(request, ctx.settings.server.max_body_bytes)
    outcome = await ctx.callbacks.receive(
        request.match_info["gateway"], raw, request.headers.get(SIGNATURE_HEADER)
    )
    return json_response({"received": True, "outcome": outcome})
