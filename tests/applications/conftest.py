"""Fixtures for applications: the shipped bundles installed, a newborn application through the API,
and newborn applications driven to their end by bulk actions (``driven``), each approval's statements
recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from haoban.applications import bulk, registry, service
from haoban.applications.materials import Upload
from haoban.applications.models import Application, ApplicationTask
from haoban.auth.actors import CITIZEN_ACTOR, SYSTEM_ACTOR, Actor
from haoban.auth.roles import Role
from haoban.bundles.definitions import shipped_example
from haoban.runtime import Runtime

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
NEWBORN = shipped_example("newborn")
# Which demo account handles each newborn task.
HANDLER = {
    "birth_certificate": "h_wjw",
    "vaccination": "h_wjw",
    "hukou": "h_gaj",
    "social_security_card": "h_rsj",
    "insurance_enrolment": "h_ybj",
    "insurance_payment": "h_tax",
}
APPLICANT = {"name": "李娟", "phone": "13812345678", "id_number": "430405199001011233"}
AT = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def handler(rt: Runtime, dept: str) -> Actor:
    return Actor(
        id=None,
        username=f"h_{dept}",
        name=f"h_{dept}",
        role=Role.HANDLER,
        department_id=rt.directory.department(dept).id,
    )


@pytest.fixture
def installed(rt: Runtime) -> Runtime:
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    return rt


def newborn_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("parents_id_cards", ("身份证.pdf", PDF, "application/pdf")),
        ("household_register", ("户口簿.pdf", PDF + b"hh", "application/pdf")),
        ("marriage_certificate", ("结婚证.png", PNG, "image/png")),
    ]


def apply(
    api: Any, *, as_: str | None = None, form: dict | None = None, files: Any = None, **extra: Any
) -> Any:
    body = {"bundle": "newborn", "form": form or NEWBORN["form"], "applicant": APPLICANT, **extra}
    data = {"data": json.dumps(body, ensure_ascii=False)}
    files = newborn_files() if files is None else files
    if as_ is None:
        return api.client.post("/api/v1/applications", data=data, files=files)
    return api.client.post("/api/v1/applications", data=data, files=files, headers=api.headers(as_))


def act(
    api: Any, code: str, task: str, action: str, *, as_: str | None = None, expect: int = 200, **body: Any
) -> Any:
    r = api.post(f"/api/v1/applications/{code}/tasks/{task}/{action}", as_=as_ or HANDLER[task], json=body)
    assert r.status_code == expect, r.text
    return r.json()


def finish(api: Any, code: str, task: str) -> dict[str, Any]:
    act(api, code, task, "accept")
    return act(api, code, task, "approve", result=NEWBORN["results"][task])


def open_tasks(api: Any, code: str) -> dict[str, str]:
    detail = api.get(f"/api/v1/applications/{code}", as_="supervisor").json()
    return {t["task_id"]: t["status"] for t in detail["tasks"]}


def submit_newborn(
    rt: Runtime,
    n: int,
    *,
    at: datetime = AT,
    id_number: str | None = None,
    green_channel: str | None = None,
) -> str:
    """Newborn application number ``n`` (its uploads and phone differ by ``n``), submitted at ``at``;
    with ``id_number``, each approval issues a licence."""
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
            applicant=service.Applicant("李娟", f"1381234{n:04d}", id_number),
            actor=CITIZEN_ACTOR,
            uploads=uploads,
            green_channel=green_channel,
            now=at,
        )
        return app.code


def submit_with_id(rt: Runtime, n: int) -> str:
    """A newborn application whose applicant gives an ID number (so each approval issues a licence)."""
    return submit_newborn(rt, n, id_number="430405199001011233")


@dataclass
class Approval:
    """One bulk approval of ``drive``: the applications it approved a task of, those it completed,
    and the SQL statements it ran (whitespace folded)."""

    approved: list[str]
    ended: list[str]
    statements: list[str]


def drive(rt: Runtime, codes: list[str]) -> list[Approval]:
    """Every department accepts and approves its pending tasks of ``codes`` in bulk until they end."""
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
                    approvals.append(Approval(sorted({i.code for i in items}), ended, statements))


@dataclass
class Driven:
    rt: Runtime
    codes: list[str]
    approvals: list[Approval]


@pytest.fixture
def driven(installed: Runtime) -> Driven:
    """Three newborn applications (applicant with an ID number) driven to their end in bulk."""
    codes = [submit_with_id(installed, n) for n in (1, 2, 3)]
    return Driven(installed, codes, drive(installed, codes))
