"""The aiohttp application."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from aiohttp import web

from paycon.api.context import CONTEXT, ApiContext
from paycon.api.endpoints import ENDPOINTS
from paycon.api.health import OPENAPI
from paycon.api.middleware import (
    ROUTE_ROLES,
    SOAP_ROUTES,
    auth_middleware,
    error_middleware,
    request_id_middleware,
)
from paycon.api.openapi import build_document


def paycon_version() -> str:
    try:
        return version("paycon")
    except PackageNotFoundError:
        return "0+unknown"


def create_app(ctx: ApiContext) -> web.Application:
    """The API with every endpoint of ENDPOINTS, its auth and error handling."""
    app = web.Application(
        middlewares=[request_id_middleware, error_middleware, auth_middleware],
        client_max_size=ctx.settings.server.max_body_bytes,
    )
    app[CONTEXT] = ctx
    app[ROUTE_ROLES] = {endpoint.name: endpoint.role for endpoint in ENDPOINTS}
    app[SOAP_ROUTES] = frozenset(e.name for e in ENDPOINTS if e.soap_operation is not None)
    app[OPENAPI] = build_document(ENDPOINTS, version=paycon_version())
    for endpoint in ENDPOINTS:
        app.router.add_route(endpoint.method, endpoint.path, endpoint.handler, name=endpoint.name)
    return app
