"""The catalogue over the API: public reading and Chinese search without a login, writes for
administrators only (nothing stored on a refusal), metrics; the demo catalogue covers every bundle item."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from haoban.bundles.definitions import DEFINITIONS_DIR
from haoban.catalog.models import ServiceItem
from haoban.demo.catalog import demo_items
from haoban.demo.seed import seed_catalog
from tests.conftest import Api

DOG = {
    "code": "t-dog-registration",
    "name": "犬只登记证办理",
    "department": "gaj",
    "kind": "promised",
    "statutory_days": 20,
    "promised_days": 5,
    "online": "full",
    "life_events": ["出行"],
    "materials": [
        {"name": "居民身份证", "form": "original", "licence_kind": "gaj-resident-id-card"},
        {"name": "犬只狂犬病免疫证明", "form": "copy", "tolerance": True},
    ],
    "legal_basis": "《衡阳市养犬管理条例》",
}


def _count(rt: Any) -> int:
    with rt.db.read() as s:
        return s.scalar(select(func.count(ServiceItem.id))) or 0


@pytest.mark.parametrize("username", ["operator", "dispatcher", "handler", "supervisor", "auditor"])
def test_only_administrators_write(api: Api, rt: Any, username: str) -> None:
    as_ = "h_gaj" if username == "handler" else username
    before = _count(rt)
    assert api.post("/api/v1/catalog/items", as_=as_, json=DOG).status_code == 403
    code = "gaj-resident-id-card"
    item = api.client.get(f"/api/v1/catalog/items/{code}").json()
    body = {**DOG, "code": code}
    assert api.put(f"/api/v1/catalog/items/{code}", as_=as_, json=body).status_code == 403
    r = api.client.delete(f"/api/v1/catalog/items/{code}", headers=api.headers(as_))
    assert r.status_code == 403
    headers = {**api.headers(as_), "Content-Type": "text/csv"}
    r = api.client.post("/api/v1/catalog/import", content="code,name\n", headers=headers)
    assert r.status_code == 403
    assert _count(rt) == before
    assert api.client.get(f"/api/v1/catalog/items/{code}").json() == item


def test_admin_creates_replaces_withdraws_and_the_public_reads(api: Api, client: Any, rt: Any) -> None:
    assert client.post("/api/v1/catalog/items", json=DOG).status_code == 401
    r = api.post("/api/v1/catalog/items", as_="admin", json=DOG)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["department_name"] == "市公安局（户政、交管非紧急）" and created["days_saved"] == 15
    assert [m["held_by_government"] for m in created["materials"]] == [True, False]
    assert api.post("/api/v1/catalog/items", as_="admin", json=DOG).status_code == 409

    # The public (no token) reads the guide, in either language.
    r = client.get("/api/v1/catalog/items/t-dog-registration", params={"lang": "en"})
    assert r.status_code == 200 and r.json()["kind_label"] == "promised"
    assert r.json()["materials"][1]["form_label"] == "copy"
    listed = client.get("/api/v1/catalog/items", params={"department": "gaj", "page_size": 500}).json()
    assert "t-dog-registration" in {i["code"] for i in listed["items"]}
    assert client.get("/api/v1/catalog/items", params={"life_event": "出行"}).json()["total"] >= 1

    # Bad input: 422 naming the field, nothing changes.
    bad = {**DOG, "promised_days": 30}
    r = api.put("/api/v1/catalog/items/t-dog-registration", as_="admin", json=bad)
    assert r.status_code == 422 and "statutory_days" in r.text
    r = api.put(
        "/api/v1/catalog/items/t-dog-registration",
        as_="admin",
        json={**DOG, "materials": [{"name": "户口簿", "licence_kind": "no-such-item"}]},
    )
    assert r.status_code == 422 and r.json()["fields"] == {
        "materials.0.licence_kind": "no catalogue item 'no-such-item' issues this licence"
    }
    r = api.put("/api/v1/catalog/items/t-dog-registration", as_="admin", json={**DOG, "department": "mars"})
    assert r.status_code == 422 and r.json()["fields"] == {"department": "unknown department 'mars'"}
    r = api.put("/api/v1/catalog/items/t-dog-registration", as_="admin", json={**DOG, "code": "other"})
    assert r.status_code == 422
    assert client.get("/api/v1/catalog/items/t-dog-registration").json()["version"] == created["version"]

    r = api.put(
        "/api/v1/catalog/items/t-dog-registration",
        as_="admin",
        json={**DOG, "promised_days": 3},
        params={"expected_version": created["version"]},
    )
    assert r.status_code == 200 and r.json()["promised_days"] == 3
    r = api.put(
        "/api/v1/catalog/items/t-dog-registration",
        as_="admin",
        json={**DOG, "promised_days": 2},
        params={"expected_version": created["version"]},
    )
    assert r.status_code == 409  # someone changed it since

    r = api.client.delete("/api/v1/catalog/items/t-dog-registration", headers=api.headers("admin"))
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/v1/catalog/items/t-dog-registration").status_code == 404
    found = client.get("/api/v1/catalog/search", params={"q": "犬只登记"}).json()["items"]
    assert "t-dog-registration" not in {i["code"] for i in found}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("新生儿落户", "gaj-newborn-hukou-registration"),
        ("宝宝出生证明怎么办", "wjw-birth-medical-certificate"),
        ("开公司办营业执照", "scjg-enterprise-establishment-registration"),
        ("二手房过户", "zrzy-real-estate-transfer-registration"),
        ("公积金开户", "gjj-employer-housing-fund-account"),
        ("大件运输许可", "jtj-oversize-transport-permit"),
        ("上户口", "gaj-newborn-hukou-registration"),
        ("人防审批", "zjj-civil-air-defence-approval"),
    ],
)
def test_search_finds_items_by_chinese_words(client: Any, query: str, code: str) -> None:
    r = client.get("/api/v1/catalog/search", params={"q": query})
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["code"] == code, [i["code"] for i in r.json()["items"]]


def test_search_follows_changes_and_refuses_an_empty_query(api: Api, client: Any) -> None:
    assert client.get("/api/v1/catalog/search", params={"q": "犬只"}).json()["items"] == []
    api.post("/api/v1/catalog/items", as_="admin", json=DOG)
    found = client.get("/api/v1/catalog/search", params={"q": "养狗要办什么证 犬只"}).json()["items"]
    assert found[0]["code"] == "t-dog-registration"
    only_mzj = client.get("/api/v1/catalog/search", params={"q": "犬只", "department": "mzj"}).json()
    assert only_mzj["items"] == []
    assert client.get("/api/v1/catalog/search", params={"q": " "}).status_code == 422


def test_metrics_count_what_the_catalogue_holds(client: Any) -> None:
    items = demo_items(__import__("pathlib").Path("/nonexistent"), full=False)
    m = client.get("/api/v1/catalog/metrics").json()
    assert m["items"] == len(items)
    online = sum(1 for i in items if i["online"] != "window")
    assert m["online_rate"] == round(online / len(items), 4)
    statutory = sum(i["statutory_days"] for i in items)
    promised = sum(i["promised_days"] for i in items)
    assert m["compression"] == round(1 - promised / statutory, 4)
    materials = [mat for i in items for mat in i.get("materials", [])]
    assert m["materials"] == len(materials)
    assert m["materials_held"] == sum(1 for mat in materials if mat.get("licence_kind"))
    assert sum(d["items"] for d in m["by_department"]) == len(items)
    assert sum(m["by_online"].values()) == len(items)
    events = {e["name"]: e["items"] for e in client.get("/api/v1/catalog/life-events").json()}
    assert events["出生"] >= 6 and events["开办企业"] >= 6


def test_the_demo_catalogue_covers_every_bundle_item_with_its_department(rt: Any) -> None:
    bundle = yaml.safe_load((DEFINITIONS_DIR / "ITEMS.yaml").read_text(encoding="utf-8"))["items"]
    items = {i["code"]: i for i in demo_items(rt.settings.data_dir)}
    assert len(items) >= 1000  # the district's list, mapped, and the hand-written items
    for b in bundle:
        assert items[b["code"]]["department"] == b["department"], b["code"]
        assert items[b["code"]]["promised_days"] == b["promised_days"]
    report = seed_catalog(rt)
    assert report["errors"] == [] and report["created"] == len(items) - len(
        demo_items(rt.settings.data_dir, full=False)
    )
    assert seed_catalog(rt)["unchanged"] == len(items)  # idempotent
    departments = {i["department"] for i in items.values()}
    assert len(departments) >= 25


def test_api_import_refuses_a_file_with_a_bad_row_whole_unless_asked_not_to(api: Api, rt: Any) -> None:
    text = (
        "code,name,department,kind,statutory_days,promised_days,online\n"
        "t-a,甲事项,gaj,immediate,1,0,full\n"
        "t-b,乙事项,mars,immediate,1,0,full\n"
    )
    headers = {**api.headers("admin"), "Content-Type": "text/csv"}
    before = _count(rt)
    r = api.client.post("/api/v1/catalog/import", content=text.encode(), headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["fields"] == {"row 3": "department: unknown department 'mars'"}
    assert "nothing was imported" in r.text
    assert _count(rt) == before
    r = api.client.post(
        "/api/v1/catalog/import", content=text.encode(), headers=headers, params={"strict": "false"}
    )
    assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["errors"][0]["row"] == 3
    assert _count(rt) == before + 1
    yaml_text = (
        "- {code: t-c, name: 丙, department: gaj, kind: 即办件, statutory_days: 1, promised_days: 0,"
        " online: 全程网办}\n"
    )
    r = api.client.post(
        "/api/v1/catalog/import",
        content=yaml_text.encode(),
        headers={**api.headers("admin"), "Content-Type": "application/yaml"},
    )
    assert r.status_code == 200 and r.json()["created"] == 1
