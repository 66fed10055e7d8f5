"""The moment a filtered replay is bound to: the ``as_of`` its count answered."""

from __future__ import annotations

from datetime import datetime

from paycon.domain.errors import InvalidInput


def check_as_of(as_of: datetime | None) -> None:
    """InvalidInput for a moment without a zone (a count's ``as_of`` always has one)."""
    if as_of is not None and as_of.utcoffset() is None:
        raise InvalidInput("as_of needs a time zone, as the count returns it")
