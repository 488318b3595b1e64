"""The case file's events wait in the session and go out in one INSERT per flush: the chain is the one
``orders.events.append_chained`` writes, a query in the same transaction sees them, a rollback (or a
savepoint's) drops them. A citizen's application never looks for a partner region's case."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from haoban.applications import access, bulk, events, service
from haoban.applications.events import events_of, verify_all
from haoban.applications.models import Application, ApplicationEvent
from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.auth.roles import Role
from haoban.errors import NotFound
from haoban.federation import service as federation
from haoban.orders.events import append_chained
from haoban.runtime import Runtime
from tests.applications.conftest import AT, HANDLER, NEWBORN
from tests.applications.conftest import handler as department_handler
from tests.applications.conftest import submit_with_id as submit


def handler(rt: Runtime, task_id: str) -> Actor:
    """The handler of ``task_id``'s department."""
    return department_handler(rt, HANDLER[task_id].removeprefix("h_"))


class Statements:
    def __init__(self, rt: Runtime) -> None:
        self.seen: list[str] = []
        self.engine = rt.db.engine

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on)

    def _on(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(" ".join(statement.split()))

    def count(self, prefix: str) -> int:
        return sum(s.startswith(prefix) for s in self.seen)


def pending(rt: Runtime, codes: list[str]) -> list[tuple[str, str]]:
    with rt.db.read() as session:
        return [
            (app.code, t.task_id)
            for code in codes
            for app in [access.load(session, code)]
            for t in access.tasks_of(session, app)
            if t.status == "pending"
        ]


def test_bulk_actions_write_each_flush_of_events_in_one_insert_and_every_chain_verifies(
    installed: Runtime,
) -> None:
    codes = [submit(installed, n) for n in range(3)]
    now = AT
    while todo := pending(installed, codes):
        now += timedelta(minutes=7)
        by_task: dict[str, list[str]] = {}
        for code, task_id in todo:
            by_task.setdefault(task_id, []).append(code)
        for task_id, on in by_task.items():
            for action in ("accept", "approve"):
                items = [
                    bulk.BulkItem(c, task_id, NEWBORN["results"][task_id] if action == "approve" else None)
                    for c in on
                ]
                with Statements(installed) as seen, installed.db.write() as session:
                    bulk.act_many(
                        session,
                        installed,
                        action=action,
                        items=items,
                        actor=handler(installed, task_id),
                        now=now,
                    )
                inserts = seen.count("INSERT INTO application_events")
                flushes = seen.count("UPDATE applications SET") + seen.count("INSERT INTO applications")
                # One multi-row INSERT per flush that had events waiting, never one per event.
                assert 1 <= inserts <= max(1, flushes)
    with installed.db.read() as session:
        apps = session.scalars(select(Application).where(Application.code.in_(codes))).all()
        assert {a.status for a in apps} == {"completed"}
        assert verify_all(session) == (3, [])
        for app in apps:
            stored = events_of(session, app)
            assert [e.seq for e in stored] == list(range(1, app.event_count + 1))
            assert stored[-1].hash == app.last_hash


def test_the_rows_are_those_the_shared_chain_writer_writes(installed: Runtime) -> None:
    code = submit(installed, 1)
    with installed.db.write() as session:
        app = access.load(session, code)
        assert app is not None
        count, head = app.event_count, app.last_hash
        fields = dict(
            action="note_test",
            actor=SYSTEM_ACTOR,
            from_status="running",
            to_status="running",
            payload={"note": "一", "n": 2},
            at=AT,
        )
        appended = events.append(session, app, **fields)
        mine = session.info[events._PENDING][-1]
        # The ORM writer, on a copy of the head as it was.
        copy = Application(id=app.id, code=app.code, event_count=count, last_hash=head)
        theirs = append_chained(session, copy, ApplicationEvent, owner="application_id", **fields)
        session.expunge(theirs)
        for column in (
            "seq",
            "action",
            "actor_name",
            "actor_role",
            "at",
            "from_status",
            "to_status",
            "payload",
            "prev_hash",
            "hash",
        ):
            assert mine[column] == getattr(theirs, column), column
        assert appended.hash == app.last_hash == theirs.hash
        # A query in the same transaction sees the event that was waiting.
        assert events_of(session, app)[-1].hash == appended.hash
    with installed.db.read() as session:
        assert verify_all(session) == (1, [])


def test_a_rollback_drops_the_waiting_events_with_the_rest(installed: Runtime) -> None:
    code = submit(installed, 1)
    with installed.db.read() as session:
        before = session.scalar(select(func.count(ApplicationEvent.id)))
    accept = bulk.BulkItem(code, "birth_certificate")
    later = bulk.BulkItem(code, "vaccination")  # no such task yet: refused after the first was done
    with pytest.raises(NotFound), installed.db.write() as session:
        bulk.act_many(
            session,
            installed,
            action="accept",
            items=[accept, later],
            actor=handler(installed, "birth_certificate"),
            now=AT,
        )
    with installed.db.write() as session:
        app = access.load(session, code)
        assert app is not None
        with pytest.raises(RuntimeError), session.begin_nested():
            events.append(
                session,
                app,
                action="note_test",
                actor=SYSTEM_ACTOR,
                from_status=app.status,
                to_status=app.status,
                payload={},
                at=AT,
            )
            raise RuntimeError("the savepoint rolls back")
        assert events._PENDING not in session.info
    with installed.db.read() as session:
        assert session.scalar(select(func.count(ApplicationEvent.id))) == before
        assert verify_all(session) == (1, [])
    with installed.db.write() as session:
        bulk.act_many(
            session,
            installed,
            action="accept",
            items=[accept],
            actor=handler(installed, "birth_certificate"),
            now=AT,
        )
    with installed.db.read() as session:
        assert session.scalar(select(func.count(ApplicationEvent.id))) == before + 1
        assert verify_all(session) == (1, [])


def test_only_what_the_federation_registers_can_answer_a_partner(installed: Runtime) -> None:
    code = submit(installed, 1)
    with installed.db.read() as session:
        app = access.load(session, code)
        assert app is not None
        assert not federation.may_answer_partner(app.submitted_by_id, app.submitted_by_name)
    assert federation.may_answer_partner(None, federation.PARTNER_SUBMITTER.name)
    clerk = Actor(id=7, username="w", name=federation.PARTNER_SUBMITTER.name, role=Role.WINDOW)
    assert not federation.may_answer_partner(clerk.id, clerk.name)
    # So a citizen's application never asks for a partner's case on its steps.
    with Statements(installed) as seen, installed.db.write() as session:
        service.act(
            session,
            installed,
            code=code,
            task_id="birth_certificate",
            action="accept",
            data=service.TaskAction(),
            actor=handler(installed, "birth_certificate"),
            now=AT,
        )
    assert not [s for s in seen.seen if "federation_cases" in s]
