"""Delivery rules: what a gateway's word means for a transaction, and where to fail over."""

from __future__ import annotations

from collections.abc import Sequence, Set

from paycon.domain.status import Status

_GATEWAY_STATUS = {"pending": Status.SUBMITTED, "success": Status.COMPLETED,
                   "failure": Status.FAILED}  # fmt: skip


def status_from_gateway(gateway_status: str) -> Status:
    """``pending`` means acknowledged (submitted); ``success``/``failure`` are final.

    Raises ValueError for anything else.
    """
    try:
        return _GATEWAY_STATUS[gateway_status]
    except KeyError:
        raise ValueError(f"unknown gateway status {gateway_status!r}") from None


def next_gateway(
    route: Sequence[str], current: str, *, disabled: Set[str] = frozenset()
) -> str | None:
    """The gateway after ``current`` in the route that is not out of routing
    (``disabled``), or None when there is none."""
    try:
        position = list(route).index(current)
    except ValueError:
        return None
    return next((g for g in route[position + 1 :] if g not in disabled), None)
