"""Bulk actions of a department on its bundle tasks: each task exactly as one by one (transition,
deadlines, case file), all in one transaction — the first refusal names the task and nothing changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from haoban.applications import access, bulk, service
from haoban.applications.events import events_of
from haoban.applications.models import ApplicationEvent, ApplicationTask
from haoban.auth.actors import Actor
from haoban.auth.roles import Role
from haoban.errors import Conflict, Forbidden, Invalid
from haoban.runtime import Runtime
from tests.applications.conftest import AT, NEWBORN, handler
from tests.applications.test_applications_inbox import submit
from tests.web.test_pages_access import login

VOLATILE = {"licence", "number", "sha256", "delivery", "tracking_no", "materials"}


def case_file(rt: Runtime, code: str) -> tuple[list[Any], list[Any]]:
    """The application's events and task rows, without what differs by application (codes, numbers)."""
    with rt.db.read() as session:
        app = access.load(session, code)
        assert app is not None
        events = [
            (
                e.action,
                e.task_id,
                e.actor_name,
                e.at,
                e.from_status,
                e.to_status,
                {k: v for k, v in __import__("json").loads(e.payload).items() if k not in VOLATILE},
            )
            for e in events_of(session, app)
        ]
        tasks = [
            (t.task_id, t.status, t.ready_at, t.due_at, t.warn_at, t.accepted_at, t.finished_at, t.result)
            for t in access.tasks_of(session, app)
        ]
        return events, tasks


def counts(rt: Runtime) -> tuple[int, list[tuple[str, str]]]:
    with rt.db.read() as session:
        events = session.scalar(select(func.count(ApplicationEvent.id))) or 0
        tasks = session.execute(
            select(ApplicationTask.task_id, ApplicationTask.status).order_by(ApplicationTask.id)
        ).all()
        return events, [tuple(t) for t in tasks]


def test_a_bulk_action_does_exactly_what_one_by_one_does(installed: Runtime) -> None:
    one, two, three = (submit(installed, n, at=AT) for n in (1, 2, 3))
    wjw = handler(installed, "wjw")
    result = NEWBORN["results"]["birth_certificate"]
    later = AT + timedelta(hours=2)
    with installed.db.write() as session:
        for action, data in (
            ("accept", service.TaskAction()),
            ("approve", service.TaskAction(result=result)),
        ):
            service.act(
                session,
                installed,
                code=one,
                task_id="birth_certificate",
                action=action,
                data=data,
                actor=wjw,
                now=later,
            )
    with installed.db.write() as session:
        done = bulk.act_many(
            session,
            installed,
            action="accept",
            actor=wjw,
            now=later,
            items=[bulk.BulkItem(two, "birth_certificate"), bulk.BulkItem(three, "birth_certificate")],
        )
        assert [o.code for o in done] == sorted([two, three])
    with installed.db.write() as session:
        bulk.act_many(
            session,
            installed,
            action="approve",
            actor=wjw,
            now=later,
            result=result,
            items=[bulk.BulkItem(three, "birth_certificate"), bulk.BulkItem(two, "birth_certificate")],
        )
    expected = case_file(installed, one)
    assert [e[0] for e in expected[0]].count("ready") == 4  # three tasks handed out after the first
    assert case_file(installed, two) == expected
    assert case_file(installed, three) == expected


def test_the_first_refusal_names_the_task_and_nothing_is_done(installed: Runtime, api: Any) -> None:
    a, b, c = (submit(installed, n, at=AT) for n in (1, 2, 3))
    api.post(f"/api/v1/applications/{b}/tasks/birth_certificate/accept", as_="h_wjw")
    before = counts(installed)
    r = api.post(
        "/api/v1/application-tasks/bulk/accept",
        as_="h_wjw",
        json={"tasks": [{"application": x, "task_id": "birth_certificate"} for x in (c, b, a)]},
    )
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["failed"] == {"application": b, "task_id": "birth_certificate"}
    assert body["message"].startswith(f"{b}/birth_certificate: ")
    assert counts(installed) == before  # a was accepted before b failed: rolled back with the rest
    # Another department's task: 403, named; a task that does not exist: 404, named.
    r = api.post(
        "/api/v1/application-tasks/bulk/accept",
        as_="h_gaj",
        json={"tasks": [{"application": a, "task_id": "birth_certificate"}]},
    )
    assert r.status_code == 404 and r.json()["failed"]["application"] == a  # gaj cannot see it yet
    r = api.post(
        "/api/v1/application-tasks/bulk/accept",
        as_="h_wjw",
        json={
            "tasks": [
                {"application": a, "task_id": "birth_certificate"},
                {"application": a, "task_id": "nope"},
            ]
        },
    )
    assert r.status_code == 404 and r.json()["failed"] == {"application": a, "task_id": "nope"}
    assert counts(installed) == before
    # Approving a task that is not accepted yet, and an approval without a result: refused, named.
    r = api.post(
        "/api/v1/application-tasks/bulk/approve",
        as_="h_wjw",
        json={
            "tasks": [{"application": a, "task_id": "birth_certificate"}],
            "result": NEWBORN["results"]["birth_certificate"],
        },
    )
    assert r.status_code == 409 and r.json()["failed"]["application"] == a
    r = api.post(
        "/api/v1/application-tasks/bulk/approve",
        as_="h_wjw",
        json={"tasks": [{"application": b, "task_id": "birth_certificate"}]},
    )
    assert r.status_code == 422 and "result" in r.json()["fields"]
    # A bad result for one task (its own result laid over the template) fails the whole approval.
    api.post(f"/api/v1/applications/{a}/tasks/birth_certificate/accept", as_="h_wjw")
    before = counts(installed)
    r = api.post(
        "/api/v1/application-tasks/bulk/approve",
        as_="h_wjw",
        json={
            "tasks": [
                {"application": a, "task_id": "birth_certificate"},
                {"application": b, "task_id": "birth_certificate", "result": {"certificate_no": "bad"}},
            ],
            "result": NEWBORN["results"]["birth_certificate"],
        },
    )
    assert r.status_code == 422 and r.json()["failed"]["application"] == b, r.text
    assert counts(installed) == before
    # Only accept and approve; at most 200 at once; a task twice is refused.
    r = api.post(
        "/api/v1/application-tasks/bulk/reject",
        as_="h_wjw",
        json={"tasks": [{"application": a, "task_id": "birth_certificate"}]},
    )
    assert r.status_code == 422 and "action" in r.json()["fields"]
    many = [{"application": a, "task_id": f"t{i}"} for i in range(201)]
    assert (
        api.post("/api/v1/application-tasks/bulk/accept", as_="h_wjw", json={"tasks": many}).status_code
        == 422
    )
    twice = [{"application": c, "task_id": "birth_certificate"}] * 2
    r = api.post("/api/v1/application-tasks/bulk/accept", as_="h_wjw", json={"tasks": twice})
    assert r.status_code == 422 and "twice" in r.json()["message"]
    # And when every task may be done, all are.
    r = api.post(
        "/api/v1/application-tasks/bulk/approve",
        as_="h_wjw",
        json={
            "tasks": [{"application": x, "task_id": "birth_certificate"} for x in (a, b)],
            "result": NEWBORN["results"]["birth_certificate"],
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 2 and {d["application"] for d in r.json()["done"]} == {a, b}


def test_service_errors_keep_their_kind(installed: Runtime) -> None:
    a = submit(installed, 1, at=AT)
    with installed.db.write() as session, pytest.raises(Forbidden) as refused:
        bulk.act_many(
            session,
            installed,
            action="accept",
            actor=Actor(id=None, username="s", name="s", role=Role.SUPERVISOR),
            items=[bulk.BulkItem(a, "birth_certificate")],
        )
    assert refused.value.detail["failed"] == {"application": a, "task_id": "birth_certificate"}
    with installed.db.write() as session, pytest.raises(Invalid):
        bulk.act_many(session, installed, action="accept", actor=handler(installed, "wjw"), items=[])
    with installed.db.write() as session, pytest.raises(Conflict):
        bulk.act_many(
            session,
            installed,
            action="approve",
            actor=handler(installed, "wjw"),
            items=[bulk.BulkItem(a, "birth_certificate")],
            result={"certificate_no": "A123456789"},
        )
    assert bulk.fill({"n": "YB{code}-{task}", "k": 3}, code="BJ1", task_id="t") == {"n": "YBBJ1-t", "k": 3}


def test_the_inbox_accepts_and_approves_the_ticked_tasks_with_one_template(
    installed: Runtime, client: Any
) -> None:
    a, b = (submit(installed, n, at=AT) for n in (1, 2))
    login(client, "h_wjw")
    page = client.get("/inbox").text
    section = page[page.index('id="bundle-tasks"') :]
    assert f'value="{a}/birth_certificate"' in section and 'id="bt-bulk-accept"' in section
    r = client.post(
        "/inbox/bundle-tasks/bulk",
        data={"action": "accept", "tasks": [f"{a}/birth_certificate", f"{b}/birth_certificate"]},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "bt_done=2" in r.headers["location"]
    page = client.get(r.headers["location"]).text
    assert 'id="bt-done"' in page
    # The approval template: the item's result fields once, under its own prefix.
    section = page[page.index('id="bundle-tasks"') :]
    button = section[section.index('id="bt-bulk-approve-1"') - 200 :]
    key = button[button.index('value="approve:') + len('value="approve:') :].split('"', 1)[0]
    definition_id, task = key.split(":")
    assert task == "birth_certificate"
    prefix = f"tpl{definition_id}_birth_certificate"
    assert f'name="{prefix}.certificate_no"' in section
    # A template for another item is refused, naming the task; nothing is done.
    r = client.post(
        "/inbox/bundle-tasks/bulk",
        data={
            "action": f"approve:{definition_id}:vaccination",
            "tasks": [f"{a}/birth_certificate"],
            f"{prefix}.certificate_no": "A123456789",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "bt_failed" in r.headers["location"]
    failed = client.get(r.headers["location"]).text
    assert 'id="bt-failed"' in failed and f"{a}/birth_certificate" in failed
    r = client.post(
        "/inbox/bundle-tasks/bulk",
        data={
            "action": f"approve:{key}",
            "tasks": [f"{a}/birth_certificate", f"{b}/birth_certificate"],
            f"{prefix}.certificate_no": "A123456789",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "bt_done=2" in r.headers["location"], r.headers["location"]
    # ybj approves its insurance enrolments with one template whose {code} gives each its own number.
    for code in (a, b):
        with installed.db.write() as session:
            service.act(
                session,
                installed,
                code=code,
                task_id="insurance_enrolment",
                action="accept",
                data=service.TaskAction(),
                actor=handler(installed, "ybj"),
            )
    login(client, "h_ybj")
    page = client.get("/inbox").text
    key = page[page.index('value="approve:') + len('value="approve:') :].split('"', 1)[0]
    prefix = "tpl" + key.replace(":", "_")
    r = client.post(
        "/inbox/bundle-tasks/bulk",
        data={
            "action": f"approve:{key}",
            "tasks": [f"{a}/insurance_enrolment", f"{b}/insurance_enrolment"],
            f"{prefix}.insured_no": "YB{code}",
            f"{prefix}.annual_contribution_fen": "38000",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and "bt_done=2" in r.headers["location"], r.headers["location"]
    for code in (a, b):
        tasks = {t[0]: t for t in case_file(installed, code)[1]}
        assert f'"insured_no": "YB{code}"' in tasks["insurance_enrolment"][7]
    # Nothing ticked: told so.
    r = client.post("/inbox/bundle-tasks/bulk", data={"action": "accept"}, follow_redirects=False)
    assert "bt_failed" in r.headers["location"]
