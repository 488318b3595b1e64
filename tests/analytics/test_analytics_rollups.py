"""The dashboard's daily roll-ups (and the mixes' monthly sums) give the same figures as the order rows:
after a build, after random inserts, status changes, reopenings, upheld returns and deletes (before and
after the next build), for every range, filter and bucket."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from haoban.analytics import rollups
from haoban.analytics import service as analytics
from haoban.analytics.models import DashboardDailyMix, DashboardDay, DashboardMonth, DashboardMonthlyMix
from haoban.dispatch.models import DispatchCorrection
from haoban.orders.models import Order, OrderDayMark
from haoban.runtime import Runtime

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 31, 15, 0, tzinfo=CST).astimezone(UTC)
TODAY = NOW.astimezone(CST).date()
STATUSES = ["closed", "archived", "callback", "replied", "signed", "dispatched", "pending_dispatch",
            "answered", "merged", "return_requested"]  # fmt: skip
CALLBACKS = [None, None, "satisfied", "basically_satisfied", "unsatisfied"]
CHANNELS = ["phone", "web", "app", "wechat"]


def _row(rng: random.Random, rt: Runtime, oid: int, received: datetime) -> dict[str, Any]:
    d = rt.directory
    depts = sorted(x.id for x in d.departments_by_id.values())[:4]
    districts = sorted(x.id for x in d.districts_by_id.values())[:3]
    cats = sorted(c.id for c in d.categories_by_id.values() if c.level == 3)[:5]
    status = rng.choice(STATUSES)
    dispatched = status not in ("pending_dispatch", "answered")
    deadline = received + timedelta(days=rng.choice([1, 3, 10]))
    replied = rng.random() < 0.6
    return {
        "id": oid,
        "code": f"HBR{oid:06d}",
        "channel": rng.choice(CHANNELS),
        "order_type": "complaint",
        "urgency": "normal",
        "subject": f"order {oid}",
        "content": "text",
        "district_id": rng.choice([*districts, None]),
        "category_id": rng.choice([*cats, None]),
        "lead_department_id": rng.choice(depts) if dispatched else None,
        "status": status,
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "dispatched_at": received + timedelta(minutes=5) if dispatched else None,
        "replied_at": received + timedelta(days=rng.choice([0.5, 2, 5])) if replied else None,
        "clock_started_at": received,
        "handle_deadline": deadline,
        "handle_warn_at": received + (deadline - received) * 0.8,
        "deadline_provisional": False,
        "dispatch_source": rng.choice(["rule", "model", "human"]) if dispatched else None,
        "callback_result": rng.choice(CALLBACKS),
        "redo_count": rng.choice([0, 0, 0, 1]),
        "supervision_level": 0,
        "event_count": 0,
        "last_hash": "",
        "version": 1,
    }


def _received(rng: random.Random) -> datetime:
    # the last 100 local days up to now, midnights included (January and February are whole months)
    return NOW - timedelta(minutes=rng.randrange(0, 100 * 24 * 60))


def _scopes(rt: Runtime) -> list[tuple[analytics.Scope, str]]:
    d = rt.directory
    dept = sorted(x.id for x in d.departments_by_id.values())[0]
    district = sorted(x.id for x in d.districts_by_id.values())[0]
    return [
        (analytics.scope_for_days(TODAY - timedelta(days=6), TODAY), "day"),
        (analytics.scope_for_days(TODAY - timedelta(days=29), TODAY), "day"),
        (analytics.scope_for_days(TODAY - timedelta(days=90), TODAY), "week"),
        (analytics.scope_for_days(TODAY - timedelta(days=364), TODAY), "month"),
        (analytics.scope_for_days(TODAY - timedelta(days=20), TODAY - timedelta(days=3)), "week"),
        (analytics.scope_for_days(TODAY - timedelta(days=29), TODAY, district_id=district), "day"),
        (analytics.scope_for_days(TODAY - timedelta(days=29), TODAY, department_id=dept), "day"),
        (
            analytics.scope_for_days(
                TODAY - timedelta(days=29), TODAY, district_id=district, department_id=dept
            ),
            "month",
        ),
        # an odd scope, not on day boundaries: partial days come from the rows
        (analytics.Scope(NOW - timedelta(days=12, hours=5), NOW - timedelta(days=2, hours=7)), "day"),
    ]


def _assert_same(rt: Runtime, *, expect_rolled: bool, expect_months: bool = False) -> None:
    rolled_any = months_any = False
    with rt.db.read() as session:
        for scope, bucket in _scopes(rt):
            kwargs: dict[str, Any] = {"scope": scope, "now": NOW, "directory": rt.directory, "bucket": bucket}
            raw = analytics.dashboard(session, rollups=False, **kwargs)
            fast = analytics.dashboard(session, **kwargs)
            assert fast == raw, (scope, bucket)
            plan = analytics.plan_for(session, scope=scope, now=NOW)
            rolled_any = rolled_any or bool(plan.rolled)
            months_any = months_any or bool(plan.months)
    assert rolled_any == expect_rolled
    if expect_months:  # the year's mixes read whole months from the monthly sums
        assert months_any


def test_rollups_equal_raw_figures_through_random_changes(rt: Runtime) -> None:
    rng = random.Random(7)
    rows = [_row(rng, rt, i, _received(rng)) for i in range(1, 401)]
    with rt.db.write() as session:
        session.execute(insert(Order.__table__), rows)
        session.execute(
            insert(DispatchCorrection.__table__),
            [
                {"order_id": r["id"], "text": "t", "source": "return", "actor": "x", "at": NOW}
                for r in rows
                if r["dispatched_at"] is not None and rng.random() < 0.1
            ],
        )
    _assert_same(rt, expect_rolled=False)  # nothing built yet: all from the rows

    done = rollups.refresh(rt.db, now=NOW)
    assert done.built >= 99 and done.pending == 0
    assert done.months == 2  # January and February 2026: every day built; March is still running
    with rt.db.read() as session:
        assert session.scalar(select(func.max(DashboardDay.day))) == TODAY - timedelta(days=1)
    _assert_same(rt, expect_rolled=True, expect_months=True)
    _assert_months_are_their_days(rt)

    next_id = 1000
    for round_ in range(4):
        with rt.db.write() as session:
            orders = list(session.scalars(select(Order).order_by(Order.id)))
            for order in rng.sample(orders, 25):
                change = rng.choice(["status", "callback", "reopen", "return", "district", "delete"])
                if change == "status":
                    order.status = rng.choice(STATUSES)
                elif change == "callback":
                    order.callback_result = rng.choice(CALLBACKS)
                elif change == "reopen":  # 重办: back to handling with a new deadline
                    order.status = "signed"
                    order.redo_count += 1
                    order.replied_at = None
                    order.handle_deadline = NOW + timedelta(days=rng.choice([-2, 3]))
                elif change == "return" and order.dispatched_at is not None:
                    session.add(
                        DispatchCorrection(order_id=order.id, text="t", source="return", actor="x", at=NOW)
                    )
                elif change == "district":
                    order.district_id = None
                elif change == "delete":
                    for c in session.scalars(
                        select(DispatchCorrection).where(DispatchCorrection.order_id == order.id)
                    ):
                        session.delete(c)
                    session.flush()
                    session.delete(order)
            for _ in range(10):  # late arrivals: orders received on past, already built days
                session.add(Order(**_row(rng, rt, next_id, _received(rng))))
                next_id += 1
        with rt.db.read() as session:
            assert session.scalar(select(func.count()).select_from(OrderDayMark)) > 0
        _assert_same(rt, expect_rolled=True)  # changed days from the rows, the others rolled up
        if round_ % 2:
            rollups.refresh(rt.db, now=NOW)
            _assert_same(rt, expect_rolled=True, expect_months=True)
            _assert_months_are_their_days(rt)
            with rt.db.read() as session:
                left = session.scalars(select(OrderDayMark.day).where(OrderDayMark.day < TODAY)).all()
            assert left == []


def _assert_months_are_their_days(rt: Runtime) -> None:
    with rt.db.read() as session:
        months = session.scalars(select(DashboardMonth.month)).all()
        assert months
        for month in months:
            d, m = DashboardDailyMix, DashboardMonthlyMix
            by_day = session.execute(
                select(d.district_key, d.department_key, d.kind, d.key, func.sum(d.orders))
                .where(d.day >= month, d.day <= analytics.month_last(month))
                .group_by(d.district_key, d.department_key, d.kind, d.key)
            ).all()
            summed = session.execute(
                select(m.district_key, m.department_key, m.kind, m.key, m.orders).where(m.month == month)
            ).all()
            assert sorted(map(tuple, by_day)) == sorted(map(tuple, summed)), month


def test_a_rebuilt_day_drops_its_month_until_summed_again(rt: Runtime) -> None:
    rng = random.Random(11)
    rows = [_row(rng, rt, i, _received(rng)) for i in range(1, 201)]
    with rt.db.write() as session:
        session.execute(insert(Order.__table__), rows)
    rollups.refresh(rt.db, now=NOW)
    february = date(2026, 2, 1)
    year = analytics.scope_for_days(TODAY - timedelta(days=364), TODAY)
    kwargs: dict[str, Any] = {"scope": year, "now": NOW, "directory": rt.directory}
    with rt.db.read() as session:
        plan = analytics.plan_for(session, scope=year, now=NOW)
        assert february in plan.months
        raw = analytics.dashboard(session, rollups=False, **kwargs)
    # A late arrival on 10 February: the day is marked, so February is read by day from the rows.
    late = _row(rng, rt, 900, datetime(2026, 2, 10, 9, 0, tzinfo=CST))
    with rt.db.write() as session:
        session.add(Order(**late))
    with rt.db.read() as session:
        assert february not in analytics.plan_for(session, scope=year, now=NOW).months
        raw = analytics.dashboard(session, rollups=False, **kwargs)
        assert analytics.dashboard(session, **kwargs) == raw
    # A plan made before a day of February was rebuilt (the month's sums deleted with it) still adds
    # up: the month missing from the monthly sums is read by day.
    with rt.db.write() as session:
        rollups.build_day(session, date(2026, 2, 10), now=NOW)
    with rt.db.read() as session:
        assert session.get(DashboardMonth, february) is None
        mix = analytics.category_mix(session, scope=year, directory=rt.directory, plan=plan)
        assert mix == raw["categories"]
    done = rollups.refresh(rt.db, now=NOW)
    assert done.months == 1
    _assert_months_are_their_days(rt)
    with rt.db.read() as session:
        assert february in analytics.plan_for(session, scope=year, now=NOW).months
        assert analytics.dashboard(session, **kwargs) == analytics.dashboard(session, rollups=False, **kwargs)


def test_a_day_becomes_built_only_once_past(rt: Runtime) -> None:
    rng = random.Random(3)
    with rt.db.write() as session:
        session.execute(insert(Order.__table__), [_row(rng, rt, 1, NOW - timedelta(minutes=5))])
    rollups.refresh(rt.db, now=NOW)
    with rt.db.read() as session:
        days = set(session.scalars(select(DashboardDay.day)))
    assert TODAY not in days
    # tomorrow, today is built
    rollups.refresh(rt.db, now=NOW + timedelta(days=1))
    with rt.db.read() as session:
        assert TODAY in set(session.scalars(select(DashboardDay.day)))
        scope = analytics.scope_for_days(TODAY, TODAY)
        plan = analytics.plan_for(session, scope=scope, now=NOW + timedelta(days=1))
    assert plan.rolled == ((TODAY, TODAY),) and plan.live == ()


def test_core_writes_mark_their_day(rt: Runtime) -> None:
    """Intake's driver-level insert and the categoriser's Core update leave marks too."""
    from haoban.orders.models import mark_days

    day = date(2026, 3, 1)
    instant = datetime(2026, 3, 1, 23, 30, tzinfo=CST)
    with rt.db.write() as session:
        mark_days(session, [instant, instant.astimezone(UTC)])
    with rt.db.read() as session:
        assert session.scalars(select(OrderDayMark.day)).all() == [day]


def test_a_mark_rolled_back_with_a_savepoint_is_written_again(rt: Runtime) -> None:
    from haoban.orders.models import mark_days

    instant = datetime(2026, 3, 1, 10, 0, tzinfo=CST)
    with rt.db.write() as session:
        savepoint = session.begin_nested()
        mark_days(session, [instant])
        savepoint.rollback()
        mark_days(session, [instant])
        mark_days(session, [instant])  # once per transaction
    with rt.db.read() as session:
        assert session.scalars(select(OrderDayMark.day)).all() == [date(2026, 3, 1)]
