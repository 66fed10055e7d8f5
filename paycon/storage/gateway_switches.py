"""Operators' routing switches per gateway, and the audit trail of their changes (and of
embedded mock gateways' fault switches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from paycon.storage.schema import gateway_switches, operator_audit


@dataclass(frozen=True)
class OperatorAction:
    """One audited operator action outside the outbox."""

    at: datetime
    actor: str
    action: str
    subject: str
    reason: str
    detail: str | None


def gateway_subject(gateway: str) -> str:
    """What the audit trail calls a gateway (its routing switch): ``gateway:<name>``."""
    return f"gateway:{gateway}"


def faults_subject(gateway: str) -> str:
    """What the audit trail calls an embedded mock gateway's faults: ``faults:<name>``."""
    return f"faults:{gateway}"


async def disabled_gateways(conn: AsyncConnection) -> set[str]:
    """Every gateway an operator took out of routing (the table holds one row per gateway)."""
    rows = await conn.execute(
        select(gateway_switches.c.gateway).where(gateway_switches.c.enabled.is_(False))
    )
    return set(rows.scalars())


def switch_gateway(
    conn: Connection, gateway: str, *, enabled: bool, actor: str, reason: str, now: datetime
) -> bool:
    """Record ``gateway``'s routing switch and audit the change; a unit of work.

    Returns whether the switch was in the other position before (an action
    that changes nothing is audited too, saying so).
    """
    was = conn.execute(
        select(gateway_switches.c.enabled).where(gateway_switches.c.gateway == gateway)
    ).scalar_one_or_none()
    was_enabled = True if was is None else bool(was)
    values = {"enabled": enabled, "changed_at": now, "changed_by": actor}
    if was is None:
        conn.execute(insert(gateway_switches).values(gateway=gateway, **values))
    else:
        conn.execute(
            update(gateway_switches).where(gateway_switches.c.gateway == gateway).values(**values)
        )
    changed = was_enabled != enabled
    conn.execute(
        insert(operator_audit).values(
            at=now,
            actor=actor,
            action="enable" if enabled else "disable",
            subject=gateway_subject(gateway),
            reason=reason,
            detail=None if changed else f"already {'enabled' if enabled else 'disabled'}",
        )
    )
    return changed


def audit_faults(
    conn: Connection, gateway: str, *, actor: str, reason: str, detail: str, now: datetime
) -> None:
    """Audit a switch of ``gateway``'s faults; ``detail`` says what changed. A unit of work."""
    conn.execute(
        insert(operator_audit).values(
            at=now,
            actor=actor,
            action="faults",
            subject=faults_subject(gateway),
            reason=reason,
            detail=detail,
        )
    )


async def recent_actions(
    conn: AsyncConnection, subject: str, *, limit: int
) -> list[OperatorAction]:
    """The newest ``limit`` audited actions on ``subject``, newest first (its index)."""
    rows = await conn.execute(
        select(operator_audit)
        .where(operator_audit.c.subject == subject)
        .order_by(operator_audit.c.id.desc())
        .limit(limit)
    )
    return [
        OperatorAction(
            at=row.at,
            actor=row.actor,
            action=row.action,
            subject=row.subject,
            reason=row.reason,
            detail=row.detail,
        )
        for row in rows
    ]
