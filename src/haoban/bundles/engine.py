"""The bundle engine: run a validated definition for one application, on SpiffWorkflow. Pure.

No database, no web: the caller loads an instance (``BundleEngine.loads``), acts on it, stores it
again (``BundleEngine.dumps``) and turns the returned events into department task rows, case-file
entries, 督办 and deliveries. Every mutating call returns a ``Transition`` with those events, the
instance status after it and the engine time it took.

What the engine guarantees
--------------------------
- **Dependencies.** A user task becomes ready only when SpiffWorkflow's token reaches it, i.e. after
  every task before it on the process graph; before announcing a task the engine also checks that
  every task *certain* to precede it (``TaskDef.requires``) was approved — or, after a rejection,
  skips it.
- **Rejection (不予办理) keeps what was done.** A rejected task ends its item. Every task downstream
  of a rejected or skipped task is *skipped* (it cannot be done without its predecessor), tasks on
  independent branches go on, and results already approved stay in the instance. The bundle then
  ends ``partially_completed`` (some items approved) or ``rejected`` (none), and a delivery step
  still delivers what was approved.
- **补正 once, for everything.** A department may flag the fields and materials of its ready task
  that need correcting, once per task (一次性告知). While any flag is open the instance is
  ``awaiting_correction``; flagged tasks cannot be decided and their timers stop. One resubmission
  must carry every flagged field and material (and may change nothing else); it clears all flags
  together, restarts the flagged tasks' clocks and moves the bundle deadline by the time waited.
- **Time comes from the caller.** Due times are computed by ``EngineHooks.deadline`` (the city's
  working-day calendar) and timers fire when the caller's ``now`` passes them (``tick``), so the
  database sweep decides when 督办 is raised. ``Instance.next_due`` says when to call ``tick``.
- **Version pinning.** ``dumps`` writes the bundle code, version and digest beside SpiffWorkflow's
  serialization of the instance (without the process spec); ``loads`` needs that exact definition
  back, so a running application stays on the version it started with.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import EscalationEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from haoban.bundles.definitions import Definition, Promise, Source
from haoban.bundles.forms import FieldProblem, form_problems
from haoban.bundles.instance import (
    OPEN_STATUSES,
    STATUSES,
    EngineError,
    EngineHooks,
    Event,
    FormError,
    Instance,
    ReadyTask,
    Transition,
    calendar_hooks,
    dig,
    field_problem,
    iso,
    parse_dt,
    set_path,
)
from haoban.bundles.spiff import SafeScriptEngine, make_serializer, new_workflow
from haoban.calendar import DurationUnit

__all__ = [
    "STATUSES",
    "BundleEngine",
    "EngineError",
    "EngineHooks",
    "Event",
    "FormError",
    "Instance",
    "ReadyTask",
    "Transition",
    "calendar_hooks",
]

STATE_FORMAT = "haoban.bundle-instance/1"


def _clock() -> tuple[float, float]:
    """(wall, this thread's CPU) now: a transition reports both (a loaded machine stretches wall time)."""
    return time.perf_counter(), time.thread_time()


class _Context:
    """Per-call view handed to SpiffWorkflow's hooks (timers, expressions); never serialized."""

    def __init__(self, engine: BundleEngine, instance: Instance, now: datetime) -> None:
        self.engine = engine
        self.instance = instance
        self.definition = instance.definition
        self.state = instance.state
        self.now = now
        self.events: list[Event] = []

    # -- used by spiff.py -------------------------------------------------------------------------

    @property
    def form(self) -> Mapping[str, Any]:
        return self.state["form"]

    @property
    def materials(self) -> Mapping[str, Any]:
        return self.state["materials"]

    def timer_paused(self, spec_name: str) -> bool:
        attached = self.definition.boundary_of.get(spec_name)
        return attached is not None and attached in self.state["open_corrections"]

    def has_rejection(self) -> bool:
        return any(r.get("outcome") in ("rejected", "skipped") for r in self.state["tasks"].values())

    def due_for(self, task_id: str) -> str:
        rec = self.state["tasks"].setdefault(task_id, {})
        if "due_at" not in rec:
            rec["ready_at"] = iso(self.now)
            rec["due_at"] = iso(self.engine.hooks.deadline(self.now, self.definition.tasks[task_id].promise))
        return rec["due_at"]

    def timer_functions(self, task: Any) -> dict[str, Callable[..., Any]]:
        def after(unit: DurationUnit) -> Callable[[float], str]:
            return lambda n: iso(self.engine.hooks.deadline(self.now, Promise(float(n), unit)))

        functions: dict[str, Callable[..., Any]] = {
            "working_days": after(DurationUnit.WORKING_DAYS),
            "working_hours": after(DurationUnit.WORKING_HOURS),
            "calendar_days": after(DurationUnit.CALENDAR_DAYS),
            "calendar_hours": after(DurationUnit.CALENDAR_HOURS),
        }
        attached = self.definition.boundary_of.get(task.task_spec.name)
        if attached is not None:
            functions["promise"] = lambda: self.due_for(attached)
        return functions

    def expression_failed(self, task: Any, expression: str, exc: Exception) -> EngineError:
        element = task.task_spec.name
        return EngineError("expression_failed", element=element, expression=expression, error=repr(exc))

    # -- callbacks from do_engine_steps -----------------------------------------------------------

    def on_completed(self, task: Any) -> None:
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        if not isinstance(spec, ThrowingEvent) or definition is None:
            return
        if isinstance(definition, EscalationEventDefinition):
            attached = None
            walker = task.parent
            while walker is not None:
                attached = self.definition.boundary_of.get(walker.task_spec.name)
                if attached is not None:
                    break
                walker = walker.parent
            rec = self.state["tasks"].get(attached or "", {})
            td = self.definition.tasks.get(attached or "")
            self.events.append(
                Event(
                    "duban",
                    task_id=attached,
                    item=td.item if td else None,
                    department=td.department if td else None,
                    at=self.now,
                    due_at=parse_dt(rec.get("due_at")),
                    detail={
                        "scope": "task" if attached else "process",
                        "element": spec.name,
                        "timer": walker.task_spec.name if walker is not None else None,
                    },
                )
            )
        elif isinstance(definition, MessageEventDefinition):
            event = self.engine._delivery_event(self, spec.name)
            if event.detail["items"]:  # nothing approved, nothing to deliver
                self.events.append(event)


# ---------------------------------------------------------------------------------------------
# Engine
# ---------------------------------------------------------------------------------------------


class BundleEngine:
    """Runs bundle instances. One engine serves any number of instances and definitions.

    Thread-safe as long as one instance is not used by two threads at once (the database row lock
    sees to that): the engine keeps no per-instance state between calls.
    """

    def __init__(self, *, hooks: EngineHooks | None = None) -> None:
        self.hooks = hooks or calendar_hooks()
        self._script_engine = SafeScriptEngine()
        self._serializer = make_serializer()

    # -- plumbing ---------------------------------------------------------------------------------

    def _begin(self, instance: Instance, now: datetime | None) -> _Context:
        moment = (now or self.hooks.now()).astimezone(UTC)
        ctx = _Context(self, instance, moment)
        instance.workflow.haoban_ctx = ctx
        return ctx

    def _finish(self, ctx: _Context, started: tuple[float, float]) -> Transition:
        ctx.instance.workflow.haoban_ctx = None
        wall, cpu = started
        return Transition(
            tuple(ctx.events), ctx.state["status"], time.perf_counter() - wall, time.thread_time() - cpu
        )

    @staticmethod
    def _require_open(instance: Instance) -> None:
        if instance.status not in OPEN_STATUSES:
            raise EngineError("bundle_ended", status=instance.status)

    def _ready_spiff_task(self, instance: Instance, task_id: str) -> Any:
        if task_id not in instance.definition.tasks:
            raise EngineError("unknown_task", element=task_id, task=task_id)
        for task in instance.workflow.get_tasks(state=TaskState.READY, manual=True):
            if task.task_spec.name == task_id:
                return task
        outcome = instance.state["tasks"].get(task_id, {}).get("outcome")
        if outcome:
            raise EngineError("task_finished", element=task_id, task=task_id, outcome=outcome)
        raise EngineError("task_not_ready", element=task_id, task=task_id)

    def _advance(self, ctx: _Context) -> None:
        """Run the engine until only department work or timers remain; skip what cannot be done."""
        wf = ctx.instance.workflow
        definition = ctx.definition
        tasks = ctx.state["tasks"]
        try:
            while True:
                wf.do_engine_steps(did_complete_task=ctx.on_completed)
                progressed = False
                for task in wf.get_tasks(state=TaskState.READY, manual=True):
                    tid = task.task_spec.name
                    rec = tasks.setdefault(tid, {})
                    if rec.get("announced"):
                        continue
                    td = definition.tasks[tid]
                    blocked = sorted(
                        u for u in td.upstream if tasks.get(u, {}).get("outcome") in ("rejected", "skipped")
                    )
                    if blocked:
                        rec.update(
                            outcome="skipped",
                            finished_at=iso(ctx.now),
                            reason={"blocked_by": blocked},
                            announced=True,
                        )
                        task.run()
                        ctx.events.append(
                            Event(
                                "task_skipped",
                                tid,
                                td.item,
                                td.department,
                                ctx.now,
                                detail={"blocked_by": blocked},
                            )
                        )
                        progressed = True
                        continue
                    missing = sorted(r for r in td.requires if tasks.get(r, {}).get("outcome") != "approved")
                    if missing:  # cannot happen with a validated definition; never hand out such a task
                        raise EngineError("dependency_violated", element=tid, task=tid, missing=missing)
                    due = ctx.due_for(tid)
                    rec["announced"] = True
                    ctx.events.append(
                        Event("task_ready", tid, td.item, td.department, ctx.now, datetime.fromisoformat(due))
                    )
                if not progressed:
                    break
        except SpiffWorkflowException as exc:
            raise EngineError("engine_failed", error=exc) from exc
        wf.get_events()  # escalations and messages were handled in on_completed; drop the copies
        if wf.is_completed() and ctx.state["status"] in OPEN_STATUSES:
            outcomes = [r.get("outcome") for r in tasks.values() if r.get("outcome")]
            if outcomes and all(o == "approved" for o in outcomes):
                status = "completed"
            elif "approved" in outcomes:
                status = "partially_completed"
            else:
                status = "rejected"
            ctx.state["status"] = status
            ctx.state["ended_at"] = iso(ctx.now)
            ctx.events.append(Event("bundle_ended", at=ctx.now, detail={"status": status}))

    def _check_bundle_deadline(self, ctx: _Context) -> None:
        state = ctx.state
        due = datetime.fromisoformat(state["due_at"])
        if state["status"] in OPEN_STATUSES and not state.get("bundle_escalated") and ctx.now > due:
            state["bundle_escalated"] = iso(ctx.now)
            ctx.events.append(Event("duban", at=ctx.now, due_at=due, detail={"scope": "bundle"}))

    def _delivery_event(self, ctx: _Context, element: str) -> Event:
        definition = ctx.definition
        items = [
            {
                "task_id": tid,
                "item": definition.tasks[tid].item,
                "name": definition.tasks[tid].name,
                "department": definition.tasks[tid].department,
                "result": rec.get("result"),
            }
            for tid, rec in ctx.state["tasks"].items()
            if rec.get("outcome") == "approved"
        ]
        how = {key: dig(ctx.state["form"], source.path) for key, source in definition.delivery.items()}
        return Event("delivery", at=ctx.now, detail={"element": element, "items": items, **how})

    def _validate_form(self, definition: Definition, form: Any) -> None:
        problems = form_problems(definition.form_validator, definition.form_schema, form)
        if problems:
            raise FormError(problems)

    @staticmethod
    def _material_problems(
        definition: Definition, materials: Mapping[str, Any], *, partial: bool
    ) -> list[FieldProblem]:
        problems: list[FieldProblem] = []
        for key, ref in materials.items():
            if key not in definition.materials:
                problems.append(field_problem(f"materials.{key}", "material_unknown", key=key))
            elif not isinstance(ref, str) or not ref.strip():
                m = definition.materials[key]
                problems.append(
                    field_problem(f"materials.{key}", "material_bad_ref", name=m.name, name_en=m.name_en)
                )
        if not partial:
            for key, m in definition.materials.items():
                if m.required and key not in materials:
                    problems.append(
                        field_problem(f"materials.{key}", "material_required", name=m.name, name_en=m.name_en)
                    )
        return problems

    # -- public API -------------------------------------------------------------------------------

    def start(
        self,
        definition: Definition,
        *,
        form: Mapping[str, Any],
        materials: Mapping[str, str],
        now: datetime | None = None,
    ) -> tuple[Instance, Transition]:
        """Start an application from the shared form and its materials (key → stored reference)."""
        started = _clock()
        self._validate_form(definition, form)
        problems = self._material_problems(definition, materials, partial=False)
        if problems:
            raise FormError(problems)
        workflow = new_workflow(definition.spec, definition.subprocess_specs, self._script_engine)
        moment = (now or self.hooks.now()).astimezone(UTC)
        workflow.data["haoban"] = {
            "bundle": definition.code,
            "version": definition.version,
            "digest": definition.digest,
            "status": "running",
            "form": copy.deepcopy(dict(form)),
            "materials": dict(materials),
            "started_at": iso(moment),
            "due_at": iso(self.hooks.deadline(moment, definition.promise)),
            "ended_at": None,
            "tasks": {},
            "open_corrections": [],
            "paused_at": None,
            "rounds": [],
            "bundle_escalated": None,
        }
        instance = Instance(definition, workflow)
        ctx = self._begin(instance, moment)
        self._advance(ctx)
        return instance, self._finish(ctx, started)

    def ready_tasks(self, instance: Instance) -> list[ReadyTask]:
        """Tasks waiting at a department, with their inputs computed from the mapping."""
        result: list[ReadyTask] = []
        state = instance.state
        for task in instance.workflow.get_tasks(state=TaskState.READY, manual=True):
            tid = task.task_spec.name
            td = instance.definition.tasks[tid]
            rec = state["tasks"].get(tid, {})
            if not rec.get("announced"):
                continue
            results = task.data.get("results", {})
            inputs = {name: self._resolve(src, state, results) for name, src in td.inputs.items()}
            mats = {key: state["materials"].get(key) for key in td.materials}
            result.append(
                ReadyTask(
                    task_id=tid,
                    name=td.name,
                    name_en=td.name_en,
                    item=td.item,
                    department=td.department,
                    state="correction" if tid in state["open_corrections"] else "ready",
                    ready_at=datetime.fromisoformat(rec["ready_at"]),
                    due_at=datetime.fromisoformat(rec["due_at"]),
                    inputs=inputs,
                    materials=mats,
                    correction=rec.get("correction") if tid in state["open_corrections"] else None,
                )
            )
        return result

    @staticmethod
    def _resolve(source: Source, state: Mapping[str, Any], results: Mapping[str, Any]) -> Any:
        if source.root == "form":
            return copy.deepcopy(dig(state["form"], source.path))
        if source.root == "materials":
            return state["materials"].get(source.path[0])
        return copy.deepcopy(dig(results, source.path))

    def approve(
        self,
        instance: Instance,
        *,
        task_id: str,
        result: Mapping[str, Any],
        now: datetime | None = None,
    ) -> Transition:
        """The department approves its task with a result (validated against its result_schema)."""
        started = _clock()
        self._require_open(instance)
        task = self._ready_spiff_task(instance, task_id)
        self._require_not_flagged(instance, task_id)
        td = instance.definition.tasks[task_id]
        problems = form_problems(td.result_validator, td.result_schema, result)
        if problems:
            raise FormError([FieldProblem(f"result.{p.field}".rstrip("."), p.zh, p.en) for p in problems])
        ctx = self._begin(instance, now)
        value = copy.deepcopy(dict(result))
        task.data["results"] = {**task.data.get("results", {}), task_id: value}
        rec = instance.state["tasks"][task_id]
        rec.update(outcome="approved", result=value, finished_at=iso(ctx.now))
        task.run()
        ctx.events.append(
            Event("task_approved", task_id, td.item, td.department, ctx.now, detail={"result": value})
        )
        self._advance(ctx)
        return self._finish(ctx, started)

    def reject(
        self, instance: Instance, *, task_id: str, reason: str, now: datetime | None = None
    ) -> Transition:
        """The department refuses its item (不予办理); see the module docstring for what follows."""
        started = _clock()
        self._require_open(instance)
        task = self._ready_spiff_task(instance, task_id)
        self._require_not_flagged(instance, task_id)
        if not isinstance(reason, str) or not reason.strip():
            raise FormError([field_problem("reason", "reason_required")])
        td = instance.definition.tasks[task_id]
        ctx = self._begin(instance, now)
        rec = instance.state["tasks"][task_id]
        rec.update(outcome="rejected", reason=reason.strip(), finished_at=iso(ctx.now))
        task.run()
        ctx.events.append(
            Event(
                "task_rejected", task_id, td.item, td.department, ctx.now, detail={"reason": reason.strip()}
            )
        )
        self._advance(ctx)
        return self._finish(ctx, started)

    def _require_not_flagged(self, instance: Instance, task_id: str) -> None:
        if task_id in instance.state["open_corrections"]:
            raise EngineError("awaiting_correction", element=task_id, task=task_id)

    def correctable(self, instance: Instance, *, task_id: str) -> tuple[list[str], list[str]]:
        """(form fields, material keys) that the department of ``task_id`` may flag for 补正."""
        td = instance.definition.tasks[task_id]
        fields = sorted({".".join(s.path) for s in td.inputs.values() if s.root == "form"})
        mats = sorted({*td.materials, *(s.path[0] for s in td.inputs.values() if s.root == "materials")})
        return fields, mats

    def request_correction(
        self,
        instance: Instance,
        *,
        task_id: str,
        fields: Sequence[str] = (),
        materials: Sequence[str] = (),
        reason: str,
        now: datetime | None = None,
    ) -> Transition:
        """Return fields/materials of a ready task to the applicant (补正), once per task."""
        started = _clock()
        self._require_open(instance)
        self._ready_spiff_task(instance, task_id)
        self._require_not_flagged(instance, task_id)
        rec = instance.state["tasks"][task_id]
        if rec.get("corrected"):
            raise EngineError("correction_once", element=task_id)
        allowed_fields, allowed_mats = self.correctable(instance, task_id=task_id)
        problems: list[FieldProblem] = []
        for name in fields:
            if name not in allowed_fields:
                problems.append(field_problem(f"fields.{name}", "flag_not_input", field=name))
        for key in materials:
            if key not in allowed_mats:
                problems.append(field_problem(f"materials.{key}", "flag_not_material", key=key))
        if not fields and not materials:
            problems.append(field_problem("fields", "flag_nothing"))
        if not isinstance(reason, str) or not reason.strip():
            problems.append(field_problem("reason", "reason_required"))
        if problems:
            raise FormError(problems)
        ctx = self._begin(instance, now)
        td = instance.definition.tasks[task_id]
        rec["correction"] = {
            "fields": sorted(set(fields)),
            "materials": sorted(set(materials)),
            "reason": reason.strip(),
            "requested_at": iso(ctx.now),
        }
        instance.state["open_corrections"].append(task_id)
        if instance.state["paused_at"] is None:
            instance.state["paused_at"] = iso(ctx.now)
        instance.state["status"] = "awaiting_correction"
        ctx.events.append(
            Event(
                "correction_requested",
                task_id,
                td.item,
                td.department,
                ctx.now,
                detail=dict(rec["correction"]),
            )
        )
        return self._finish(ctx, started)

    def pending_correction(self, instance: Instance) -> dict[str, Any]:
        """Everything the applicant must fix in the one resubmission: fields, materials, by task."""
        fields: set[str] = set()
        mats: set[str] = set()
        by_task: dict[str, Any] = {}
        for tid in instance.state["open_corrections"]:
            corr = instance.state["tasks"][tid]["correction"]
            fields.update(corr["fields"])
            mats.update(corr["materials"])
            by_task[tid] = corr
        return {"fields": sorted(fields), "materials": sorted(mats), "tasks": by_task}

    def resubmit(
        self,
        instance: Instance,
        *,
        form_changes: Mapping[str, Any],
        materials: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> Transition:
        """The applicant's one resubmission: every flagged field (dotted path → value) and material."""
        started = _clock()
        if instance.status != "awaiting_correction":
            raise EngineError("not_awaiting_correction")
        materials = dict(materials or {})
        pending = self.pending_correction(instance)
        problems: list[FieldProblem] = []
        for name in form_changes:
            if name not in pending["fields"]:
                problems.append(field_problem(name, "not_flagged", field=name))
        for name in pending["fields"]:
            if name not in form_changes:
                problems.append(field_problem(name, "flagged_missing", field=name))
        for key in materials:
            if key not in pending["materials"]:
                problems.append(field_problem(f"materials.{key}", "material_not_flagged", key=key))
        for key in pending["materials"]:
            if key not in materials:
                problems.append(field_problem(f"materials.{key}", "material_flagged_missing", key=key))
        problems += self._material_problems(instance.definition, materials, partial=True)
        if problems:
            raise FormError(problems)
        new_form = copy.deepcopy(dict(instance.state["form"]))
        for name, value in form_changes.items():
            set_path(new_form, name.split("."), copy.deepcopy(value))
        self._validate_form(instance.definition, new_form)

        ctx = self._begin(instance, now)
        state = instance.state
        changed = sorted(
            n for n in form_changes if dig(state["form"], n.split(".")) != dig(new_form, n.split("."))
        )
        state["form"] = new_form
        state["materials"] = {**state["materials"], **materials}
        flagged = list(state["open_corrections"])
        paused_at = datetime.fromisoformat(state["paused_at"])
        # 补正时间不计入办理时限: the bundle deadline moves by the time spent waiting.
        state["due_at"] = iso(datetime.fromisoformat(state["due_at"]) + (ctx.now - paused_at))
        state["rounds"].append(
            {
                "requested": {tid: state["tasks"][tid]["correction"] for tid in flagged},
                "resubmitted_at": iso(ctx.now),
                "changed_fields": changed,
                "materials": sorted(materials),
            }
        )
        state["open_corrections"] = []
        state["paused_at"] = None
        state["status"] = "running"
        changed_set = set(form_changes) | {f"materials.{k}" for k in materials}
        affected = sorted(
            tid
            for tid, rec in state["tasks"].items()
            if rec.get("outcome") == "approved"
            and any(
                src.text().removeprefix("form.") in changed_set or src.text() in changed_set
                for src in instance.definition.tasks[tid].inputs.values()
            )
        )
        ctx.events.append(
            Event(
                "resubmitted",
                at=ctx.now,
                detail={
                    "round": len(state["rounds"]),
                    "tasks": flagged,
                    "changed_fields": changed,
                    "materials": sorted(materials),
                    "completed_tasks_affected": affected,
                },
            )
        )
        for tid in flagged:
            rec = state["tasks"][tid]
            rec["corrected"] = True
            rec.pop("correction", None)
            td = instance.definition.tasks[tid]
            rec["ready_at"] = iso(ctx.now)
            rec["due_at"] = iso(self.hooks.deadline(ctx.now, td.promise))
            for task in instance.workflow.get_tasks(state=TaskState.WAITING):
                if task.task_spec.name in td.timers:
                    task._set_internal_data(event_value=rec["due_at"])
            ctx.events.append(
                Event(
                    "task_ready",
                    tid,
                    td.item,
                    td.department,
                    ctx.now,
                    datetime.fromisoformat(rec["due_at"]),
                    detail={"resumed": True},
                )
            )
        return self._finish(ctx, started)

    def tick(self, instance: Instance, *, now: datetime | None = None) -> Transition:
        """Fire the timers due by ``now`` (督办 on tasks, waits) and check the bundle deadline."""
        started = _clock()
        ctx = self._begin(instance, now)
        if instance.status in OPEN_STATUSES:
            try:
                instance.workflow.refresh_timers()
            except SpiffWorkflowException as exc:
                raise EngineError(
                    "engine_failed", f"流程引擎出错：{exc}", f"the workflow engine failed: {exc}"
                ) from exc
            self._advance(ctx)
            self._check_bundle_deadline(ctx)
        return self._finish(ctx, started)

    def withdraw(self, instance: Instance, *, reason: str, now: datetime | None = None) -> Transition:
        """The applicant withdraws (撤回): open tasks are cancelled, finished results are kept."""
        started = _clock()
        self._require_open(instance)
        ctx = self._begin(instance, now)
        instance.workflow.cancel()
        ctx.state.update(status="withdrawn", ended_at=iso(ctx.now), withdraw_reason=reason)
        ctx.state["open_corrections"] = []
        ctx.events.append(Event("bundle_ended", at=ctx.now, detail={"status": "withdrawn", "reason": reason}))
        return self._finish(ctx, started)

    # -- persistence ------------------------------------------------------------------------------

    def dumps(self, instance: Instance) -> bytes:
        """The instance as JSON (UTF-8 bytes), pinned to its definition's code, version and digest."""
        envelope = {
            "format": STATE_FORMAT,
            "serializer_version": self._serializer.VERSION,
            "bundle": instance.definition.code,
            "version": instance.definition.version,
            "digest": instance.definition.digest,
            "workflow": self._serializer.to_dict(instance.workflow),
        }
        return orjson.dumps(envelope)

    @staticmethod
    def pinned(data: bytes | str) -> tuple[str, int, str]:
        """(bundle code, version, digest) of a stored instance, to look its definition up."""
        envelope = orjson.loads(data)
        return envelope["bundle"], envelope["version"], envelope["digest"]

    def loads(
        self,
        data: bytes | str,
        *,
        definitions: Mapping[tuple[str, int], Definition] | Callable[[str, int], Definition],
    ) -> Instance:
        """Restore an instance onto the exact definition version it started with."""
        envelope = orjson.loads(data)
        if envelope.get("format") != STATE_FORMAT:
            raise EngineError("state_format")
        if envelope.get("serializer_version") != self._serializer.VERSION:
            raise EngineError("state_engine_version", version=envelope.get("serializer_version"))
        code, version, digest = envelope["bundle"], envelope["version"], envelope["digest"]
        definition = definitions(code, version) if callable(definitions) else definitions.get((code, version))
        if definition is None:
            raise EngineError("definition_missing", code=code, version=version)
        if definition.code != code or definition.version != version or definition.digest != digest:
            raise EngineError("definition_changed", code=code, version=version)
        workflow = self._serializer.from_dict(
            envelope["workflow"], spec=definition.spec, subprocess_specs=definition.subprocess_specs
        )
        workflow.script_engine = self._script_engine
        return Instance(definition, workflow)
