"""The worker pool's settings: one frozen object, built by the caller."""

from __future__ import annotations

from dataclasses import dataclass, field

from outbox.exceptions import ConfigError
from outbox.retry import RetryPolicy

DAY_S = 86_400.0


@dataclass(frozen=True)
class PoolConfig:
    """How a pool runs.

    - ``workers``: handlers running at once.
    - ``lease_s``: how long a claim lasts without renewal; renewed every
      ``lease_s / 3`` while the pool holds the task, so only a dead or stalled
      process lets it expire.
    - ``poll_interval_s``: the longest an idle pool waits before looking for due
      tasks by itself (commits that enqueue wake it at once).
    - ``batch_size``: most tasks claimed in one write; also how many claimed
      tasks may wait in memory for a free worker.
    - ``grace_s``: how long ``stop()`` lets running handlers finish before
      cancelling them and releasing their tasks.
    - ``retention_s``: done tasks older than this are pruned (``None``: never);
      checked every ``retention_interval_s``, ``retention_batch_size`` per write.
    - ``retry``: the backoff policy.
    - ``owner``: the name leases are taken under (default: host, pid and a
      random suffix); must be unique among live pools.
    """

    workers: int = 8
    lease_s: float = 30.0
    poll_interval_s: float = 1.0
    batch_size: int = 64
    grace_s: float = 10.0
    retention_s: float | None = 7 * DAY_S
    retention_interval_s: float = 300.0
    retention_batch_size: int = 500
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    owner: str | None = None

    def __post_init__(self) -> None:
        checks: list[tuple[bool, str]] = [
            (self.workers >= 1, f"workers must be >= 1, got {self.workers}"),
            (self.lease_s > 0, f"lease_s must be > 0, got {self.lease_s}"),
            (
                0 < self.poll_interval_s <= 1.0,
                f"poll_interval_s must be in (0, 1], got {self.poll_interval_s}",
            ),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.grace_s >= 0, f"grace_s must be >= 0, got {self.grace_s}"),
            (
                self.retention_s is None or self.retention_s > 0,
                f"retention_s must be > 0 or None, got {self.retention_s}",
            ),
            (
                self.retention_interval_s > 0,
                f"retention_interval_s must be > 0, got {self.retention_interval_s}",
            ),
            (
                self.retention_batch_size >= 1,
                f"retention_batch_size must be >= 1, got {self.retention_batch_size}",
            ),
            (
                self.owner is None or 0 < len(self.owner) <= 64,
                "owner must be 1 to 64 characters",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    @property
    def renew_interval_s(self) -> float:
        """How often held leases are extended."""
        return self.lease_s / 3
