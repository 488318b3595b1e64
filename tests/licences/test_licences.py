"""Electronic licences: issued by the item's department only, verified by anyone with the code (no
personal data beyond a masked name), a doctored copy or a changed row detected by the hash, revocation,
and the "government already holds it" look-up that spares an applicant a material."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from haoban.auth.actors import CITIZEN_ACTOR, SYSTEM_ACTOR
from haoban.errors import Conflict, Forbidden, Invalid
from haoban.licences import service
from haoban.licences.models import Licence
from tests.conftest import Api

ID_CARD = {
    "kind": "gaj-resident-id-card",
    "holder_id": "43040219900101123X",
    "holder_name": "张晓明",
    "number": "430402199001011234",
    "payload": {"address": "衡阳市蒸湘区船山大道1号", "sex": "男"},
}


def _issue(api: Api, body: dict[str, Any] | None = None, as_: str = "h_gaj", expect: int = 201) -> Any:
    r = api.post("/api/v1/licences", as_=as_, json=body or ID_CARD)
    assert r.status_code == expect, r.text
    return r.json()


def _count(rt: Any) -> int:
    with rt.db.read() as s:
        return s.scalar(select(func.count(Licence.id))) or 0


@pytest.mark.parametrize("username", ["h_wjw", "operator", "dispatcher", "supervisor", "auditor"])
def test_only_the_items_department_or_an_admin_issues(api: Api, rt: Any, username: str) -> None:
    r = api.post("/api/v1/licences", as_=username, json=ID_CARD)
    assert r.status_code == 403, r.text
    assert _count(rt) == 0
    assert api.client.post("/api/v1/licences", json=ID_CARD).status_code == 401


def test_issue_then_verify_publicly_without_personal_data(api: Api, client: Any) -> None:
    lic = _issue(api)
    assert lic["status"] == "valid" and lic["intact"] and len(lic["sha256"]) == 64
    assert (
        lic["name"] == "居民身份证"
        and lic["department"] == "gaj"
        and lic["holder_id"] == ID_CARD["holder_id"]
    )
    code = lic["code"]
    r = client.get(f"/api/v1/licences/verify/{code}")  # no login
    assert r.status_code == 200
    seen = r.json()
    assert seen["status"] == "valid" and seen["sha256"] == lic["sha256"] and seen["holder"] == "张**"
    text = r.text
    assert ID_CARD["holder_id"] not in text and "张晓明" not in text and "船山大道" not in text
    # Codes are typed by people: case and dashes do not matter.
    spaced = f"{code[:4].lower()}-{code[4:8]} {code[8:]}"
    assert client.get(f"/api/v1/licences/verify/{spaced}").json()["status"] == "valid"
    unknown = client.get("/api/v1/licences/verify/ABCDEFGHJKMNPQRS").json()
    assert unknown == {**{k: None for k in unknown}, "code": "ABCDEFGHJKMNPQRS", "status": "unknown"}


def test_a_doctored_copy_and_a_changed_row_are_detected(api: Api, client: Any, rt: Any) -> None:
    lic = _issue(api)
    doc = api.get(f"/api/v1/licences/{lic['code']}/document", as_="h_gaj").json()
    r = client.post("/api/v1/licences/verify", json=doc)
    assert r.status_code == 200 and r.json()["matches"] is True and r.json()["status"] == "valid"
    for field, value in (("holder_name", "李四"), ("valid_until", "2099-12-31"), ("payload", {"sex": "女"})):
        forged = client.post("/api/v1/licences/verify", json={**doc, field: value}).json()
        assert forged["matches"] is False and forged["presented_sha256"] != lic["sha256"], field

    # Someone edits the stored row behind the application's back: the register no longer vouches for it.
    with rt.db.write() as s:
        s.execute(update(Licence).where(Licence.code == lic["code"]).values(holder_name="王五"))
    seen = client.get(f"/api/v1/licences/verify/{lic['code']}").json()
    assert seen["status"] == "tampered" and seen["intact"] is False
    assert client.post("/api/v1/licences/verify", json=doc).json()["matches"] is False
    assert api.get(f"/api/v1/licences/{lic['code']}", as_="admin").json()["intact"] is False


def test_revocation_by_the_issuing_department_with_a_reason(api: Api, client: Any) -> None:
    lic = _issue(api)
    code = lic["code"]
    assert api.post(f"/api/v1/licences/{code}/revoke", as_="h_wjw", json={"reason": "x"}).status_code == 403
    assert api.post(f"/api/v1/licences/{code}/revoke", as_="h_gaj", json={"reason": " "}).status_code == 422
    assert client.get(f"/api/v1/licences/verify/{code}").json()["status"] == "valid"
    r = api.post(f"/api/v1/licences/{code}/revoke", as_="h_gaj", json={"reason": "证件遗失，已补领新证"})
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["revoke_reason"]
    seen = client.get(f"/api/v1/licences/verify/{code}").json()
    assert seen["status"] == "revoked" and seen["sha256"] == lic["sha256"] and seen["revoked_at"]
    assert (
        api.post(f"/api/v1/licences/{code}/revoke", as_="admin", json={"reason": "again"}).status_code == 409
    )


def test_staff_read_rules(api: Api) -> None:
    code = _issue(api)["code"]
    assert api.get(f"/api/v1/licences/{code}", as_="h_gaj").status_code == 200
    assert api.get(f"/api/v1/licences/{code}", as_="auditor").status_code == 200
    assert api.get(f"/api/v1/licences/{code}", as_="h_wjw").status_code == 404  # another department's
    assert api.get(f"/api/v1/licences/{code}", as_="operator").status_code == 403
    assert api.client.get(f"/api/v1/licences/{code}").status_code == 401


def test_bad_input_names_the_field_and_stores_nothing(api: Api, rt: Any) -> None:
    r = api.post("/api/v1/licences", as_="admin", json={**ID_CARD, "kind": "no-such-item"})
    assert r.status_code == 422 and r.json()["fields"] == {"kind": "no active catalogue item 'no-such-item'"}
    r = api.post("/api/v1/licences", as_="admin", json={**ID_CARD, "holder_id": "43 04;02"})
    assert r.status_code == 422 and "holder_id" in r.json()["fields"]
    body = {**ID_CARD, "valid_from": "2030-01-01", "valid_until": "2029-01-01"}
    r = api.post("/api/v1/licences", as_="admin", json=body)
    assert r.status_code == 422 and "valid_until" in r.json()["fields"]
    assert _count(rt) == 0
    _issue(api)
    assert api.post("/api/v1/licences", as_="admin", json=ID_CARD).status_code == 409  # same number
    assert _count(rt) == 1


def test_issue_is_idempotent_by_source_ref_and_dates_decide_validity(rt: Any) -> None:
    with rt.db.write() as s:
        a = service.issue(
            s,
            kind="wjw-birth-medical-certificate",
            holder_id="430402202611300011",
            holder_name="张小宝",
            actor=SYSTEM_ACTOR,
            source_ref="HB-APP-1:birth",
        )
        b = service.issue(
            s,
            kind="wjw-birth-medical-certificate",
            holder_id="430402202611300011",
            holder_name="张小宝",
            actor=SYSTEM_ACTOR,
            source_ref="HB-APP-1:birth",
        )
        assert a.code == b.code
        with pytest.raises(Conflict):
            service.issue(
                s,
                kind="wjw-birth-medical-certificate",
                holder_id="430402202611300022",
                holder_name="李小宝",
                actor=SYSTEM_ACTOR,
                source_ref="HB-APP-1:birth",
            )
        old = service.issue(
            s,
            kind="gaj-motor-vehicle-registration",
            holder_id="430402199001011234",
            holder_name="张晓明",
            actor=SYSTEM_ACTOR,
            valid_from=date(2020, 1, 1),
            valid_until=date(2021, 1, 1),
        )
        future = service.issue(
            s,
            kind="gaj-motor-vehicle-registration",
            holder_id="430402199001011234",
            holder_name="张晓明",
            actor=SYSTEM_ACTOR,
            valid_from=service.city_day() + timedelta(days=5),
        )
        assert service.status_of(old) == "expired" and service.status_of(future) == "not_yet_valid"
        assert service.held(s, holder_id="430402199001011234", kinds=["gaj-motor-vehicle-registration"]) == {}
        with pytest.raises(Forbidden):
            service.issue(
                s,
                kind="gaj-resident-id-card",
                holder_id="1",
                holder_name="x",
                actor=CITIZEN_ACTOR,
            )
        with pytest.raises(Invalid):
            service.revoke(s, code=a.code, reason="", actor=SYSTEM_ACTOR)


def test_materials_the_government_holds_are_not_asked_again(api: Api, rt: Any) -> None:
    mother = "430402199201011228"
    before = api.get(
        "/api/v1/licences/reusable",
        as_="h_wjw",
        params={"item": "wjw-birth-medical-certificate", "holder_id": mother},
    ).json()
    assert [m["reused"] for m in before] == [False, False, False, False]
    card = _issue(api, {**ID_CARD, "holder_id": mother, "holder_name": "李芳", "number": mother})
    marriage = _issue(
        api, {"kind": "mzj-marriage-registration", "holder_id": mother, "holder_name": "李芳"}, as_="h_mzj"
    )
    after = api.get(
        "/api/v1/licences/reusable",
        as_="h_wjw",
        params={"item": "wjw-birth-medical-certificate", "holder_id": mother},
    ).json()
    reused = {m["material"]: m["licence_code"] for m in after if m["reused"]}
    assert reused == {
        "母亲居民身份证": card["code"],
        "父亲居民身份证": card["code"],  # the look-up is per holder: the applicant's own card matches both
        "结婚证": marriage["code"],
    }
    assert (
        api.get(
            "/api/v1/licences/reusable",
            as_="operator",
            params={"item": "wjw-birth-medical-certificate", "holder_id": mother},
        ).status_code
        == 403
    )

    with rt.db.write() as s:
        assert service.record_use(
            s,
            licence_code=card["code"],
            item_code="wjw-birth-medical-certificate",
            material="母亲居民身份证",
            ref="HB-APP-7",
        )
        assert not service.record_use(
            s,
            licence_code=card["code"],
            item_code="wjw-birth-medical-certificate",
            material="母亲居民身份证",
            ref="HB-APP-7",
        )
    api.post(f"/api/v1/licences/{card['code']}/revoke", as_="h_gaj", json={"reason": "换领新证"})
    again = api.get(
        "/api/v1/licences/reusable",
        as_="h_wjw",
        params={"item": "wjw-birth-medical-certificate", "holder_id": mother},
    ).json()
    assert {m["material"] for m in again if m["reused"]} == {"结婚证"}
    m = api.get("/api/v1/licences/metrics", as_="supervisor").json()
    assert (m["licences"], m["revoked"], m["valid"], m["materials_reused"]) == (2, 1, 1, 1)


def test_cli_verifies_a_code_and_a_copy(api: Api, rt: Any, tmp_path: Any, monkeypatch: Any) -> None:
    import json

    from typer.testing import CliRunner

    from haoban import cli, cliutil

    monkeypatch.setattr(cliutil, "runtime", lambda *a, **k: rt)
    run = CliRunner()
    lic = _issue(api)
    r = run.invoke(cli.app, ["licences", "verify", lic["code"], "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["sha256"] == lic["sha256"]
    r = run.invoke(cli.app, ["licences", "verify", "ABCDEFGHJKMNPQRS"])
    assert r.exit_code == 1 and "unknown" in r.stdout
    doc = api.get(f"/api/v1/licences/{lic['code']}/document", as_="h_gaj").json()
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    bad.write_text(json.dumps({**doc, "holder_name": "李四"}, ensure_ascii=False), encoding="utf-8")
    assert run.invoke(cli.app, ["licences", "verify", "--document", str(good)]).exit_code == 0
    r = run.invoke(cli.app, ["licences", "verify", "--document", str(bad)])
    assert r.exit_code == 1 and "altered" in r.stdout
    r = run.invoke(cli.app, ["licences", "metrics"])
    assert r.exit_code == 0 and json.loads(r.stdout)["licences"] == 1


def test_a_number_of_our_own_that_is_taken_is_drawn_again(rt: Any, monkeypatch: Any) -> None:
    # Two codes sharing their first six characters would give the same number on the same day.
    drawn = iter(["ABCDEF2345678923", "ABCDEF9876543298", "XYZXYZ2345678923", "QRSTUV2345678923"])
    monkeypatch.setattr(service, "new_code", lambda: next(drawn))
    kw = {"kind": "wjw-birth-medical-certificate", "holder_name": "张小宝", "actor": SYSTEM_ACTOR}
    with rt.db.write() as s:
        first = service.issue(s, holder_id="430402202611300011", **kw)
        second = service.issue(s, holder_id="430402202611300022", **kw)
        assert first.number.endswith("ABCDEF") and second.number.endswith("XYZXYZ")
        assert second.code == "XYZXYZ2345678923"
        with pytest.raises(Conflict):  # a number the caller gives must be free
            service.issue(s, holder_id="430402202611300033", number=first.number, **kw)


def test_a_number_taken_in_the_register_or_still_pending_in_the_session_is_drawn_again(
    rt: Any, monkeypatch: Any
) -> None:
    # Pending licences (a bulk approval's earlier ones) are checked in the session, stored ones by query.
    drawn = iter(
        [
            "ABCDEF2345678923",  # stored
            "ZZZZZZ2345678923",  # the stored one asked again: this code is not used
            "ABCDEF9876543298",  # the stored number: drawn again
            "KLMNOP2345678923",  # pending
            "KLMNOP9876543298",  # the pending number: drawn again
            "QRSTUV2345678923",
            "WWWWWW2345678923",  # asked again: not used
            "XXXXXX2345678923",  # asked again for someone else: refused
        ]
    )
    monkeypatch.setattr(service, "new_code", lambda: next(drawn))
    kw = {"kind": "wjw-birth-medical-certificate", "holder_name": "张小宝", "actor": SYSTEM_ACTOR}
    with rt.db.write() as s:
        stored = service.issue(s, holder_id="430402202611300011", source_ref="A/1", **kw)
    with rt.db.write() as s:
        again = service.issue(s, holder_id="430402202611300011", source_ref="A/1", **kw)
        assert again.code == stored.code and again not in s.new  # the stored one, nothing new
        pending = service.issue(s, holder_id="430402202611300022", source_ref="A/2", **kw)
        assert pending.code == "KLMNOP2345678923" and pending in s.new
        later = service.issue(s, holder_id="430402202611300033", **kw)
        assert later.code == "QRSTUV2345678923"
        assert service.issue(s, holder_id="430402202611300022", source_ref="A/2", **kw) is pending
        with pytest.raises(Conflict):  # a pending step's licence, asked for someone else
            service.issue(s, holder_id="430402202611300044", source_ref="A/2", **kw)


def test_the_item_is_read_once_per_transaction_and_again_in_the_next(rt: Any) -> None:
    # A bulk approval issues one licence per task, mostly of the same item: the item is read once.
    from sqlalchemy import event

    from haoban.catalog.models import ServiceItem

    kw = {"kind": "wjw-birth-medical-certificate", "holder_name": "张小宝", "actor": SYSTEM_ACTOR}
    reads: list[str] = []

    def capture(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM catalog_items" in statement:
            reads.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", capture)
    try:
        with rt.db.write() as s:
            issued = [service.issue(s, holder_id=f"4304022026113000{i}1", **kw) for i in range(3)]
            assert {lic.item.code for lic in issued} == {"wjw-birth-medical-certificate"}
            assert len({lic.number for lic in issued}) == 3
        assert len(reads) == 1
        with rt.db.write() as s:  # a new transaction reads it again (and sees it withdrawn)
            s.execute(
                update(ServiceItem)
                .where(ServiceItem.code == "wjw-birth-medical-certificate")
                .values(active=False)
            )
        with rt.db.write() as s, pytest.raises(Invalid):
            service.issue(s, holder_id="430402202611300091", **kw)
        assert len(reads) == 2
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", capture)
    assert _count(rt) == 3


def test_codes_drawn_ahead_are_asked_in_one_query_and_used_only_when_free(rt: Any, monkeypatch: Any) -> None:
    # A bulk approval draws its licences' codes first and asks the register about all of them at once.
    from sqlalchemy import event

    drawn = iter(
        [
            "ABCDEF2345678923",  # stored as A/1
            "ZZZZZZ2345678923",  # A/1 again: issued already, not drawn
            "ABCDEF9876543298",  # A/2: the stored number, not drawn
            "KLMNOP2345678923",  # A/3: drawn
            "KLMNOP9876543298",  # A/4: A/3's number, not drawn
            "MMMMMM2345678923",  # A/5: drawn
            "MMMMMM9876543298",  # a licence without a step: A/5's number is taken, drawn again
            "QRSTUV2345678923",
            "WWWWWW2345678923",  # A/1 asked again by ``issue``: the stored one is returned
        ]
    )
    monkeypatch.setattr(service, "new_code", lambda: next(drawn))
    kw = {"kind": "wjw-birth-medical-certificate", "holder_name": "张小宝", "actor": SYSTEM_ACTOR}
    with rt.db.write() as s:
        stored = service.issue(s, holder_id="430402202611300011", source_ref="A/1", **kw)
    asked: list[str] = []

    def capture(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if "FROM licences" in statement:
            asked.append(statement)

    event.listen(rt.db.engine, "before_cursor_execute", capture)
    try:
        with rt.db.write() as s:
            wanted = [(kw["kind"], f"A/{i}") for i in range(1, 6)]
            assert service.draw_ahead(s, wanted) == 2
            assert len(asked) == 1
            assert service.issue(s, holder_id="430402202611300033", source_ref="A/3", **kw).code == (
                "KLMNOP2345678923"
            )
            assert len(asked) == 1  # taken as drawn: the register is not asked again
            other = service.issue(s, holder_id="430402202611300066", **kw)
            assert other.code == "QRSTUV2345678923"
            assert (
                service.issue(s, holder_id="430402202611300011", source_ref="A/1", **kw).code == stored.code
            )
            fifth = service.issue(s, holder_id="430402202611300055", source_ref="A/5", **kw)
            assert fifth.code == "MMMMMM2345678923"
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", capture)
    with rt.db.read() as s:
        codes = set(s.scalars(select(Licence.code)))
    assert codes == {stored.code, "KLMNOP2345678923", "QRSTUV2345678923", "MMMMMM2345678923"}


def test_held_reads_only_the_holder_s_licences_of_the_kinds_asked(rt: Any) -> None:
    # ``held`` is asked at every submission (inside its write transaction too): through an index of
    # the holder alone it read every licence the holder has and dropped those of other kinds.
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_args: Any) -> None:
        seen.append((statement, params))

    with rt.db.write() as session:
        bind = session.connection()
        event.listen(bind, "before_cursor_execute", capture)
        try:
            assert (
                service.held(session, holder_id=ID_CARD["holder_id"], kinds=["mzj-marriage-registration"])
                == {}
            )
        finally:
            event.remove(bind, "before_cursor_execute", capture)
        ((statement, params),) = [s for s in seen if "FROM licences" in s[0]]
        if bind.dialect.name == "sqlite":
            plan = " ".join(
                row[-1] for row in bind.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            )
            assert "ix_licences_holder_index_kind (holder_index=? AND kind=?)" in plan, plan
        else:
            indexes = {
                name: columns
                for name, columns in bind.exec_driver_sql(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'licences'"
                )
            }
            assert "(holder_index, kind)" in indexes["ix_licences_holder_index_kind"]
            assert "ix_licences_holder_index" not in indexes
