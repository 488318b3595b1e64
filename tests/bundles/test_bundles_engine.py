"""The bundle engine: dependencies, rejection, 补正, timers, pinning, deliveries. Pure and fast."""

from __future__ import annotations

import copy
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haoban.bundles.engine import BundleEngine, EngineError, FormError, calendar_hooks
from haoban.bundles.loader import load_definition
from tests.bundles.conftest import MONDAY, newborn_files

NEWBORN_TASKS = {
    "birth_certificate",
    "vaccination",
    "hukou",
    "social_security_card",
    "insurance_enrolment",
    "insurance_payment",
}
# (before, after): the newborn bundle's dependencies as the issue states them.
NEWBORN_ORDER = [("birth_certificate", t) for t in NEWBORN_TASKS - {"birth_certificate"}] + [
    ("insurance_enrolment", "insurance_payment"),
    ("hukou", "social_security_card"),
]


def _start(engine, definition, example, now=MONDAY):
    ex = example[definition.code]
    return engine.start(definition, form=ex["form"], materials=ex["materials"], now=now)


def _ready_ids(engine, instance) -> set[str]:
    return {t.task_id for t in engine.ready_tasks(instance)}


def _kinds(transitions) -> list[str]:
    return [e.kind for tr in transitions for e in tr.events]


def test_one_submission_creates_six_tasks_in_four_departments_and_ends_with_deliveries(
    engine, newborn, example
):
    results = example["newborn"]["results"]
    instance, first = _start(engine, newborn, example)
    transitions = [first]
    assert _ready_ids(engine, instance) == {"birth_certificate"}
    while ready := engine.ready_tasks(instance):
        for task in ready:
            transitions.append(engine.approve(instance, task_id=task.task_id, result=results[task.task_id]))
    events = [e for tr in transitions for e in tr.events]
    ready_events = [e for e in events if e.kind == "task_ready"]
    assert {e.task_id for e in ready_events} == NEWBORN_TASKS and len(ready_events) == 6
    assert len({e.department for e in ready_events}) >= 4
    assert instance.status == "completed"
    delivery = [e for e in events if e.kind == "delivery"]
    assert len(delivery) == 1
    assert {i["task_id"] for i in delivery[0].detail["items"]} == NEWBORN_TASKS
    assert delivery[0].detail["method"] == "post" and "东风南路" in delivery[0].detail["address"]
    assert events[-1].kind == "bundle_ended" and events[-1].detail == {"status": "completed"}
    assert instance.results()["hukou"]["citizen_id_number"] == results["hukou"]["citizen_id_number"]
    assert all(tr.engine_seconds > 0 for tr in transitions)


def test_data_from_a_finished_task_flows_to_the_tasks_after_it(engine, newborn, example):
    results = example["newborn"]["results"]
    instance, _ = _start(engine, newborn, example)
    engine.approve(instance, task_id="birth_certificate", result=results["birth_certificate"])
    by_id = {t.task_id: t for t in engine.ready_tasks(instance)}
    assert by_id["hukou"].inputs["birth_certificate_no"] == "S430012345"
    assert by_id["vaccination"].inputs["baby_name"] == "王小禾"
    assert by_id["hukou"].materials["household_register"].startswith("sha256:")
    assert by_id["hukou"].department == "gaj" and by_id["hukou"].item == "gaj-newborn-hukou-registration"
    engine.approve(instance, task_id="hukou", result=results["hukou"])
    card = next(t for t in engine.ready_tasks(instance) if t.task_id == "social_security_card")
    assert card.inputs["citizen_id_number"] == results["hukou"]["citizen_id_number"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_task_never_starts_before_its_dependencies(engine, newborn, example, data):
    """Whatever order departments finish in (and whenever the state is stored and loaded)."""
    results = example["newborn"]["results"]
    instance, tr = _start(engine, newborn, example)
    done: list[str] = []
    seen_ready: list[str] = [e.task_id for e in tr.events if e.kind == "task_ready"]
    now = MONDAY
    while instance.status == "running":
        ready = sorted(_ready_ids(engine, instance))
        for task_id in ready:
            for before, after in NEWBORN_ORDER:
                if after == task_id:
                    assert before in done, f"{task_id} ready before {before}"
            assert newborn.tasks[task_id].requires <= set(done)
        pick = data.draw(st.sampled_from(ready))
        now += timedelta(minutes=data.draw(st.integers(0, 90)))
        tr = engine.approve(instance, task_id=pick, result=results[pick], now=now)
        done.append(pick)
        seen_ready += [e.task_id for e in tr.events if e.kind == "task_ready"]
        if data.draw(st.booleans()):
            instance = engine.loads(engine.dumps(instance), definitions={newborn.key: newborn})
    assert instance.status == "completed"
    assert sorted(done) == sorted(NEWBORN_TASKS) and sorted(seen_ready) == sorted(NEWBORN_TASKS)
    for before, after in NEWBORN_ORDER:
        assert done.index(before) < done.index(after)


def test_a_task_that_is_not_ready_cannot_be_decided(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    with pytest.raises(EngineError) as info:
        engine.approve(instance, task_id="hukou", result=example["newborn"]["results"]["hukou"])
    assert (
        info.value.rule == "task_not_ready" and info.value.status_code == 409 and "尚未就绪" in info.value.zh
    )
    with pytest.raises(EngineError):
        engine.reject(instance, task_id="nope", reason="x")


def test_a_rejected_item_does_not_lose_the_others_results(engine, newborn, example):
    results = example["newborn"]["results"]
    instance, _ = _start(engine, newborn, example)
    engine.approve(instance, task_id="birth_certificate", result=results["birth_certificate"])
    engine.approve(instance, task_id="vaccination", result=results["vaccination"])
    tr = engine.reject(instance, task_id="hukou", reason="落户地址与户口簿不符")
    kinds = [(e.kind, e.task_id) for e in tr.events]
    assert ("task_rejected", "hukou") in kinds and ("task_skipped", "social_security_card") in kinds
    # the independent branch goes on
    assert _ready_ids(engine, instance) == {"insurance_enrolment"}
    engine.approve(instance, task_id="insurance_enrolment", result=results["insurance_enrolment"])
    last = engine.approve(instance, task_id="insurance_payment", result=results["insurance_payment"])
    assert instance.status == "partially_completed"
    outcomes = instance.outcomes()
    assert (
        outcomes["hukou"]["outcome"] == "rejected" and outcomes["hukou"]["reason"] == "落户地址与户口簿不符"
    )
    assert outcomes["social_security_card"]["outcome"] == "skipped"
    assert set(instance.results()) == {
        "birth_certificate",
        "vaccination",
        "insurance_enrolment",
        "insurance_payment",
    }
    assert instance.results()["birth_certificate"] == results["birth_certificate"]
    delivery = next(e for e in last.events if e.kind == "delivery")
    assert {i["task_id"] for i in delivery.detail["items"]} == set(instance.results())
    assert last.events[-1].detail["status"] == "partially_completed"


def test_rejecting_the_first_item_ends_the_bundle_rejected_without_delivery(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    tr = engine.reject(instance, task_id="birth_certificate", reason="非本院出生")
    assert instance.status == "rejected"
    assert {e.task_id for e in tr.events if e.kind == "task_skipped"} == NEWBORN_TASKS - {"birth_certificate"}
    assert "delivery" not in [e.kind for e in tr.events]
    with pytest.raises(EngineError) as info:
        engine.tick(instance, now=MONDAY)  # ended instances ignore ticks
        engine.reject(instance, task_id="vaccination", reason="x")
    assert info.value.rule == "bundle_ended"


def test_a_rejection_needs_a_reason(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    with pytest.raises(FormError) as info:
        engine.reject(instance, task_id="birth_certificate", reason="  ")
    assert "reason" in info.value.detail["fields"]


def test_a_correction_round_trips_once_for_all_flagged_items(engine, newborn, example):
    results = example["newborn"]["results"]
    instance, _ = _start(engine, newborn, example)
    engine.approve(instance, task_id="birth_certificate", result=results["birth_certificate"])
    assert engine.correctable(instance, task_id="hukou")[1] == [
        "household_register",
        "marriage_certificate",
        "parents_id_cards",
    ]
    engine.request_correction(
        instance,
        task_id="hukou",
        fields=["household.address"],
        materials=["household_register"],
        reason="户籍地址缺少门牌号；户口簿首页不清晰",
    )
    tr = engine.request_correction(
        instance, task_id="vaccination", fields=["baby.name"], reason="姓名与出生证不一致"
    )
    assert instance.status == "awaiting_correction"
    assert tr.events[0].kind == "correction_requested" and tr.events[0].detail["fields"] == ["baby.name"]
    pending = engine.pending_correction(instance)
    assert pending["fields"] == ["baby.name", "household.address"] and pending["materials"] == [
        "household_register"
    ]
    states = {t.task_id: t.state for t in engine.ready_tasks(instance)}
    assert states == {"hukou": "correction", "vaccination": "correction", "insurance_enrolment": "ready"}
    # flagged tasks wait; the others go on
    with pytest.raises(EngineError) as info:
        engine.approve(instance, task_id="hukou", result=results["hukou"])
    assert info.value.rule == "awaiting_correction"
    engine.approve(instance, task_id="insurance_enrolment", result=results["insurance_enrolment"])

    # one resubmission must carry everything flagged, and nothing else
    later = MONDAY + timedelta(days=1)
    with pytest.raises(FormError) as info:
        engine.resubmit(
            instance,
            form_changes={"household.address": "衡阳市珠晖区东风南路 88 号 3 栋"},
            materials={"household_register": "sha256:new"},
            now=later,
        )
    assert "baby.name" in info.value.detail["fields"]
    with pytest.raises(FormError) as info:
        engine.resubmit(
            instance,
            form_changes={
                "household.address": "衡阳市珠晖区东风南路 88 号 3 栋",
                "baby.name": "王小荷",
                "contact.phone": "13900000000",
            },
            materials={"household_register": "sha256:new"},
            now=later,
        )
    assert "contact.phone" in info.value.detail["fields"]
    with pytest.raises(FormError) as info:
        engine.resubmit(
            instance,
            form_changes={"household.address": "衡阳市珠晖区东风南路 88 号 3 栋", "baby.name": "王小荷"},
            now=later,
        )
    assert "materials.household_register" in info.value.detail["fields"]
    with pytest.raises(FormError) as info:  # the corrected form is validated like the first one
        engine.resubmit(
            instance,
            form_changes={"household.address": "衡阳", "baby.name": "王小荷"},
            materials={"household_register": "sha256:new"},
            now=later,
        )
    assert "household.address" in info.value.detail["fields"]
    assert instance.status == "awaiting_correction" and instance.form["baby"]["name"] == "王小禾"

    due_before = instance.due_at
    tr = engine.resubmit(
        instance,
        form_changes={"household.address": "衡阳市珠晖区东风南路 88 号 3 栋", "baby.name": "王小荷"},
        materials={"household_register": "sha256:new"},
        now=later,
    )
    assert instance.status == "running"
    resumed = {e.task_id for e in tr.events if e.kind == "task_ready"}
    assert resumed == {"hukou", "vaccination"}
    assert tr.events[0].kind == "resubmitted" and tr.events[0].detail["round"] == 1
    assert instance.due_at > due_before  # the wait does not count against the bundle promise
    by_id = {t.task_id: t for t in engine.ready_tasks(instance)}
    assert by_id["hukou"].inputs["address"] == "衡阳市珠晖区东风南路 88 号 3 栋"
    assert by_id["hukou"].materials["household_register"] == "sha256:new"
    assert by_id["vaccination"].inputs["baby_name"] == "王小荷" and by_id["vaccination"].state == "ready"
    assert by_id["hukou"].ready_at == later
    assert len(instance.correction_rounds) == 1

    # once only (一次性告知), and no second resubmission
    with pytest.raises(EngineError) as info:
        engine.request_correction(instance, task_id="hukou", fields=["household.address"], reason="again")
    assert info.value.rule == "correction_once"
    with pytest.raises(EngineError) as info:
        engine.resubmit(instance, form_changes={})
    assert info.value.rule == "not_awaiting_correction"
    for task_id in ("hukou", "vaccination"):
        engine.approve(instance, task_id=task_id, result=results[task_id], now=later)
    engine.approve(instance, task_id="insurance_payment", result=results["insurance_payment"], now=later)
    engine.approve(
        instance, task_id="social_security_card", result=results["social_security_card"], now=later
    )
    assert instance.status == "completed"


def test_a_correction_may_flag_only_what_the_task_received(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    with pytest.raises(FormError) as info:
        engine.request_correction(
            instance,
            task_id="birth_certificate",
            fields=["household.address"],
            materials=["household_register"],
            reason="x",
        )
    assert {"fields.household.address", "materials.household_register"} <= set(info.value.detail["fields"])
    with pytest.raises(FormError):
        engine.request_correction(instance, task_id="birth_certificate", reason="nothing flagged")


def test_a_late_task_raises_duban_once_and_not_while_in_correction(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    task = engine.ready_tasks(instance)[0]
    assert instance.next_due() == task.due_at  # the task's promise comes before the bundle's
    assert _kinds([engine.tick(instance, now=task.due_at - timedelta(seconds=1))]) == []
    tr = engine.tick(instance, now=task.due_at + timedelta(seconds=1))
    duban = [e for e in tr.events if e.kind == "duban"]
    assert len(duban) == 1 and duban[0].task_id == "birth_certificate" and duban[0].department == "wjw"
    assert duban[0].detail["scope"] == "task" and duban[0].due_at == task.due_at
    assert _kinds([engine.tick(instance, now=task.due_at + timedelta(hours=2))]) == []
    # the task is still there: a late task is supervised, not cancelled
    assert _ready_ids(engine, instance) == {"birth_certificate"}


def test_timers_wait_while_the_applicant_corrects(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    due = engine.ready_tasks(instance)[0].due_at
    engine.request_correction(instance, task_id="birth_certificate", fields=["baby.name"], reason="姓名有误")
    assert _kinds([engine.tick(instance, now=due + timedelta(hours=1))]) == []
    back = due + timedelta(hours=2)
    engine.resubmit(instance, form_changes={"baby.name": "王小荷"}, now=back)
    new_due = engine.ready_tasks(instance)[0].due_at
    assert new_due > back
    assert _kinds([engine.tick(instance, now=back + timedelta(minutes=1))]) == []
    assert "duban" in _kinds([engine.tick(instance, now=new_due + timedelta(seconds=1))])


def test_the_bundle_promise_raises_duban_for_the_bundle(newborn, example):
    engine = BundleEngine(hooks=calendar_hooks())
    instance, _ = _start(engine, newborn, example)
    tr = engine.tick(instance, now=instance.due_at + timedelta(seconds=1))
    scopes = sorted(e.detail["scope"] for e in tr.events if e.kind == "duban")
    assert scopes == ["bundle", "task"]
    assert "duban" not in _kinds([engine.tick(instance, now=instance.due_at + timedelta(days=1))])


def test_deadlines_come_from_the_callers_calendar(newborn, example):
    calls = []

    def deadline(start, promise):
        calls.append((start, promise.text()))
        return start + timedelta(minutes=promise.amount)

    engine = BundleEngine(hooks=calendar_hooks().__class__(deadline=deadline, now=lambda: MONDAY))
    instance, _ = _start(engine, newborn, example)
    assert (MONDAY, "3 working_days") in calls and (MONDAY, "1 working_days") in calls
    assert engine.ready_tasks(instance)[0].due_at == MONDAY + timedelta(minutes=1)
    assert instance.due_at == MONDAY + timedelta(minutes=3)


def test_a_holiday_moves_a_due_date(newborn, example):
    engine = BundleEngine(hooks=calendar_hooks())
    # Wednesday 2026-09-30: the National Day holiday follows; 1 working day runs to Oct 8.
    instance, _ = engine.start(
        newborn,
        form=example["newborn"]["form"],
        materials=example["newborn"]["materials"],
        now=MONDAY.replace(month=9, day=30),
    )
    due = engine.ready_tasks(instance)[0].due_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert due.date().isoformat() == "2026-10-08"


def test_form_errors_name_the_field_in_both_languages(engine, newborn, example):
    form = copy.deepcopy(example["newborn"]["form"])
    form["mother"]["id_number"] = "430405199001011234"  # wrong check digit
    del form["baby"]["name"]
    form["delivery"] = {"method": "post"}
    form["baby"]["colour"] = "blue"
    with pytest.raises(FormError) as info:
        engine.start(newborn, form=form, materials=example["newborn"]["materials"])
    fields = info.value.detail["fields"]
    assert {"mother.id_number", "baby.name", "delivery.recipient", "delivery.address", "baby.colour"} <= set(
        fields
    )
    problems = {p.field: p for p in info.value.problems}
    assert problems["mother.id_number"].zh == "母亲身份证号：不是有效的居民身份证号码"
    assert (
        problems["baby.name"].zh == "新生儿姓名：此项必填"
        and problems["baby.name"].en == "Baby's name: is required"
    )
    with pytest.raises(FormError) as info:
        engine.start(
            newborn,
            form=example["newborn"]["form"],
            materials={"parents_id_cards": "sha256:x", "selfie": "sha256:y"},
        )
    assert {"materials.household_register", "materials.selfie"} <= set(info.value.detail["fields"])


def test_a_result_is_validated_and_errors_name_the_field(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    with pytest.raises(FormError) as info:
        engine.approve(instance, task_id="birth_certificate", result={"certificate_no": "12"})
    assert list(info.value.detail["fields"]) == ["result.certificate_no"]
    assert _ready_ids(engine, instance) == {"birth_certificate"}  # nothing changed


def test_serialization_round_trips_mid_flight(engine, newborn, example):
    results = example["newborn"]["results"]
    instance, _ = _start(engine, newborn, example)
    engine.approve(instance, task_id="birth_certificate", result=results["birth_certificate"])
    engine.request_correction(instance, task_id="vaccination", fields=["baby.name"], reason="姓名有误")
    data = engine.dumps(instance)
    assert BundleEngine.pinned(data) == ("newborn", 1, newborn.digest)
    restored = engine.loads(data, definitions={newborn.key: newborn})
    assert engine.ready_tasks(restored) == engine.ready_tasks(instance)
    assert restored.status == "awaiting_correction" and restored.outcomes() == instance.outcomes()
    assert engine.dumps(restored) == data
    engine.resubmit(restored, form_changes={"baby.name": "王小荷"})
    while ready := engine.ready_tasks(restored):
        for task in ready:
            engine.approve(restored, task_id=task.task_id, result=results[task.task_id])
        restored = engine.loads(engine.dumps(restored), definitions=lambda code, version: newborn)
    assert restored.status == "completed"


def test_a_running_instance_stays_on_its_version_after_an_upgrade(engine, newborn, example, known_items):
    results = example["newborn"]["results"]
    old, _ = _start(engine, newborn, example)
    engine.approve(old, task_id="birth_certificate", result=results["birth_certificate"])
    stored = engine.dumps(old)

    # Version 2: the vaccination certificate is dropped from the bundle and the promise tightened.
    files = newborn_files()
    text = files["process.bpmn"].decode()
    text = text.replace(
        '<bpmn:sequenceFlow id="to_vaccination" sourceRef="fan_out" targetRef="vaccination"/>',
        '<bpmn:sequenceFlow id="to_vaccination" sourceRef="fan_out" targetRef="all_done"/>',
    )
    start = text.index('    <bpmn:userTask id="vaccination"')
    text = text[:start] + text[text.index("</bpmn:userTask>", start) + len("</bpmn:userTask>\n") :]
    start = text.index('    <bpmn:boundaryEvent id="vaccination_late"')
    end = text.index("</bpmn:endEvent>", start) + len("</bpmn:endEvent>\n")
    text = text[:start] + text[end:]
    for flow in (
        '    <bpmn:sequenceFlow id="vaccination_done" sourceRef="vaccination" targetRef="all_done"/>\n',
        '    <bpmn:sequenceFlow id="vaccination_to_duban" sourceRef="vaccination_late" '
        'targetRef="vaccination_duban"/>\n',
    ):
        text = text.replace(flow, "")
    text = text.replace(
        "<bpmn:incoming>vaccination_done</bpmn:incoming>", "<bpmn:incoming>to_vaccination</bpmn:incoming>"
    )
    files["process.bpmn"] = text.encode()
    mapping = files["mapping.yaml"].decode()
    files["mapping.yaml"] = mapping.replace("  vaccination:\n", "  vaccination_removed:\n").encode()
    import yaml

    m = yaml.safe_load(files["mapping.yaml"])
    del m["tasks"]["vaccination_removed"]
    files["mapping.yaml"] = yaml.safe_dump(m, allow_unicode=True).encode()
    v2 = load_definition(files=files, version=2, known_items=known_items)
    assert "vaccination" not in v2.tasks and v2.digest != newborn.digest
    registry = {newborn.key: newborn, v2.key: v2}

    # The old instance loads on v1 only; v2 under v1's key is refused.
    with pytest.raises(EngineError) as info:
        engine.loads(stored, definitions={("newborn", 1): v2})
    assert info.value.rule == "definition_changed"
    with pytest.raises(EngineError) as info:
        engine.loads(stored, definitions={v2.key: v2})
    assert info.value.rule == "definition_missing"
    old = engine.loads(stored, definitions=registry)
    assert old.definition is newborn and "vaccination" in _ready_ids(engine, old)

    # New applications take v2 and never see the dropped task.
    new, _ = engine.start(v2, form=example["newborn"]["form"], materials=example["newborn"]["materials"])
    engine.approve(new, task_id="birth_certificate", result=results["birth_certificate"])
    assert "vaccination" not in _ready_ids(engine, new)
    for inst in (old, new):
        while ready := engine.ready_tasks(inst):
            for task in ready:
                engine.approve(inst, task_id=task.task_id, result=results[task.task_id])
            inst = engine.loads(engine.dumps(inst), definitions=registry)
        assert inst.status == "completed"
    assert "vaccination" in old.results() and "vaccination" not in new.results()


def test_withdrawal_keeps_what_was_done(engine, newborn, example):
    instance, _ = _start(engine, newborn, example)
    engine.approve(
        instance, task_id="birth_certificate", result=example["newborn"]["results"]["birth_certificate"]
    )
    tr = engine.withdraw(instance, reason="申请人撤回")
    assert instance.status == "withdrawn" and tr.events[-1].detail["status"] == "withdrawn"
    assert engine.ready_tasks(instance) == [] and "birth_certificate" in instance.results()
    assert instance.next_due() is None
    restored = engine.loads(engine.dumps(instance), definitions={newborn.key: newborn})
    assert restored.status == "withdrawn"


def test_state_from_elsewhere_is_refused(engine, newborn):
    with pytest.raises(EngineError) as info:
        engine.loads(b'{"format": "other"}', definitions={})
    assert info.value.rule == "state_format"


def _drive(engine, instance, results, registry, now):
    """Approve whatever is ready (storing and loading between steps); tick through timers."""
    kinds: list[str] = []
    for _ in range(40):
        ready = engine.ready_tasks(instance)
        if not ready:
            if instance.status not in ("running",):
                break
            nxt = instance.next_due()
            now = max(now, nxt) + timedelta(seconds=1)
            kinds += _kinds([engine.tick(instance, now=now)])
            continue
        for task in ready:
            kinds += _kinds(
                [engine.approve(instance, task_id=task.task_id, result=results[task.task_id], now=now)]
            )
        instance = engine.loads(engine.dumps(instance), definitions=registry)
    return instance, kinds


@pytest.mark.parametrize(
    "code",
    ["newborn", "oversize_transport", "business_startup", "real_estate_transfer", "construction_hitech"],
)
def test_every_shipped_bundle_runs_to_the_end_on_a_happy_path(engine, shipped, example, code):
    definition = shipped[code]
    registry = {definition.key: definition}
    instance, first = _start(engine, definition, example)
    instance, kinds = _drive(engine, instance, example[code]["results"], registry, MONDAY)
    kinds = _kinds([first]) + kinds
    assert instance.status == "completed", kinds
    assert kinds.count("delivery") == 1 and kinds[-1] == "bundle_ended"
    assert set(instance.results()) <= set(definition.tasks)


def test_oversize_class_one_is_decided_the_same_day(engine, shipped, example):
    definition = shipped["oversize_transport"]
    results = {**example["oversize_transport"]["results"], "accept": {"cargo_class": "I"}}
    instance, _ = _start(engine, definition, example)
    instance, _ = _drive(engine, instance, results, {definition.key: definition}, MONDAY)
    assert instance.status == "completed"
    assert set(instance.results()) == {"accept", "decide_same_day", "issue_permit"}
    dues = {tid: rec["due_at"] for tid, rec in instance.state["tasks"].items()}
    assert len({d[:10] for d in dues.values()}) == 1  # all due the same (local) day
    # class III takes the long route with the police escort in parallel
    instance, _ = _start(engine, definition, example)
    engine.approve(instance, task_id="accept", result={"cargo_class": "III"})
    assert _ready_ids(engine, instance) == {"route_survey", "escort_plan"}
    assert {t.department for t in engine.ready_tasks(instance)} == {"jtj", "gaj"}


def test_construction_waits_for_the_publicity_period(engine, shipped, example):
    definition = shipped["construction_hitech"]
    results = example["construction_hitech"]["results"]
    instance, _ = _start(engine, definition, example)
    for task_id in ("project_filing", "land_use_permit", "eia_approval"):
        engine.approve(instance, task_id=task_id, result=results[task_id])
    assert _ready_ids(engine, instance) == {"civil_defence"}  # planning waits 7 days of publicity
    wait_until = instance.next_due()
    assert wait_until - MONDAY == timedelta(days=7, hours=13, minutes=59, seconds=59, microseconds=999999)
    engine.tick(instance, now=wait_until - timedelta(hours=1))
    assert "planning_permit" not in _ready_ids(engine, instance)
    engine.tick(instance, now=wait_until + timedelta(seconds=1))
    assert "planning_permit" in _ready_ids(engine, instance)


def test_construction_without_eia_report_skips_the_approval(engine, shipped, example):
    definition = shipped["construction_hitech"]
    ex = copy.deepcopy(example["construction_hitech"])
    ex["form"]["project"]["eia_category"] = "registration_form"
    instance, _ = engine.start(definition, form=ex["form"], materials=ex["materials"])
    instance, _ = _drive(engine, instance, ex["results"], {definition.key: definition}, MONDAY)
    assert instance.status == "completed" and "eia_approval" not in instance.results()


def test_the_fast_task_queries_match_spiffworkflows_iterator(engine, shipped, example):
    """BundleWorkflow.get_tasks walks the tree itself; it must return what SpiffWorkflow's would."""
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    queries = [
        {"state": s}
        for s in (
            TaskState.READY,
            TaskState.WAITING,
            TaskState.COMPLETED,
            TaskState.FUTURE,
            TaskState.MAYBE,
            TaskState.CANCELLED,
            TaskState.ANY_MASK,
        )
    ]
    queries += [
        {"state": TaskState.READY, "manual": True},
        {"spec_name": "all_done"},
        {"spec_name": "hukou"},
        {},
    ]
    definition = shipped["newborn"]
    results = example["newborn"]["results"]
    instance, _ = _start(engine, definition, example)
    checked = 0
    while True:
        wf = instance.workflow
        for query in queries:
            fast = [t.id for t in wf.get_tasks(**query)]
            slow = [t.id for t in BpmnWorkflow.get_tasks(wf, **query)]
            assert fast == slow, query
            checked += 1
        ready = engine.ready_tasks(instance)
        if not ready:
            break
        engine.approve(instance, task_id=ready[-1].task_id, result=results[ready[-1].task_id])
    assert checked >= 7 * len(queries)


def _stock_serializer():
    """SpiffWorkflow's own converters (instance without its spec, as ``spiff._InstanceConverter``)."""
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.serializer.default.event_definition import (
        TimerConditionalEventDefinitionConverter,
    )
    from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    from haoban.bundles.spiff import BundleWorkflow, ClockTimer

    class Stock(BpmnWorkflowConverter):
        def to_dict(self, workflow):
            dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            return dct

    config = dict(SPIFF_CONFIG)
    config.pop(BpmnWorkflow, None)
    config[BundleWorkflow] = Stock
    config[ClockTimer] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


@pytest.mark.parametrize(
    "code",
    ["newborn", "oversize_transport", "business_startup", "real_estate_transfer", "construction_hitech"],
)
def test_the_fast_serializer_writes_what_spiffworkflows_converters_write(engine, shipped, example, code):
    """spiff._TaskConverter / _InstanceConverter skip the registry for plain data: same dictionary,
    at every step of every shipped bundle (timers waiting, a correction open, a rejection), and data
    that is not plain still goes through the registry."""
    from datetime import datetime
    from uuid import UUID

    import orjson

    stock = _stock_serializer()
    definition = shipped[code]
    results = example[code]["results"]
    seen = 0

    def same(instance) -> None:
        nonlocal seen
        fast = engine._serializer.to_dict(instance.workflow)
        assert fast == stock.to_dict(instance.workflow)
        assert orjson.dumps(fast) == orjson.dumps(stock.to_dict(instance.workflow))
        seen += 1

    for reject in (False, True):
        instance, _ = _start(engine, definition, example)
        now = MONDAY
        same(instance)
        flagged = False
        while instance.status in ("running", "awaiting_correction"):
            ready = [t for t in engine.ready_tasks(instance) if t.state == "ready"]
            if not ready:
                now = max(now, instance.next_due()) + timedelta(seconds=1)
                engine.tick(instance, now=now)
                same(instance)
                continue
            task = ready[0]
            fields, materials = engine.correctable(instance, task_id=task.task_id)
            if not flagged and (fields or materials):
                flagged = True
                engine.request_correction(
                    instance,
                    task_id=task.task_id,
                    fields=fields[:1],
                    materials=materials[:1] if not fields else [],
                    reason="请更正",
                )
                same(instance)
                pending = engine.pending_correction(instance)
                changes = {f: _dig(instance.form, f) for f in pending["fields"]}
                engine.resubmit(
                    instance, form_changes=changes, materials={m: f"sha256:{m}" for m in pending["materials"]}
                )
            elif reject and len(instance.results()) == 1:
                engine.reject(instance, task_id=task.task_id, reason="不符合条件", now=now)
            else:
                engine.approve(instance, task_id=task.task_id, result=results[task.task_id], now=now)
            same(instance)
    assert seen >= 6
    # Data the registry must encode (a datetime, a UUID, a tuple) is still encoded by it.
    wf = instance.workflow
    wf.data["extra"] = {"at": datetime(2026, 11, 30, tzinfo=ZoneInfo("UTC")), "ids": (UUID(int=1),)}
    first = next(iter(wf.tasks.values()))
    first.internal_data["when"] = datetime(2026, 12, 1)
    fast = engine._serializer.to_dict(wf)
    assert fast == stock.to_dict(wf)
    assert fast["data"]["extra"]["at"]["typename"] == "datetime"
    assert fast["tasks"][str(first.id)]["internal_data"]["when"]["typename"] == "datetime"


def _dig(form, dotted):
    value = form
    for key in dotted.split("."):
        value = value[key]
    return value
