"""Incident matching through the similar-orders API and panels: three callers, one burst main."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api

BURST = (
    "蒸湘区红湘路与解放大道交叉口自来水管道爆裂，路面全是水，我们这边停水了",
    "红湘路和解放大道路口水管爆了，水一直往外冒，家里没水用了",
    "解放大道红湘路附近供水管破裂，从早上开始一直停水",
)
LIGHT_SAME_CROSSING = "红湘路与解放大道交叉口的红绿灯坏了，车辆通行混乱"
BURST_ELSEWHERE = "船山大道与蒸湘路交叉口水管爆裂，附近停水"


def _codes(body: dict[str, Any]) -> list[str]:
    return [c["code"] for c in body["candidates"]]


def test_three_callers_one_burst_main_are_candidates_with_reasons(api: Api, client: Any) -> None:
    first = api.create(content=BURST[0], district="蒸湘区", citizen_phone="13900000301")["code"]
    light = api.create(content=LIGHT_SAME_CROSSING, district="蒸湘区", citizen_phone="13900000302")["code"]
    elsewhere = api.create(content=BURST_ELSEWHERE, district="蒸湘区", citizen_phone="13900000303")["code"]
    second = api.create(content=BURST[1], district="蒸湘区", citizen_phone="13900000304")["code"]

    # While the third caller is being typed in: both earlier burst reports, nothing else.
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": BURST[2], "district": "蒸湘区"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(_codes(body)) == {first, second}
    assert light not in _codes(body) and elsewhere not in _codes(body)
    assert 0 < body["incident_threshold"] <= 1
    for cand in body["candidates"]:
        reasons = {x["signal"]: x["detail"] for x in cand["reasons"]}
        assert reasons["place"] == "红湘路 × 解放大道"
        assert reasons["problem"] == "停水/爆管"
        assert cand["score"] >= body["incident_threshold"] and cand["similarity"] == 0.0

    # A registered order: its incident partner, not the same crossing's traffic light.
    body = api.get(f"/api/v1/orders/{second}/duplicates", as_="dispatcher").json()
    assert _codes(body) == [first]
    assert _codes(api.get(f"/api/v1/orders/{light}/duplicates", as_="operator").json()) == []

    # The order page shows the candidate with its reasons.
    client.post("/login", data={"username": "operator", "password": "demo"})
    page = client.get(f"/orders/{second}").text
    panel = page[page.index('id="similar-orders"') :]
    panel = panel[: panel.index("</div>")]
    assert f'href="/orders/{first}"' in panel and "红湘路 × 解放大道" in panel and "停水/爆管" in panel
    assert f'href="/orders/{light}"' not in panel


def test_an_exact_copy_is_still_found_and_says_so(api: Api) -> None:
    first = api.create(content=BURST[0], district="蒸湘区")["code"]
    body = api.post(
        "/api/v1/duplicates/check", as_="operator", json={"text": BURST[0], "district": "蒸湘区"}
    ).json()
    assert _codes(body) == [first]
    hit = body["candidates"][0]
    assert hit["similarity"] == 1.0 and hit["score"] == 1.0
    assert hit["reasons"][0] == {"signal": "near_copy", "detail": "1.00"}


TEMPLATE = (
    "小区临街门面烧烤夜宵摊24小时经营，油烟扰民，违法经营。本小区临街居民楼下店里面无烟管道，"
    "不得非法经营餐饮油烟。作为烧烤夜宵更加扰民，油烟24小时熏死人，请政府关闭处理"
)


def test_one_template_sent_about_two_estates_is_no_candidate(api: Api) -> None:
    # The same complaint text, once about 华兴小区 and once about 丽景花园: a near copy of the words,
    # two incidents. A copy about the same estate is still found.
    first = api.create(content="珠晖区华兴" + TEMPLATE, district="珠晖区")["code"]
    other = {"text": "珠晖区丽景花园" + TEMPLATE, "district": "珠晖区"}
    assert _codes(api.post("/api/v1/duplicates/check", as_="operator", json=other).json()) == []
    second = api.create(content="珠晖区丽景花园" + TEMPLATE, district="珠晖区")["code"]
    assert _codes(api.get(f"/api/v1/orders/{second}/duplicates", as_="operator").json()) == []
    same = {"text": "珠晖区华兴" + TEMPLATE, "district": "珠晖区"}
    body = api.post("/api/v1/duplicates/check", as_="operator", json=same).json()
    assert _codes(body) == [first] and body["candidates"][0]["similarity"] > 0.9


def test_a_merged_report_is_no_longer_a_candidate(api: Api) -> None:
    first = api.create(content=BURST[0], district="蒸湘区")["code"]
    second = api.create(content=BURST[1], district="蒸湘区")["code"]
    check = {"text": BURST[2], "district": "蒸湘区"}
    assert set(_codes(api.post("/api/v1/duplicates/check", as_="operator", json=check).json())) == {
        first,
        second,
    }
    api.act(second, "merge", as_="operator", master=first)
    assert _codes(api.post("/api/v1/duplicates/check", as_="operator", json=check).json()) == [first]
