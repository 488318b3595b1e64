"""Issue 10, personal data: an application's staff view (page, API) shows phone and ID numbers masked;
seeing them in full is an explicit ask, recorded (who, when, why) with the orders' views and in the
auditors' report; auditors are refused by the one rule that masks their view of orders."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from haoban.applications import registry
from haoban.applications.models import Application
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.orders.models import PersonalDataView
from tests.applications.conftest import APPLICANT, NEWBORN, apply
from tests.conftest import Api
from tests.web.test_pages_access import login

MOTHER_ID = NEWBORN["form"]["mother"]["id_number"]
FATHER_ID = NEWBORN["form"]["father"]["id_number"]
PHONE = NEWBORN["form"]["contact"]["phone"]
IN_CLEAR = (MOTHER_ID, FATHER_ID, PHONE, APPLICANT["id_number"])


@pytest.fixture
def installed(rt: Any) -> Any:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def _views(rt: Any) -> list[PersonalDataView]:
    with rt.db.read() as s:
        return list(s.scalars(select(PersonalDataView).order_by(PersonalDataView.id)))


def _app_id(rt: Any, code: str) -> int:
    with rt.db.read() as s:
        return s.scalar(select(Application.id).where(Application.code == code))


def test_the_page_masks_personal_data_until_asked_and_records_the_view(
    installed: Any, api: Api, client: Any
) -> None:
    rt = installed
    code = apply(api).json()["code"]
    login(client, "h_wjw")
    page = client.get(f"/applications/{code}")
    assert page.status_code == 200 and 'id="reveal"' in page.text
    assert [v for v in IN_CLEAR if v in page.text] == []
    assert "430***********1233" in page.text  # masked, still recognisable
    assert _views(rt) == []  # a masked page is not a view of personal data
    shown = client.post(f"/applications/{code}/reveal", data={"purpose": "核对父母身份"})
    assert shown.status_code == 200 and 'id="pii-shown"' in shown.text
    assert [v for v in IN_CLEAR if v not in shown.text] == []
    (view,) = _views(rt)
    assert (view.application_id, view.order_id) == (_app_id(rt, code), None)
    assert (view.username, view.purpose, view.via) == ("h_wjw", "核对父母身份", "web")
    report = api.get("/api/v1/audit/personal-data-views", as_="auditor", params={"code": code})
    assert report.status_code == 200, report.text
    assert [(r["kind"], r["code"], r["username"], r["via"]) for r in report.json()] == [
        ("application", code, "h_wjw", "web")
    ]
    # Reloading the page shows it masked again: each full view is one ask.
    assert MOTHER_ID not in client.get(f"/applications/{code}").text


def test_the_api_masks_by_default_and_records_a_reveal(installed: Any, api: Api) -> None:
    rt = installed
    code = apply(api).json()["code"]
    masked = api.get(f"/api/v1/applications/{code}", as_="admin")
    assert masked.status_code == 200 and masked.json()["personal_data"] == "masked"
    assert [v for v in IN_CLEAR if v in masked.text] == []
    assert masked.json()["applicant_id_number"] == "430***********1233"
    assert _views(rt) == []
    shown = api.get(
        f"/api/v1/applications/{code}", as_="admin", params={"reveal": "true", "purpose": "复核"}
    ).json()
    assert shown["personal_data"] == "shown" and shown["form"]["mother"]["id_number"] == MOTHER_ID
    assert (shown["applicant_phone"], shown["applicant_id_number"]) == (
        APPLICANT["phone"],
        APPLICANT["id_number"],
    )
    (view,) = _views(rt)
    assert (view.application_id, view.username, view.purpose, view.via) == (
        _app_id(rt, code),
        "admin",
        "复核",
        "api",
    )


def test_auditors_are_refused_the_full_view(installed: Any, api: Api, client: Any) -> None:
    rt = installed
    code = apply(api).json()["code"]
    r = api.get(f"/api/v1/applications/{code}", as_="auditor", params={"reveal": "true"})
    assert r.status_code in (403, 404), r.text
    assert [v for v in IN_CLEAR if v in r.text] == []
    login(client, "auditor")
    page = client.post(f"/applications/{code}/reveal", data={"purpose": "x"})
    assert page.status_code in (403, 404) and MOTHER_ID not in page.text
    assert _views(rt) == []
