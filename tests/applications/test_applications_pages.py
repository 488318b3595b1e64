"""“一件事” pages for applicants: pick a life event, one form from the bundle's schema, upload, redirect to
a bookmarkable timeline (code + phone digits), the one 补正 resubmission, licences on the timeline."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from haoban.applications.models import Application
from tests.applications.conftest import NEWBORN, PDF, PNG, act, finish, open_tasks

FORM = NEWBORN["form"]


def newborn_fields(**overrides: str) -> dict[str, Any]:
    """The newborn form as the page posts it: dotted names, a local date-time, the applicant."""
    fields: dict[str, Any] = {
        "applicant_name": "李娟",
        "applicant_phone": "13812345678",
        "applicant_id_number": "430405199001011233",
        "baby.born_at": "2026-11-28T08:30",
    }
    for group, values in FORM.items():
        for key, value in values.items():
            fields.setdefault(f"{group}.{key}", str(value))
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v != ""}


def newborn_uploads() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("material.parents_id_cards", ("身份证.pdf", PDF, "application/pdf")),
        ("material.household_register", ("户口簿.pdf", PDF + b"hh", "application/pdf")),
        ("material.marriage_certificate", ("结婚证.png", PNG, "image/png")),
        ("material.baby_photo", ("", b"", "application/octet-stream")),  # an empty file input
    ]


def submit_page(client: Any, **overrides: str) -> Any:
    return client.post(
        "/portal/apply/newborn",
        data=newborn_fields(**overrides),
        files=newborn_uploads(),
        follow_redirects=False,
    )


def test_life_events_form_from_the_schema_and_services_link(installed: Any, client: Any) -> None:
    r = client.get("/portal/apply")
    assert r.status_code == 200 and 'href="/portal/apply/newborn"' in r.text and "新生儿出生" in r.text
    assert 'href="/portal/apply"' in client.get("/portal").text
    r = client.get("/portal/apply/newborn")
    assert r.status_code == 200
    for name in ("baby.name", "baby.born_at", "mother.id_number", "household.follows", "delivery.address"):
        assert f'name="{name}"' in r.text, name
    assert 'type="datetime-local"' in r.text and 'name="material.parents_id_cards"' in r.text
    assert 'enctype="multipart/form-data"' in r.text
    en = client.get("/portal/apply/newborn", params={"lang": "en"})
    assert "Baby&#39;s name" in en.text or "Baby's name" in en.text
    guide = client.get("/services/items/gaj-newborn-hukou-registration", params={"lang": "zh"})
    assert 'href="/portal/apply/newborn"' in guide.text and "办这件事" in guide.text
    assert client.get("/portal/apply/no-such-bundle").status_code == 404


def test_apply_redirects_to_a_bookmarkable_timeline(installed: Any, client: Any) -> None:
    r = submit_page(client)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    m = re.fullmatch(r"/portal/applications/(BJ\d+)\?p=5678&new=1", url)
    assert m, url
    code = m.group(1)
    page = client.get(url)
    assert page.status_code == 200
    assert code in page.text and "出生医学证明" in page.text and 'id="submitted"' in page.text
    assert 'data-status="pending"' in page.text and "已提交申请" in page.text
    with installed.db.read() as s:
        app = s.scalars(select(Application).where(Application.code == code)).one()
        assert app.channel == "online" and app.submitted_at is not None
    en = client.get(url + "&lang=en")
    assert "Waiting to be accepted" in en.text and "Birth medical certificate" in en.text
    client.get("/portal", params={"lang": "zh"})
    # The same page again without the digits asks for them; wrong digits find nothing.
    assert 'name="phone_last4"' in client.get(f"/portal/applications/{code}").text
    assert client.get(f"/portal/applications/{code}", params={"p": "0000"}).status_code == 404
    r = client.post(
        "/portal/applications", data={"code": code.lower(), "phone_last4": "5678"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/portal/applications/{code}?p=5678"


def test_bad_fields_and_a_renamed_executable_are_shown_and_nothing_is_stored(
    installed: Any, client: Any
) -> None:
    r = submit_page(client, **{"baby.name": "", "mother.id_number": "430405199001011234"})
    assert r.status_code == 422
    assert 'id="err-f-baby-name"' in r.text and 'id="err-f-mother-id_number"' in r.text
    assert 'value="衡阳市中心医院"' in r.text  # what was typed stays
    files = [("material.parents_id_cards", ("身份证.pdf", b"MZ\x90\x00" + b"\x00" * 60, "application/pdf"))]
    r = client.post("/portal/apply/newborn", data=newborn_fields(), files=files)
    assert r.status_code == 422 and 'id="err-mat-parents_id_cards"' in r.text
    with installed.db.read() as s:
        assert s.scalar(select(func.count(Application.id))) == 0


def test_one_resubmission_fixes_every_flagged_item(installed: Any, client: Any, api: Any) -> None:
    code = re.search(r"(BJ\d+)", submit_page(client).headers["location"]).group(1)
    act(
        api,
        code,
        "birth_certificate",
        "request_correction",
        reason="母亲身份证号与证件不符，请核对",
        fields=["mother.id_number"],
        materials=["parents_id_cards"],
    )
    page = client.get(f"/portal/applications/{code}", params={"p": "5678"})
    assert 'id="resubmit-form"' in page.text and "母亲身份证号与证件不符" in page.text
    assert 'name="mother.id_number"' in page.text and 'name="material.parents_id_cards"' in page.text
    assert 'name="baby.name"' not in page.text.split('id="resubmit-form"')[1].split("</form>")[0]
    r = client.post(
        f"/portal/applications/{code}/resubmit",
        data={"p": "5678", "mother.id_number": "430405199001011233"},
        files=[("material.parents_id_cards", ("身份证2.pdf", PDF + b"2", "application/pdf"))],
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert 'id="done"' in page.text and 'id="resubmit-form"' not in page.text
    finish(api, code, "birth_certificate")


def test_the_applicant_withdraws_from_the_timeline_once(installed: Any, client: Any, api: Any) -> None:
    code = re.search(r"(BJ\d+)", submit_page(client).headers["location"]).group(1)
    finish(api, code, "birth_certificate")
    page = client.get(f"/portal/applications/{code}", params={"p": "5678"})
    assert 'id="withdraw-form"' in page.text and 'name="reason"' in page.text
    # A reason is required; nothing changes without one.
    r = client.post(f"/portal/applications/{code}/withdraw", data={"p": "5678", "reason": " "})
    assert r.status_code == 422 and 'id="withdraw-error"' in r.text
    assert open_tasks(api, code)["vaccination"] == "pending"
    # Wrong phone digits: not found, nothing changes.
    r = client.post(f"/portal/applications/{code}/withdraw", data={"p": "0000", "reason": "不办了"})
    assert r.status_code == 404 and open_tasks(api, code)["vaccination"] == "pending"
    r = client.post(
        f"/portal/applications/{code}/withdraw",
        data={"p": "5678", "reason": "孩子随父亲户籍在外地办理"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    assert 'id="done"' in page.text and 'id="withdraw-form"' not in page.text
    tasks = open_tasks(api, code)
    assert tasks["birth_certificate"] == "approved" and tasks["vaccination"] == "cancelled"
    with installed.db.read() as s:
        assert s.scalars(select(Application.status).where(Application.code == code)).one() == "withdrawn"
    # The gate's rule: a withdrawn (or finished) application cannot be withdrawn again.
    r = client.post(f"/portal/applications/{code}/withdraw", data={"p": "5678", "reason": "再撤一次"})
    assert r.status_code == 409 and 'id="withdraw-error"' in r.text and 'id="withdraw-form"' not in r.text
