"""Reading JSON request bodies strictly: UTF-8, one object, nothing else."""

from __future__ import annotations

import json

from aiohttp import web

from mock_gateways.errors import InvalidRequest


async def read_json_object(request: web.Request) -> dict[str, object]:
    """The request body as a JSON object.

    Raises ``InvalidRequest`` if the body is not UTF-8, not JSON, or not an
    object. Bodies over the app's size limit raise aiohttp's 413 first.
    """
    raw = await request.read()
    try:
        document = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("malformed_json", f"body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidRequest("malformed_json", "body must be a JSON object")
    return document


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
