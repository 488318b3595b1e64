"""Issue 10, personal data: phone and ID numbers in free text are masked in exports, lists and logs; a
failed write does not log the values it tried to store."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from haoban.security.privacy import mask_text
from tests.conftest import Api

PHONE, ID_NUMBER = "13987654321", "430102199003071234"
CONTENT = f"我叫李四，电话{PHONE}，身份证号{ID_NUMBER}，小区门口的路灯坏了三天"


def test_mask_text() -> None:
    masked = mask_text(
        f"电话 {PHONE}、+86 139-8765-4321，身份证{ID_NUMBER}，座机 0734-8123456，工单HB20261127000301"
    )
    assert PHONE not in masked and ID_NUMBER not in masked and "8123456" not in masked
    assert "139****4321" in masked and "430***********1234" in masked and "HB20261127000301" in masked
    assert mask_text("") == "" and mask_text(None) is None and mask_text("路灯坏了") == "路灯坏了"


def test_exports_and_lists_mask_free_text(api: Api) -> None:
    order = api.create(content=CONTENT, citizen_phone=PHONE, citizen_id_number=ID_NUMBER)
    export = api.get("/api/v1/orders/export", as_="supervisor")
    assert export.status_code == 200
    assert PHONE not in export.text and ID_NUMBER not in export.text
    listed = api.get("/api/v1/orders", as_="supervisor", params={"page_size": 200}).json()["items"]
    mine = next(o for o in listed if o["code"] == order["code"])
    assert PHONE not in str(mine) and ID_NUMBER not in str(mine)
    # Staff who handle the order still see it whole; auditors see it masked.
    assert PHONE in api.get(f"/api/v1/orders/{order['code']}", as_="supervisor").json()["content"]
    audited = api.get(f"/api/v1/orders/{order['code']}", as_="auditor").json()
    assert PHONE not in str(audited) and ID_NUMBER not in str(audited)


def test_a_failed_write_does_not_log_personal_data(rt: Any, caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("haoban.test")
    with pytest.raises(IntegrityError) as failed, rt.db.write() as session:
        session.execute(
            text("INSERT INTO users (username, display_name, password_hash, role) VALUES (:u, :n, :p, 'x')"),
            {"u": "admin", "n": f"李四 {PHONE} {ID_NUMBER}", "p": "x"},
        )
    # The statement's parameters are hidden; PostgreSQL's own DETAIL ("Failing row contains …") still
    # names the values, so what reaches a log line is masked as a whole (message and traceback).
    assert "parameters hidden" in str(failed.value)
    with caplog.at_level(logging.INFO):
        log.exception("write failed for %s", f"李四 {PHONE}", exc_info=failed.value)
        log.warning("caller %s id %s", PHONE, ID_NUMBER)
    assert PHONE not in caplog.text and ID_NUMBER not in caplog.text
    assert "139****4321" in caplog.text


def test_every_view_of_unmasked_personal_data_is_recorded(api: Api, client: Any) -> None:
    order = api.create(content=CONTENT, citizen_phone=PHONE, citizen_id_number=ID_NUMBER)
    code = order["code"]
    assert (
        api.get(f"/api/v1/orders/{code}", as_="supervisor", params={"purpose": "回访核实"}).status_code == 200
    )
    assert api.get(f"/api/v1/orders/{code}", as_="operator").status_code == 200
    assert api.get(f"/api/v1/orders/{code}", as_="auditor").status_code == 200  # masked: not a view
    client.cookies.set("haoban_token", api.token("dispatcher"))
    assert client.get(f"/orders/{code}").status_code == 200
    report = api.get("/api/v1/audit/personal-data-views", as_="auditor", params={"code": code})
    assert report.status_code == 200
    rows = report.json()
    assert [(r["username"], r["via"]) for r in rows] == [
        ("dispatcher", "web"),
        ("operator", "api"),
        ("supervisor", "api"),
    ]
    assert rows[2]["purpose"] == "回访核实" and rows[1]["purpose"].startswith("handling") and rows[0]["at"]
    assert api.get("/api/v1/audit/personal-data-views", as_="operator").status_code == 403


def test_case_lists_and_exports_mask_free_text(api: Api) -> None:
    body = {
        "kind": "business",
        "subject": f"跑了三趟还没办成，电话{PHONE}，身份证{ID_NUMBER}",
        "content": CONTENT,
        "obstacle": "favours",
        "item": "建筑工程施工许可",
        "department": "zrzy",
        "complainant_name": "赵老板",
        "complainant_phone": "13700001111",
        "company_name": "衡阳建工有限公司",
        "company_uscc": "91110000600037341L",
    }
    assert api.post("/api/v1/cases", as_="window", json=body).status_code == 201
    for who in ("window", "supervisor", "auditor"):
        for path in ("/api/v1/cases", "/api/v1/cases/export"):
            r = api.get(path, as_=who)
            assert r.status_code == 200
            assert PHONE not in r.text and ID_NUMBER not in r.text, (who, path)
            assert "139****4321" in r.text, (who, path)
