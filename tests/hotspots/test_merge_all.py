"""Merge all (并单) on a candidate group: one action from the queue puts every caller of one incident
under a master; each merged caller's tracking page names the master, shows its reply, and the caller
gets their own call-back. Hotspots group the same incident."""

from __future__ import annotations

from typing import Any

from haoban.orders.events import verify_case_files
from tests.conftest import Api

BURST = (
    "蒸湘区红湘路与解放大道交叉口自来水管道爆裂，路面全是水，我们这边停水了",
    "红湘路和解放大道路口水管爆了，水一直往外冒，家里没水用了",
    "解放大道红湘路附近供水管破裂，从早上开始一直停水",
    "红湘路解放大道交叉口水管爆裂，整个小区停水",
)
REPLY = "自来水公司已于当日关阀抢修，更换破裂管段，下午五点恢复供水。"


def _login(client: Any, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_merge_all_from_the_queue_and_the_reply_on_every_tracking_page(
    api: Api, client: Any, rt: Any
) -> None:
    phones = [f"139000004{i:02d}" for i in range(len(BURST))]
    codes = [
        api.create(content=text, district="蒸湘区", citizen_phone=phone)["code"]
        for text, phone in zip(BURST, phones, strict=True)
    ]
    # Nothing routed them (no catalogue rule for this text in the test city): all wait in the queue.
    statuses = {api.get(f"/api/v1/orders/{c}", as_="operator").json()["status"] for c in codes}
    assert statuses <= {"pending_dispatch", "dispatched"}

    # The queue offers "merge all" on the group, with the first caller's order as the master.
    _login(client, "dispatcher")
    page = client.get("/console/queue").text
    assert "/console/queue/merge_all" in page
    form = page[page.index('action="/console/queue/merge_all"') :]
    form = form[: form.index("</form>")]
    master = codes[0]
    assert f'name="master" value="{master}"' in form
    r = client.post(
        "/console/queue/merge_all",
        data={"master": master, "duplicates": ",".join(codes[1:])},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "merged=" in r.headers["location"]
    for code in codes[1:]:
        assert api.get(f"/api/v1/orders/{code}", as_="operator").json()["status"] == "merged"

    # The master is handled once; its approved reply reaches every caller, each gets a call-back.
    if api.get(f"/api/v1/orders/{master}", as_="operator").json()["status"] == "pending_dispatch":
        api.act(master, "dispatch", as_="dispatcher", department="cgj")
    dept = api.get(f"/api/v1/orders/{master}", as_="operator").json()["department"]
    handler = f"h_{dept}"
    api.act(master, "sign", as_=handler)
    api.act(master, "reply", as_=handler, reply=REPLY)
    api.act(master, "review_reply", as_="dispatcher", decision="approve")
    for code, phone in zip(codes, phones, strict=True):
        track = api.client.get(f"/api/v1/track/{code}", params={"phone_last4": phone[-4:]}).json()
        assert track["status"] == "callback" and track["reply"] == REPLY
        assert track["master"] == (None if code == master else master)
        page = client.post("/portal/track", data={"code": code, "phone_last4": phone[-4:]}).text
        assert REPLY in page
        if code != master:
            assert 'id="track-master"' in page and master in page
        assert api.act(code, "callback", as_="operator", result="satisfied")["status"] == "closed"
    with rt.db.read() as session:
        assert verify_case_files(session)[1] == []


def test_merge_all_api_is_all_or_nothing(api: Api) -> None:
    a, b, c = (api.create(content=t, district="蒸湘区")["code"] for t in BURST[:3])
    r = api.post("/api/v1/incidents/merge", as_="operator", json={"master": a, "duplicates": [b, c]})
    assert r.status_code == 200, r.text
    assert r.json() == {"master": a, "merged": [b, c]}
    # Hotspots see one incident with three callers.
    spots = api.get("/api/v1/hotspots", as_="supervisor").json()["hotspots"]
    group = [h for h in spots if a in h["members"]]
    assert group and {a, b, c} <= set(group[0]["members"]) and group[0]["incidents"] == 1
    d, e = (api.create(content=t, district="蒸湘区")["code"] for t in BURST[2:4])
    # b is merged already: the whole request is refused and e stays as it was.
    r = api.post("/api/v1/incidents/merge", as_="operator", json={"master": a, "duplicates": [e, b]})
    assert r.status_code == 409, r.text
    assert api.get(f"/api/v1/orders/{e}", as_="operator").json()["status"] != "merged"
    r = api.post("/api/v1/incidents/merge", as_="operator", json={"master": d, "duplicates": [d]})
    assert r.status_code == 422 and "duplicates" in r.json()["fields"]
    r = api.post("/api/v1/incidents/merge", as_="operator", json={"master": a, "duplicates": []})
    assert r.status_code == 422
    assert (
        api.post("/api/v1/incidents/merge", as_="h_cgj", json={"master": a, "duplicates": [d]}).status_code
        == 403
    )


def test_clustering_keeps_one_incident_together_whatever_the_words() -> None:
    from datetime import datetime, timedelta

    from haoban.hotspots.clustering import Appeal, cluster_appeals

    t0 = datetime(2026, 11, 30, 9, 0)
    appeals = [
        Appeal("m", "红湘路口爆管", BURST[0], t0),
        Appeal("x", "咨询公积金", "咨询住房公积金贷款需要准备哪些材料，首付比例是多少", t0),
        Appeal(
            "d", "家里没水", "家里一早就没水用了，到底什么时候来水", t0 + timedelta(hours=1), incident="m"
        ),
    ]
    labels, _ = cluster_appeals(appeals)
    assert labels[0] == labels[2] != labels[1]
