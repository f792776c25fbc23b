"""A query string's instant (``updated_since``): ISO 8601 with its UTC offset, or a 422 naming it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler.api.inputs import query_instant
from scheduler.domain.errors import InvalidInput


@pytest.mark.parametrize(("written", "expected"), [
    ("2026-11-25T09:00:00+01:00", datetime(2026, 11, 25, 8, 0, tzinfo=UTC)),
    ("2026-11-25T09:00:00 01:00", datetime(2026, 11, 25, 8, 0, tzinfo=UTC)),
    ("2026-11-25T08:00:00Z", datetime(2026, 11, 25, 8, 0, tzinfo=UTC)),
], ids=["offset", "plus_left_unencoded", "zulu"])
def test_a_query_instant_reads_its_offset(written: str, expected: datetime) -> None:
    assert query_instant("updated_since", written) == expected
    assert query_instant("updated_since", None) is None


@pytest.mark.parametrize("written", ["2026-11-25T09:00:00", "2026-11-25", "1700000000",
                                     "2026-13-01T00:00:00+01:00"],
                         ids=["naive", "date_only", "unix_time", "no_such_month"])
def test_a_query_instant_without_offset_or_malformed_is_bad_input(written: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        query_instant("updated_since", written)
    assert "updated_since" in str(refused.value)
