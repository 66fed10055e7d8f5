"""Operators' control of gateways: routing switches (persisted, audited) and, with
embedded mock gateways, their faults."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import SQLAlchemyError

from paycon.domain.errors import NotFound
from paycon.domain.fault_text import describe_changes
from paycon.domain.reasons import check_reason
from paycon.models.gateways import FaultChangeOut, GatewayOut
from paycon.models.outbox import OutboxAuditOut
from paycon.storage.database import Database
from paycon.storage.gateway_switches import (
    audit_faults,
    disabled_gateways,
    gateway_subject,
    recent_actions,
    switch_gateway,
)

if TYPE_CHECKING:  # the gateway clients (aiohttp) are not needed to name one
    from gateways import Gateway

# How many routing changes (and fault switches) a gateway's status shows, newest first.
ROUTING_CHANGES_SHOWN = 10
# How often a process re-reads the switches, for changes made by another process
# (another paycon on the same PostgreSQL database, or `paycon gateways` offline).
SWITCH_REFRESH_S = 2.0

log = logging.getLogger(__name__)


class RoutingSwitches:
    """The gateways taken out of routing, in memory: read on every payment, so no I/O.

    Loaded from the database at start, re-read now and then, and changed at
    once by every switch made through this process. ``version`` counts those
    changes, so a re-read that started before one can tell it is stale.
    """

    def __init__(self, disabled: frozenset[str] = frozenset()) -> None:
        self._disabled = disabled
        self._version = 0

    @property
    def disabled(self) -> frozenset[str]:
        return self._disabled

    @property
    def version(self) -> int:
        """How many changes were made through this process."""
        return self._version

    def switch(self, name: str, *, enabled: bool) -> None:
        """Apply a switch this process just stored."""
        self._disabled = self._disabled - {name} if enabled else self._disabled | {name}
        self._version += 1

    def reload(self, disabled: frozenset[str], *, read_at: int) -> bool:
        """Replace the set with one read from the database when ``version`` was ``read_at``.

        A read that a switch overtook is dropped (the next one sees that switch).
        Returns whether it was applied.
        """
        if read_at != self._version:
            return False
        self._disabled = disabled
        return True


class FaultSwitch(Protocol):
    """An embedded mock gateway's faults, as plain JSON values, and who switched them."""

    def faults(self) -> dict[str, Any]:
        """The faults in force now."""
        ...

    def set_faults(
        self, changes: Mapping[str, Any], *, actor: str, reason: str | None
    ) -> dict[str, Any]:
        """Apply ``changes`` and return the faults now in force; the mock records the
        switch with ``actor`` and ``reason``.

        Raises InvalidInput (changing nothing) naming each unknown fault or bad value.
        """
        ...

    def history(self, limit: int) -> list[dict[str, Any]]:
        """The mock's latest fault switches, newest first, whoever made them (the demo,
        the console, the operator API, ``PUT /_mock/faults``), as ``GET
        /_mock/faults/history`` answers them."""
        ...


def _now() -> datetime:
    return datetime.now(UTC)


class GatewayControl:
    """Every configured gateway's status, routing switch and (embedded mocks only) faults."""

    def __init__(
        self,
        db: Database,
        gateways: Mapping[str, Gateway],
        switches: RoutingSwitches,
        *,
        faults: Mapping[str, FaultSwitch] | None = None,
    ) -> None:
        self._db = db
        self._gateways = gateways
        self._switches = switches
        self._faults = dict(faults or {})

    @property
    def switches(self) -> RoutingSwitches:
        return self._switches

    async def load(self) -> None:
        """Read the routing switches from the database (at start, then now and then).

        A switch made through this process while the read was under way wins
        over what the read found.
        """
        read_at = self._switches.version
        async with self._db.read() as conn:
            disabled = await disabled_gateways(conn)
        self._switches.reload(frozenset(disabled & set(self._gateways)), read_at=read_at)

    async def keep_loading(self, stop: asyncio.Event, *, every_s: float = SWITCH_REFRESH_S) -> None:
        """Re-read the switches every ``every_s`` until ``stop`` is set.

        A failed read is logged and tried again at the next turn; the switches
        in memory stay as they were meanwhile. Only cancellation ends it early.
        """
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every_s)
            if stop.is_set():
                return
            try:
                await self.load()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("cannot re-read the gateway switches: %s", exc)
            except Exception:
                # Unexpected, but a dead watcher would freeze the switches for good.
                log.exception("re-reading the gateway switches failed")

    def check_gateway(self, name: str) -> None:
        """Raises NotFound unless ``name`` is a configured gateway."""
        self._gateway(name)

    def _gateway(self, name: str) -> Gateway:
        gateway = self._gateways.get(name)
        if gateway is None:
            known = ", ".join(sorted(self._gateways)) or "none"
            raise NotFound(f"no gateway named {name!r} (configured: {known})")
        return gateway

    async def statuses(self) -> list[GatewayOut]:
        """Every configured gateway as operators see it, by name."""
        async with self._db.read() as conn:
            return [await self._status(conn, name) for name in sorted(self._gateways)]

    async def status(self, name: str) -> GatewayOut:
        """One gateway as operators see it. Raises NotFound."""
        self._gateway(name)
        async with self._db.read() as conn:
            return await self._status(conn, name)

    async def _status(self, conn: Any, name: str) -> GatewayOut:
        changes = await recent_actions(conn, gateway_subject(name), limit=ROUTING_CHANGES_SHOWN)
        fault_switch = self._faults.get(name)
        fault_changes = []
        if fault_switch is not None:
            # The mock's own record: switches made around paycon (the demo, a curl) too.
            fault_changes = [
                FaultChangeOut.of(entry) for entry in fault_switch.history(ROUTING_CHANGES_SHOWN)
            ]
        return GatewayOut.of(
            self._gateways[name],
            enabled=name not in self._switches.disabled,
            routing_changes=[OutboxAuditOut.of(change) for change in changes],
            faults=None if fault_switch is None else fault_switch.faults(),
            fault_changes=fault_changes,
        )

    async def set_enabled(self, name: str, *, enabled: bool, actor: str, reason: str) -> GatewayOut:
        """Take ``name`` out of routing for new payments, or bring it back; audited.

        Payments already carried there still finish there. Returns the
        gateway's status. Raises NotFound, InvalidInput for a bad reason.
        """
        self._gateway(name)
        await record_switch(self._db, name, enabled=enabled, actor=actor, reason=reason)
        self._switches.switch(name, enabled=enabled)
        return await self.status(name)

    def _fault_switch(self, name: str) -> FaultSwitch:
        self._gateway(name)
        switch = self._faults.get(name)
        if switch is None:
            raise NotFound(
                f"{name} is not an embedded mock gateway: its faults can only be switched "
                "when paycon runs the mocks itself (mock_gateways = embedded)"
            )
        return switch

    def faults(self, name: str) -> dict[str, Any]:
        """The embedded mock gateway's faults. Raises NotFound otherwise."""
        return self._fault_switch(name).faults()

    async def set_faults(
        self, name: str, changes: Mapping[str, Any], *, actor: str, reason: str
    ) -> dict[str, Any]:
        """Switch the embedded mock gateway's faults, audited with each value before
        and after; returns the faults now in force.

        Raises NotFound when it is not an embedded mock, InvalidInput
        (changing nothing) for a bad reason, an unknown fault or a bad value.
        If the audit entry cannot be stored, the faults are put back and the
        error raised.
        """
        check_reason(reason)
        switch = self._fault_switch(name)
        before = switch.faults()
        after = switch.set_faults(changes, actor=actor, reason=reason)
        detail = describe_fault_changes(before, after, changes)
        now = _now()
        try:
            await self._db.write(
                lambda conn: audit_faults(
                    conn, name, actor=actor, reason=reason, detail=detail, now=now
                )
            )
        except BaseException:
            if switch.faults() == after:  # unless someone switched them meanwhile
                switch.set_faults(
                    {key: before[key] for key in changes},
                    actor=actor,
                    reason="put back: the audit entry could not be stored",
                )
            raise
        return after


async def record_switch(db: Database, name: str, *, enabled: bool, actor: str, reason: str) -> None:
    """Store ``name``'s routing switch with its audit entry, in one commit.

    Processes on the database apply it within SWITCH_REFRESH_S (the one that
    made it, at once). Raises InvalidInput for a bad reason.
    """
    check_reason(reason)
    now = _now()
    await db.write(
        lambda conn: switch_gateway(
            conn, name, enabled=enabled, actor=actor, reason=reason, now=now
        )
    )


def describe_fault_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], changes: Mapping[str, Any]
) -> str:
    """Each fault asked for, in the order asked, as ``name: old → new`` (values spelt as
    ``paycon.domain.fault_text`` spells them), or ``name: value (unchanged)``."""
    return describe_changes((key, before.get(key), after.get(key)) for key in changes)
