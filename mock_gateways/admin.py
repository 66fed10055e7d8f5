"""The ``/_mock/`` admin routes: faults, ledger and reset. Never subject to faults.

- ``GET /_mock/faults`` — the faults in force.
- ``PUT /_mock/faults`` — a partial update (JSON object); answers the result.
  Recorded in the fault history with who (header ``X-Actor``; without it
  ``http:<client address>``) and why (optional header ``X-Reason``).
- ``GET /_mock/faults/history?limit=`` — the fault switches, newest first:
  who, when, each fault before and after, why.
- ``GET /_mock/ledger?limit=&cursor=`` — the payments held, oldest first, a
  page at a time (100 by default, 1000 at most; ``next_cursor`` names the
  next page, null on the last), with a summary of them all.
- ``GET /_mock/settlements?date=YYYY-MM-DD`` — that day's settlement report
  as CSV (``text/csv``; see ``settlement``): a header, then one row per line.
- ``POST /_mock/reset`` — forget every payment and settlement; ``{"faults": true}``
  also restores the faults the gateway started with (recorded like a ``PUT``).
"""

from __future__ import annotations

from collections import Counter

from aiohttp import web

from mock_gateways.errors import InvalidRequest
from mock_gateways.history import HISTORY_KEPT, check_actor, check_reason
from mock_gateways.jsonbody import read_json_object
from mock_gateways.keys import GATEWAY
from mock_gateways.settlement import REPORT_CONTENT_TYPE, report_csv, report_date


def error_response(status: int, code: str, message: str) -> web.Response:
    """An admin error: ``{"error": code, "message": message}``."""
    return web.json_response({"error": code, "message": message}, status=status)


async def get_faults(request: web.Request) -> web.Response:
    """Answer the faults in force."""
    return web.json_response(request.app[GATEWAY].faults.to_json())


def _who(request: web.Request) -> tuple[str, str | None]:
    """Who switches and why: ``X-Actor`` (else the client's address) and ``X-Reason``."""
    actor = request.headers.get("X-Actor")
    named = check_actor(actor) if actor is not None else f"http:{request.remote or 'unknown'}"
    return named, check_reason(request.headers.get("X-Reason"))


async def put_faults(request: web.Request) -> web.Response:
    """Apply a partial fault update; 400 naming every bad field, changing nothing."""
    actor, reason = _who(request)
    changes = await read_json_object(request)
    faults = request.app[GATEWAY].set_faults(changes, actor=actor, reason=reason)
    return web.json_response(faults.to_json())


async def get_fault_history(request: web.Request) -> web.Response:
    """Answer the fault switches, newest first (``?limit=`` of them, 1-200)."""
    raw = request.query.get("limit", str(HISTORY_KEPT))
    if not raw.isdigit() or not 1 <= int(raw) <= HISTORY_KEPT:
        raise InvalidRequest("invalid_limit", f"limit must be a whole number 1-{HISTORY_KEPT}")
    history = request.app[GATEWAY].fault_history
    return web.json_response(
        {"changes": [entry.to_json() for entry in history.newest_first(int(raw))]}
    )


LEDGER_PAGE = 100
LEDGER_PAGE_MAX = 1000


def _whole_number(request: web.Request, name: str, default: int, *, low: int, high: int) -> int:
    raw = request.query.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidRequest(f"invalid_{name}", f"{name} must be a whole number {low}-{high}")
    return int(raw)


async def get_ledger(request: web.Request) -> web.Response:
    """Answer a page of the payments the gateway holds, oldest first, and a summary of all.

    ``limit`` (1-1000, default 100) payments from ``cursor`` (the ``next_cursor``
    of the page before; the first page without it).
    """
    limit = _whole_number(request, "limit", LEDGER_PAGE, low=1, high=LEDGER_PAGE_MAX)
    start = _whole_number(request, "cursor", 0, low=0, high=2**31)
    gateway = request.app[GATEWAY]
    entries = gateway.ledger.entries()
    statuses = Counter(entry.status for entry in entries)
    summary = {
        "payments": len(entries),
        "pending": statuses["pending"],
        "success": statuses["success"],
        "failure": statuses["failure"],
        "charges": sum(entry.charges for entry in entries),
        "max_charges_per_payment": max((entry.charges for entry in entries), default=0),
        "injected_faults": gateway.injected_faults(),
    }
    end = start + limit
    return web.json_response(
        {
            "gateway": gateway.name,
            "summary": summary,
            "payments": [entry.to_json() for entry in entries[start:end]],
            "next_cursor": str(end) if end < len(entries) else None,
        }
    )


async def get_settlements(request: web.Request) -> web.Response:
    """Answer the settlement report for ``?date=YYYY-MM-DD`` as CSV (only the header when the
    day settled nothing); 400 when the date is missing, repeated or not a calendar date."""
    dates = request.query.getall("date", [])
    if len(dates) > 1:
        raise InvalidRequest("invalid_date", "give date once, as YYYY-MM-DD")
    day = report_date(dates[0] if dates else None)
    gateway = request.app[GATEWAY]
    filename = f"{gateway.name}-settlements-{day.isoformat()}.csv"
    return web.Response(
        text=report_csv(gateway.settlements.report(day)),
        content_type=REPORT_CONTENT_TYPE,
        charset="utf-8",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


async def post_reset(request: web.Request) -> web.Response:
    """Clear the ledger (and with ``{"faults": true}`` restore the start-time faults)."""
    options = await read_json_object(request) if await request.read() else {}
    unknown = set(options) - {"faults"}
    restore_faults = options.get("faults", False)
    if unknown or not isinstance(restore_faults, bool):
        raise InvalidRequest("invalid_reset", 'the body may only be {"faults": true|false}')
    actor, reason = _who(request)
    gateway = request.app[GATEWAY]
    await gateway.reset(faults=restore_faults, actor=actor, reason=reason)
    return web.json_response({"reset": True, "faults": gateway.faults.to_json()})


ROUTES = [
    web.get("/_mock/faults", get_faults),
    web.put("/_mock/faults", put_faults),
    web.get("/_mock/faults/history", get_fault_history),
    web.get("/_mock/ledger", get_ledger),
    web.get("/_mock/settlements", get_settlements),
    web.post("/_mock/reset", post_reset),
]
