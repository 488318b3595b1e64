"""好差评 figures for services: per department, item, window clerk and channel, equal to counts taken from
the raw rating rows; the same figures as CSV; read by the dashboard's roles only."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from haoban.applications import registry
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.feedback.models import ServiceRating, ServiceRectification
from haoban.runtime import Runtime
from tests.feedback.service_rating_helpers import (
    APP_LAST4,
    VISIT_PHONE,
    finished_application,
    rate,
    visit,
)

TAX_ITEM = "tax-new-taxpayer-invoice"
LEVELS = ("very_satisfied", "satisfied", "basically_satisfied", "unsatisfied", "very_unsatisfied")


@pytest.fixture
def installed(rt: Runtime) -> Runtime:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def _ratings(api: Any) -> str:
    last4 = VISIT_PHONE[-4:]
    given = [
        (visit(api), "满意"),
        (visit(api), "不满意"),
        (visit(api), "非常不满意"),
        (visit(api, item=TAX_ITEM), "非常满意"),
        (visit(api, as_="volunteer", channel="assisted", item=TAX_ITEM), "基本满意"),
        (visit(api, as_="volunteer", channel="assisted"), "满意"),
    ]
    for v, level in given:
        assert rate(api, v["code"], level, last4=last4).status_code == 201
    visit(api)  # registered, never rated: counts nowhere
    code = finished_application(api)
    assert rate(api, code, "基本满意", last4=APP_LAST4).status_code == 201
    return code


def _expected(rt: Runtime, now: datetime) -> dict[str, dict[str | None, dict[str, int]]]:
    """The figures recomputed in Python from the raw rows."""
    with rt.db.read() as session:
        rows = session.execute(
            select(ServiceRating, ServiceRectification).outerjoin(
                ServiceRectification, ServiceRectification.rating_id == ServiceRating.id
            )
        ).all()
        keys = {
            "departments": lambda r: (
                rt.directory.department_code(r.department_id) if r.department_id else None
            ),
            "items": lambda r: r.item_code,
            "clerks": lambda r: str(r.clerk_id) if r.clerk_id is not None else None,
            "channels": lambda r: r.channel,
        }
        out: dict[str, dict[str | None, dict[str, int]]] = {}
        for dim, key in keys.items():
            groups: dict[str | None, Counter[str]] = defaultdict(Counter)
            for rating, rect in rows:
                c = groups[key(rating)]
                c["ratings"] += 1
                c[rating.level] += 1
                c["bad"] += rating.score <= 2
                c["rectifications_open"] += bool(rect and rect.status != "closed")
                c["rectifications_overdue"] += bool(rect and rect.status == "open" and rect.deadline < now)
                c["rectifications_closed"] += bool(rect and rect.status == "closed")
            out[dim] = {k: {n: c for n, c in v.items() if c} for k, v in groups.items()}
        return out


def _counts(row: dict[str, Any]) -> dict[str, int]:
    names = (
        "ratings",
        *LEVELS,
        "bad",
        "rectifications_open",
        "rectifications_overdue",
        "rectifications_closed",
    )
    return {n: int(row[n]) for n in names if int(row[n])}


def test_dashboard_figures_equal_counts_from_the_raw_rows(installed: Runtime, api: Any) -> None:
    _ratings(api)
    rid = api.get("/api/v1/service-rectifications", as_="supervisor").json()["items"][0]["id"]
    api.post(f"/api/v1/service-rectifications/{rid}/answer", as_="h_gaj", json={"answer": "已整改"})
    api.post(f"/api/v1/service-rectifications/{rid}/review", as_="supervisor", json={"decision": "accept"})
    data = api.get("/api/v1/analytics/service-ratings", as_="supervisor").json()
    expected = _expected(installed, datetime.now().astimezone())
    for dim in ("departments", "items", "clerks", "channels"):
        got = {row["key"]: _counts(row) for row in data[dim]}
        assert got == expected[dim], dim
    assert data["total"]["ratings"] == 7 and data["total"]["bad"] == 2
    assert data["total"]["rectifications_closed"] == 1 and data["total"]["rectifications_open"] == 1
    channels = {row["key"]: row for row in data["channels"]}
    assert set(channels) == {"window", "assisted", "online"}
    assert channels["window"]["good_rate"] == 0.5  # 满意 + 非常满意 of 4 window ratings
    assert channels["assisted"]["average"] == 3.5
    online = next(r for r in data["clerks"] if r["key"] is None)
    assert online["ratings"] == 1 and online["label"] == "网上办（无窗口人员）"
    # One department's figures.
    gaj = api.get("/api/v1/analytics/service-ratings", as_="supervisor", params={"department": "gaj"}).json()
    assert gaj["total"]["ratings"] == sum(r["ratings"] for r in data["departments"] if r["key"] == "gaj")
    # Each breakdown as JSON and as the dashboard's CSV (UTF-8 with a BOM), the same rows.
    for dim in ("departments", "items", "clerks", "channels"):
        rows = api.get(f"/api/v1/analytics/service_ratings_{dim}", as_="auditor").json()
        assert rows == data[dim]
        r = api.get(f"/api/v1/analytics/service_ratings_{dim}.csv", as_="auditor")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert [int(t["ratings"]) for t in table] == [row["ratings"] for row in data[dim]]
        assert [t["label"] for t in table] == [row["label"] for row in data[dim]]


def test_the_period_filter_counts_ratings_by_the_day_they_were_given(installed: Runtime, api: Any) -> None:
    _ratings(api)
    old = api.get(
        "/api/v1/analytics/service-ratings",
        as_="supervisor",
        params={"from": "2020-01-01", "to": "2020-01-31"},
    ).json()
    assert old["total"]["ratings"] == 0 and old["departments"] == []


def test_figures_are_for_the_dashboard_roles(installed: Runtime, api: Any) -> None:
    assert api.get("/api/v1/analytics/service-ratings", as_="h_gaj").status_code == 403
    assert api.get("/api/v1/analytics/service_ratings_items.csv", as_="window").status_code == 403
    assert api.get("/api/v1/analytics/service_ratings_nope.csv", as_="supervisor").status_code == 404


def test_the_demo_rates_window_visits_and_the_figures_count_them(rt: Runtime, api: Any) -> None:
    from haoban.feedback.demo import seed_demo_ratings

    with rt.db.write() as session:
        made = seed_demo_ratings(session, rt, today=datetime.now(rt.settings.tz).date())
    assert made == 60
    with rt.db.write() as session:
        assert seed_demo_ratings(session, rt, today=datetime.now(rt.settings.tz).date()) == 0  # idempotent
    with rt.db.read() as session:
        rated = session.scalar(select(func.count(ServiceRating.id)))
    data = api.get("/api/v1/analytics/service-ratings", as_="supervisor").json()
    assert 0 < rated < 60 and data["total"]["ratings"] == rated
    assert {r["key"] for r in data["channels"]} <= {"window", "assisted"}
    assert sum(r["ratings"] for r in data["clerks"]) == rated
