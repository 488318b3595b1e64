"""多地联办 on two live instances: one application at 衡阳 whose first task (新办纳税人涉税事项) is 来宾's.
The task goes out when it is handed out; 来宾 registers it as one of its own department's tasks; 来宾's
handler accepts and approves it from the usual API; the result comes back and completes 衡阳's task,
the next (local) task is handed out, and the application completes when both regions' tasks are done.
Both case files and both timelines record the exchange; the dashboard counts the case per partner and
mode. A task no agreement covers in mode joint is refused before anything is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from haoban.applications import registry
from haoban.applications import service as applications_service
from haoban.applications.models import Application, ApplicationEvent
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.bundles.definitions import DefinitionError
from haoban.federation import joint, service
from haoban.federation.models import CrossCase, OutboxEntry
from tests.federation.conftest import Instance

REMOTE_ITEM = "tax-new-taxpayer-invoice"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

BPMN = """<?xml version='1.0' encoding='UTF-8'?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
 xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="jt_defs"
 targetNamespace="https://haoban.example/jt">
  <bpmn:process id="jt" name="异地开办" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="invoice" name="新办纳税人涉税事项（来宾）">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="item" value="tax-new-taxpayer-invoice"/>
        <spiffworkflow:property name="department" value="tax"/>
        <spiffworkflow:property name="promise" value="2 working_days"/>
        <spiffworkflow:property name="name_en" value="Taxpayer registration (Laibin)"/>
        <spiffworkflow:property name="region" value="{region}"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="seal" name="公章刻制备案">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="item" value="gaj-official-seal-engraving"/>
        <spiffworkflow:property name="department" value="gaj"/>
        <spiffworkflow:property name="promise" value="1 working_days"/>
        <spiffworkflow:property name="name_en" value="Seal filing"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="invoice"/>
    <bpmn:sequenceFlow id="f2" sourceRef="invoice" targetRef="seal"/>
    <bpmn:sequenceFlow id="f3" sourceRef="seal" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""
FORM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["company"],
    "properties": {
        "company": {
            "type": "object",
            "title": "企业",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {"name": {"type": "string", "minLength": 2, "title": "企业名称"}},
        }
    },
}
MAPPING = {
    "tasks": {
        "invoice": {
            "inputs": {"company_name": "form.company.name"},
            "materials": ["licence_copy"],
            "result_schema": {"type": "object", "required": ["outcome"]},
        },
        "seal": {
            "inputs": {"company_name": "form.company.name"},
            "result_schema": {"type": "object", "required": ["seal_filing_no"]},
        },
    }
}
META = {
    "code": "joint_startup",
    "name": "异地开办（多地联办）",
    "name_en": "Starting a business in two regions",
    "description": "营业地在来宾、注册地在衡阳",
    "promise": "5 working_days",
    "materials": [
        {"key": "licence_copy", "name": "营业执照副本", "name_en": "Licence copy", "required": True}
    ],
}


def _install(inst: Instance, *, region: str) -> None:
    files = {
        "process.bpmn": BPMN.replace("{region}", region).encode(),
        "form.schema.json": json.dumps(FORM, ensure_ascii=False).encode(),
        "mapping.yaml": yaml.safe_dump(MAPPING, allow_unicode=True).encode(),
        "bundle.yaml": yaml.safe_dump(META, allow_unicode=True).encode(),
    }
    with inst.rt.db.write() as session:
        registry.upload(session, inst.rt, files=files, actor=SYSTEM_ACTOR)


def _apply(inst: Instance) -> Any:
    body = {
        "bundle": "joint_startup",
        "form": {"company": {"name": "衡来商贸有限公司"}},
        "applicant": {"name": "王强", "phone": "13912345678"},
    }
    return inst.call(
        "POST",
        "/api/v1/applications",
        as_="window",
        data={"data": json.dumps(body, ensure_ascii=False)},
        files=[("licence_copy", ("执照.pdf", PDF, "application/pdf"))],
    )


def _timeline(inst: Instance, key: str) -> list[tuple[str, str]]:
    with inst.rt.db.read() as session:
        case = session.scalar(select(CrossCase).where(CrossCase.case_key == key))
        assert case is not None
        return [(e["side"], e["what"]) for e in service.timeline(session, case)]


def _send(inst: Instance) -> None:
    joint.send_waiting(inst.rt)
    inst.deliver()


def test_one_application_with_tasks_in_two_regions(cities: tuple[Instance, Instance]) -> None:
    hengyang, laibin = cities
    _install(hengyang, region=laibin.region)
    # No agreement covers the item in mode joint yet: the application is refused, nothing written.
    refused = _apply(hengyang)
    assert refused.status_code == 422 and "agreement" in refused.json()["message"], refused.text
    with hengyang.rt.db.read() as session:
        assert session.scalar(select(func.count(Application.id))) == 0
    hengyang.partner_with(laibin, items=[REMOTE_ITEM], modes=["joint"])
    laibin.partner_with(hengyang, items=[REMOTE_ITEM], modes=["joint"])

    r = _apply(hengyang)
    assert r.status_code in (200, 201), r.text
    code = r.json()["code"]
    key = joint.case_key(hengyang.region, code, "invoice")
    assert _timeline(hengyang, key)[0] == ("430400", "handed_out")  # sent by the delivery job
    _send(hengyang)
    # 来宾 registered the task as its tax bureau's own (a one-item application), with 衡阳's code.
    with laibin.rt.db.read() as session:
        there = session.scalar(select(CrossCase).where(CrossCase.case_key == key))
        assert there is not None and (there.direction, there.mode, there.remote_ref) == ("in", "joint", code)
        remote = session.scalar(select(Application).where(Application.code == there.local_ref))
        assert remote is not None and remote.bundle_code.startswith("item-")
        assert service.may_answer_partner(remote.submitted_by_id, remote.submitted_by_name)
        remote_code = remote.code
        details = applications_service.form_of(session, laibin.rt, remote)["request"]["details"]
    assert code in details and "衡来商贸有限公司" in details  # the task's inputs, from the one form
    with hengyang.rt.db.read() as session:
        here = session.scalar(select(CrossCase).where(CrossCase.case_key == key))
        assert here is not None and here.remote_ref == remote_code and here.state == "open"
    detail = laibin.call("GET", f"/api/v1/applications/{remote_code}", as_="supervisor").json()
    [task] = detail["tasks"]
    # 来宾's handler decides its part from the usual API.
    for action, body in (("accept", {}), ("approve", {"result": {"outcome": "已办理", "number": "LB-7"}})):
        r = laibin.call(
            "POST",
            f"/api/v1/applications/{remote_code}/tasks/{task['task_id']}/{action}",
            as_="h_tax",
            json=body,
        )
        assert r.status_code == 200, r.text
    laibin.deliver()
    home = hengyang.call("GET", f"/api/v1/applications/{code}", as_="supervisor").json()
    tasks = {t["task_id"]: t for t in home["tasks"]}
    assert tasks["invoice"]["status"] == "approved"
    assert tasks["seal"]["status"] == "pending"  # the home process moved on with the partner's result
    assert home["status"] == "running"
    with hengyang.rt.db.read() as session:
        app = session.scalar(select(Application).where(Application.code == code))
        events = session.scalars(
            select(ApplicationEvent).where(
                ApplicationEvent.application_id == app.id, ApplicationEvent.task_id == "invoice"
            )
        ).all()
    approved = [e for e in events if e.action == "approve"]
    assert approved and "来宾市" in approved[0].actor_name and "LB-7" in approved[0].payload
    # The local task done here: the application completes once both regions' tasks are done.
    for action, body in (("accept", {}), ("approve", {"result": {"seal_filing_no": "HY-2026-1"}})):
        r = hengyang.call("POST", f"/api/v1/applications/{code}/tasks/seal/{action}", as_="h_gaj", json=body)
        assert r.status_code == 200, r.text
    assert (
        hengyang.call("GET", f"/api/v1/applications/{code}", as_="supervisor").json()["status"] == "completed"
    )
    # Both timelines: 衡阳 handed it out and sent it; 来宾 accepted, its handler accepted and approved.
    here, there_tl = _timeline(hengyang, key), _timeline(laibin, key)
    assert here[:3] == [("430400", "handed_out"), ("430400", "sent"), ("451300", "accepted")]
    assert here.index(("451300", "approve")) < here.index(("430400", "home_approve"))
    assert there_tl[:2] == [("430400", "sent"), ("451300", "accepted")]
    assert [w for w in there_tl if w[0] == "451300"][1:] == [w for w in here if w[0] == "451300"][1:]
    with hengyang.rt.db.read() as session:
        assert session.scalar(select(CrossCase.state).where(CrossCase.case_key == key)) == "done"
    with laibin.rt.db.read() as session:
        assert session.scalar(select(CrossCase.state).where(CrossCase.case_key == key)) == "done"
    # The dashboard per partner and mode on both sides.
    mine = hengyang.call("GET", "/api/v1/federation/dashboard", as_="supervisor").json()
    assert {"partner": "451300", "mode": "joint", "outgoing": 1, "done": 1}.items() <= mine[0].items()
    theirs = laibin.call("GET", "/api/v1/federation/dashboard", as_="supervisor").json()
    assert {"partner": "430400", "mode": "joint", "incoming": 1, "done": 1}.items() <= theirs[0].items()
    # Nothing left to send, nothing sent twice.
    assert joint.send_waiting(hengyang.rt) == 0
    assert hengyang.deliver()["delivered"] == 0 and laibin.deliver()["delivered"] == 0
    with hengyang.rt.db.read() as session:
        assert session.scalar(select(func.count(OutboxEntry.id)).where(OutboxEntry.kind == joint.TASK)) == 1


def test_a_refusal_there_refuses_the_task_here(cities: tuple[Instance, Instance]) -> None:
    hengyang, laibin = cities
    _install(hengyang, region=laibin.region)
    hengyang.partner_with(laibin, items=[REMOTE_ITEM], modes=["joint"])
    laibin.partner_with(hengyang, items=[REMOTE_ITEM], modes=["joint"])
    code = _apply(hengyang).json()["code"]
    _send(hengyang)
    key = joint.case_key(hengyang.region, code, "invoice")
    with laibin.rt.db.read() as session:
        remote_code = session.scalar(select(CrossCase.local_ref).where(CrossCase.case_key == key))
    r = laibin.call(
        "POST",
        f"/api/v1/applications/{remote_code}/tasks/item/reject",
        as_="h_tax",
        json={"reason": "经营地址不在本市"},
    )
    assert r.status_code == 200, r.text
    laibin.deliver()
    home = hengyang.call("GET", f"/api/v1/applications/{code}", as_="supervisor").json()
    tasks = {t["task_id"]: t for t in home["tasks"]}
    assert tasks["invoice"]["status"] == "rejected"
    assert home["status"] == "rejected"
    assert "经营地址不在本市" in json.dumps(home, ensure_ascii=False)


def test_a_tasks_region_is_a_region_code(rt: Any) -> None:
    files = {
        "process.bpmn": BPMN.replace("{region}", "laibin").encode(),
        "form.schema.json": json.dumps(FORM, ensure_ascii=False).encode(),
        "mapping.yaml": yaml.safe_dump(MAPPING, allow_unicode=True).encode(),
        "bundle.yaml": yaml.safe_dump(META, allow_unicode=True).encode(),
    }
    with rt.db.read() as session:
        with pytest.raises(DefinitionError) as refused:
            registry.check(session, rt, files=files)
        assert "region" in str(refused.value.problems)
        files["process.bpmn"] = BPMN.replace("{region}", "451300").encode()
        assert registry.check(session, rt, files=files).tasks["invoice"].region == "451300"
