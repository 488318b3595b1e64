"""Places: import with row-numbered errors, hours by the city's calendar, Chinese search, pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.errors import Forbidden, Invalid
from haoban.tourism import places
from haoban.tourism.models import Place
from haoban.tourism.tickets import seed_demo_places

GOOD_CSV = (
    "code,name,kind,district,latitude,longitude,hours_workday,hours_closed,price_fen,tags\n"
    "test-hall,测试展馆,文化场馆,shigu,26.9,112.6,09:00-17:00,mon,0,展览|测试\n"
)
BAD_CSV = (
    "code,name,kind,district,latitude,hours_workday,price_fen\n"
    "ok-one,好的一行,spot,shigu,,08:00-17:00,100\n"
    "Bad Code,坏代码,spot,nowhere,26.9,25:00-17:00,-5\n"
    "ok-two,只有纬度,castle,,26.9,,\n"
)


def _count(rt: Any) -> int:
    with rt.db.read() as session:
        return int(session.scalar(select(func.count(Place.id))) or 0)


def test_demo_places_load_once_and_are_marked_demo(places_rt: Any) -> None:
    n = _count(places_rt)
    assert n >= 12
    again = seed_demo_places(places_rt, actor=SYSTEM_ACTOR)
    assert (again.created, again.updated) == (0, n)
    with places_rt.db.read() as session:
        assert all(p.demo for p in session.scalars(select(Place)))
        names = set(session.scalars(select(Place.name)))
    for name in ("南岳衡山", "南岳大庙", "祝融峰", "石鼓书院", "回雁峰", "衡阳市博物馆", "罗荣桓故居"):
        assert name in names


def test_bad_rows_are_named_by_number_and_nothing_is_stored(rt: Any) -> None:
    before = _count(rt)
    rows = places.read_rows(BAD_CSV.encode(), filename="bad.csv")
    try:
        with rt.db.write() as session:
            places.import_places(session, rt, rows=rows, actor=SYSTEM_ACTOR)
    except Invalid as exc:
        problems = {(p["row"], p["field"]) for p in exc.detail["problems"]}
    else:
        raise AssertionError("a bad file was accepted")
    assert (3, "code") in problems and (3, "hours.workday") in problems and (3, "price_fen") in problems
    assert (4, "kind") in problems
    assert all(r != 2 for r, _f in problems)  # the good row is not blamed, and still not stored
    assert _count(rt) == before


def test_import_needs_an_admin(rt: Any) -> None:
    from haoban.auth.actors import CITIZEN_ACTOR

    rows = places.read_rows(GOOD_CSV, filename="x.csv")
    try:
        with rt.db.write() as session:
            places.import_places(session, rt, rows=rows, actor=CITIZEN_ACTOR)  # type: ignore[arg-type]
    except Forbidden:
        return
    raise AssertionError("a citizen imported places")


def test_hours_follow_the_calendar_closed_monday_except_holidays(places_rt: Any) -> None:
    cal = places_rt.calendar
    hours = {"workday": "09:00-17:00", "restday": "08:00-18:00", "closed": ["mon"], "open_on_holidays": True}
    day = date(2026, 1, 5)
    while day.weekday() != 0 or cal.day_info(day).kind == "holiday":
        day += timedelta(days=1)
    assert places.hours_on(hours, day, cal)["open"] is False
    holiday_monday = next(
        d
        for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(730))
        if d.weekday() == 0 and cal.day_info(d).kind == "holiday"
    )
    today = places.hours_on(hours, holiday_monday, cal)
    assert today["open"] is True and today["span"] == "08:00-18:00" and today["holiday_name"]
    # A 调休 make-up Saturday is a working day: working-day hours.
    makeup = next(
        (
            d
            for d in (date(2026, 1, 1) + timedelta(days=i) for i in range(365))
            if cal.day_info(d).kind == "makeup_workday"
        ),
        None,
    )
    if makeup is not None:
        assert places.hours_on(hours, makeup, cal)["span"] == "09:00-17:00"


def test_chinese_search_finds_the_place(places_rt: Any, client: Any) -> None:
    for q, code in (
        ("南岳大庙", "nanyue-damiao"),
        ("祝融峰怎么上去", "zhurong-peak"),
        ("寿文化", "nanyue-hengshan"),
    ):
        r = client.get("/api/v1/tourism/places", params={"q": q})
        assert r.status_code == 200, r.text
        assert r.json()["items"][0]["code"] == code, (q, [i["code"] for i in r.json()["items"][:3]])


def test_filters_and_near_me(places_rt: Any, client: Any) -> None:
    free = client.get("/api/v1/tourism/places", params={"free": True}).json()["items"]
    assert free and all(not p["price_fen"] for p in free)
    venues = client.get("/api/v1/tourism/places", params={"kind": "venue", "district": "nanyue"}).json()
    assert {p["code"] for p in venues["items"]} == {"zhonglie-ci"}
    near = client.get("/api/v1/tourism/places", params={"lat": 27.2521, "lon": 112.7311}).json()["items"]
    assert near[0]["code"] == "nanyue-damiao"
    assert [p["distance_km"] for p in near] == sorted(p["distance_km"] for p in near)
    r = client.get("/api/v1/tourism/places", params={"lat": 27.2})
    assert r.status_code == 422 and "lon" in r.json()["fields"]
    r = client.get("/api/v1/tourism/places", params={"district": "atlantis"})
    assert r.status_code == 422 and "district" in r.json()["fields"]


def test_import_over_the_api(rt: Any, api: Any) -> None:
    files = {"file": ("places.csv", GOOD_CSV.encode(), "text/csv")}
    r = api.post("/api/v1/tourism/places/import", as_="admin", files=files)
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 1, "updated": 0, "problems": []}
    hall = api.client.get("/api/v1/tourism/places/test-hall").json()
    assert hall["hours"]["closed"] == ["mon"] and hall["tags"] == ["展览", "测试"] and hall["kind"] == "venue"
    bad = api.post(
        "/api/v1/tourism/places/import",
        as_="admin",
        files={"file": ("bad.csv", BAD_CSV.encode(), "text/csv")},
    )
    assert bad.status_code == 422 and {p["row"] for p in bad.json()["problems"]} >= {3, 4}
    assert api.post("/api/v1/tourism/places/import", as_="operator", files=files).status_code == 403
    assert api.client.get("/api/v1/tourism/places/nope").status_code == 404


def test_pages_search_and_detail(places_rt: Any, client: Any) -> None:
    r = client.get("/tour", params={"q": "南岳大庙"})
    assert r.status_code == 200 and 'data-code="nanyue-damiao"' in r.text
    r = client.get("/tour/places/nanyue-damiao")
    assert r.status_code == 200 and "南岳大庙" in r.text and "演示数据" in r.text
    assert client.get("/tour/places/nope").status_code == 404
    assert client.get("/tour", params={"kind": "castle"}).status_code == 422
