"""Writing answers: JSON, problem+json and SOAP."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel

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


def model_response(model: BaseModel, *, status: int = 200) -> web.Response:
    """``model`` as the API answers it (times RFC 3339, amounts decimal strings)."""
    return json_response(model.model_dump(mode="json"), status=status)


def soap_response(
    operation: str,
    body: dict[str, Any],
    *,
    status: int,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A SOAP 1.1 answer to an answer of ``status``: the transaction in ``200 OK`` for a
    success, a Fault in ``500`` for a problem (as SOAP 1.1 and the WS-I Basic Profile
    require; the problem's own status is in the Fault's detail)."""
    if status >= 400:
        payload, http_status = soap.render_fault(body), 500
    else:
        payload, http_status = soap.render_response(operation, body), 200
    return web.Response(
        body=payload,
        status=http_status,
        content_type=soap.SOAP_CONTENT_TYPE,
        charset="utf-8",
        headers=headers,
    )
