"""A licence holder other than the applicant: the newborn's registration and card are the child's (a new
company's licences the company's), encrypted like every holder ID; verification, the applicant's own
timeline and reuse from the licence store work for the holder; a bad ``holder`` is refused, named."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from haoban.applications.models import ApplicationMaterial, BundleDefinitionRow
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.bundles.definitions import DEFINITIONS_DIR
from haoban.licences import service as licences
from haoban.licences.models import Licence
from tests.applications.conftest import APPLICANT, NEWBORN, apply, finish, newborn_files
from tests.applications.test_applications_changes import _files
from tests.applications.test_applications_results import ORDER

CHILD_ID = NEWBORN["results"]["hukou"]["citizen_id_number"]
CHILD_NAME = NEWBORN["form"]["baby"]["name"]


def test_the_childs_licences_are_the_childs_and_the_parent_still_sees_them(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    for task in [*ORDER, "social_security_card"]:
        finish(api, code, task)
    with installed.db.read() as session:
        issued = {lic.source_ref.split("/")[1]: lic for lic in session.scalars(select(Licence)).unique()}
        holders = {task: (lic.holder_id, lic.holder_name) for task, lic in issued.items()}
        assert holders["hukou"] == holders["social_security_card"] == (CHILD_ID, CHILD_NAME)
        # Issued before the child has a number: held by the applying parent, as before.
        assert holders["birth_certificate"] == (APPLICANT["id_number"], APPLICANT["name"])
        assert all(licences.intact(lic) for lic in issued.values())
        # Encrypted at rest like every holder ID; found by its blind index.
        raw = session.execute(text("SELECT holder_id FROM licences")).scalars().all()
        assert CHILD_ID not in raw and APPLICANT["id_number"] not in raw
        mine = licences.held(session, holder_id=CHILD_ID, kinds=["gaj-newborn-hukou-registration"])
        assert mine["gaj-newborn-hukou-registration"].code == issued["hukou"].code
        parents = licences.held(
            session, holder_id=APPLICANT["id_number"], kinds=["gaj-newborn-hukou-registration"]
        )
        assert parents == {}
        hukou_code = issued["hukou"].code
    # Anyone with the code verifies it: the child's name masked, no ID number.
    verified = api.client.get(f"/api/v1/licences/verify/{hukou_code}").json()
    assert verified["status"] == "valid" and verified["holder"] == CHILD_NAME[0] + "*" * (len(CHILD_NAME) - 1)
    assert CHILD_ID not in str(verified)
    # The case file says it is someone else's licence, without their ID number.
    events = api.get(f"/api/v1/applications/{code}/events", as_="supervisor").json()
    issued_events = {e["payload"]["task"]: e["payload"] for e in events if e["action"] == "licence_issued"}
    assert (
        issued_events["hukou"]["holder"] == "other" and issued_events["vaccination"]["holder"] == "applicant"
    )
    assert CHILD_ID not in str(issued_events["social_security_card"])
    # The parent's timeline (code + phone digits) lists all six and hands out the child's copy.
    track = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "5678"}).json()
    assert any(hukou_code in e["text"] for e in track["timeline"])
    page = api.client.get(f"/portal/applications/{code}", params={"p": "5678"})
    assert page.status_code == 200 and hukou_code in page.text
    copy = api.client.get(f"/portal/applications/{code}/licences/{hukou_code}", params={"p": "5678"})
    assert copy.status_code == 200 and copy.json()["holder_id"] == CHILD_ID
    assert licences.digest(copy.json()) == copy.json()["sha256"]


def test_a_material_is_reused_from_its_holders_licences(installed: Any, api: Any) -> None:
    head = NEWBORN["form"]["household"]["head_id_number"]
    meta = (DEFINITIONS_DIR / "newborn" / "bundle.yaml").read_bytes()
    meta = meta.replace(
        b"licence_kind: gaj-newborn-hukou-registration}",
        b"licence_kind: gaj-newborn-hukou-registration, holder: form.household.head_id_number}",
    )
    assert b"holder: form.household" in meta
    r = api.client.post("/api/v1/bundles", files=_files(bundle=meta), headers=api.headers("admin"))
    assert r.status_code == 201, r.text
    without_register = [f for f in newborn_files() if f[0] != "household_register"]
    with installed.db.write() as session:  # the applicant's own register does not stand for the head's
        licences.issue(
            session,
            kind="gaj-newborn-hukou-registration",
            holder_id=APPLICANT["id_number"],
            holder_name=APPLICANT["name"],
            actor=SYSTEM_ACTOR,
        )
    refused = apply(api, files=without_register)
    assert refused.status_code == 422 and "materials.household_register" in refused.json()["fields"]
    with installed.db.write() as session:
        held = licences.issue(
            session,
            kind="gaj-newborn-hukou-registration",
            holder_id=head,
            holder_name="王建国",
            actor=SYSTEM_ACTOR,
        )
        held_sha = held.sha256
    r = apply(api, files=without_register)
    assert r.status_code == 201, r.text
    with installed.db.read() as session:
        row = session.scalars(
            select(ApplicationMaterial).where(ApplicationMaterial.key == "household_register")
        ).one()
        assert row.reused and row.sha256 == held_sha


def test_a_holder_that_cannot_be_known_is_refused_naming_it(installed: Any, api: Any) -> None:
    with installed.db.read() as session:
        before = session.query(BundleDefinitionRow).count()
    mapping = (DEFINITIONS_DIR / "newborn" / "mapping.yaml").read_bytes()
    cases = {
        # The card's task is not certain to be done before the household registration.
        b"holder: {id: results.social_security_card.card_no, name: form.baby.name}": "tasks.hukou.holder.id",
        b"holder: {id: result.no_such_field, name: form.baby.name}": "tasks.hukou.holder.id",
        b"holder: {id: materials.parents_id_cards, name: form.baby.name}": "tasks.hukou.holder.id",
        b"holder: {id: result.citizen_id_number, name: form.baby.nickname}": "tasks.hukou.holder.name",
        b"holder: {id: result.citizen_id_number}": "tasks.hukou.holder",
    }
    for replacement, element in cases.items():
        changed = mapping.replace(
            b"holder: {id: result.citizen_id_number, name: form.baby.name}", replacement
        )
        assert changed != mapping
        r = api.client.post("/api/v1/bundles", files=_files(mapping=changed), headers=api.headers("admin"))
        assert r.status_code == 422, (replacement, r.text)
        assert element in [p["element"] for p in r.json()["problems"]], (replacement, r.json()["problems"])
    meta = (DEFINITIONS_DIR / "newborn" / "bundle.yaml").read_bytes()
    for holder, element in (
        (b"holder: results.hukou.citizen_id_number", "materials.household_register.holder"),
        (b"holder: form.household.no_such", "materials.household_register.holder"),
    ):
        changed = meta.replace(
            b"licence_kind: gaj-newborn-hukou-registration}",
            b"licence_kind: gaj-newborn-hukou-registration, " + holder + b"}",
        )
        r = api.client.post("/api/v1/bundles", files=_files(bundle=changed), headers=api.headers("admin"))
        assert r.status_code == 422, r.text
        assert element in [p["element"] for p in r.json()["problems"]], r.json()
    with installed.db.read() as session:
        assert session.query(BundleDefinitionRow).count() == before
