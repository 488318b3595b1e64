"""The 免申即享 pages without a browser: portal look-up and confirmation, the staff page, the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from haoban.auth.models import User
from haoban.benefits import matching
from haoban.benefits.models import Grant, GrantEvent, MatchRun
from tests.benefits.conftest import TODAY, City, birthday


def _login(client: Any, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
    assert r.status_code in (302, 303), r.text


def _pushed(rt: Any, city: City) -> Grant:
    city.resident(birthday(88), phone="13800001111", bank_account="6217000022223333")
    with rt.db.write() as session:
        matching.match(session, today=TODAY)
    with rt.db.read() as session:
        return session.scalars(select(Grant)).one()


def test_portal_look_up_and_confirm(rt: Any, client: Any, city: City) -> None:
    g = _pushed(rt, city)
    assert "免申即享" in client.get("/portal").text
    page = client.get("/portal/benefits")
    assert page.status_code == 200 and 'id="bn-person"' in page.text
    r = client.post("/portal/benefits", data={"who": "person", "code": g.code, "phone_last4": "12"})
    assert r.status_code == 422 and "4 位数字" in r.text
    r = client.post("/portal/benefits", data={"who": "person", "code": g.code, "phone_last4": "0000"})
    assert r.status_code == 404
    r = client.post("/portal/benefits", data={"who": "person", "code": g.code, "phone_last4": "1111"})
    assert r.status_code == 200 and "高龄津贴" in r.text and "6217 **** **** 3333" in r.text
    assert "6217000022223333" not in r.text
    r = client.post(
        "/portal/benefits/confirm",
        data={"who": "person", "code": g.code, "phone_last4": "1111", "grant": g.code},
    )
    assert r.status_code == 200 and 'data-status="confirmed"' in r.text
    again = client.post(
        "/portal/benefits/confirm",
        data={"who": "person", "code": g.code, "phone_last4": "1111", "grant": g.code},
    )
    assert again.status_code == 409


def test_staff_page_dashboard_and_upload(rt: Any, client: Any, city: City) -> None:
    _pushed(rt, city)
    assert client.get("/admin/benefits", follow_redirects=False).status_code in (302, 303, 401)
    _login(client, "auditor")
    page = client.get("/admin/benefits")
    assert (
        page.status_code == 200 and 'id="benefits-figures"' in page.text and 'id="bn-upload"' not in page.text
    )
    dash = client.get("/dashboard")
    assert 'id="bn-fig-elderly_allowance"' in dash.text
    _login(client, "admin")
    page = client.get("/admin/benefits")
    assert 'id="bn-upload"' in page.text
    dmn = (
        Path(__file__).resolve().parents[2] / "src/haoban/benefits/policies/elderly_allowance.dmn"
    ).read_text()
    bad = dmn.replace("&gt;= 100", "&gt;= 1OO")
    r = client.post("/admin/benefits/policy", files={"file": ("e.dmn", bad.encode(), "application/xml")})
    assert r.status_code == 422 and 'id="bn-problems"' in r.text and "1OO" in r.text
    r = client.post(
        "/admin/benefits/policy", files={"file": ("e.dmn", dmn.replace("10000", "12000").encode())}
    )
    assert r.status_code == 200 and "v2" in r.text
    r = client.post("/admin/benefits/match", data={})
    assert r.status_code == 200 and "paid 0" in r.text


def test_grant_page_shows_the_case_file(rt: Any, client: Any, city: City) -> None:
    g = _pushed(rt, city)
    _login(client, "supervisor")
    r = client.get(f"/admin/benefits/grants/{g.code}")
    assert r.status_code == 200 and "age=88" in r.text and 'id="bn-events"' in r.text
    assert client.get("/admin/benefits/grants/MS99999999").status_code == 404


def test_an_admins_match_now_pushes_new_grants_as_the_system(rt: Any, client: Any, city: City) -> None:
    """The button finds someone new (here a resident who just qualified; in real life every new month):
    the grant is pushed by the system, the run records the admin who started it."""
    city.resident(birthday(90), phone="13800002222", bank_account="6217000044445555")
    _login(client, "admin")
    r = client.post("/admin/benefits/match", data={})
    assert r.status_code == 200 and 'id="bn-message"' in r.text and "elderly_allowance +1" in r.text, r.text
    with rt.db.read() as session:
        [grant] = session.scalars(select(Grant)).all()
        first = session.scalars(select(GrantEvent).where(GrantEvent.grant_id == grant.id)).first()
        assert first is not None and first.action == "push" and first.actor_role == "system"
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        assert {m.actor_name for m in session.scalars(select(MatchRun))} == {admin.display_name}
