"""One catalogue item as an application (一窗受理 of any item, not only a bundle's).

A window registers any active item of the service catalogue for a walk-in. Rather than a second kind
of application, the item becomes a bundle of one task — start → the item's department → results
delivered, with the usual 督办 timer — generated from the catalogue entry (its name, department,
promised days, materials) and stored like any uploaded bundle (``registry.upload``; the same files
again are the same version). So the department's inbox, deadlines, 补正, 容缺, licences, deliveries
and the case file work as for bundles. These bundles' codes start with ``ITEM_PREFIX``; the portal's
list of life events leaves them out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from xml.sax.saxutils import quoteattr

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications import registry
from haoban.applications.models import BundleDefinitionRow
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.catalog.models import ServiceItem
from haoban.errors import NotFound
from haoban.runtime import Runtime

ITEM_PREFIX = "item-"

_BPMN = """<?xml version='1.0' encoding='UTF-8'?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" \
xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="{pid}_definitions" \
targetNamespace="https://haoban.example/items/{pid}" exporter="haoban" exporterVersion="1">
  <bpmn:escalation id="duban" name="督办" escalationCode="duban"/>
  <bpmn:message id="delivery" name="delivery"/>
  <bpmn:process id="{pid}" name={name} isExecutable="true">
    <bpmn:startEvent id="submitted" name="受理登记"><bpmn:outgoing>to_item</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="item" name={name}>
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="item" value={item}/>
          <spiffworkflow:property name="department" value={department}/>
          <spiffworkflow:property name="promise" value={promise}/>
          <spiffworkflow:property name="name_en" value={name_en}/>
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>to_item</bpmn:incoming>
      <bpmn:outgoing>to_delivered</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="delivered" name="统一出件">
      <bpmn:incoming>to_delivered</bpmn:incoming>
      <bpmn:messageEventDefinition id="delivered_message" messageRef="delivery"/>
    </bpmn:endEvent>
    <bpmn:boundaryEvent id="item_late" name="超过承诺时限" attachedToRef="item" cancelActivity="false">
      <bpmn:outgoing>item_to_duban</bpmn:outgoing>
      <bpmn:timerEventDefinition id="item_late_timer">
        <bpmn:timeDate>promise()</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="item_duban" name="督办">
      <bpmn:incoming>item_to_duban</bpmn:incoming>
      <bpmn:escalationEventDefinition id="item_duban_escalation" escalationRef="duban"/>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="to_item" sourceRef="submitted" targetRef="item"/>
    <bpmn:sequenceFlow id="to_delivered" sourceRef="item" targetRef="delivered"/>
    <bpmn:sequenceFlow id="item_to_duban" sourceRef="item_late" targetRef="item_duban"/>
  </bpmn:process>
</bpmn:definitions>
"""

_FORM: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["request", "contact", "delivery"],
    "properties": {
        "request": {
            "type": "object",
            "title": "申请事项",
            "x-title-en": "Request",
            "additionalProperties": False,
            "required": ["details"],
            "properties": {
                "details": {
                    "type": "string",
                    "minLength": 2,
                    "maxLength": 1000,
                    "title": "申请内容",
                    "x-title-en": "What is applied for",
                }
            },
        },
        "contact": {
            "type": "object",
            "title": "联系方式",
            "x-title-en": "Contact",
            "additionalProperties": False,
            "required": ["phone"],
            "properties": {
                "phone": {"type": "string", "format": "cn-mobile", "title": "联系电话", "x-title-en": "Phone"}
            },
        },
        "delivery": {
            "type": "object",
            "title": "结果领取",
            "x-title-en": "Receiving the result",
            "additionalProperties": False,
            "required": ["method"],
            "properties": {
                "method": {"enum": ["window", "post"], "title": "领取方式", "x-title-en": "How to receive"},
                "recipient": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 30,
                    "title": "收件人",
                    "x-title-en": "Recipient",
                },
                "address": {
                    "type": "string",
                    "minLength": 6,
                    "maxLength": 160,
                    "title": "邮寄地址",
                    "x-title-en": "Postal address",
                },
            },
            "if": {"properties": {"method": {"const": "post"}}},
            "then": {"required": ["recipient", "address"]},
        },
    },
}


def bundle_code(item_code: str) -> str:
    code = ITEM_PREFIX + item_code
    if len(code) <= 64:
        return code
    return f"{code[:51]}-{hashlib.sha256(item_code.encode()).hexdigest()[:12]}"


def is_single(code: str) -> bool:
    return code.startswith(ITEM_PREFIX)


def files_for(item: ServiceItem) -> dict[str, bytes]:
    """The four files of the one-task bundle of ``item``."""
    code = bundle_code(item.code)
    pid = "p_" + hashlib.sha256(code.encode()).hexdigest()[:16]
    name_en = item.name_en or item.name
    promise = f"{item.promised_days} working_days" if item.promised_days > 0 else "4 working_hours"
    bpmn = _BPMN.format(
        pid=pid,
        name=quoteattr(item.name),
        name_en=quoteattr(name_en),
        item=quoteattr(item.code),
        department=quoteattr(item.department.code),
        promise=quoteattr(promise),
    )
    materials = [
        {"key": f"m{m.position}", "name": m.name[:200], "name_en": m.name[:200], "required": False}
        for m in sorted(item.materials, key=lambda m: m.position)
        if not m.licence_kind
    ][:10]
    meta = {
        "code": code,
        "name": item.name,
        "name_en": name_en,
        "description": f"综合窗口受理的单一事项：{item.name}",
        "description_en": f"A single item registered at the window: {name_en}",
        "promise": promise,
        "materials": materials,
    }
    mapping = {
        "tasks": {
            "item": {
                "inputs": {"details": "form.request.details", "phone": "form.contact.phone"},
                "materials": [m["key"] for m in materials],
                "result_schema": {
                    "type": "object",
                    "required": ["outcome"],
                    "properties": {
                        "outcome": {
                            "type": "string",
                            "minLength": 1,
                            "title": "办理结果",
                            "x-title-en": "Outcome",
                        },
                        "number": {
                            "type": "string",
                            "title": "证照或文书编号",
                            "x-title-en": "Document number",
                        },
                    },
                },
            }
        },
        "delivery": {
            "method": "form.delivery.method",
            "recipient": "form.delivery.recipient",
            "address": "form.delivery.address",
            "phone": "form.contact.phone",
        },
    }
    dump = {"allow_unicode": True, "sort_keys": False}
    return {
        "process.bpmn": bpmn.encode("utf-8"),
        "form.schema.json": json.dumps(_FORM, ensure_ascii=False, indent=1).encode("utf-8"),
        "mapping.yaml": yaml.safe_dump(mapping, **dump).encode("utf-8"),  # type: ignore[call-overload]
        "bundle.yaml": yaml.safe_dump(meta, **dump).encode("utf-8"),  # type: ignore[call-overload]
    }


def ensure(session: Session, rt: Runtime, *, item_code: str) -> BundleDefinitionRow:
    """The stored one-task bundle of an active catalogue item (stored now if it is new or changed)."""
    item = session.scalars(select(ServiceItem).where(ServiceItem.code == item_code[:80])).unique().first()
    if item is None or not item.active:
        raise NotFound(f"no active catalogue item {item_code!r}", message_zh=f"事项目录中没有 {item_code}")
    row, _created = registry.upload(session, rt, files=files_for(item), actor=SYSTEM_ACTOR)
    return row
