"""Dashboard KPIs on a small constructed data set: exact values, scoping, buckets, API and CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from haoban.analytics import service as analytics
from haoban.dispatch.models import DispatchCorrection
from haoban.orders.models import Order
from haoban.runtime import Runtime

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=CST).astimezone(UTC)
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 8)  # Monday … Sunday


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=CST).astimezone(UTC)


def _insert(rt: Runtime, specs: list[dict[str, Any]], returned: list[int]) -> None:
    d = rt.directory
    cgj = d.department("cgj")
    assert cgj is not None
    other = next(x for x in d.departments_by_id.values() if x.code != "cgj")
    district = sorted(d.districts_by_id.values(), key=lambda x: x.code)[0]
    leaf = sorted((c for c in d.categories_by_id.values() if c.level == 3), key=lambda c: c.code)[0]
    rows = []
    for i, s in enumerate(specs, start=1):
        received = s.pop("received")
        dispatched = s.pop("dispatched", True)
        dept = s.pop("dept", cgj.id)
        row = {
            "id": i,
            "code": f"HBT{i:04d}",
            "channel": "phone",
            "order_type": "complaint",
            "urgency": "normal",
            "subject": f"order {i}",
            "content": "text",
            "district_id": district.id,
            "category_id": leaf.id,
            "lead_department_id": dept if dispatched else None,
            "received_at": received,
            "created_at": received,
            "updated_at": received,
            "dispatched_at": received + timedelta(minutes=5) if dispatched else None,
            "clock_started_at": received,
            "handle_deadline": received + timedelta(days=5),
            "handle_warn_at": received + timedelta(days=4),
            "deadline_provisional": False,
            "dispatch_source": "rule" if dispatched else None,
            "redo_count": 0,
            "supervision_level": 0,
            "event_count": 0,
            "last_hash": "",
            "version": 1,
            "replied_at": None,
            "callback_result": None,
        }
        row.update(s)
        rows.append(row)
    with rt.db.write() as session:
        session.execute(insert(Order.__table__), rows)
        session.execute(
            insert(DispatchCorrection.__table__),
            [
                {"order_id": oid, "text": "t", "source": "return", "actor": "dispatcher", "at": NOW}
                for oid in returned
            ]
            + [{"order_id": 2, "text": "t", "source": "human_dispatch", "actor": "dispatcher", "at": NOW}],
        )
    _ = other


@pytest.fixture
def data(rt: Runtime) -> Runtime:
    on_time = {"replied_at": at(4)}
    late = {"replied_at": at(2) + timedelta(days=6)}
    other = next(x for x in rt.directory.departments_by_id.values() if x.code != "cgj").id
    specs: list[dict[str, Any]] = [
        # 1 closed, on time, satisfied, rule
        {"received": at(2, 23, 30), "status": "closed", "callback_result": "satisfied", **on_time},
        # 2 closed, late, basically satisfied, human, redone once
        {
            "received": at(2),
            "status": "closed",
            "callback_result": "basically_satisfied",
            "dispatch_source": "human",
            "redo_count": 1,
            **late,
        },
        # 3 closed despite 不满意, on time, with an upheld return
        {"received": at(3, 0, 30), "status": "closed", "callback_result": "unsatisfied", **on_time},
        # 4 archived, on time, satisfied, model
        {
            "received": at(4),
            "status": "archived",
            "callback_result": "satisfied",
            "dispatch_source": "model",
            **on_time,
        },
        # 5 waiting in call-back after 不满意
        {"received": at(5), "status": "callback", "callback_result": "unsatisfied", **on_time},
        # 6 signed and overdue at NOW (another department)
        {"received": at(2), "status": "signed", "dept": other},
        # 7 answered at first contact, then closed (never dispatched)
        {"received": at(6), "status": "closed", "dispatched": False, "dispatch_source": None},
        # 8 merged duplicate: left out everywhere
        {"received": at(6), "status": "merged", "callback_result": "satisfied"},
        # 9 waiting for a dispatcher
        {"received": at(8, 23, 59), "status": "pending_dispatch", "dispatched": False},
        # 10 outside the period (a day before), with an upheld return that must not count
        {"received": at(1, 23, 59), "status": "closed", "callback_result": "unsatisfied", **on_time},
        # 11 signed, in warning at NOW (deadline later, warning instant passed)
        {
            "received": at(9),
            "status": "signed",
            "handle_deadline": NOW + timedelta(hours=5),
            "handle_warn_at": NOW - timedelta(hours=1),
        },
    ]
    _insert(rt, specs, returned=[3, 10])
    return rt


def test_kpis_exact(data: Runtime) -> None:
    scope = analytics.scope_for_days(FIRST, LAST)
    with data.db.read() as session:
        k = analytics.kpis(session, scope=scope, now=NOW)
    c = k["counts"]
    assert c["received"] == 8  # 1–7 and 9: the merged one and the one outside the period are left out
    assert c["dispatched"] == 6
    assert c["finished"] == 5
    assert c["dispatched_finished"] == 4
    assert (c["finished_replied"], c["on_time"]) == (4, 3)
    assert (c["called_back"], c["satisfied"]) == (5, 3)
    assert c["resolved"] == 3
    assert c["misdispatched"] == 1
    assert c["first_time"] == 3
    assert c["auto_dispatched"] == 5
    assert (c["open"], c["overdue_open"]) == (3, 1)
    assert k["on_time_rate"] == 0.75
    assert k["closure_rate"] == round(4 / 6, 4)
    assert k["satisfaction_rate"] == 0.6
    assert k["resolution_rate"] == 0.75
    assert k["first_time_rate"] == 0.6
    assert k["dispatch_accuracy"] == round(1 - 1 / 6, 4)
    assert k["auto_dispatch_share"] == round(5 / 6, 4)


def test_empty_period_has_no_rates(data: Runtime) -> None:
    scope = analytics.scope_for_days(date(2025, 1, 1), date(2025, 1, 7))
    with data.db.read() as session:
        k = analytics.kpis(session, scope=scope, now=NOW)
    assert k["counts"]["received"] == 0
    assert all(k[name] is None for name in analytics.KPI_NAMES)


def test_scope_by_department_and_district(data: Runtime) -> None:
    d = data.directory
    cgj = d.department("cgj")
    assert cgj is not None
    scope = analytics.scope_for_days(FIRST, LAST, department_id=cgj.id)
    with data.db.read() as session:
        k = analytics.kpis(session, scope=scope, now=NOW)
    assert k["counts"]["dispatched"] == 5  # order 6 belongs to another department
    assert k["counts"]["overdue_open"] == 0


def test_trend_buckets_use_local_days(data: Runtime) -> None:
    scope = analytics.scope_for_days(FIRST, LAST)
    with data.db.read() as session:
        days = analytics.trend(session, scope=scope, bucket="day")
        weeks = analytics.trend(session, scope=scope, bucket="week")
        months = analytics.trend(session, scope=scope, bucket="month")
    by_day = {r["bucket"]: r["received"] for r in days}
    # 23:30 on the 2nd (15:30 UTC) stays on the 2nd; 00:30 on the 3rd (16:30 UTC on the 2nd) is the 3rd.
    assert by_day == {
        "2026-03-02": 3,
        "2026-03-03": 1,
        "2026-03-04": 1,
        "2026-03-05": 1,
        "2026-03-06": 1,
        "2026-03-08": 1,
    }
    assert weeks == [{"bucket": "2026-03-02", "received": 8, "finished": 5, "on_time": 3}]
    assert [m["bucket"] for m in months] == ["2026-03-01"]
    with pytest.raises(ValueError), data.db.read() as session:
        analytics.trend(session, scope=scope, bucket="year")  # type: ignore[arg-type]


def test_mixes_and_board(data: Runtime) -> None:
    scope = analytics.scope_for_days(FIRST, LAST)
    d = data.directory
    with data.db.read() as session:
        cats = analytics.category_mix(session, scope=scope, directory=d)
        dists = analytics.district_mix(session, scope=scope, directory=d)
        chans = analytics.channel_mix(session, scope=scope)
        board = analytics.department_deadlines(session, now=NOW, directory=d)
    assert len(cats) == 1 and cats[0]["orders"] == 8
    top = d.categories[cats[0]["code"]]
    assert top.level == 1
    assert dists[0]["orders"] == 8 and dists[0]["finished"] == 5
    assert chans == [{"channel": "phone", "orders": 8}]
    by_code = {r["code"]: r for r in board}
    assert by_code["cgj"]["warning"] == 1 and by_code["cgj"]["overdue"] == 0
    other = [r for r in board if r["code"] != "cgj"]
    assert other and other[0]["overdue"] == 1


def test_analytics_api_json_csv_and_roles(data: Runtime, api: Any) -> None:
    q = "from=2026-03-02&to=2026-03-08"
    r = api.get(f"/api/v1/analytics/kpis?{q}", as_="supervisor")
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["received"] == 8
    r = api.get(f"/api/v1/analytics/kpis.csv?{q}", as_="auditor")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "on_time_rate,0.75" in r.text
    r = api.get(f"/api/v1/analytics/trend.csv?{q}&bucket=week", as_="operator")
    assert r.text.lstrip("\ufeff").splitlines() == ["bucket,received,finished,on_time", "2026-03-02,8,5,3"]
    r = api.get(f"/api/v1/analytics/dashboard?{q}", as_="admin")
    assert set(r.json()) == {"kpis", "trend", "categories", "districts", "channels"}
    assert api.get(f"/api/v1/analytics/kpis?{q}", as_="h_cgj").status_code == 403
    assert api.client.get(f"/api/v1/analytics/kpis?{q}").status_code == 401
    bad = api.get("/api/v1/analytics/kpis?from=2026-03-09&to=2026-03-01", as_="admin")
    assert bad.status_code == 422 and "from" in bad.json()["fields"]
    assert api.get("/api/v1/analytics/nothing", as_="admin").status_code == 404
    assert api.get("/api/v1/analytics/trend?bucket=year", as_="admin").status_code == 422
