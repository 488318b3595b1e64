"""Loading and validating bundle definitions: the shipped five load; broken ones are refused, named."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from haoban.bundles.definitions import DefinitionError, Promise, shipped_items
from haoban.bundles.loader import load_definition
from haoban.calendar import DurationUnit
from tests.bundles.conftest import newborn_files

SHIPPED = {"newborn", "oversize_transport", "business_startup", "real_estate_transfer", "construction_hitech"}


def test_all_five_shipped_bundles_validate_against_the_city(shipped, city_departments):
    assert set(shipped) == SHIPPED
    for definition in shipped.values():
        assert definition.version == 1 and len(definition.digest) == 64
        assert set(definition.departments()) <= city_departments
        for task in definition.tasks.values():
            assert task.name and task.name_en and task.item.startswith(task.department + "-")


def test_items_list_uses_city_departments_and_one_code_scheme(city_departments, shipped):
    items = shipped_items()
    codes = [i["code"] for i in items]
    assert len(codes) == len(set(codes))
    for item in items:
        assert item["department"] in city_departments
        assert re.fullmatch(r"[a-z_]+-[a-z0-9]+(-[a-z0-9]+)*", item["code"]), item["code"]
        assert item["code"].startswith(item["department"] + "-")
        assert item["name"] and item["name_en"] and item["kind"] in ("immediate", "promised")
    used = {t.item for d in shipped.values() for t in d.tasks.values()}
    assert used == set(codes), "ITEMS.yaml lists exactly the items the bundles use"


def test_newborn_dependencies_are_read_from_the_graph(newborn):
    tasks = newborn.tasks
    assert next(iter(tasks)) == "birth_certificate"
    assert tasks["vaccination"].requires == {"birth_certificate"}
    assert tasks["insurance_payment"].requires == {"birth_certificate", "insurance_enrolment"}
    assert tasks["social_security_card"].requires == {"birth_certificate", "hukou"}
    assert tasks["hukou"].timers == ("hukou_late",)


def test_parallel_join_makes_every_branch_a_requirement(shipped):
    decide = shipped["oversize_transport"].tasks["decide"]
    assert decide.requires == {"accept", "route_survey", "escort_plan"}
    # after the exclusive merge only what every branch shares is certain
    assert shipped["oversize_transport"].tasks["issue_permit"].requires == {"accept"}
    assert "eia_approval" not in shipped["construction_hitech"].tasks["construction_permit"].requires


def test_promises_parse_and_refuse_half_days():
    assert Promise.parse("7 working_days") == Promise(7, DurationUnit.WORKING_DAYS)
    assert Promise.parse({"amount": 3.5, "unit": "working_hours"}).amount == 3.5
    for bad in ("0.5 working_days", "7 fortnights", "seven working_days", "-1 working_days", "7"):
        with pytest.raises(ValueError):
            Promise.parse(bad)


# ---------------------------------------------------------------------------------------------
# Refusals: every one names the file, the element or field, and says why in zh and en.
# ---------------------------------------------------------------------------------------------


def _load(files, known_items, **kw):
    return load_definition(files=files, version=1, known_items=known_items, **kw)


def _refused(files, known_items, **kw) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        _load(files, known_items, **kw)
    err = info.value
    assert err.status_code == 422
    for p in err.problems:
        assert p.zh and p.en and p.file
        assert re.search(r"[\u4e00-\u9fff]", p.zh), "the zh message is Chinese"
    return err


def _edit_bpmn(old: str, new: str, count: int = 1) -> dict[str, bytes]:
    files = newborn_files()
    text = files["process.bpmn"].decode()
    assert old in text, old
    files["process.bpmn"] = text.replace(old, new, count).encode()
    return files


def _elements(err: DefinitionError) -> set[str]:
    return {p.element for p in err.problems}


def test_malformed_xml_is_refused_with_its_line(known_items):
    files = newborn_files()
    files["process.bpmn"] = (
        b'<?xml version="1.0"?>\n<bpmn:definitions xmlns:bpmn="x">\n  <oops>\n</bpmn:definitions>'
    )
    err = _refused(files, known_items)
    assert err.problems[0].file == "process.bpmn" and err.problems[0].line
    assert "XML" in err.problems[0].en


def test_xml_that_is_not_bpmn_is_refused(known_items):
    err = _refused(
        _edit_bpmn(
            '<bpmn:parallelGateway id="fan_out" name="并联办理">',
            '<bpmn:parallelGateway id="fan_out" name="并联办理" bogus="1">',
        ),
        known_items,
    )
    assert "BPMN 2.0" in err.problems[0].en and err.problems[0].line


def test_unknown_item_is_refused_naming_the_task(known_items):
    err = _refused(_edit_bpmn('value="wjw-vaccination-certificate"', 'value="wjw-no-such-item"'), known_items)
    assert _elements(err) == {"vaccination"}
    assert "wjw-no-such-item" in err.problems[0].en and "事项" in err.problems[0].zh


def test_department_other_than_the_items_is_refused(known_items):
    files = _edit_bpmn(
        '<spiffworkflow:property name="department" value="gaj"/>',
        '<spiffworkflow:property name="department" value="rsj"/>',
    )
    err = _refused(files, known_items)
    assert _elements(err) == {"hukou"} and "gaj" in err.problems[0].en


def test_unknown_department_is_refused(known_items, city_departments):
    items = {**known_items, "wjw-vaccination-certificate": ""}
    files = _edit_bpmn(
        '<spiffworkflow:property name="department" value="wjw"/>\n          '
        '<spiffworkflow:property name="promise" value="1 working_days"/>\n          '
        '<spiffworkflow:property name="name_en" value="Vaccination certificate"/>',
        '<spiffworkflow:property name="department" value="hospital"/>\n          '
        '<spiffworkflow:property name="promise" value="1 working_days"/>\n          '
        '<spiffworkflow:property name="name_en" value="Vaccination certificate"/>',
    )
    err = _refused(files, items, known_departments=city_departments)
    assert _elements(err) == {"vaccination"} and "hospital" in err.problems[0].en


def test_a_task_without_item_or_promise_is_refused(known_items):
    files = _edit_bpmn('<spiffworkflow:property name="item" value="gaj-newborn-hukou-registration"/>', "")
    assert _elements(_refused(files, known_items)) == {"hukou"}
    files = _edit_bpmn(
        'name="promise" value="1 working_days"/>\n          '
        '<spiffworkflow:property name="name_en" value="Household registration"/>',
        'name="promise" value="soon"/>\n          '
        '<spiffworkflow:property name="name_en" value="Household registration"/>',
    )
    assert _elements(_refused(files, known_items)) == {"hukou"}


UNREACHABLE_END = """    <bpmn:exclusiveGateway id="never" name="孤立网关">
      <bpmn:incoming>loop_back</bpmn:incoming>
      <bpmn:outgoing>to_orphan_end</bpmn:outgoing>
      <bpmn:outgoing>loop_back</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="orphan_end" name="孤立结束">
      <bpmn:incoming>to_orphan_end</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="to_orphan_end" sourceRef="never" targetRef="orphan_end"/>
    <bpmn:sequenceFlow id="loop_back" sourceRef="never" targetRef="never"/>
  </bpmn:process>"""


def test_an_unreachable_end_is_refused_naming_it(known_items):
    err = _refused(_edit_bpmn("  </bpmn:process>", UNREACHABLE_END), known_items)
    assert {"orphan_end", "never"} <= _elements(err)
    orphan = next(p for p in err.problems if p.element == "orphan_end")
    assert "cannot be reached" in orphan.en and "无法到达" in orphan.zh


def test_a_dead_task_is_refused(known_items):
    dead = """    <bpmn:userTask id="dead_task" name="无人到达的任务">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="item" value="wjw-vaccination-certificate"/>
        <spiffworkflow:property name="department" value="wjw"/>
        <spiffworkflow:property name="promise" value="1 working_days"/>
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:outgoing>dead_out</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="dead_out" sourceRef="dead_task" targetRef="all_done"/>
  </bpmn:process>"""
    files = _edit_bpmn("  </bpmn:process>", dead)
    files["process.bpmn"] = files["process.bpmn"].replace(
        b"<bpmn:incoming>payment_done</bpmn:incoming>",
        b"<bpmn:incoming>payment_done</bpmn:incoming><bpmn:incoming>dead_out</bpmn:incoming>",
    )
    err = _refused(files, known_items)
    assert "dead_task" in _elements(err)


def test_a_parallel_split_that_never_joins_is_refused(known_items):
    # the vaccination branch ends on its own instead of joining
    files = _edit_bpmn(
        '<bpmn:sequenceFlow id="vaccination_done" sourceRef="vaccination" targetRef="all_done"/>',
        '<bpmn:sequenceFlow id="vaccination_done" sourceRef="vaccination" targetRef="alone"/>\n'
        '    <bpmn:endEvent id="alone"><bpmn:incoming>vaccination_done</bpmn:incoming></bpmn:endEvent>',
    )
    files["process.bpmn"] = files["process.bpmn"].replace(
        b"      <bpmn:incoming>vaccination_done</bpmn:incoming>\n"
        b"      <bpmn:incoming>card_done</bpmn:incoming>",
        b"      <bpmn:incoming>card_done</bpmn:incoming>",
    )
    err = _refused(files, known_items)
    assert _elements(err) == {"fan_out"}
    assert "never join" in err.problems[0].en and "汇聚" in err.problems[0].zh


def test_an_exclusive_split_joined_by_a_parallel_gateway_is_refused(known_items):
    files = _edit_bpmn(
        '<bpmn:parallelGateway id="fan_out" name="并联办理">',
        '<bpmn:exclusiveGateway id="fan_out" name="并联办理" default="to_vaccination">',
    )
    text = files["process.bpmn"].decode()
    head, tail = text.split('<bpmn:exclusiveGateway id="fan_out"', 1)
    tail = tail.replace("</bpmn:parallelGateway>", "</bpmn:exclusiveGateway>", 1)
    text = head + '<bpmn:exclusiveGateway id="fan_out"' + tail
    for flow in ("to_hukou", "to_insurance_enrolment"):
        text = text.replace(
            f'<bpmn:sequenceFlow id="{flow}" sourceRef="fan_out" targetRef="{flow[3:]}"/>',
            f'<bpmn:sequenceFlow id="{flow}" sourceRef="fan_out" targetRef="{flow[3:]}">'
            f'<bpmn:conditionExpression>form["baby"]["sex"] == "male"</bpmn:conditionExpression>'
            f"</bpmn:sequenceFlow>",
        )
    files["process.bpmn"] = text.encode()
    err = _refused(files, known_items)
    assert "all_done" in _elements(err)
    assert "wait forever" in next(p for p in err.problems if p.element == "all_done").en


def test_an_exclusive_gateway_needs_a_default_and_safe_known_conditions(known_items):
    files = newborn_files()
    oversize = newborn_files.__globals__["DEFINITIONS_DIR"] / "oversize_transport"
    files = {n: (oversize / n).read_bytes() for n in files}
    text = files["process.bpmn"].decode()
    no_default = text.replace(' default="class_three"', "")
    err = _refused({**files, "process.bpmn": no_default.encode()}, known_items)
    assert "by_class" in _elements(err) and "default" in err.problems[0].en
    evil = text.replace('results["accept"]["cargo_class"] in ("I", "II")', "__import__('os').system('id')")
    err = _refused({**files, "process.bpmn": evil.encode()}, known_items)
    assert _elements(err) == {"class_one_two"} and "not allowed" in err.problems[0].en
    typo = text.replace('results["accept"]["cargo_class"]', 'results["accept"]["cargo_klass"]')
    err = _refused({**files, "process.bpmn": typo.encode()}, known_items)
    assert _elements(err) == {"class_one_two"} and "cargo_klass" in err.problems[0].en
    later = text.replace('results["accept"]["cargo_class"]', 'results["decide"]["decision_no"]')
    err = _refused({**files, "process.bpmn": later.encode()}, known_items)
    assert "does not always finish before" in err.problems[0].en


TIMER = '<bpmn:timerEventDefinition id="hukou_late_timer">\n        '
TO_CARD = (
    '<bpmn:sequenceFlow id="to_social_security_card" sourceRef="hukou" targetRef="social_security_card"/>'
)


@pytest.mark.parametrize(
    ("old", "new", "element", "words"),
    [
        (
            'attachedToRef="hukou" cancelActivity="false"',
            'attachedToRef="hukou"',
            "hukou_late",
            "non-interrupting",
        ),
        (
            TIMER + "<bpmn:timeDate>promise()</bpmn:timeDate>",
            TIMER + "<bpmn:timeDuration>P3D</bpmn:timeDuration>",
            "hukou_late",
            "timeDate",
        ),
        (
            TIMER + "<bpmn:timeDate>promise()</bpmn:timeDate>",
            TIMER + "<bpmn:timeDate>working_days(x)</bpmn:timeDate>",
            "hukou_late",
            "timer",
        ),
        (
            '<bpmn:escalation id="duban" name="督办" escalationCode="duban"/>',
            '<bpmn:escalation id="duban" name="督办" escalationCode="other"/>',
            "birth_certificate_duban",
            "duban",
        ),
        (
            TO_CARD,
            TO_CARD + "\n"
            '    <bpmn:sequenceFlow id="back" sourceRef="social_security_card" targetRef="hukou"/>',
            "social_security_card",
            "sequence flows",
        ),
    ],
)
def test_unsupported_constructs_are_refused_with_the_reason(known_items, old, new, element, words):
    err = _refused(_edit_bpmn(old, new), known_items)
    assert element in _elements(err), [p.to_dict() for p in err.problems]
    assert any(words in p.en for p in err.problems), [p.en for p in err.problems]


def test_a_script_task_is_refused(known_items):
    files = newborn_files()
    text = files["process.bpmn"].decode()
    head, tail = text.split('<bpmn:userTask id="vaccination"', 1)
    tail = tail.replace("</bpmn:userTask>", "</bpmn:scriptTask>", 1)
    files["process.bpmn"] = (head + '<bpmn:scriptTask id="vaccination"' + tail).encode()
    err = _refused(files, known_items)
    assert "vaccination" in _elements(err)
    assert any("script tasks" in p.en for p in err.problems)


def test_a_loop_is_refused(known_items):
    # a loop whose gateways have legal degrees: social_security_card → loop gateway → back to a merge
    files = _edit_bpmn(
        TO_CARD,
        '<bpmn:sequenceFlow id="to_social_security_card" sourceRef="hukou" targetRef="merge"/>\n'
        '    <bpmn:exclusiveGateway id="merge"><bpmn:incoming>to_social_security_card</bpmn:incoming>'
        "<bpmn:incoming>again</bpmn:incoming><bpmn:outgoing>merged</bpmn:outgoing></bpmn:exclusiveGateway>\n"
        '    <bpmn:sequenceFlow id="merged" sourceRef="merge" targetRef="social_security_card"/>\n'
        '    <bpmn:exclusiveGateway id="retry" default="card_done"><bpmn:incoming>card_out</bpmn:incoming>'
        "<bpmn:outgoing>card_done</bpmn:outgoing><bpmn:outgoing>again</bpmn:outgoing></bpmn:exclusiveGateway>\n"
        '    <bpmn:sequenceFlow id="again" sourceRef="retry" targetRef="merge">'
        '<bpmn:conditionExpression>form["baby"]["sex"] == "male"</bpmn:conditionExpression>'
        "</bpmn:sequenceFlow>\n"
        '    <bpmn:sequenceFlow id="card_out" sourceRef="social_security_card" targetRef="retry"/>',
    )
    files["process.bpmn"] = files["process.bpmn"].replace(
        b'<bpmn:sequenceFlow id="card_done" sourceRef="social_security_card" targetRef="all_done"/>',
        b'<bpmn:sequenceFlow id="card_done" sourceRef="retry" targetRef="all_done"/>',
    )
    err = _refused(files, known_items)
    assert any("loops" in p.en for p in err.problems)


def test_invalid_form_schema_is_refused_naming_the_keyword(known_items):
    files = newborn_files()
    schema = json.loads(files["form.schema.json"])
    schema["properties"]["baby"]["properties"]["weight_g"]["type"] = "grams"
    files["form.schema.json"] = json.dumps(schema).encode()
    err = _refused(files, known_items)
    assert err.problems[0].file == "form.schema.json"
    assert "weight_g" in err.problems[0].element and "JSON Schema" in err.problems[0].en
    files["form.schema.json"] = b"{not json"
    assert _refused(files, known_items).problems[0].file == "form.schema.json"


def test_mapping_naming_a_missing_field_is_refused(known_items):
    files = newborn_files()
    mapping = yaml.safe_load(files["mapping.yaml"])
    mapping["tasks"]["hukou"]["inputs"]["address"] = "form.household.adress"
    mapping["tasks"]["hukou"]["materials"].append("birth_photo")
    mapping["tasks"]["vaccination"]["inputs"]["card"] = "results.social_security_card.card_no"
    mapping["tasks"]["vaccination"]["inputs"]["cert"] = "results.birth_certificate.number"
    files["mapping.yaml"] = yaml.safe_dump(mapping, allow_unicode=True).encode()
    err = _refused(files, known_items)
    by_element = {p.element: p for p in err.problems}
    assert "household.adress" in by_element["tasks.hukou.inputs.address"].en
    assert "birth_photo" in by_element["tasks.hukou.materials"].en
    assert "does not always finish before" in by_element["tasks.vaccination.inputs.card"].en
    assert "has no field number" in by_element["tasks.vaccination.inputs.cert"].en
    assert all(p.file == "mapping.yaml" for p in err.problems)


def test_a_task_without_mapping_or_a_mapping_for_no_task_is_refused(known_items):
    files = newborn_files()
    mapping = yaml.safe_load(files["mapping.yaml"])
    mapping["tasks"]["ghost"] = mapping["tasks"].pop("vaccination")
    files["mapping.yaml"] = yaml.safe_dump(mapping, allow_unicode=True).encode()
    assert {"tasks.ghost", "tasks.vaccination"} <= _elements(_refused(files, known_items))


def test_missing_and_unknown_files_are_refused(known_items):
    files = newborn_files()
    del files["mapping.yaml"]
    files["notes.txt"] = b"hi"
    err = _refused(files, known_items)
    assert {p.file for p in err.problems} == {"mapping.yaml", "notes.txt"}


def test_digest_pins_the_files(known_items):
    a = _load(newborn_files(), known_items)
    again = _load(newborn_files(), known_items)
    files = newborn_files()
    files["bundle.yaml"] = files["bundle.yaml"].replace(
        b"promise: 3 working_days", b"promise: 4 working_days"
    )
    changed = _load(files, known_items)
    assert a.digest == again.digest
    assert a.digest != changed.digest


def test_camunda_extension_properties_work_too(known_items):
    files = newborn_files()
    text = files["process.bpmn"].decode()
    text = text.replace("spiffworkflow:", "camunda:").replace(
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"',
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"',
    )
    assert "spiffworkflow" not in text
    files["process.bpmn"] = text.encode()
    definition = _load(files, known_items)
    assert definition.tasks["hukou"].item == "gaj-newborn-hukou-registration"
    assert definition.tasks["hukou"].department == "gaj"
