"""What approvals yield (licences, the birth announced) and what the applicant need not bring again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from haoban.applications.models import ApplicationMaterial, BundleDefinitionRow
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.benefits.models import Resident
from haoban.benefits.sources import index_of
from haoban.bundles.definitions import DEFINITIONS_DIR
from haoban.catalog.models import ServiceItem
from haoban.licences import service as licences
from haoban.licences.models import Licence, LicenceUse
from tests.applications.conftest import APPLICANT, HANDLER, NEWBORN, apply, finish, newborn_files
from tests.applications.test_applications_changes import _files

ORDER = ["birth_certificate", "vaccination", "hukou", "insurance_enrolment", "insurance_payment"]


def _count(rt: Any, model: Any, *where: Any) -> int:
    with rt.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _track(api: Any, code: str) -> dict[str, Any]:
    return api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "5678"}).json()


def test_each_approval_issues_a_licence_verifiable_by_its_code(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    assert _count(installed, Licence) == 0
    finish(api, code, "birth_certificate")
    with installed.db.read() as session:
        (lic,) = session.scalars(select(Licence)).unique().all()
        assert (lic.kind, lic.name, lic.source_ref) == (
            "wjw-birth-medical-certificate",
            "出生医学证明",
            f"{code}/birth_certificate",
        )
        assert lic.holder_id == APPLICANT["id_number"] and licences.intact(lic)
        assert lic.sha256 == licences.digest(licences.fields_of(lic))
        licence_code = lic.code
    verified = api.client.get(f"/api/v1/licences/verify/{licence_code}").json()
    assert verified["status"] == "valid" and verified["name"] == "出生医学证明"
    assert any(licence_code in e["text"] for e in _track(api, code)["timeline"])
    for task in ORDER[1:]:
        finish(api, code, task)
    detail = finish(api, code, "social_security_card")
    assert detail["status"] == "completed"
    assert _count(installed, Licence) == len(HANDLER)
    (delivery,) = detail["deliveries"]
    with installed.db.read() as session:
        issued = {lic.source_ref: lic.code for lic in session.scalars(select(Licence)).unique()}
    # The parcel lists each result with its licence; the tracking number is on the applicant's timeline.
    assert {i["task_id"]: i["licence"] for i in delivery["items"]} == {
        task: issued[f"{code}/{task}"] for task in HANDLER
    }
    assert any(delivery["tracking_no"] in e["text"] for e in _track(api, code)["timeline"])


def test_held_licences_stand_in_for_materials(installed: Any, api: Any) -> None:
    only_marriage = [f for f in newborn_files() if f[0] == "marriage_certificate"]
    refused = apply(api, files=only_marriage)
    assert refused.status_code == 422 and "materials.parents_id_cards" in refused.json()["fields"]
    with installed.db.write() as session:
        for kind in ("gaj-resident-id-card", "gaj-newborn-hukou-registration"):
            licences.issue(
                session,
                kind=kind,
                holder_id=APPLICANT["id_number"],
                holder_name=APPLICANT["name"],
                actor=SYSTEM_ACTOR,
            )
    r = apply(api, files=only_marriage)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    with installed.db.read() as session:
        rows = {m.key: m for m in session.scalars(select(ApplicationMaterial))}
        held = {lic.kind: lic for lic in session.scalars(select(Licence)).unique()}
    assert rows["parents_id_cards"].reused and rows["household_register"].reused
    assert rows["parents_id_cards"].sha256 == held["gaj-resident-id-card"].sha256
    assert not rows["marriage_certificate"].reused
    assert _count(installed, LicenceUse, LicenceUse.ref == code) == 2
    # Staff open the reused material as the licence's copy.
    detail = api.get(f"/api/v1/applications/{code}", as_="supervisor").json()
    assert detail["status"] == "running"
    copy = api.get(f"/api/v1/applications/{code}/materials/{rows['parents_id_cards'].id}", as_="supervisor")
    assert copy.status_code == 200 and copy.json()["code"] == held["gaj-resident-id-card"].code
    # A revoked licence no longer stands in.
    with installed.db.write() as session:
        licences.revoke(
            session, code=held["gaj-resident-id-card"].code, reason="换领新证", actor=SYSTEM_ACTOR
        )
    again = apply(api, files=only_marriage)
    assert again.status_code == 422 and "materials.parents_id_cards" in again.json()["fields"]


def test_household_registration_announces_the_birth(installed: Any, api: Any) -> None:
    child = NEWBORN["results"]["hukou"]["citizen_id_number"]
    code = apply(api).json()["code"]
    finish(api, code, "birth_certificate")
    with installed.db.read() as session:  # ID numbers are encrypted: found by their blind index
        index = index_of(session, child)
    assert _count(installed, Resident, Resident.id_index == index) == 0
    finish(api, code, "hukou")
    with installed.db.read() as session:
        resident = session.scalars(select(Resident).where(Resident.id_index == index)).one()
    assert resident.id_number == child
    assert (resident.name, resident.sex) == (NEWBORN["form"]["baby"]["name"], "F")
    assert any(e["action"] == "birth_registered" for e in _track(api, code)["timeline"])


def test_an_upload_naming_an_item_the_catalogue_does_not_list_is_refused(installed: Any, api: Any) -> None:
    running = apply(api).json()["code"]
    with installed.db.write() as session:
        session.execute(
            update(ServiceItem).where(ServiceItem.code == "wjw-vaccination-certificate").values(active=False)
        )
    before = _count(installed, BundleDefinitionRow)
    meta = (DEFINITIONS_DIR / "newborn" / "bundle.yaml").read_bytes()
    meta = meta.replace(b"3 working_days", b"2 working_days")
    r = api.client.post("/api/v1/bundles", files=_files(bundle=meta), headers=api.headers("admin"))
    assert r.status_code == 422, r.text
    assert any(p["element"] == "vaccination" for p in r.json()["problems"]), r.json()
    bad_kind = meta.replace(b"licence_kind: mzj-marriage-registration", b"licence_kind: mzj-no-such-licence")
    with installed.db.write() as session:
        session.execute(update(ServiceItem).values(active=True))
    r = api.client.post("/api/v1/bundles", files=_files(bundle=bad_kind), headers=api.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["element"] == "materials.marriage_certificate.licence_kind"
    assert _count(installed, BundleDefinitionRow) == before
    # The application already running on the stored version goes on.
    for task in [*ORDER, "social_security_card"]:
        finish(api, running, task)
    assert api.get(f"/api/v1/applications/{running}", as_="supervisor").json()["status"] == "completed"


def test_a_material_held_is_not_needed_but_may_still_be_brought(installed: Any, api: Any) -> None:
    with installed.db.write() as session:
        licences.issue(
            session,
            kind="mzj-marriage-registration",
            holder_id=APPLICANT["id_number"],
            holder_name=APPLICANT["name"],
            actor=SYSTEM_ACTOR,
        )
    code = apply(api).json()["code"]
    with installed.db.read() as session:
        (m,) = session.scalars(
            select(ApplicationMaterial).where(ApplicationMaterial.key == "marriage_certificate")
        ).all()
    assert not m.reused  # the file brought is kept; the licence is only used when nothing is brought
    assert _count(installed, LicenceUse, LicenceUse.ref == code) == 0


def test_licence_codes_are_asked_by_exact_reference_through_the_unique_index(
    installed: Any, api: Any
) -> None:
    # A prefix match on source_ref scanned the whole register on SQLite (every licence ever issued)
    # once per finished application; the codes are asked by their exact references instead.
    from sqlalchemy import event

    from haoban.applications import results
    from haoban.applications.models import Application

    first = apply(api).json()["code"]
    second = apply(api).json()["code"]
    for code in (first, second):
        finish(api, code, "birth_certificate")
        finish(api, code, "vaccination")
    with installed.db.read() as session:
        app = session.scalars(select(Application).where(Application.code == first)).one()
        issued = {lic.source_ref: lic.code for lic in session.scalars(select(Licence)).unique()}
        seen: list[tuple[str, Any]] = []

        def capture(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool) -> None:
            seen.append((statement, params))

        bind = session.connection()
        event.listen(bind, "before_cursor_execute", capture)
        try:
            codes = results.licence_codes(
                session, app, task_ids=["birth_certificate", "vaccination", "hukou"]
            )
        finally:
            event.remove(bind, "before_cursor_execute", capture)
        assert codes == {
            "birth_certificate": issued[f"{first}/birth_certificate"],
            "vaccination": issued[f"{first}/vaccination"],
        }
        assert results.licence_codes(session, app, task_ids=[]) == {}
        (statement, params), *_ = [s for s in seen if "licences" in s[0]]
        assert "LIKE" not in statement.upper()
        if bind.dialect.name == "sqlite":
            plan = [row[-1] for row in bind.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
            assert not any(step.startswith("SCAN licences") for step in plan), plan
