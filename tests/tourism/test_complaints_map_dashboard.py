"""Complaints become 12345 orders for 文旅 or the district; published replies show on the place's page;
the map and the 南岳 walk; the tourism dashboard's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from haoban.tourism.places import walking_order
from tests.tourism.conftest import open_day
from tests.tourism.ids import id_number

COMPLAINT = "大庙门口的停车场收费不明码标价，还要求扫码加价，希望管一管。"


def _complain(api: Any, place: str, *, publish: bool) -> dict[str, Any]:
    body = {"content": COMPLAINT, "phone": "13712345678", "name": "游客甲", "publish": publish}
    r = api.client.post(f"/api/v1/tourism/places/{place}/complaints", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_complaint_reaches_the_tourism_bureau_and_its_reply_is_published(places_rt: Any, api: Any) -> None:
    filed = _complain(api, "nanyue-damiao", publish=True)
    assert filed["department"] == "wlj" and filed["category"].startswith("商贸旅游")
    order = api.get(f"/api/v1/orders/{filed['code']}", as_="h_wlj").json()
    assert order["channel"] == "tourism" and order["status"] == "dispatched"
    assert order["department"] == "wlj"
    inbox = api.get("/api/v1/orders", as_="h_wlj").json()
    assert filed["code"] in {o["code"] for o in inbox["items"]}
    # Handled like any appeal: signed, replied, the reply approved by the hotline.
    api.act(filed["code"], "sign", as_="h_wlj")
    api.act(filed["code"], "reply", as_="h_wlj", reply="已约谈停车场经营者，责令明码标价，多收费用已退还。")
    assert api.client.get("/api/v1/tourism/places/nanyue-damiao/replies").json() == []  # not yet approved
    api.act(filed["code"], "review_reply", as_="dispatcher", decision="approve")
    replies = api.client.get("/api/v1/tourism/places/nanyue-damiao/replies").json()
    assert [r["code"] for r in replies] == [filed["code"]] and "明码标价" in replies[0]["reply"]
    page = api.client.get("/tour/places/nanyue-damiao")
    assert "已约谈停车场经营者" in page.text and "13712345678" not in page.text


def test_an_unpublished_reply_stays_private_and_hotels_go_to_the_district(places_rt: Any, api: Any) -> None:
    filed = _complain(api, "nanyue-damiao", publish=False)
    api.act(filed["code"], "sign", as_="h_wlj")
    api.act(filed["code"], "reply", as_="h_wlj", reply="已处理。停车场已整改并公示价格。")
    api.act(filed["code"], "review_reply", as_="dispatcher", decision="approve")
    assert api.client.get("/api/v1/tourism/places/nanyue-damiao/replies").json() == []
    food = _complain(api, "hengyang-yufen", publish=False)
    assert food["department"] == "gov_yanfeng"


def test_complaint_form_on_the_place_page(places_rt: Any, client: Any) -> None:
    bad = client.post("/tour/places/nanyue-damiao/complain", data={"content": "", "phone": "123"})
    assert bad.status_code == 422 and 'id="err-content"' in bad.text
    ok = client.post(
        "/tour/places/nanyue-damiao/complain",
        data={"content": COMPLAINT, "phone": "13712345678", "publish": "1"},
    )
    assert ok.status_code == 201 and 'id="complaint-filed"' in ok.text


def test_walking_order_for_a_day_at_nanyue(places_rt: Any, client: Any) -> None:
    walk = client.get("/api/v1/tourism/walks/nanyue").json()
    codes = [s["code"] for s in walk["stops"]]
    assert codes[0] == "nanyue-damiao" and "zhurong-peak" in codes and len(codes) >= 5
    assert 0 < walk["total_km"] < 20
    # 2-opt straightens a shuffled line of stops: the walk visits them in order along the line.
    line = [{"code": f"s{i}", "latitude": 27.0 + i * 0.01, "longitude": 112.0} for i in (0, 3, 1, 4, 2)]
    assert [s["code"] for s in walking_order(line, start="s0")] == ["s0", "s1", "s2", "s3", "s4"]


def test_map_page_is_served_with_leaflet_from_the_app(places_rt: Any, client: Any) -> None:
    page = client.get("/tour/map")
    assert page.status_code == 200 and "/static/vendor/leaflet/leaflet.js" in page.text
    assert 'data-tiles=""' in page.text and 'id="walk-stops"' in page.text
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/static/vendor/leaflet/LICENSE").status_code == 200


def test_dashboard_figures(places_rt: Any, api: Any) -> None:
    from haoban.tourism import tickets
    from tests.builders import actors

    client = api.client
    day = open_day(client, "nanyue-damiao")
    slot = client.get("/api/v1/tourism/places/nanyue-damiao/slots", params={"day": day}).json()["slots"][0]
    body = {
        "slot_id": slot["id"],
        "phone": "13912345678",
        "visitors": [{"name": "甲", "id_number": id_number(41)}, {"name": "乙", "id_number": id_number(42)}],
    }
    order = client.post("/api/v1/tourism/places/nanyue-damiao/orders", json=body).json()
    when = datetime.fromisoformat(f"{day}T{slot['start']}:00+08:00").astimezone(UTC) + timedelta(minutes=5)
    with places_rt.db.write() as session:
        tickets.check_in(
            session,
            places_rt,
            code=order["tickets"][0]["token"],
            gate_name="东门",
            actor=actors(places_rt)["gate"],
            now=when,
        )
    _complain(api, "nanyue-damiao", publish=False)
    figs = api.get("/api/v1/tourism/dashboard", as_="auditor", params={"end": day}).json()
    row = next(v for v in figs["visitors"] if v["place"] == "nanyue-damiao" and v["day"] == day)
    assert (row["booked"], row["checked_in"], row["capacity"]) == (2, 1, 5000)
    assert row["check_in_rate"] == 0.5
    assert figs["sales"][0] == {
        "place": "nanyue-damiao",
        "place_name": "南岳大庙",
        "net_fen": 8000,
        "orders": 1,
    }
    assert figs["complaints"] == [{"place": "nanyue-damiao", "place_name": "南岳大庙", "complaints": 1}]
    assert api.get("/api/v1/tourism/dashboard", as_="gate").status_code == 403
    client.post("/login", data={"username": "auditor", "password": "demo"})
    page = client.get("/tour/dashboard")
    assert page.status_code == 200 and 'id="kpi-booked">2<' in page.text
