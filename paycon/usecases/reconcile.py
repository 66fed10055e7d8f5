"""Reconciling the gateways' settlement reports: read or fetch one, reconcile it in one
commit, and list runs and breaks (the rules are ``paycon.domain.reconcile``).

``--fetch`` reads the mock gateways' report route, ``GET /_mock/settlements?date=``,
at the gateway's configured URL, and only on a loopback address: a real gateway
delivers its reports otherwise (a file, then ``--file``).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from paycon.config import GatewaySettings
from paycon.domain.errors import InvalidInput, PayconError
from paycon.domain.reasons import check_reason
from paycon.domain.reconcile import BreakRecord, LineState, RunRecord, RunSummary
from paycon.domain.settlement_report import MalformedReport, ReportLine, parse_report
from paycon.storage.database import Database
from paycon.storage.reconcile import (
    ReconcileRequest,
    count_open,
    get_break,
    list_breaks,
    list_runs,
    reconcile_report,
    resolve_break,
)

log = logging.getLogger(__name__)

REPORT_PATH = "/_mock/settlements"
FETCH_TIMEOUT_S = 10.0
MAX_REPORT_BYTES = 64 * 1024 * 1024


class ReportUnavailable(PayconError):
    """The gateway's report could not be fetched."""

    code = "report_unavailable"
    status = 502
    title = "Settlement report unavailable"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Report:
    """A report's text, where it came from, and until when it covers settlements."""

    text: str
    source: str
    as_of: datetime


class Reconciliation:
    """Runs reconciliations and reads their results."""

    def __init__(
        self,
        db: Database,
        gateways: Mapping[str, GatewaySettings],
        *,
        clock: Callable[[], datetime] = _now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._db = db
        self._gateways = gateways
        self._clock = clock
        self._transport = transport

    def check_gateway(self, gateway: str) -> GatewaySettings:
        """The gateway's settings; raises InvalidInput naming the configured gateways."""
        settings = self._gateways.get(gateway)
        if settings is None:
            known = ", ".join(sorted(self._gateways)) or "none"
            raise InvalidInput(f"unknown gateway {gateway!r} (configured: {known})")
        return settings

    def read_file(self, path: Path) -> Report:
        """The report in ``path`` (its modification time is when it was taken).

        Raises InvalidInput when the file cannot be read or is not UTF-8 text.
        """
        try:
            raw = path.read_bytes()
            modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except FileNotFoundError:
            raise InvalidInput(f"no report file at {path}") from None
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{path} is not UTF-8 text (byte {exc.start})") from None
        return Report(text, str(path), modified)

    async def fetch(self, gateway: str, day: date) -> Report:
        """``gateway``'s report of ``day`` from its ``/_mock/settlements`` route.

        Raises InvalidInput for an unknown gateway or one whose URL is not on
        loopback, ReportUnavailable when the gateway does not answer the report.
        """
        base = self.check_gateway(gateway).url.rstrip("/")
        host = httpx.URL(base).host
        if not _is_loopback(host):
            raise InvalidInput(
                f"--fetch reads the mock gateways' report route on loopback only; {gateway}'s "
                f"url {base} is not on loopback: give the report with --file"
            )
        url = f"{base}{REPORT_PATH}"
        as_of = self._clock()
        try:
            async with httpx.AsyncClient(
                transport=self._transport, trust_env=False, timeout=FETCH_TIMEOUT_S
            ) as client:
                response = await client.get(url, params={"date": day.isoformat()})
        except httpx.HTTPError as exc:
            raise ReportUnavailable(f"cannot fetch {gateway}'s report from {url}: {exc}") from exc
        if response.status_code != 200:
            raise ReportUnavailable(
                f"{gateway} answered {response.status_code} for its report of {day}: "
                f"{response.text[:200]}"
            )
        if len(response.content) > MAX_REPORT_BYTES:
            raise ReportUnavailable(f"{gateway}'s report of {day} is larger than we read")
        return Report(response.text, f"{url}?date={day.isoformat()}", as_of)

    async def reconcile(
        self, gateway: str, report: Report, *, day: date | None, actor: str
    ) -> RunSummary:
        """Reconcile ``report`` as ``gateway``'s report of ``day`` (None: the day its lines
        name) in one commit; returns what the run did.

        Raises InvalidInput for an unknown gateway, a malformed report (naming
        its line), lines of another day than ``day``, or an empty report with no
        day given. Nothing is written then.
        """
        self.check_gateway(gateway)
        try:
            lines = parse_report(report.text)
        except MalformedReport as exc:
            raise InvalidInput(f"malformed report {report.source}: {exc}") from None
        report_date = _report_date(lines, day, report.source)
        request = ReconcileRequest(
            gateway, report_date, lines, report.source, actor, min(report.as_of, self._clock())
        )
        now = self._clock()
        summary = await self._db.write(lambda conn: reconcile_report(conn, request, now=now))
        log.info(
            "settlement report reconciled",
            extra={
                "gateway": gateway,
                "report_date": report_date.isoformat(),
                "lines": summary.lines,
                "booked": summary.booked,
                "new_breaks": summary.new_breaks,
                "open_breaks": summary.open_breaks,
            },
        )
        return summary

    async def runs(self, *, gateway: str | None = None, limit: int = 50) -> list[RunRecord]:
        """The latest runs, newest first."""
        async with self._db.read() as conn:
            return await conn.run_sync(lambda c: list_runs(c, gateway=gateway, limit=limit))

    async def breaks(
        self,
        *,
        gateway: str | None = None,
        state: LineState = LineState.OPEN,
        limit: int = 100,
    ) -> list[BreakRecord]:
        """Breaks in ``state`` (open by default), newest first."""
        async with self._db.read() as conn:
            return await conn.run_sync(
                lambda c: list_breaks(c, gateway=gateway, state=state, limit=limit)
            )

    async def open_count(self, gateway: str | None = None) -> int:
        """How many breaks are open."""
        async with self._db.read() as conn:
            return await conn.run_sync(lambda c: count_open(c, gateway))

    async def resolve_break(self, break_id: int, *, reason: str, actor: str) -> BreakRecord:
        """Mark an open break resolved, audited; returns it as it is now. Raises
        InvalidInput for a bad reason, NotFound, Conflict when it is not open."""
        check_reason(reason)
        now = self._clock()
        await self._db.write(
            lambda conn: resolve_break(conn, break_id, actor=actor, reason=reason, now=now)
        )
        async with self._db.read() as conn:
            found = await conn.run_sync(lambda c: get_break(c, break_id))
        assert found is not None  # it was just resolved
        return found


def _report_date(lines: list[ReportLine], day: date | None, source: str) -> date:
    days = sorted({line.value_date for line in lines})
    if day is not None:
        other = next((line for line in lines if line.value_date != day), None)
        if other is not None:
            raise InvalidInput(
                f"malformed report {source}: line {other.line_no}: value date "
                f"{other.value_date}, not the report's {day}"
            )
        return day
    if not days:
        raise InvalidInput(f"the report {source} has no lines: say which day it is (--date)")
    if len(days) > 1:
        first = lines[0].value_date
        line = next(line for line in lines if line.value_date != first)
        raise InvalidInput(
            f"malformed report {source}: line {line.line_no}: value date {line.value_date}, "
            f"while line {lines[0].line_no} has {first}: one report is one day"
        )
    return days[0]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
