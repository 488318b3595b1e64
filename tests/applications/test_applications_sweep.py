"""The sweep: engine timers raise 督办 on late tasks and the late bundle, 容缺 promises are chased,
and results are handed over at the window or posted with a tracking number."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from haoban.applications import access
from haoban.applications.sweep import sweep
from haoban.db import utcnow
from haoban.jobs.registry import run_once
from tests.applications.conftest import PNG, act, apply, finish


def _sweep(rt: Any, days: float) -> Any:
    with rt.db.write() as session:
        return sweep(session, rt, now=utcnow() + timedelta(days=days))


def _events(api: Any, code: str) -> list[dict[str, Any]]:
    return api.get(f"/api/v1/applications/{code}/events", as_="auditor").json()


def test_late_tasks_and_the_late_bundle_get_duban_once(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    assert run_once(installed, "applications.sweep")["ticked"] == 0  # nothing due yet
    first = _sweep(installed, 20)
    assert first.ticked == 1 and first.overdue == 1
    events = _events(api, code)
    duban = [e for e in events if e["action"] == "supervise"]
    # The birth certificate's BPMN timer fired (task 督办), and the bundle passed its promise.
    assert {e["task"] for e in duban} == {"birth_certificate", None}
    assert all(e["actor"].startswith("系统") for e in duban)
    detail = api.get(f"/api/v1/applications/{code}", as_="supervisor").json()
    assert detail["supervision_level"] == 1 and detail["tasks"][0]["supervision_level"] == 1
    assert detail["tasks"][0]["alert"] == "overdue"
    again = _sweep(installed, 21)
    assert (again.ticked, again.overdue, again.supervised) == (0, 0, 0)
    assert len(_events(api, code)) == len(events)


def test_tolerated_acceptance_is_watched_until_the_material_arrives(installed: Any, api: Any) -> None:
    code = apply(api).json()["code"]
    promised = (utcnow() + timedelta(days=2)).date()
    r = act(
        api,
        code,
        "birth_certificate",
        "accept_tolerated",
        material="marriage_certificate",
        promised_by=str(promised),
    )
    task = r["tasks"][0]
    assert task["status"] == "accepted" and task["tolerated_material"] == "marriage_certificate"
    # A material the item does not use, or a day already past, is refused.
    code2 = apply(api).json()["code"]
    bad = api.post(
        f"/api/v1/applications/{code2}/tasks/birth_certificate/accept_tolerated",
        as_="h_wjw",
        json={"material": "baby_photo", "promised_by": str(promised)},
    )
    assert bad.status_code == 422 and "material" in bad.json()["fields"]
    past = api.post(
        f"/api/v1/applications/{code2}/tasks/birth_certificate/accept_tolerated",
        as_="h_wjw",
        json={"material": "marriage_certificate", "promised_by": str(date(2020, 1, 1))},
    )
    assert past.status_code == 422 and "promised_by" in past.json()["fields"]
    assert _sweep(installed, 1).tolerated_overdue == 0
    late = _sweep(installed, 4)
    assert late.tolerated_overdue == 1
    assert any(e["action"] == "supervise" and e["payload"].get("tolerated") for e in _events(api, code))
    assert _sweep(installed, 5).tolerated_overdue == 0
    # The applicant brings it; the task hears of it.
    r = api.client.post(
        f"/api/v1/applications/{code}/materials",
        data={"data": json.dumps({"phone_last4": "5678"})},
        files=[("marriage_certificate", ("结婚证.png", PNG + b"2", "image/png"))],
    )
    assert r.status_code == 200, r.text
    assert any("容缺材料已补交" in e["text"] for e in r.json()["timeline"])
    wrong = api.client.post(
        f"/api/v1/applications/{code}/materials",
        data={"data": json.dumps({"phone_last4": "5678"})},
        files=[("household_register", ("户口簿.png", PNG, "image/png"))],
    )
    assert wrong.status_code == 422


def test_results_are_posted_with_a_tracking_number_or_handed_over_at_the_window(
    installed: Any, api: Any
) -> None:
    code = apply(api).json()["code"]
    for task in ("birth_certificate", "vaccination", "hukou", "insurance_enrolment", "insurance_payment"):
        finish(api, code, task)
    detail = finish(api, code, "social_security_card")
    (delivery,) = detail["deliveries"]
    assert delivery["method"] == "post" and delivery["tracking_no"].startswith("EMS")
    track = api.client.get(f"/api/v1/applications/{code}/track", params={"phone_last4": "5678"}).json()
    assert any(delivery["tracking_no"] in e["text"] for e in track["timeline"])
    # A department handler does not hand over; the supervisor gives the parcel to the courier once.
    url = f"/api/v1/applications/{code}/deliveries/{delivery['id']}/hand-over"
    assert api.post(url, as_="h_wjw").status_code == 403
    posted = api.post(url, as_="supervisor")
    assert posted.status_code == 200 and posted.json()["deliveries"][0]["status"] == "posted"
    assert api.post(url, as_="supervisor").status_code == 409
    with installed.db.read() as session:
        app = access.load(session, code)
        assert app is not None and app.visits == 0  # applied online, posted home: no trip
