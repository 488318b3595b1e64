"""Issue 10, input: control characters, oversized bodies and numbers out of range are refused with a
4xx at the edge on both databases; text pipelines survive NUL and punctuation-only appeals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from haoban.hotspots.clustering import Appeal, find_hotspots
from haoban.security.edge import has_control
from haoban.textutil import ngram_matrix_codes
from tests.conftest import Api
from tests.hotspots.test_hotspot_clustering import _corpus

BIG = str(2**63 + 5)


def _nul_refused(r: Any) -> None:
    assert r.status_code == 400, r.text
    assert "control characters" in r.text


def test_nul_in_login_is_refused(client: Any) -> None:
    _nul_refused(client.post("/api/v1/auth/token", data={"username": "ad\x00min", "password": "x"}))
    _nul_refused(client.post("/login", data={"username": "admin\x00", "password": "demo"}))


def test_nul_in_tracking_path_and_query_is_refused(client: Any) -> None:
    _nul_refused(client.get("/api/v1/track/HB%00X", params={"phone_last4": "1234"}))
    _nul_refused(client.get("/api/v1/track/HB1", params={"phone_last4": "12\x004"}))
    _nul_refused(client.post("/portal/track", data={"code": "HB\x001", "phone_last4": "1234"}))


def test_nul_in_search_text_is_refused(api: Api) -> None:
    _nul_refused(api.get("/api/v1/knowledge/search", as_="operator", params={"q": "路灯\x00"}))
    _nul_refused(api.get("/api/v1/orders", as_="operator", params={"q": "a\x00"}))


def test_nul_in_json_and_form_bodies_is_refused(api: Api, client: Any) -> None:
    body = {"type": "complaint", "content": "路灯坏了\x00三天", "citizen_phone": "13812345678"}
    _nul_refused(api.post("/api/v1/orders", as_="operator", json=body))
    # Escaped in JSON, as most clients send it; and a lone surrogate, which no database can store.
    headers = {**api.headers("operator"), "Content-Type": "application/json"}
    raw = json.dumps(body).encode()
    _nul_refused(api.client.post("/api/v1/orders", content=raw, headers=headers))
    lone = b'{"type":"complaint","content":"\\ud800 abc","citizen_phone":"13812345678"}'
    _nul_refused(api.client.post("/api/v1/orders", content=lone, headers=headers))
    _nul_refused(
        client.post(
            "/portal/file",
            data={"type": "complaint", "content": "噪音\x00扰民很严重", "citizen_phone": "13812345678"},
        )
    )
    # Tab, newline and carriage return are ordinary text.
    ok = api.post(
        "/api/v1/orders",
        as_="operator",
        json={**body, "content": "第一行：路灯坏了\r\n第二行：\t三天了"},
    )
    assert ok.status_code == 201, ok.text
    # Emoji travel as a surrogate pair in JSON escapes: accepted.
    emoji = json.dumps({**body, "content": "路灯坏了三天了 \U0001f621"}, ensure_ascii=True).encode()
    r = api.client.post("/api/v1/orders", content=emoji, headers=headers)
    assert r.status_code == 201, r.text


def test_has_control() -> None:
    assert has_control("\x00") and has_control("a\x1fb") and has_control("\x85") and has_control("\ud800")
    assert not has_control("路灯\t坏了\r\n三天") and not has_control("😡")


@pytest.mark.parametrize(
    ("method", "path", "kw"),
    [
        ("get", f"/api/v1/knowledge/articles/{BIG}", {}),
        ("put", f"/api/v1/knowledge/articles/{BIG}", {"json": {"title": "x"}}),
        ("delete", f"/api/v1/admin/dispatch/rules/{BIG}", {}),
        ("get", "/api/v1/admin/dispatch/history", {"params": {"rule_id": BIG}}),
        ("get", "/api/v1/dispatch/corrections", {"params": {"limit": "-1"}}),
        ("get", "/api/v1/dispatch/corrections", {"params": {"limit": BIG}}),
        ("post", f"/api/v1/rectifications/{BIG}/close", {"json": {"note": "done"}}),
        ("delete", f"/api/v1/admin/calendar/schedules/{BIG}", {}),
        ("get", f"/api/v1/knowledge/articles/{2**31}", {}),  # past PostgreSQL's integer
    ],
)
def test_numbers_out_of_range_are_422(api: Api, method: str, path: str, kw: dict[str, Any]) -> None:
    r = api.client.request(method.upper(), path, headers=api.headers("admin"), **kw)
    assert r.status_code == 422, r.text


def test_huge_login_is_refused_before_reading(client: Any) -> None:
    # Declared 50 MB: refused from the header alone (the body sent here is small).
    r = client.post(
        "/api/v1/auth/token",
        content=b"username=admin&password=demo",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(50 * 2**20)},
    )
    assert r.status_code == 413, r.text
    r = client.post("/login", data={"username": "admin", "password": "x" * 10_000})
    assert r.status_code == 413


def test_huge_body_is_413_before_the_401(client: Any) -> None:
    def chunks() -> Any:
        for _ in range(3):
            yield b"x" * (2**20)

    # Chunked (no Content-Length): cut off as soon as it passes the cap, still 413 not 401.
    r = client.post("/api/v1/orders", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "too_large"


def test_form_limits_are_4xx_not_500(api: Api, client: Any) -> None:
    token = api.token("admin")
    client.cookies.set("haoban_token", token)
    big = {"code": "x" * (1024 * 1024 + 10), "name": "部门"}
    assert client.post("/admin/departments", data=big).status_code == 413
    many = {f"f{i}": "1" for i in range(1500)}
    assert client.post("/admin/departments", data=many).status_code == 422
    assert client.post("/portal/file", data=many).status_code == 422


def test_export_with_an_unknown_status_is_422_not_a_broken_stream(api: Api) -> None:
    r = api.get("/api/v1/orders/export", as_="supervisor", params={"status": "AAA"})
    assert r.status_code == 422, r.text
    assert "status" in r.json()["fields"]


def test_sla_rule_with_half_a_working_day_is_refused(api: Api) -> None:
    rule = {
        "order_type": "consult",
        "urgency": "normal",
        "sign_amount": 1,
        "sign_unit": "working_days",
        "handle_amount": 2.5,
        "handle_unit": "calendar_days",
    }
    r = api.put("/api/v1/admin/sla-rules", as_="admin", json=[rule])
    assert r.status_code == 422, r.text
    # Orders can still be registered afterwards (a bad rule once broke every new order's deadline).
    assert api.create(type="consult")["code"]


# --- text pipelines ---------------------------------------------------------------------------------


def test_ngram_codes_are_per_document_whatever_the_text() -> None:
    texts = ["路灯\x00坏了", "？？？！！！", "", "噪音扰民", "\ud800"]
    doc, code = ngram_matrix_codes(texts, 2)
    assert doc.max() < len(texts)
    assert set(doc.tolist()) == {0, 3}
    clean_doc, clean_code = ngram_matrix_codes(["路灯 坏了", "？", "", "噪音扰民", " "], 2)
    assert np.array_equal(doc, clean_doc) and np.array_equal(code, clean_code)


def test_hotspots_survive_nul_and_punctuation_only_appeals() -> None:
    base = _corpus()
    t0 = datetime(2019, 11, 20, 9)
    odd = [
        Appeal("x1", "？？？！！！", "？？？！！！", t0),
        Appeal("x2", "", "", t0 + timedelta(hours=1)),
        Appeal("x3", "丽发新城\x00搅拌站", "噪音\x00扰民", t0 + timedelta(hours=2)),
        Appeal("x4", "。。。", "…………", t0 + timedelta(hours=3)),
    ]
    for appeals in (base + odd, odd + base, odd):
        hs = find_hotspots(appeals)
        assert all(set(h.members) <= {a.key for a in appeals} for h in hs)
    assert len(find_hotspots(base + odd)) >= 2


def test_hotspots_api_after_a_punctuation_only_appeal(api: Api, client: Any) -> None:
    for text in ("？？？！！！", "！！！！！！！", "路灯坏了三天，晚上很黑"):
        form = {"type": "complaint", "content": text, "citizen_phone": "13812345678"}
        r = client.post("/portal/file", data=form, follow_redirects=False)
        assert r.status_code in (303, 422), r.text
    r = api.get("/api/v1/hotspots", as_="supervisor")
    assert r.status_code == 200, r.text


def test_every_operation_declares_its_error_statuses(client: Any) -> None:
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            declared = set(op["responses"])
            assert {"400", "422", "503"} <= declared, (method, path)
            if op.get("security"):
                assert {"401", "403"} <= declared, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert "413" in declared, (method, path)
            if "{" in path:
                assert "404" in declared, (method, path)
