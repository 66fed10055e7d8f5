"""Writing answers: JSON, problem+json and SOAP."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from paycon.api import soap


def _dumps(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


PROBLEM_JSON = "application/problem+json"


def json_response(
    body: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> web.Response:
    return web.Response(
        text=_dumps(body), status=status, content_type=content_type, headers=headers
    )


def soap_response(
    operation: str,
    body: dict[str, Any],
    *,
    status: int,
    content_type: str = "text/xml",
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A SOAP envelope: the transaction for a success, a Fault for a problem."""
    payload = soap.render_fault(body) if status >= 400 else soap.render_response(operation, body)
    return web.Response(
        body=payload, status=status, content_type=content_type, charset="utf-8", headers=headers
    )
