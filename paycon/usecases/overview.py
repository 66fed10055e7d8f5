"""What the operators' dashboard shows, read in one go."""

from __future__ import annotations

from datetime import datetime

from paycon.metrics import Metrics
from paycon.models.fields import ms
from paycon.models.gateways import OverviewOut, TrafficOut
from paycon.models.outbox import OutboxStatsOut
from paycon.usecases.gateway_control import GatewayControl
from paycon.usecases.operations import OutboxOperations
from paycon.usecases.queries import TransactionQueries


async def read_overview(
    *,
    operations: OutboxOperations,
    queries: TransactionQueries,
    gateway_control: GatewayControl,
    metrics: Metrics,
    now: datetime,
) -> OverviewOut:
    """Traffic, outbox figures, every gateway and how many payments are held for review
    (the held count reads only the held rows' index)."""
    stats = await operations.stats()
    return OverviewOut.model_construct(
        at=ms(now),
        traffic=TrafficOut.model_construct(**metrics.traffic.as_json()),
        outbox=OutboxStatsOut.of(stats),
        gateways=await gateway_control.statuses(),
        held_for_review=await queries.held_count(),
        ledger_breaks=metrics.ledger_breaks_found,
    )
