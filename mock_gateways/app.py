"""The aiohttp application around one mock gateway.

Three middlewares, outermost first: one log line per request; errors mapped
to responses in the gateway's own format (JSON for the admin routes); and
the faults, which every gateway route passes through and no ``/_mock/``
route does.
"""

from __future__ import annotations

import logging
import socket
import struct
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from mock_gateways import admin
from mock_gateways.decisions import plan_request
from mock_gateways.dialect import Dialect
from mock_gateways.errors import (
    ConflictingRepeat,
    GhostUnavailable,
    InvalidFaults,
    InvalidRequest,
    MockGatewayError,
    PaymentDeclined,
    UnknownTransaction,
)
from mock_gateways.gateway import MockGateway
from mock_gateways.keys import DIALECT, FAULT, GATEWAY, ROLL

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024

_STATUS_FOR_ERROR: dict[type[MockGatewayError], int] = {
    InvalidRequest: 400,
    InvalidFaults: 400,
    UnknownTransaction: 404,
    ConflictingRepeat: 409,
    PaymentDeclined: 422,
    GhostUnavailable: 503,
}


def build_app(gateway: MockGateway, dialect: Dialect) -> web.Application:
    """An app serving ``dialect``'s routes for ``gateway``, plus the ``/_mock/`` admin routes."""
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[_log_request, _map_errors, _apply_faults],
    )
    app[GATEWAY] = gateway
    app[DIALECT] = dialect
    app.add_routes(dialect.routes)
    app.add_routes(admin.ROUTES)
    return app


def _is_admin(request: web.Request) -> bool:
    return request.path.startswith("/_mock/")


@web.middleware
async def _log_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    started_s = time.perf_counter()
    outcome = "failed"
    try:
        response = await handler(request)
        transport = request.transport
        dropped = transport is None or transport.is_closing()
        outcome = "connection dropped" if dropped else str(response.status)
        return response
    finally:
        fault = request.get(FAULT)
        logger.info(
            "%s %s %s -> %s in %.1f ms%s",
            request.app[GATEWAY].name,
            request.method,
            request.path_qs,
            outcome,
            (time.perf_counter() - started_s) * 1000,
            f" (fault: {fault})" if fault else "",
        )


@web.middleware
async def _map_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    render = admin.error_response if _is_admin(request) else request.app[DIALECT].error_response
    try:
        return await handler(request)
    except MockGatewayError as exc:
        return render(_STATUS_FOR_ERROR.get(type(exc), 500), exc.code, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = render(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response


@web.middleware
async def _apply_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
    if _is_admin(request):
        return await handler(request)
    gateway = request.app[GATEWAY]
    # Drawn before any await, so the seeded sequence follows arrival order.
    roll = request[ROLL] = gateway.roll()
    faults = gateway.faults
    render = request.app[DIALECT].error_response
    if faults.outage == "503":
        request[FAULT] = "outage=503"
        return render(503, "service_unavailable", "the gateway is down for maintenance")
    if faults.outage == "refuse":
        request[FAULT] = "outage=refuse"
        _drop_connection(request)
        # Never sent: aiohttp sees the closed transport and lets it go quietly.
        return web.Response(status=503)
    plan = plan_request(faults, roll)
    await gateway.pause(plan.latency_ms)
    if faults.auth_failure:
        request[FAULT] = "auth_failure"
        gateway.note_request_fault("auth_failure")
        return render(401, "invalid_credentials", "the gateway refuses these credentials")
    if plan.fail:
        request[FAULT] = "error"
        return render(500, "internal_error", "the gateway failed to process the request")
    try:
        response = await handler(request)
    except GhostUnavailable:
        request[FAULT] = "ghost_503"  # recorded, and answered as if it were not
        raise
    if plan.hang:
        # The work is done (a payment is recorded); only the answer is late.
        request[FAULT] = "timeout"
        await gateway.pause(faults.timeout_hang_ms)
    return response


def _drop_connection(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # Linger 0 makes the close a reset, the closest thing to a refusal on
        # a connection that is already open.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
