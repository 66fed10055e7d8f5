"""``GET /metrics``: requests, transactions, the outbox, gateways and callbacks, for Prometheus."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import func, select

from outbox import attempts
from paycon.api.context import context
from paycon.metrics import Exposition
from paycon.storage.schema import transactions

_BREAKER = {"closed": 0, "half_open": 1, "open": 2}
# Task latency is read from the newest attempts: bounded, whatever the history.
_LATENCY_SAMPLE = 1000


async def metrics(request: web.Request) -> web.Response:
    ctx = context(request)
    out = Exposition()
    out.family(
        "paycon_http_requests_total", "counter", "HTTP requests answered, by route and status",
        ((({"method": m, "route": r, "status": s}), n) for (m, r, s), n in
         sorted(ctx.metrics.requests.items())),
    )  # fmt: skip
    async with ctx.db.read() as conn:
        by_status: dict[str, int] = dict(
            (await conn.execute(select(transactions.c.status, func.count()).group_by(
                transactions.c.status))).all()
        )  # fmt: skip
        durations = sorted(
            row[0]
            for row in await conn.execute(
                select(attempts.c.duration_ms)
                .where(attempts.c.duration_ms.is_not(None))
                .order_by(attempts.c.id.desc())
                .limit(_LATENCY_SAMPLE)
            )
        )
    out.family(
        "paycon_transactions", "gauge", "Transactions by status",
        (({"status": s}, by_status.get(s, 0)) for s in
         ("pending", "submitted", "completed", "failed")),
    )  # fmt: skip
    stats = await ctx.operations.stats()
    out.family(
        "paycon_outbox_tasks", "gauge", "Outbox tasks by state",
        (({"state": state.value}, count) for state, count in stats.counts.items()),
    )  # fmt: skip
    out.family(
        "paycon_outbox_oldest_due_age_seconds",
        "gauge",
        "How long the oldest due task has waited",
        [({}, stats.oldest_due_age_s or 0)],
    )
    out.family("paycon_outbox_done_per_second", "gauge", "Tasks done per second, last minute",
               [({}, round(stats.done_per_s, 3))])  # fmt: skip
    out.family(
        "paycon_outbox_task_duration_ms", "summary", "Handler run time of the newest attempts",
        [({"quantile": q}, durations[min(len(durations) - 1, int(len(durations) * q))]
          if durations else None) for q in (0.5, 0.99)],
    )  # fmt: skip
    gateways = [ctx.gateways[name] for name in sorted(ctx.gateways)]
    breakers = [(g.name, g.breaker_state()) for g in gateways]
    recent = [(g.name, g.recent_stats()) for g in gateways]
    out.family("paycon_gateway_breaker_state", "gauge", "0 closed, 1 half-open, 2 open",
               [({"gateway": n}, _BREAKER[b.state]) for n, b in breakers])  # fmt: skip
    out.family("paycon_gateway_breaker_failures", "gauge", "Consecutive failures",
               [({"gateway": n}, b.failures) for n, b in breakers])  # fmt: skip
    out.family("paycon_gateway_success_ratio", "gauge", "Share of recent calls answered",
               [({"gateway": n}, s.success_rate) for n, s in recent])  # fmt: skip
    out.family(
        "paycon_gateway_latency_ms", "summary", "Latency of recent gateway calls",
        [({"gateway": n, "quantile": q}, v) for n, s in recent
         for q, v in ((0.5, s.latency_p50_ms), (0.99, s.latency_p99_ms))],
    )  # fmt: skip
    out.family(
        "paycon_callbacks_total", "counter", "Gateway callbacks received, by outcome",
        ((({"gateway": g, "outcome": o}), n) for (g, o), n in
         sorted(ctx.metrics.callbacks.items())),
    )  # fmt: skip
    return web.Response(text=out.text(), content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})  # fmt: skip
