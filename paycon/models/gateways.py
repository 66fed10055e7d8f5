"""A gateway as operators see it, and what the dashboard shows in one read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field

from paycon.domain.fault_text import describe_changes
from paycon.models.fields import Out, Time, ms_or_none
from paycon.models.outbox import OutboxAuditOut, OutboxStatsOut

if TYPE_CHECKING:  # the gateway clients (aiohttp) are not needed to describe one
    from gateways import Gateway


class FaultsOut(Out):
    """An embedded mock gateway's faults in force (the ones named here, and whatever
    other faults the mock has)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    latency_ms: int
    latency_jitter_ms: int
    error_rate: float
    timeout_rate: float
    timeout_hang_ms: int
    outage: Literal[False, "503", "refuse"]
    decline_rate: float
    callback_delay_ms: int
    callback_drop_rate: float
    callback_duplicate_rate: float
    callback_reorder: bool
    # Money faults and the settlement report's fee and faults (healthy defaults, so a
    # mock that names only the faults above still reads).
    callback_amount_skew: float = 0.0
    callback_wrong_route: float = 0.0
    late_failure_rate: float = 0.0
    ghost_503_rate: float = 0.0
    auth_failure: bool = False
    submit_decline: str | Literal[False] = False
    settlement_fee_bps: int = 0
    settlement_fee_minor: int = 0
    settle_unreported_rate: float = 0.0
    report_missing_rate: float = 0.0
    report_amount_skew_rate: float = 0.0


class BreakerOut(Out):
    """A gateway's circuit breaker: ``state`` is closed, open or half_open.

    ``failures`` counts consecutive failures, failed trials included (so it passes
    ``fail_max`` while open); ``opened_at`` is when it last (re)opened.
    """

    state: Literal["closed", "open", "half_open"]
    failures: int
    fail_max: int
    opened_at: Time | None
    may_half_open_at: Time | None = Field(description="when an open breaker lets a trial through")
    open_since: Time | None = Field(
        default=None, description="when it opened and has not closed since; null while closed"
    )
    failed_trials: int = Field(
        default=0, description="trial calls that failed since open_since (they reopen it)"
    )


class GatewayRecentOut(Out):
    """A gateway's recent calls: how many, share that succeeded, latency, outcomes by name."""

    calls: int
    success_rate: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    outcomes: dict[str, int]


class FaultChangeOut(Out):
    at: Time
    actor: str = Field(description="who switched: console:<user>, operator:<key id>, demo, ...")
    action: Literal["faults"]
    reason: str | None
    detail: str = Field(examples=["outage: off → 503; error_rate: 0 → 0.3"])

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> FaultChangeOut:
        """One of the mock's fault switches (as ``GET /_mock/faults/history`` answers it):
        ``detail`` says each fault before and after."""
        return cls.model_validate(
            {
                "at": entry["at"],
                "actor": entry["actor"],
                "action": "faults",
                "reason": entry.get("reason"),
                "detail": describe_changes(
                    (change["fault"], change["before"], change["after"])
                    for change in entry["changes"]
                ),
            }
        )


class GatewayOut(Out):
    name: str
    protocol: str
    enabled: bool = Field(description="false: taken out of routing for new payments")
    breaker: BreakerOut
    recent: GatewayRecentOut
    credentials_refused_since: Time | None = Field(
        description="RFC 3339: since when the gateway refuses paycon's credentials (401/403;"
        " its payments wait, none is declined); null while it accepts them"
    )
    recent_errors: list[str] = Field(description="the last failed calls' errors, newest first")
    routing_changes: list[OutboxAuditOut] = Field(
        description="the latest routing switches (disable, enable), newest first"
    )
    faults: FaultsOut | None = Field(description="an embedded mock gateway's faults; else null")
    fault_changes: list[FaultChangeOut] = Field(
        default=[],
        description="an embedded mock gateway's latest fault switches as the mock recorded "
        "them (the demo's, the console's, the API's, a PUT /_mock/faults), newest first; "
        "detail says each value before and after",
    )

    @classmethod
    def of(
        cls,
        gateway: Gateway,
        *,
        enabled: bool,
        routing_changes: list[OutboxAuditOut],
        faults: Mapping[str, Any] | None,
        fault_changes: list[FaultChangeOut],
    ) -> GatewayOut:
        """A live gateway's routing switch, breaker, recent figures and errors, with its
        latest routing changes and, for an embedded mock, its faults and their switches."""
        breaker = gateway.breaker_state()
        stats = gateway.recent_stats()
        return cls.model_construct(
            name=gateway.name,
            protocol=gateway.protocol,
            enabled=enabled,
            breaker=BreakerOut.model_construct(
                state=breaker.state,
                failures=breaker.failures,
                fail_max=breaker.fail_max,
                opened_at=ms_or_none(breaker.opened_at),
                may_half_open_at=ms_or_none(breaker.may_half_open_at),
                open_since=ms_or_none(breaker.open_since),
                failed_trials=breaker.failed_trials,
            ),
            recent=GatewayRecentOut.model_construct(
                calls=stats.calls,
                success_rate=stats.success_rate,
                latency_p50_ms=stats.latency_p50_ms,
                latency_p99_ms=stats.latency_p99_ms,
                outcomes=dict(stats.outcomes),
            ),
            credentials_refused_since=ms_or_none(stats.credentials_refused_since),
            recent_errors=list(gateway.recent_errors()),
            routing_changes=routing_changes,
            faults=None if faults is None else FaultsOut.model_validate(faults),
            fault_changes=fault_changes,
        )


class GatewaysOut(Out):
    gateways: list[GatewayOut]


class GatewayRoutingOut(Out):
    """A gateway's routing switch and latest changes as stored (no live figures: those
    live in a running paycon)."""

    name: str
    enabled: bool
    routing_changes: list[OutboxAuditOut]
    protocol: str


class TrafficOut(Out):
    """Payment requests this process answered over the window."""

    payments_per_s: float = Field(description="accepted (2xx) payment requests per second")
    error_rate: float | None = Field(description="share answered 4xx or 5xx; null without any")
    window_s: float


class OverviewOut(Out):
    """What the operators' dashboard shows, in one read."""

    at: Time
    traffic: TrafficOut
    outbox: OutboxStatsOut
    gateways: list[GatewayOut]
    held_for_review: int = Field(ge=0, description="payments held for review, waiting for a person")
    ledger_breaks: int | None = Field(
        ge=0,
        description="broken ledger invariants found by the service's last check "
        "(paycon ledger verify lists them); null before the first check",
    )
