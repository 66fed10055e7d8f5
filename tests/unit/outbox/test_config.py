"""PoolConfig refuses settings that cannot work, and says which."""

from __future__ import annotations

from typing import Any

import pytest

from outbox import ConfigError, PoolConfig


def test_defaults_are_usable() -> None:
    config = PoolConfig()
    assert config.workers == 8
    assert config.renew_interval_s == pytest.approx(config.lease_s / 3)
    assert config.poll_interval_s <= 1.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("workers", 0),
        ("lease_s", 0),
        ("poll_interval_s", 0),
        ("poll_interval_s", 1.5),  # polling is the fallback: at most a second
        ("batch_size", 0),
        ("grace_s", -1),
        ("retention_s", 0),
        ("retention_interval_s", 0),
        ("retention_batch_size", 0),
        ("owner", ""),
        ("owner", "x" * 65),
    ],
)
def test_nonsense_is_refused_by_name(field: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=field):
        PoolConfig(**{field: value})


def test_retention_can_be_switched_off() -> None:
    assert PoolConfig(retention_s=None).retention_s is None
