"""Issue 13, the place and the neighbours: the gazetteer's places for the map (offline), the address
search and the district it names, the pin kept with the appeal, open appeals nearby shown without
anyone's words, and "this is mine too" joining one as another caller."""

from __future__ import annotations

import json
from typing import Any

from haoban.security.csrf import csp_for, tile_origin
from tests.conftest import Api

LIGHTS = "蒸湘区红湘路与解放大道交叉口的红绿灯坏了，一直闪黄灯，车辆乱成一团，很危险。"
LIGHTS_AGAIN = "红湘路和解放大道路口红绿灯不亮了，一直黄灯闪，早高峰堵死了"
PIN = {"latitude": "26.91234", "longitude": "112.56789"}


def test_places_for_the_map_and_the_address_search(client: Any) -> None:
    data = client.get("/portal/places").json()
    districts = [p for p in data["items"] if p["kind"] == "district"]
    assert len(districts) >= 5 and all(
        26 < p["latitude"] < 28 and 111 < p["longitude"] < 114 for p in districts
    )
    assert data["district"] is None
    data = client.get("/portal/places", params={"q": "西渡镇老街口"}).json()
    assert data["district"] == "hengyangxian"
    assert any(p["name"] == "西渡镇" and p["district_name"] == "衡阳县" for p in data["items"])
    data = client.get("/portal/places", params={"q": "红湘街道"}).json()
    assert data["district"] == "zhengxiang"
    assert client.get("/portal/places", params={"q": "火星基地"}).json() == {"items": [], "district": None}


def test_the_portal_page_carries_the_map_offline(client: Any) -> None:
    page = client.get("/portal").text
    assert 'id="pick-map"' in page and 'data-tiles=""' in page  # no tiles: a plain background
    assert "/static/vendor/leaflet/leaflet.js" in page and "/static/portal_map.js" in page
    assert client.get("/static/portal_map.js").status_code == 200
    assert 'name="latitude"' in page and 'enctype="multipart/form-data"' in page


def test_tiles_are_allowed_by_the_csp_only_when_set() -> None:
    assert tile_origin("https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=k&x={x}") == "https://*.tianditu.gov.cn"
    assert tile_origin("javascript:alert(1)") is None

    class S:
        map_tiles = "https://tiles.city.example/{z}/{x}/{y}.png"

    class State:
        runtime = type("R", (), {"settings": S})()

    app = type("A", (), {"state": State})()
    assert b"img-src 'self' data: blob: https://tiles.city.example;" in csp_for({"app": app})
    S.map_tiles = ""
    assert b"https://tiles" not in csp_for({"app": app})


def _file(client: Any, **fields: str) -> Any:
    form = {"type": "complaint", "content": LIGHTS_AGAIN, "citizen_phone": "13900007777", **fields}
    return client.post("/portal/file", data=form, follow_redirects=False)


def _nearby(client: Any, **body: Any) -> list[dict[str, Any]]:
    r = client.post("/portal/nearby", json=body)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def test_nearby_open_appeals_show_no_words_and_plus_one_joins(client: Any, api: Api) -> None:
    master = api.create(content=LIGHTS, district="蒸湘区", citizen_phone="13800005555", **{
        "latitude": 26.9123, "longitude": 112.5679})["code"]  # fmt: skip
    client.cookies.clear()
    items = _nearby(client, text=LIGHTS_AGAIN, district="zhengxiang")
    assert len(items) == 1
    item = items[0]
    raw = json.dumps(items, ensure_ascii=False)
    assert master not in raw and "13800005555" not in raw and "闪黄灯" not in raw  # no code, phone, words
    assert item["callers"] == 1 and item["district"] == "蒸湘区" and item["received"]
    assert "红湘路" in (item["place"] or "")
    # A pin close by finds it without any text; one far away does not.
    assert len(_nearby(client, text="", latitude=26.9125, longitude=112.5681)) == 1
    assert _nearby(client, text="", latitude=26.5, longitude=112.1) == []

    # "This is mine too": filed and joined in one step.
    r = _file(client, district="zhengxiang", join=item["ref"], **PIN)
    assert r.status_code == 303 and "joined=1" in r.headers["location"]
    receipt = client.get(r.headers["location"])
    assert 'id="joined"' in receipt.text
    code = receipt.text.split('id="tracking-code">')[1].split("<")[0]
    mine = api.get(f"/api/v1/orders/{code}", as_="operator").json()
    assert mine["status"] == "merged" and mine["master"] == master
    assert (mine["latitude"], mine["longitude"]) == (26.91234, 112.56789)  # the pin kept
    track = client.post("/portal/track", data={"code": code, "phone_last4": "7777"}).text
    assert 'id="track-master"' in track and "与反映同一问题的诉求合并办理" in track
    assert _nearby(client, text=LIGHTS_AGAIN, district="zhengxiang")[0]["callers"] == 2


def test_a_forged_join_ref_joins_nothing(client: Any, api: Api) -> None:
    master = api.create(content=LIGHTS, district="蒸湘区")["code"]
    client.cookies.clear()
    offered = _nearby(client, text=LIGHTS_AGAIN, district="zhengxiang")
    assert len(offered) == 1
    head = offered[0]["ref"].split(".")[0]
    for forged in (f"{head}.{'0' * 20}", f"{int(head) + 1}.{offered[0]['ref'].split('.')[1]}", "x", master):
        r = _file(client, join=forged)
        assert r.status_code == 303 and "joined" not in r.headers["location"]
        code = r.headers["location"].split("/")[3].split("?")[0]
        assert api.get(f"/api/v1/orders/{code}", as_="operator").json()["status"] != "merged"
    # The offered appeal stopped being open meanwhile: the new one is filed on its own.
    api.act(master, "merge", as_="dispatcher", master=code)
    r = _file(client, join=offered[0]["ref"])
    assert r.status_code == 303 and "joined" not in r.headers["location"]
