"""Citizens' rate limits live in the database: every process and every app instance counts together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from haoban.errors import RateLimited
from haoban.ratelimit import check_rate, forget_old, hit

T0 = datetime(2026, 6, 1, 2, 0, 0, tzinfo=UTC)  # the start of a minute


def test_sliding_window_counts_the_previous_minute_by_its_overlap(rt: Any) -> None:
    with rt.db.write() as s:
        counts = [hit(s, key="track:1.2.3.4", now=T0 + timedelta(seconds=i)) for i in range(10)]
    assert counts == list(range(1, 11))
    with rt.db.write() as s:
        # 15 s into the next minute: 1 new hit + the 10 of the previous minute weighted by 45/60.
        assert hit(s, key="track:1.2.3.4", now=T0 + timedelta(seconds=75)) == pytest.approx(1 + 10 * 0.75)
        # Another address, another count.
        assert hit(s, key="track:5.6.7.8", now=T0 + timedelta(seconds=75)) == 1
        # Two minutes on, the old minute no longer counts.
        assert hit(s, key="track:1.2.3.4", now=T0 + timedelta(seconds=185)) == 1


def test_two_app_instances_share_the_allowance(rt: Any, db_url: str) -> None:
    """Another process (here: another Runtime on the same database) sees the same counters."""
    from haoban.db import Database
    from haoban.wiring import runtime

    other = runtime(Database(db_url), rt.settings)
    try:
        for _ in range(5):
            check_rate(rt.db, scope="file", client="9.9.9.9", limit=7, now=T0)
        check_rate(other.db, scope="file", client="9.9.9.9", limit=7, now=T0)
        check_rate(other.db, scope="file", client="9.9.9.9", limit=7, now=T0)
        with pytest.raises(RateLimited):
            check_rate(rt.db, scope="file", client="9.9.9.9", limit=7, now=T0)
        with pytest.raises(RateLimited):
            check_rate(other.db, scope="file", client="9.9.9.9", limit=7, now=T0)
        # Another scope has its own allowance.
        check_rate(other.db, scope="track", client="9.9.9.9", limit=7, now=T0)
    finally:
        other.db.dispose()


def test_old_counters_are_forgotten(rt: Any) -> None:
    with rt.db.write() as s:
        hit(s, key="track:a", now=T0)
        hit(s, key="track:b", now=T0 + timedelta(minutes=3))
    with rt.db.write() as s:
        assert forget_old(s, now=T0 + timedelta(minutes=3)) == 1  # track:a's minute is gone
        assert hit(s, key="track:b", now=T0 + timedelta(minutes=3)) == 2
