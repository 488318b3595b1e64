"""Near-duplicates over the API: found while typing and for a registered order, kept in step with the
orders (new, merged, closed), merging keeps both case files valid and the master's reply reaches both."""

from __future__ import annotations

from typing import Any

from haoban.orders.events import verify_case_files
from tests.conftest import Api

LIGHTS = "珠晖区东风路与解放路交叉口的红绿灯坏了，车辆乱成一团，请尽快派人维修"
LIGHTS_AGAIN = "东风路与解放路交叉口红绿灯坏了，车辆乱成一团，请尽快维修"
UNRELATED = "咨询住房公积金贷款需要准备哪些材料，首付比例是多少，办理流程需要多长时间"


def _candidates(body: dict[str, Any]) -> list[str]:
    return [c["code"] for c in body["candidates"]]


def test_near_duplicate_pair_is_found_and_unrelated_is_not(api: Api) -> None:
    first = api.create(content=LIGHTS, district="珠晖区", citizen_phone="13900000001")["code"]
    other = api.create(content=UNRELATED, type="consult", district="珠晖区")["code"]
    second = api.create(content=LIGHTS_AGAIN, district="珠晖区", citizen_phone="13900000002")["code"]

    body = api.get(f"/api/v1/orders/{second}/duplicates", as_="operator").json()
    assert _candidates(body) == [first]
    hit = body["candidates"][0]
    assert 0.5 <= hit["similarity"] <= 1.0 and hit["district"] == "珠晖区" and hit["status"]
    assert hit["mergeable"] is True
    assert body["threshold"] == 0.5
    assert _candidates(api.get(f"/api/v1/orders/{other}/duplicates", as_="dispatcher").json()) == []

    # While the operator types: the same text finds both open orders, most similar first.
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": LIGHTS, "district": "zhuhui"})
    assert r.status_code == 200, r.text
    codes = _candidates(r.json())
    assert codes[0] == first and set(codes) == {first, second}
    assert r.json()["candidates"][0]["similarity"] == 1.0
    # A different district is a different place.
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": LIGHTS, "district": "石鼓区"})
    assert _candidates(r.json()) == []
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": "路灯"})
    assert _candidates(r.json()) == []


def test_index_follows_new_merged_and_closed_orders(api: Api) -> None:
    a = api.create(content=LIGHTS, district="珠晖区")["code"]
    check = {"text": LIGHTS_AGAIN, "district": "珠晖区"}
    assert _candidates(api.post("/api/v1/duplicates/check", as_="operator", json=check).json()) == [a]
    # An order registered after the index was built is seen at once.
    b = api.create(content=LIGHTS_AGAIN, district="珠晖区")["code"]
    assert set(_candidates(api.post("/api/v1/duplicates/check", as_="operator", json=check).json())) == {a, b}
    # Merged: it follows its master and is no longer a candidate.
    api.act(b, "merge", as_="operator", master=a)
    assert _candidates(api.post("/api/v1/duplicates/check", as_="operator", json=check).json()) == [a]
    # The merged order's own duplicates do not repeat its master.
    assert _candidates(api.get(f"/api/v1/orders/{b}/duplicates", as_="operator").json()) == []
    # Answered (closed at first contact): gone as well.
    question = "请问这个事情怎么办理呢？谢谢"  # no catalogue rule: waits for a dispatcher
    c = api.create(content=question, type="consult")["code"]
    check_c = {"text": question}
    assert c in _candidates(api.post("/api/v1/duplicates/check", as_="operator", json=check_c).json())
    api.act(c, "answer", as_="operator", answer="需身份证、购房合同等材料。")
    assert _candidates(api.post("/api/v1/duplicates/check", as_="operator", json=check_c).json()) == []


def test_merge_keeps_case_files_valid_and_master_reply_reaches_both(api: Api, rt: Any) -> None:
    master = api.create(content=LIGHTS, district="珠晖区", citizen_phone="13900000011", department="cgj")[
        "code"
    ]
    dup = api.create(content=LIGHTS_AGAIN, district="珠晖区", citizen_phone="13900000012")["code"]
    found = api.get(f"/api/v1/orders/{dup}/duplicates", as_="operator").json()
    assert _candidates(found) == [master]
    api.act(dup, "merge", as_="operator", master=found["candidates"][0]["code"])
    handler = "h_cgj"
    api.act(master, "sign", as_=handler)
    api.act(master, "reply", as_=handler, reply="已于当日更换信号灯控制器，路口红绿灯恢复正常。")
    api.act(master, "review_reply", as_="dispatcher", decision="approve")
    for code, last4 in ((master, "0011"), (dup, "0012")):
        assert api.get(f"/api/v1/orders/{code}", as_="operator").json()["status"] == "callback"
        track = api.client.get(f"/api/v1/track/{code}", params={"phone_last4": last4}).json()
        assert track["reply"].startswith("已于当日更换信号灯")
        assert api.act(code, "callback", as_="operator", result="satisfied")["status"] == "closed"
    with rt.db.read() as session:
        checked, breaks = verify_case_files(session)
    assert (checked, breaks) == (2, [])  # the master and its duplicate, nothing else in this database
    dup_events = [e["action"] for e in api.get(f"/api/v1/orders/{dup}/events", as_="auditor").json()]
    assert dup_events[-3:] == ["merge", "follow_master", "callback"]
    # Closed orders are no longer anyone's duplicate.
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": LIGHTS})
    assert _candidates(r.json()) == []


def test_duplicates_errors_and_roles(api: Api) -> None:
    code = api.create(content=LIGHTS)["code"]
    assert api.get(f"/api/v1/orders/{code}/duplicates", as_="h_cgj").status_code == 403
    assert api.post("/api/v1/duplicates/check", as_="auditor", json={"text": LIGHTS}).status_code == 403
    assert api.get("/api/v1/orders/HB00000000000000/duplicates", as_="operator").status_code == 404
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": LIGHTS, "district": "火星区"})
    assert r.status_code == 422 and "district" in r.json()["fields"]
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": LIGHTS, "category": "nope"})
    assert r.status_code == 422 and "category" in r.json()["fields"]
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": "   "})
    assert r.status_code == 422 and "text" in r.json()["fields"]
    r = api.post("/api/v1/duplicates/check", as_="operator", json={"text": LIGHTS, "limit": 99})
    assert r.status_code == 422 and "limit" in r.json()["fields"]
    r = api.post(
        "/api/v1/duplicates/check", as_="operator", json={"text": LIGHTS, "received_at": "2026-01-01T10:00"}
    )
    assert r.status_code == 422 and "received_at" in r.json()["fields"]
    assert api.client.post("/api/v1/duplicates/check", json={"text": LIGHTS}).status_code == 401
