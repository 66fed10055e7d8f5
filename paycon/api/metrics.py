"""``GET /metrics``: requests, transactions, the outbox, gateways and callbacks, for Prometheus."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from outbox import attempts
from paycon.api.context import ApiContext, context
from paycon.metrics import Exposition
from paycon.storage.schema import transactions

_BREAKER = {"closed": 0, "half_open": 1, "open": 2}
_STATUSES = ("pending", "submitted", "completed", "failed")
# Task latency is read from the newest attempts: bounded, whatever the history.
_LATENCY_SAMPLE = 1000


async def _database_figures(ctx: ApiContext) -> tuple[dict[str, int], list[int]]:
    """Transactions by status, and the newest attempts' run times (sorted)."""
    by_status = select(transactions.c.status, func.count()).group_by(transactions.c.status)
    newest = (
        select(attempts.c.duration_ms)
        .where(attempts.c.duration_ms.is_not(None))
        .order_by(attempts.c.id.desc())
        .limit(_LATENCY_SAMPLE)
    )
    async with ctx.db.read() as conn:
        counts = {status: int(n) for status, n in (await conn.execute(by_status)).all()}
        durations = sorted(int(row[0]) for row in await conn.execute(newest))
    return counts, durations


def _quantile(sorted_values: list[int], q: float) -> int | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


async def metrics(request: web.Request) -> web.Response:
    ctx = context(request)
    counts, durations = await _database_figures(ctx)
    stats = await ctx.operations.stats()
    gateways = [ctx.gateways[name] for name in sorted(ctx.gateways)]
    breakers = [(g.name, g.breaker_state()) for g in gateways]
    recent = [(g.name, g.recent_stats()) for g in gateways]

    out = Exposition()
    out.family(
        "paycon_http_requests_total",
        "counter",
        "HTTP requests answered, by route and status",
        (
            ({"method": method, "route": route, "status": status}, n)
            for (method, route, status), n in sorted(ctx.metrics.requests.items())
        ),
    )
    out.family(
        "paycon_transactions",
        "gauge",
        "Transactions by status",
        (({"status": status}, counts.get(status, 0)) for status in _STATUSES),
    )
    out.family(
        "paycon_outbox_tasks",
        "gauge",
        "Outbox tasks by state",
        (({"state": state.value}, n) for state, n in stats.counts.items()),
    )
    out.family(
        "paycon_outbox_oldest_due_age_seconds",
        "gauge",
        "How long the oldest due task has waited",
        [({}, stats.oldest_due_age_s or 0)],
    )
    out.family(
        "paycon_outbox_done_per_second",
        "gauge",
        "Tasks done per second over the last minute",
        [({}, round(stats.done_per_s, 3))],
    )
    out.family(
        "paycon_outbox_task_duration_ms",
        "summary",
        "Handler run time of the newest attempts",
        [({"quantile": q}, _quantile(durations, q)) for q in (0.5, 0.99)],
    )
    out.family(
        "paycon_gateway_breaker_state",
        "gauge",
        "Circuit breaker: 0 closed, 1 half-open, 2 open",
        [({"gateway": name}, _BREAKER[state.state]) for name, state in breakers],
    )
    out.family(
        "paycon_gateway_breaker_failures",
        "gauge",
        "Consecutive failures counted by the breaker",
        [({"gateway": name}, state.failures) for name, state in breakers],
    )
    out.family(
        "paycon_gateway_success_ratio",
        "gauge",
        "Share of recent gateway calls that got an answer",
        [({"gateway": name}, stats_.success_rate) for name, stats_ in recent],
    )
    out.family(
        "paycon_gateway_latency_ms",
        "summary",
        "Latency of recent gateway calls",
        [
            ({"gateway": name, "quantile": q}, value)
            for name, stats_ in recent
            for q, value in ((0.5, stats_.latency_p50_ms), (0.99, stats_.latency_p99_ms))
        ],
    )
    out.family(
        "paycon_callbacks_total",
        "counter",
        "Gateway callbacks received, by outcome",
        (
            ({"gateway": gateway, "outcome": outcome}, n)
            for (gateway, outcome), n in sorted(ctx.metrics.callbacks.items())
        ),
    )
    return web.Response(text=out.text(), content_type="text/plain", charset="utf-8")
