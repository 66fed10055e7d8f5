"""``GET /metrics``: requests, transactions, the outbox, gateways and callbacks, for Prometheus.

Requests, callbacks and transactions by status are counted as they happen
(``paycon.metrics.Metrics``). A scrape adds what is read at that moment: the
outbox figures (one indexed query), the newest attempts' run times (a bounded
read) and the gateways' in-memory breakers and recent calls. Nothing a scrape
reads grows with the number of transactions.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from outbox import attempts
from paycon.api.context import ApiContext, context
from paycon.metrics import BREAKER_STATES, Metrics

# The text format generate_latest writes (prometheus-client's "latest" names a newer one).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Task latency is read from the newest attempts: bounded, whatever the history.
_LATENCY_SAMPLE = 1000
_QUANTILES = (0.5, 0.99)


async def _newest_durations_ms(ctx: ApiContext) -> list[int]:
    """The newest attempts' run times, sorted."""
    newest = (
        select(attempts.c.duration_ms)
        .where(attempts.c.duration_ms.is_not(None))
        .order_by(attempts.c.id.desc())
        .limit(_LATENCY_SAMPLE)
    )
    async with ctx.db.read() as conn:
        return sorted(int(row[0]) for row in await conn.execute(newest))


def _quantile(sorted_values: list[int], q: float) -> int | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


async def _observe_scrape(ctx: ApiContext, metrics: Metrics) -> None:
    """Set the figures that are read when scraped rather than counted."""
    stats = await ctx.operations.stats()
    durations = await _newest_durations_ms(ctx)
    for state, n in stats.counts.items():
        metrics.outbox_tasks.labels(state.value).set(n)
    metrics.outbox_oldest_due_age_s.set(stats.oldest_due_age_s or 0)
    metrics.outbox_done_per_s.set(round(stats.done_per_s, 3))
    metrics.held_for_review.set(await ctx.queries.held_count())
    for q in _QUANTILES:
        value = _quantile(durations, q)
        if value is not None:
            metrics.task_duration_ms.labels(str(q)).set(value)
    for name in sorted(ctx.gateways):
        gateway = ctx.gateways[name]
        breaker = gateway.breaker_state()
        recent = gateway.recent_stats()
        metrics.breaker_state.labels(name).set(BREAKER_STATES[breaker.state])
        metrics.breaker_failures.labels(name).set(breaker.failures)
        refused = recent.credentials_refused_since is not None
        metrics.gateway_credentials_refused.labels(name).set(1 if refused else 0)
        if recent.success_rate is not None:
            metrics.gateway_success_ratio.labels(name).set(recent.success_rate)
        for q, latency in ((0.5, recent.latency_p50_ms), (0.99, recent.latency_p99_ms)):
            if latency is not None:
                metrics.gateway_latency_ms.labels(name, str(q)).set(latency)


async def metrics(request: web.Request) -> web.Response:
    ctx = context(request)
    await _observe_scrape(ctx, ctx.metrics)
    response = web.Response(body=ctx.metrics.exposition())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response
