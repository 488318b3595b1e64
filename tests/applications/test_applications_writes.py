"""What a bulk approval writes inside its write transaction (on SQLite the write lock is held from the
first statement to the commit): the approval that completes applications prepares their deliveries,
and the one that registers births imports them for 免申即享, without flushing the whole transaction
once per application; the delivery still names every licence, the one issued in this very transaction
included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications.models import Application, ApplicationDelivery, ApplicationEvent, ApplicationTask
from haoban.benefits.models import BenefitImport, Resident
from haoban.benefits.sources import index_of
from haoban.licences.models import Licence
from haoban.notifications.models import OutboxMessage
from haoban.runtime import Runtime
from tests.applications.conftest import NEWBORN, Driven, drive, submit_with_id


def test_the_approval_that_completes_applications_updates_each_once_and_delivers_every_licence(
    driven: Driven,
) -> None:
    assert sorted(c for a in driven.approvals for c in a.ended) == sorted(driven.codes)
    for a in driven.approvals:
        if a.ended:
            app_updates = [s for s in a.statements if s.startswith("UPDATE applications ")]
            # One UPDATE of each application row, at commit (a flush per delivery made it two).
            assert len(app_updates) == len(a.approved), "\n".join(s[:90] for s in a.statements)
    with driven.rt.db.read() as session:
        for code in driven.codes:
            app = session.scalar(select(Application).where(Application.code == code))
            assert app is not None and app.status == "completed"
            licences = dict(
                session.execute(
                    select(Licence.source_ref, Licence.code).where(Licence.source_ref.like(f"{code}/%"))
                ).all()
            )
            assert len(licences) >= 1
            (delivery,) = session.scalars(
                select(ApplicationDelivery).where(ApplicationDelivery.application_id == app.id)
            ).all()
            items = json.loads(delivery.items)
            assert {f"{code}/{i['task_id']}": i["licence"] for i in items if i["licence"]} == licences
            prepared = session.scalar(
                select(ApplicationEvent.payload).where(
                    ApplicationEvent.application_id == app.id, ApplicationEvent.action == "delivery_prepared"
                )
            )
            assert prepared is not None
            assert json.loads(prepared)["delivery"] == delivery.id
            assert session.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.dedupe_key == f"app-delivery:{code}:{delivery.id}"
                )
            )


def test_the_approval_that_registers_births_updates_each_application_once(driven: Driven) -> None:
    births = [
        (a.approved, a.statements)
        for a in driven.approvals
        if any(s.startswith("INSERT INTO benefit_imports ") for s in a.statements)
    ]
    assert births and sorted(c for approved, _ in births for c in approved) == sorted(driven.codes)
    for approved, statements in births:
        app_updates = [s for s in statements if s.startswith("UPDATE applications ")]
        # One UPDATE of each application row, at commit (a flush per birth made it two).
        assert len(app_updates) == len(approved), "\n".join(s[:90] for s in statements)
        assert len([s for s in statements if s.startswith("INSERT INTO benefit_imports ")]) == len(approved)
    with driven.rt.db.read() as session:
        child = NEWBORN["results"]["hukou"]["citizen_id_number"]
        assert session.scalar(select(Resident.id).where(Resident.id_index == index_of(session, child)))
        imports = session.execute(select(BenefitImport.rows, BenefitImport.inserted)).all()
        assert sorted(imports) == [(1, 0), (1, 0), (1, 1)]  # the child is born once, registered thrice


def test_a_bulk_approval_issues_its_licences_with_one_register_query_and_one_insert(driven: Driven) -> None:
    issuing = [
        a for a in driven.approvals if any(s.startswith("INSERT INTO licences ") for s in a.statements)
    ]
    assert len(issuing) == 6  # every newborn item yields a licence: one approval per task, each of three
    for a in issuing:
        assert len(a.approved) == 3
        inserts = [s for s in a.statements if s.startswith("INSERT INTO licences ")]
        # One INSERT of the three licences (on SQLite each was its own INSERT ... RETURNING).
        assert len(inserts) == 1, "\n".join(s[:90] for s in a.statements)
        # One question to the register for the three codes and numbers drawn (it was one each).
        drawn = [
            s
            for s in a.statements
            if s.startswith("SELECT licences.source_ref, licences.code, licences.item_id")
        ]
        assert len(drawn) == 1
        assert not [s for s in a.statements if "WHERE licences.code = " in s]
    with driven.rt.db.read() as session:
        rows = session.execute(select(Licence.source_ref, Licence.code, Licence.number)).all()
    assert len(rows) == 18 and len({r.code for r in rows}) == 18 and len({r.number for r in rows}) == 18
    assert {r.source_ref for r in rows} == {f"{c}/{t}" for c in driven.codes for t in NEWBORN["results"]}


def test_issuing_a_bulk_approval_s_licences_does_not_scan_the_session_once_per_licence(
    installed: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``session.new`` lists every object the transaction has not written yet: asking it for each
    # licence (and each delivery) made a bulk approval's issuing quadratic in its size.
    asked = {"n": 0}
    new = Session.new

    def counted(self: Session) -> Any:
        asked["n"] += 1
        return new.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(Session, "new", property(counted))
    counts = []
    for numbers in ((1,), (2, 3, 4)):
        codes = [submit_with_id(installed, n) for n in numbers]
        asked["n"] = 0
        drive(installed, codes)
        counts.append(asked["n"])
    assert counts[0] == counts[1], counts


def test_a_bulk_approval_writes_the_task_rows_it_hands_out_in_one_insert(driven: Driven) -> None:
    handing_out = [
        a
        for a in driven.approvals
        if any(s.startswith("INSERT INTO application_tasks ") for s in a.statements)
    ]
    assert handing_out and any(len(a.approved) == 3 for a in handing_out)
    for a in handing_out:
        inserts = [s for s in a.statements if s.startswith("INSERT INTO application_tasks ")]
        # One INSERT of every new task row (on SQLite it was one INSERT ... RETURNING each).
        assert len(inserts) == 1, "\n".join(s[:90] for s in a.statements)
    with driven.rt.db.read() as session:
        rows = session.execute(
            select(Application.code, ApplicationTask.id, ApplicationTask.task_id).join(
                Application, Application.id == ApplicationTask.application_id
            )
        ).all()
    assert sorted((r.code, r.task_id) for r in rows) == sorted(
        (c, t) for c in driven.codes for t in NEWBORN["results"]
    )
    assert len({r.id for r in rows}) == len(rows)
