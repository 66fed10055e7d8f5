"""Reading request bodies: size limit, UTF-8, strict JSON."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from paycon.domain.errors import BodyTooLarge, InvalidInput

JSON_TYPES = frozenset({"application/json"})
SOAP_TYPES = frozenset({"text/xml", "application/soap+xml"})


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The raw body, refused before reading when it announces more than ``max_bytes``.

    Raises BodyTooLarge (413).
    """
    too_large = BodyTooLarge(f"the body exceeds the limit of {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def decode_text(raw: bytes) -> str:
    """The body as text. Raises InvalidInput unless it is UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is not valid UTF-8") from None


def parse_json(raw: bytes) -> Any:
    """Parse strict JSON: UTF-8, no NaN/Infinity, no duplicate keys.

    Raises InvalidInput saying where the JSON is broken.
    """
    text = decode_text(raw)
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"malformed JSON: {exc}") from None
