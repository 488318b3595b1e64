"""补正 once, versions pinned, and bad input refused with the element or field — nothing stored."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from haoban.applications.models import Application, ApplicationMaterial, BundleDefinitionRow
from haoban.bundles.definitions import DEFINITIONS_DIR
from tests.applications.conftest import NEWBORN, PDF, act, apply, finish, newborn_files, open_tasks


def _count(rt: Any, model: Any) -> int:
    with rt.db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _files(**changes: bytes) -> dict[str, tuple[str, bytes]]:
    base = DEFINITIONS_DIR / "newborn"
    names = {
        "process": "process.bpmn",
        "form_schema": "form.schema.json",
        "mapping": "mapping.yaml",
        "bundle": "bundle.yaml",
    }
    return {field: (name, changes.get(field, (base / name).read_bytes())) for field, name in names.items()}


def test_a_correction_round_trips_once_for_every_flagged_item(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    finish(api, code, "birth_certificate")
    act(
        api,
        code,
        "hukou",
        "request_correction",
        fields=["household.address"],
        materials=["household_register"],
        reason="户籍地址与户口簿不一致，请补正并重新上传户口簿",
    )
    track = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "5678"}).json()
    assert track["status"] == "awaiting_correction"
    assert track["pending_correction"]["fields"] == ["household.address"]
    assert track["pending_correction"]["materials"] == ["household_register"]
    # Other departments go on meanwhile.
    finish(api, code, "vaccination")
    # One resubmission must carry everything flagged: the field alone is refused, nothing changes.
    partial = api.client.post(
        f"/api/v1/applications/{code}/resubmit",
        data={
            "data": json.dumps(
                {"phone_last4": "5678", "form_changes": {"household.address": "衡阳市珠晖区东风南路 90 号"}}
            )
        },
    )
    assert partial.status_code == 422 and "materials.household_register" in partial.json()["fields"]
    assert open_tasks(api, code)["hukou"] == "correction"
    ok = api.client.post(
        f"/api/v1/applications/{code}/resubmit",
        data={
            "data": json.dumps(
                {"phone_last4": "5678", "form_changes": {"household.address": "衡阳市珠晖区东风南路 90 号"}}
            )
        },
        files=[("household_register", ("户口簿新.pdf", PDF + b"new", "application/pdf"))],
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "running"
    assert open_tasks(api, code)["hukou"] == "pending"
    detail = api.get(f"/api/v1/applications/{code}", as_="h_gaj").json()
    assert (
        detail["form"]["household"]["address"] == "衡阳市珠晖区东风南路 90 号" and detail["corrections"] == 1
    )
    # 一次性告知: the same task cannot ask again.
    r = api.post(
        f"/api/v1/applications/{code}/tasks/hukou/request_correction",
        as_="h_gaj",
        json={"fields": ["household.address"], "reason": "再次补正"},
    )
    assert r.status_code == 409
    finish(api, code, "hukou")
    for task in ("insurance_enrolment", "insurance_payment", "social_security_card"):
        finish(api, code, task)
    assert api.get(f"/api/v1/applications/{code}", as_="supervisor").json()["status"] == "completed"


def test_a_new_bpmn_version_leaves_running_applications_on_the_old_one(installed: Any, api: Any) -> None:
    old = apply(api).json()["code"]
    meta = (
        (DEFINITIONS_DIR / "newborn" / "bundle.yaml")
        .read_bytes()
        .replace(b"promise: 3 working_days", b"promise: 2 working_days")
    )
    r = api.client.post("/api/v1/bundles", files=_files(bundle=meta), headers=api.headers("admin"))
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["promise"] == "2 working_days"
    # The same files again change nothing.
    again = api.client.post("/api/v1/bundles", files=_files(bundle=meta), headers=api.headers("admin"))
    assert again.status_code == 200 and again.json()["version"] == 2
    new = apply(api).json()["code"]
    old_detail = api.get(f"/api/v1/applications/{old}", as_="supervisor").json()
    new_detail = api.get(f"/api/v1/applications/{new}", as_="supervisor").json()
    assert old_detail["bundle_version"] == 1 and new_detail["bundle_version"] == 2
    for task in (
        "birth_certificate",
        "vaccination",
        "hukou",
        "insurance_enrolment",
        "insurance_payment",
        "social_security_card",
    ):
        finish(api, old, task)
    assert api.get(f"/api/v1/applications/{old}", as_="supervisor").json()["status"] == "completed"
    assert api.client.get("/api/v1/bundles/newborn").json()["versions"] == [1, 2]
    # Uploading is for administrators.
    assert api.client.post("/api/v1/bundles", files=_files(), headers=api.headers("h_wjw")).status_code == 403


def test_an_invalid_bpmn_or_form_is_refused_naming_the_element_and_nothing_is_stored(
    installed: Any, api: Any
) -> None:
    before = _count(installed, BundleDefinitionRow)
    bpmn = (DEFINITIONS_DIR / "newborn" / "process.bpmn").read_bytes()
    unknown_item = bpmn.replace(b'value="gaj-newborn-hukou-registration"', b'value="gaj-no-such-item"', 1)
    r = api.client.post("/api/v1/bundles", files=_files(process=unknown_item), headers=api.headers("admin"))
    assert r.status_code == 422
    assert any(p["element"] == "hukou" and p["file"] == "process.bpmn" for p in r.json()["problems"]), (
        r.json()
    )
    broken = api.client.post(
        "/api/v1/bundles", files=_files(process=b"<bpmn:definitions"), headers=api.headers("admin")
    )
    assert broken.status_code == 422 and broken.json()["problems"][0]["file"] == "process.bpmn"
    schema = json.loads((DEFINITIONS_DIR / "newborn" / "form.schema.json").read_text(encoding="utf-8"))
    schema["properties"]["baby"]["properties"]["weight_g"]["type"] = "weight"
    bad_form = api.client.post(
        "/api/v1/bundles",
        files=_files(form_schema=json.dumps(schema).encode()),
        headers=api.headers("admin"),
    )
    assert bad_form.status_code == 422 and bad_form.json()["problems"][0]["file"] == "form.schema.json"
    assert _count(installed, BundleDefinitionRow) == before


def test_bad_materials_and_form_fields_are_refused_and_nothing_is_stored(installed: Any, api: Any) -> None:
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
    files = [f for f in newborn_files() if f[0] != "parents_id_cards"]
    files.append(("parents_id_cards", ("身份证.pdf", exe, "application/pdf")))
    r = apply(api, files=files)
    assert r.status_code == 422 and "materials.parents_id_cards" in r.json()["fields"]
    assert "executable" in r.json()["message"]
    form = json.loads(json.dumps(NEWBORN["form"]))
    del form["baby"]["name"]
    r = apply(api, form=form)
    assert r.status_code == 422 and "baby.name" in r.json()["fields"]
    missing = apply(api, files=[f for f in newborn_files() if f[0] != "household_register"])
    assert missing.status_code == 422 and "materials.household_register" in missing.json()["fields"]
    assert _count(installed, Application) == 0 and _count(installed, ApplicationMaterial) == 0
