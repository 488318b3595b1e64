"""Applications over the API: one submission, departments act on their own tasks, results delivered."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from haoban.applications.events import verify_all
from tests.applications.conftest import HANDLER, NEWBORN, act, apply, finish, open_tasks


def test_newborn_one_submission_six_tasks_four_departments_ends_with_delivery(
    installed: Any, api: Any
) -> None:
    r = apply(api)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    assert r.json()["status"] == "running"
    assert open_tasks(api, code) == {"birth_certificate": "pending"}
    finish(api, code, "birth_certificate")
    tasks = open_tasks(api, code)
    assert tasks["birth_certificate"] == "approved"
    assert {t for t, s in tasks.items() if s == "pending"} == {"vaccination", "hukou", "insurance_enrolment"}
    order = ["vaccination", "hukou", "insurance_enrolment", "insurance_payment", "social_security_card"]
    for task in order:
        finish(api, code, task)
    # Results carry ID numbers: asked for in full (the view is recorded; masked by default).
    detail = api.get(f"/api/v1/applications/{code}", as_="supervisor", params={"reveal": "true"}).json()
    assert detail["status"] == "completed"
    assert len(detail["tasks"]) == 6 and {t["status"] for t in detail["tasks"]} == {"approved"}
    assert len({t["department"] for t in detail["tasks"]}) >= 4
    (delivery,) = detail["deliveries"]
    assert delivery["method"] == "post" and "东风南路" in delivery["address"]
    assert {i["task_id"] for i in delivery["items"]} == set(HANDLER)
    # Data produced by a finished item reached the items after it.
    hukou = next(t for t in detail["tasks"] if t["task_id"] == "hukou")
    assert hukou["result"]["citizen_id_number"] == NEWBORN["results"]["hukou"]["citizen_id_number"]
    track = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "5678"}).json()
    assert track["status"] == "completed" and any("统一出件" in e["text"] for e in track["timeline"])
    events = api.get(f"/api/v1/applications/{code}/events", as_="auditor").json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["prev_hash"] == p["hash"] for p, e in pairwise(events))
    with installed.db.read() as session:
        assert verify_all(session) == (1, [])


def test_a_task_is_never_handed_out_before_what_it_depends_on(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    # hukou does not exist yet: its department cannot even see the application.
    act(api, code, "hukou", "accept", expect=404)
    finish(api, code, "birth_certificate")
    finish(api, code, "hukou")
    # social_security_card needs hukou (done); insurance_payment needs insurance_enrolment (not done).
    tasks = open_tasks(api, code)
    assert tasks["social_security_card"] == "pending" and "insurance_payment" not in tasks
    act(api, code, "insurance_enrolment", "accept")
    act(api, code, "insurance_payment", "accept", expect=404)  # the tax bureau has no task yet


def test_a_department_acts_only_on_its_own_tasks(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    finish(api, code, "birth_certificate")
    # gaj can see the application (it has a task) but not act on the health commission's task.
    r = api.post(f"/api/v1/applications/{code}/tasks/vaccination/accept", as_="h_gaj", json={})
    assert r.status_code == 403
    # A department with no task in this application does not see it at all.
    assert api.get(f"/api/v1/applications/{code}", as_="h_cgj").status_code == 404
    inbox = api.get("/api/v1/application-tasks", as_="h_gaj").json()
    assert [t["task_id"] for t in inbox["items"]] == ["hukou"]
    assert {t["department"] for t in api.get("/api/v1/application-tasks", as_="h_wjw").json()["items"]} == {
        "wjw"
    }
    # Operators see but a call-centre role does not handle department tasks.
    r = api.post(f"/api/v1/applications/{code}/tasks/hukou/accept", as_="operator", json={})
    assert r.status_code == 403
    # Approving needs acceptance first; the answer names the allowed actions.
    r = api.post(
        f"/api/v1/applications/{code}/tasks/hukou/approve",
        as_="h_gaj",
        json={"result": NEWBORN["results"]["hukou"]},
    )
    assert r.status_code == 409 and "accept" in r.json()["allowed_actions"]


def test_the_applicant_sees_only_their_own_application(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    assert (
        api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "0000"}).status_code
        == 404
    )
    assert api.client.get(f"/api/v1/applications/{code}").status_code == 401
    ok = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "5678"})
    assert ok.status_code == 200 and ok.json()["code"] == code
    assert "handled_by" not in str(ok.json()) and "李娟" not in str(ok.json()["timeline"])


def test_rejection_keeps_the_other_results(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    finish(api, code, "birth_certificate")
    finish(api, code, "vaccination")
    act(api, code, "hukou", "reject", reason="落户地址与户口簿不符")
    tasks = open_tasks(api, code)
    assert tasks["hukou"] == "rejected" and tasks["social_security_card"] == "skipped"
    finish(api, code, "insurance_enrolment")
    finish(api, code, "insurance_payment")
    detail = api.get(f"/api/v1/applications/{code}", as_="supervisor").json()
    assert detail["status"] == "partially_completed"
    done = {t["task_id"]: t for t in detail["tasks"]}
    assert done["birth_certificate"]["result"] == NEWBORN["results"]["birth_certificate"]
    assert done["hukou"]["reason"] == "落户地址与户口簿不符"
    (delivery,) = detail["deliveries"]
    assert {i["task_id"] for i in delivery["items"]} == {
        "birth_certificate",
        "vaccination",
        "insurance_enrolment",
        "insurance_payment",
    }
