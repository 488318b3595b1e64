"""The task table pinned, and every (task action, task state, staff member) through the API.

``SPEC`` is the department-task table written out by hand (as ``tests/orders/test_workflow_matrix.py``
does for orders): a change to ``haoban.applications.workflow`` not also made here fails
``test_the_task_table_is_the_spec``. The matrix then asks the API for every public action on a task in
each state it can be acted on, as every kind of staff member: a department that has no task in the
application does not see it (404); a role or department that may not act is refused (403); a state the
action does not start from is a conflict (409); a refused action changes nothing — not the task, not
the application, not the case file. The one allowed actor then moves the task where the table says.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from haoban.applications import workflow
from haoban.applications.models import Application, ApplicationEvent, ApplicationTask
from tests.applications.conftest import APPLICANT, NEWBORN, act, apply, finish

# action: (from states, to state (None: stays), roles, own department only)
SPEC: dict[str, tuple[set[str], str | None, set[str], bool]] = {
    "accept": ({"pending"}, "accepted", {"handler"}, True),
    "accept_tolerated": ({"pending"}, "accepted", {"handler"}, True),
    "request_correction": ({"pending", "accepted"}, "correction", {"handler"}, True),
    "approve": ({"accepted"}, "approved", {"handler"}, True),
    "reject": ({"pending", "accepted"}, "rejected", {"handler"}, True),
    "supervise": ({"pending", "accepted", "correction"}, None, {"supervisor", "admin"}, False),
}
# The task under test is 户口登记 (public security, gaj). Staff: (username, role, sees the application).
STAFF = [
    ("h_gaj", "handler", True),  # the task's own department
    ("h_wjw", "handler", True),  # another department with tasks in the same application
    ("h_cgj", "handler", False),  # a department with no task in it
    ("operator", "operator", True),
    ("dispatcher", "dispatcher", True),
    ("supervisor", "supervisor", True),
    ("admin", "admin", True),
    ("auditor", "auditor", True),
    ("window", "window", True),
]
BODIES: dict[str, dict[str, Any]] = {
    "accept": {},
    "accept_tolerated": {
        "material": "household_register",
        "promised_by": (date.today() + timedelta(days=5)).isoformat(),
    },
    "request_correction": {"fields": ["baby.name"], "reason": "姓名与出生医学证明不一致"},
    "approve": {"result": NEWBORN["results"]["hukou"]},
    "reject": {"reason": "不符合落户条件"},
    "supervise": {"note": "请加快办理"},
}


def test_the_task_table_is_the_spec() -> None:
    table = {
        m.action: (
            {s.value for s in m.sources if s is not None},
            m.target.value if m.target else None,
            {str(r) for r in m.roles} - {"system"},
            m.own_department,
        )
        for m in workflow.TASK_MOVES
        if not m.internal
    }
    assert table == SPEC
    assert set(workflow.PUBLIC_TASK_ACTIONS) == set(SPEC)


def _state(rt: Any, code: str) -> tuple[str, str, int]:
    with rt.db.read() as session:
        app = session.scalars(select(Application).where(Application.code == code)).one()
        task = session.scalars(
            select(ApplicationTask).where(
                ApplicationTask.application_id == app.id, ApplicationTask.task_id == "hukou"
            )
        ).one()
        events = session.scalar(
            select(func.count())
            .select_from(ApplicationEvent)
            .where(ApplicationEvent.application_id == app.id)
        )
        return task.status, app.status, events or 0


def _expected(action: str, situation: str, username: str, role: str, sees: bool) -> int:
    sources, _target, roles, own = SPEC[action]
    if not sees:
        return 404
    if role not in roles or (own and username != "h_gaj"):
        return 403
    if situation not in sources:
        return 409
    return 200


@pytest.mark.parametrize("situation", ["pending", "accepted", "correction"])
@pytest.mark.parametrize("action", sorted(SPEC))
def test_every_action_in_every_state_as_every_staff_member(
    installed: Any, api: Any, action: str, situation: str
) -> None:
    code = apply(api).json()["code"]
    finish(api, code, "birth_certificate")
    if situation == "accepted":
        act(api, code, "hukou", "accept")
    elif situation == "correction":
        act(api, code, "hukou", "request_correction", **BODIES["request_correction"])
    before = _state(installed, code)
    assert before[0] == situation
    allowed = []
    for username, role, sees in STAFF:
        expected = _expected(action, situation, username, role, sees)
        if expected == 200:
            allowed.append(username)
            continue
        r = api.post(f"/api/v1/applications/{code}/tasks/hukou/{action}", as_=username, json=BODIES[action])
        assert r.status_code == expected, (username, r.text)
        assert _state(installed, code) == before, username  # refused: nothing changed
    _sources, target, _roles, _own = SPEC[action]
    for username in allowed:
        r = api.post(f"/api/v1/applications/{code}/tasks/hukou/{action}", as_=username, json=BODIES[action])
        assert r.status_code == 200, (username, r.text)
        status, _app_status, events = _state(installed, code)
        assert status == (target or situation) and events > before[2]


def test_an_applicant_sees_and_changes_only_their_own_application(installed: Any, api: Any) -> None:
    mine = apply(api).json()["code"]
    other = apply(api, applicant={**APPLICANT, "name": "赵敏", "phone": "13900001111"}).json()["code"]
    get = api.client.get
    assert get(f"/api/v1/applications/{mine}/track", params={"phone_last4": "5678"}).status_code == 200
    assert get(f"/api/v1/applications/{other}/track", params={"phone_last4": "5678"}).status_code == 404
    assert get(f"/api/v1/applications/{other}/track", params={"phone_last4": "1111"}).status_code == 200
    # Withdrawing someone else's application with one's own digits is refused, and changes nothing.
    before = _state_app(installed, other)
    r = api.client.post(
        f"/api/v1/applications/{other}/withdraw", json={"reason": "不办了", "phone_last4": "5678"}
    )
    assert r.status_code == 404 and _state_app(installed, other) == before
    r = api.client.post(
        f"/api/v1/applications/{mine}/withdraw", json={"reason": "不办了", "phone_last4": "5678"}
    )
    assert r.status_code == 200 and _state_app(installed, mine)[0] == "withdrawn"
    # Staff lists are scoped too: the volunteer who filed nothing sees nothing.
    assert api.get("/api/v1/applications", as_="volunteer").json()["total"] == 0
    assert api.get("/api/v1/applications", as_="supervisor").json()["total"] == 2


def _state_app(rt: Any, code: str) -> tuple[str, int]:
    with rt.db.read() as session:
        app = session.scalars(select(Application).where(Application.code == code)).one()
        return app.status, app.event_count
