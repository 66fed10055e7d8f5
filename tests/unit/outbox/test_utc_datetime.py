"""UtcDateTime's fast SQLite conversion stores exactly what SQLAlchemy's DateTime would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from outbox.schema import UtcDateTime

DIALECT = sqlite.dialect()
SA_BIND = DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
SA_RESULT = DateTime().dialect_impl(DIALECT).result_processor(DIALECT, None)
OURS = UtcDateTime().dialect_impl(DIALECT)
BIND = OURS.bind_processor(DIALECT)
RESULT = OURS.result_processor(DIALECT, None)

aware = st.datetimes(
    min_value=datetime(1000, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone.min]),
)


@given(value=aware)
def test_stored_text_is_sqlalchemys_and_reads_back_equal(value: datetime) -> None:
    assert BIND is not None
    assert RESULT is not None
    assert SA_BIND is not None
    assert SA_RESULT is not None
    stored = BIND(value)
    assert stored == SA_BIND(value.astimezone(UTC).replace(tzinfo=None))
    back = RESULT(stored)
    assert back == value
    assert back.tzinfo is UTC
    expected = SA_RESULT(stored)
    assert expected is not None
    assert back == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize("text", ["2030-01-02 03:04:05", "2030-01-02"])
def test_shorter_stored_forms_still_read(text: str) -> None:
    assert RESULT is not None
    assert RESULT(text) == datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_naive_datetimes_are_refused() -> None:
    assert BIND is not None
    with pytest.raises(ValueError, match="naive"):
        BIND(datetime(2030, 1, 1))
    assert BIND(None) is None
