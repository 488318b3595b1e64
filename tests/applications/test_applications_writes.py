"""What a bulk approval writes inside its write transaction (on SQLite the write lock is held from the
first statement to the commit): the approval that completes applications prepares their deliveries,
and the one that registers births imports them for 免申即享, without flushing the whole transaction
once per application; the delivery still names every licence, the one issued in this very transaction
included."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from haoban.applications import bulk, service
from haoban.applications.materials import Upload
from haoban.applications.models import Application, ApplicationDelivery, ApplicationEvent, ApplicationTask
from haoban.auth.actors import CITIZEN_ACTOR
from haoban.benefits.models import BenefitImport, Resident
from haoban.benefits.sources import index_of
from haoban.licences.models import Licence
from haoban.notifications.models import OutboxMessage
from haoban.runtime import Runtime
from tests.applications.conftest import HANDLER, NEWBORN
from tests.applications.test_applications_bulk import AT, handler
from tests.applications.test_applications_inbox import PDF


def submit(rt: Runtime, n: int) -> str:
    """A newborn application whose applicant gives an ID number (so each approval issues a licence)."""
    uploads = {
        "parents_id_cards": Upload("parents_id_cards", "身份证.pdf", PDF + str(n).encode()),
        "household_register": Upload("household_register", "户口簿.pdf", PDF + b"h" + str(n).encode()),
    }
    with rt.db.write() as session:
        app, _ = service.submit(
            session,
            rt,
            bundle="newborn",
            form=NEWBORN["form"],
            applicant=service.Applicant("李娟", f"1381234{n:04d}", "430405199001011233"),
            actor=CITIZEN_ACTOR,
            uploads=uploads,
            now=AT,
        )
        return app.code


def drive(rt: Runtime, codes: list[str]) -> list[tuple[list[str], list[str], list[str]]]:
    """Every department accepts and approves its pending tasks of ``codes`` in bulk until they end; for
    each approval: the applications it approved a task of, those it completed, the statements it ran."""
    approvals = []
    now = AT
    while True:
        with rt.db.read() as session:
            pending = session.execute(
                select(Application.code, ApplicationTask.task_id)
                .join(Application, Application.id == ApplicationTask.application_id)
                .where(Application.code.in_(codes), ApplicationTask.status == "pending")
                .order_by(ApplicationTask.id)
            ).all()
        if not pending:
            return approvals
        now += timedelta(minutes=7)
        by_dept: dict[str, list[tuple[str, str]]] = {}
        for code, task_id in pending:
            by_dept.setdefault(HANDLER[task_id].removeprefix("h_"), []).append((code, task_id))
        for dept, tasks in by_dept.items():
            for action in ("accept", "approve"):
                items = [
                    bulk.BulkItem(c, t, NEWBORN["results"][t] if action == "approve" else None)
                    for c, t in tasks
                ]
                statements: list[str] = []

                def seen(
                    _conn: Any, _cursor: Any, statement: str, *_args: Any, out: list[str] = statements
                ) -> None:
                    out.append(" ".join(statement.split()))

                event.listen(rt.db.engine, "before_cursor_execute", seen)
                try:
                    with rt.db.write() as session:
                        done = bulk.act_many(
                            session, rt, action=action, items=items, actor=handler(rt, dept), now=now
                        )
                finally:
                    event.remove(rt.db.engine, "before_cursor_execute", seen)
                if action == "approve":
                    ended = sorted(o.code for o in done if o.status == "completed")
                    approvals.append((sorted({i.code for i in items}), ended, statements))


def test_the_approval_that_completes_applications_updates_each_once_and_delivers_every_licence(
    installed: Runtime,
) -> None:
    codes = [submit(installed, n) for n in (1, 2, 3)]
    approvals = drive(installed, codes)
    assert sorted(c for _, ended, _ in approvals for c in ended) == sorted(codes)
    for approved, ended, statements in approvals:
        if ended:
            app_updates = [s for s in statements if s.startswith("UPDATE applications ")]
            # One UPDATE of each application row, at commit (a flush per delivery made it two).
            assert len(app_updates) == len(approved), "\n".join(s[:90] for s in statements)
    with installed.db.read() as session:
        for code in codes:
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


def test_the_approval_that_registers_births_updates_each_application_once(installed: Runtime) -> None:
    codes = [submit(installed, n) for n in (1, 2, 3)]
    approvals = drive(installed, codes)
    births = [
        (approved, statements)
        for approved, _, statements in approvals
        if any(s.startswith("INSERT INTO benefit_imports ") for s in statements)
    ]
    assert births and sorted(c for approved, _ in births for c in approved) == sorted(codes)
    for approved, statements in births:
        app_updates = [s for s in statements if s.startswith("UPDATE applications ")]
        # One UPDATE of each application row, at commit (a flush per birth made it two).
        assert len(app_updates) == len(approved), "\n".join(s[:90] for s in statements)
        assert len([s for s in statements if s.startswith("INSERT INTO benefit_imports ")]) == len(approved)
    with installed.db.read() as session:
        child = NEWBORN["results"]["hukou"]["citizen_id_number"]
        assert session.scalar(select(Resident.id).where(Resident.id_index == index_of(session, child)))
        imports = session.execute(select(BenefitImport.rows, BenefitImport.inserted)).all()
        assert sorted(imports) == [(1, 0), (1, 0), (1, 1)]  # the child is born once, registered thrice
