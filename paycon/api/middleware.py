"""Request ids, authentication, and the one place errors become problem+json."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from paycon.api.auth import Role
from paycon.api.context import CONTEXT, PRINCIPAL
from paycon.api.payments import is_soap
from paycon.api.responses import PROBLEM_JSON, json_response, soap_response
from paycon.domain.errors import PayconError, Unauthorized
from paycon.domain.problems import problem_body, problem_for
from paycon.logs import request_id_var

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Unique per process start, then a counter: cheap, and unique enough to find a request's logs.
_ID_PREFIX = secrets.token_hex(4) + "-"
_ID_COUNTER = itertools.count(1)

# Route name → the role it needs (None: no key; callbacks use signatures).
ROUTE_ROLES = web.AppKey("paycon_route_roles", dict[str, Role | None])
# Names of the routes that speak SOAP as well as JSON: only they answer errors as SOAP Faults.


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tag the request (and every log line it causes) with an id, echoed in the answer."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID.fullmatch(given) else f"{_ID_PREFIX}{next(_ID_COUNTER):x}"
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    try:
        response = await handler(request)
        response.headers["X-Request-Id"] = request_id
        route = request.match_info.route.resource
        request.app[CONTEXT].metrics.count_request(
            request.method, route.canonical if route is not None else "unmatched", response.status
        )
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response
    finally:
        request_id_var.reset(token)


def _problem_response(
    request: web.Request, body: Mapping[str, object], status: int
) -> web.Response:
    if is_soap(request):
        return soap_response("Fault", dict(body), status=status)
    return json_response(body, status=status, content_type=PROBLEM_JSON)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every error to problem+json (a SOAP Fault for SOAP requests)."""
    try:
        return await handler(request)
    except PayconError as exc:
        if exc.status >= 500 and exc.retry_after_s is None:
            log.error("request failed: %s", exc.detail)
        response = _problem_response(request, problem_for(exc), exc.status)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="paycon"'
        if exc.retry_after_s is not None:
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        detail = exc.text if exc.text and exc.text != f"{exc.status}: {exc.reason}" else exc.reason
        body = problem_body(
            code=exc.reason.lower().replace(" ", "_"),
            title=exc.reason,
            status=exc.status,
            detail=detail,
        )
        response = _problem_response(request, body, exc.status)
        if exc.status == 405 and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error", extra={"method": request.method, "path": request.path})
        body = problem_body(
            code="internal_error",
            title="Internal error",
            status=500,
            detail=f"the server failed; quote request id {request_id_var.get()} to an operator",
        )
        return _problem_response(request, body, 500)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require the route's role from the bearer key (routes without a role are open)."""
    route_name = request.match_info.route.name
    role = request.app[ROUTE_ROLES].get(route_name or "")
    if role is not None:
        caller = request.app[CONTEXT].keys.authenticate(request.headers.get("Authorization"))
        caller.require(role)
        request[PRINCIPAL] = caller
    return await handler(request)
