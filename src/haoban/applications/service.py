"""Applications: submit once, departments act on their tasks, the applicant corrects once, withdraw.

Every call loads the application's engine state, lets ``haoban.bundles.engine`` decide, turns the
engine's events into task rows, case-file entries, 督办 and deliveries (``_apply``), and stores the
state again — all in the caller's transaction, through the gate. Anything the engine refuses (a form
field, a material, a task that is not ready) is refused before anything is written.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from haoban.applications import access, assistance, gate, registry, results, workflow
from haoban.applications.materials import CheckedUpload, Upload, check_all
from haoban.applications.models import (
    Application,
    ApplicationDelivery,
    ApplicationMaterial,
    ApplicationTask,
)
from haoban.applications.workflow import OPEN_APP_STATUSES, AppStatus, TaskStatus
from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.auth.roles import Role
from haoban.bundles.definitions import Definition
from haoban.bundles.engine import BundleEngine, EngineHooks, Instance, Transition
from haoban.db import insert_returning_id, transaction_memo, utcnow
from haoban.errors import Conflict, DomainError, Invalid, NotFound
from haoban.notifications.service import enqueue
from haoban.orders.casefile import GENESIS
from haoban.orders.citizen import normalise_id_number, normalise_phone
from haoban.runtime import Runtime
from haoban.security.codes import public_code
from haoban.security.crypto import cipher_of
from haoban.sla.service import warn_at

CODE_PREFIX = "BJ"
BUNDLE_DUBAN_NOTE = "一件事超过承诺时限，系统自动督办 (the bundle passed its promise: automatic supervision)"
CHANNELS = ("online", "window", "assisted")
# Who hands results over at the window or gives parcels to the courier (统一窗口出件).
HAND_OVER_ROLES: tuple[str, ...] = (Role.WINDOW, Role.SUPERVISOR, Role.ADMIN)
GREEN_GROUPS = ("elderly", "disabled", "pregnant", "veteran", "minor_guardian", "serious_illness", "other")


def engine(rt: Runtime) -> BundleEngine:
    """The runtime's engine: due times on the city's working-day calendar (admin schedules included)."""

    def build() -> BundleEngine:
        def deadline(start: datetime, promise: Any) -> datetime:
            return rt.calendar.add(start, promise.amount, promise.unit).at

        return BundleEngine(hooks=EngineHooks(deadline=deadline, now=utcnow))

    return rt.local("applications.engine", build)


@dataclass(frozen=True)
class Applicant:
    name: str
    phone: str
    id_number: str | None = None


@dataclass
class Outcome:
    """What a call did: the application's code and status, and the engine's time for it."""

    code: str
    status: str
    engine_seconds: float
    engine_cpu_seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# Loading and storing the engine state
# ---------------------------------------------------------------------------------------------


def _definition(session: Session, rt: Runtime, app: Application) -> Definition:
    return registry.definition_by_id(session, rt, app.definition_id)


class HotInstances:
    """The instances this process stored last, by application, with the bytes it stored.

    Loading an instance (SpiffWorkflow's ``from_dict``) is the costliest part of a transition, and the
    next call on an application usually comes to the same process. An instance is reused only when
    the application's stored state is byte for byte what this process wrote with it; a call that
    will change the instance takes it out (``take``) and only ``_store`` puts it back, so an instance
    changed by a call that then failed is never reused (its transaction left the old bytes stored).
    """

    def __init__(self, size: int = 512) -> None:
        self._items: OrderedDict[int, tuple[bytes, Instance]] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def take(self, app: Application, *, keep: bool) -> Instance | None:
        return self.take_stored(app.id, app.state, keep=keep)

    def take_stored(self, app_id: int, state: bytes, *, keep: bool) -> Instance | None:
        """The instance of application ``app_id`` if it is the one stored as ``state``."""
        with self._lock:
            entry = self._items.get(app_id) if keep else self._items.pop(app_id, None)
        if entry is not None and entry[0] == state:
            return entry[1]
        return None

    def put(self, app: Application, state: bytes, instance: Instance) -> None:
        with self._lock:
            self._items[app.id] = (state, instance)
            self._items.move_to_end(app.id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def hot(rt: Runtime) -> HotInstances:
    return rt.local("applications.hot_instances", HotInstances)


def _instance(session: Session, rt: Runtime, app: Application, *, change: bool = True) -> Instance:
    """``app``'s engine instance; ``change=False`` for reading only (it stays in the hot cache)."""
    found = hot(rt).take(app, keep=not change)
    if found is not None:
        return found
    definition = _definition(session, rt, app)
    return engine(rt).loads(app.state, definitions={definition.key: definition})


def _store(rt: Runtime, app: Application, instance: Instance) -> None:
    state = engine(rt).dumps(instance)
    app.state = state
    app.next_due_at = instance.next_due()
    if app.id is not None:
        hot(rt).put(app, state, instance)


# ---------------------------------------------------------------------------------------------
# Engine steps worked out before the write transaction
# ---------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """An approval's engine step worked out before the write transaction (``prepare_approvals``).

    On SQLite a write transaction holds the database's one write lock from its first statement to its
    commit, so every millisecond of CPU spent inside it is a millisecond no other writer can work. The
    engine step and the serialisation of its state are pure CPU on the application's stored state, so
    they are done first, outside any write transaction; under the lock ``act`` uses the step only if
    the application's stored state is still byte for byte the one it was computed from (and the call
    is the same: action, task, result, time). Otherwise another writer changed the application in
    between, and ``act`` computes the step again from what is stored now, as it always did: no update
    is lost, and the case file is what it would have been.
    """

    app_id: int
    task_id: str
    result: dict[str, Any]
    at: datetime
    before: bytes  # the stored state the step was computed from
    transition: Transition
    birth_inputs: dict[str, Any] | None
    form: Mapping[str, Any]
    state: bytes  # the state after the step, as ``_store`` would write it
    next_due: datetime | None
    instance: Instance | None  # only an application's last prepared step keeps it (for the hot cache)

    def fits(self, app: Application, *, task_id: str, result: Mapping[str, Any], at: datetime) -> bool:
        return (
            self.app_id == app.id
            and self.task_id == task_id
            and self.at == at
            and self.result == dict(result)
            and self.before == app.state
        )


def _approve(
    rt: Runtime, instance: Instance, *, task_id: str, result: Mapping[str, Any], at: datetime
) -> tuple[Transition, dict[str, Any] | None]:
    """The engine's approval of ``task_id``, and the birth's inputs when the task registers one (read
    before the step: the task is no longer ready after it)."""
    eng = engine(rt)
    birth_inputs = None
    td = instance.definition.tasks.get(task_id)
    if td is not None and td.item == results.BIRTH_ITEM:
        birth_inputs = next((dict(r.inputs) for r in eng.ready_tasks(instance) if r.task_id == task_id), None)
    return eng.approve(instance, task_id=task_id, result=result, now=at), birth_inputs


def prepare_approvals(
    rt: Runtime, items: Sequence[tuple[str, str, Mapping[str, Any]]], *, at: datetime
) -> dict[tuple[str, str], Prepared]:
    """The engine steps of approving ``items`` ((code, task id, result), in the order they will be
    done), worked out on the stored states in a read transaction of its own: call it before the write
    transaction starts. A step the engine refuses is left out (``act`` refuses it under the lock, as
    ever), and so is every later step of that application."""
    codes = {code for code, _, _ in items}
    if not codes:
        return {}
    with rt.db.read() as session:
        stored = {
            code: (app_id, state, registry.definition_by_id(session, rt, definition_id))
            for app_id, code, state, definition_id in session.execute(
                select(Application.id, Application.code, Application.state, Application.definition_id).where(
                    Application.code.in_(codes)
                )
            )
        }
    eng = engine(rt)
    prepared: dict[tuple[str, str], Prepared] = {}
    last: dict[str, Prepared] = {}
    instances: dict[str, Instance] = {}
    for code, task_id, result in items:
        if code not in stored:
            continue
        app_id, state, definition = stored[code]
        instance = instances.get(code)
        if instance is None:
            instance = hot(rt).take_stored(app_id, state, keep=False) or eng.loads(
                state, definitions={definition.key: definition}
            )
        try:
            tr, birth_inputs = _approve(rt, instance, task_id=task_id, result=result, at=at)
        except DomainError:
            del stored[code]  # refused, or a later step on a half-changed instance: left to ``act``
            instances.pop(code, None)
            continue
        after = eng.dumps(instance)
        step = Prepared(
            app_id,
            task_id,
            dict(result),
            at,
            before=state,
            transition=tr,
            birth_inputs=birth_inputs,
            form=instance.form,
            state=after,
            next_due=instance.next_due(),
            instance=None,
        )
        prepared[(code, task_id)] = last[code] = step
        instances[code] = instance
        stored[code] = (app_id, after, definition)
    for code, step in last.items():
        if code in instances:
            step.instance = instances[code]
    return prepared


def draw_licences(
    session: Session,
    rt: Runtime,
    loaded: Mapping[str, tuple[Application, list[ApplicationTask]]],
    items: Sequence[tuple[str, str]],
    *,
    at: datetime,
) -> None:
    """Before approving ``items`` ((code, task id)) of the applications ``loaded`` in this transaction:
    the licences they will issue get their codes in one query (``results.draw_licences``), not one each."""
    steps = []
    for code, task_id in items:
        app, tasks = loaded.get(code, (None, []))
        task = next((t for t in tasks if t.task_id == task_id), None)
        if app is not None and task is not None:
            steps.append((app, task))
    results.draw_licences(session, rt, steps, at=at)


def _store_dumped(
    rt: Runtime, app: Application, instance: Instance | None, *, state: bytes, next_due: datetime | None
) -> None:
    """``_store`` of a state dumped before the transaction (``instance``: None when it moved on since)."""
    app.state = state
    app.next_due_at = next_due
    if instance is not None and app.id is not None:
        hot(rt).put(app, state, instance)


def _store_prepared(rt: Runtime, app: Application, step: Prepared) -> None:
    _store_dumped(rt, app, step.instance, state=step.state, next_due=step.next_due)


def _next_code(session: Session, rt: Runtime, at: datetime) -> str:
    day = at.astimezone(rt.settings.tz).strftime("%Y%m%d")
    value = session.execute(
        text(
            "INSERT INTO application_code_counters (day, value) VALUES (:day, 1) "
            "ON CONFLICT (day) DO UPDATE SET value = application_code_counters.value + 1 RETURNING value"
        ),
        {"day": day},
    ).scalar_one()
    return public_code(CODE_PREFIX, day, int(value), width=6)


def _department_id(rt: Runtime, code: str | None) -> int:
    ref = rt.directory.department(code or "")
    if ref is None:
        raise Invalid(f"department {code!r} is not in the directory", fields={"department": "unknown"})
    return ref.id


_TASK_IDS = "applications.task_ids"  # per transaction: [the last task id given in it]


def _new_task_id(session: Session) -> int | None:
    """The id of a new task row on SQLite, given here so that a flush writes a transaction's new task
    rows in one INSERT (None on PostgreSQL: its sequence's, and SQLAlchemy batches those already).

    Why: the ORM cannot match the ids an SQLite multi-row ``INSERT ... RETURNING`` gives back to its
    rows without a single-column sentinel, which this table lacks (its key is application and task),
    so it wrote a bulk approval's new task rows one INSERT each, under the write lock. They are the ids
    SQLite would give (an INTEGER PRIMARY KEY is max(rowid) + 1): asked once per transaction and
    counted on from there; the write transaction holds SQLite's one write lock from its start
    (``BEGIN IMMEDIATE``), so no other writer can take them in between."""
    if session.get_bind().dialect.name != "sqlite":
        return None

    def top() -> list[int]:
        with session.no_autoflush:  # every pending task row got its id here: none is missed
            return [session.scalar(select(func.max(ApplicationTask.id))) or 0]

    last = transaction_memo(session, _TASK_IDS, top)
    last[0] += 1
    return int(last[0])


def _apply(
    session: Session,
    rt: Runtime,
    app: Application,
    definition: Definition,
    tr: Transition,
    *,
    at: datetime,
    handled: frozenset[str] = frozenset(),
    tasks: list[ApplicationTask] | None = None,
) -> None:
    """Turn the engine's events into rows and case-file entries (``handled``: kinds the caller wrote;
    ``tasks``: the application's task rows when the caller loaded them in this transaction; rows
    created here are added to it)."""
    ratio = rt.settings.warning_ratio
    # One query for the task rows (not one per event: each query would flush what came before).
    if tasks is None:
        tasks = access.tasks_of(session, app) if app.id is not None else []
    rows = {t.task_id: t for t in tasks}
    for ev in tr.events:
        if ev.kind in handled:
            continue
        if ev.kind == "task_ready":
            assert ev.task_id is not None and ev.due_at is not None
            row = rows.get(ev.task_id)
            ready_at = ev.at or at

            def clock(step: gate.TaskStep, ready_at: datetime = ready_at, due: datetime = ev.due_at) -> None:
                task = step.task
                task.ready_at, task.due_at = ready_at, due
                task.warn_at = warn_at(ready_at, due, ratio)
                task.alert = None
                step.payload["due_at"] = due.isoformat()

            if row is None:
                td = definition.tasks[ev.task_id]
                row = ApplicationTask(
                    id=_new_task_id(session),
                    application_id=app.id,
                    task_id=ev.task_id,
                    item_code=td.item,
                    name=td.name,
                    name_en=td.name_en,
                    department_id=_department_id(rt, td.department),
                    green_channel=app.green_channel is not None,
                    supervision_level=0,
                )
                session.add(row)
                rows[ev.task_id] = row
                tasks.append(row)
                gate.move_task(rt, session, app, row, action="ready", actor=SYSTEM_ACTOR, at=at, effect=clock)
            else:
                gate.move_task(
                    rt, session, app, row, action="resume", actor=SYSTEM_ACTOR, at=at, effect=clock
                )
        elif ev.kind == "task_skipped":
            assert ev.task_id is not None
            row = rows.get(ev.task_id)
            if row is None:
                td = definition.tasks[ev.task_id]
                row = ApplicationTask(
                    id=_new_task_id(session),
                    application_id=app.id,
                    task_id=ev.task_id,
                    item_code=td.item,
                    name=td.name,
                    name_en=td.name_en,
                    department_id=_department_id(rt, td.department),
                    green_channel=app.green_channel is not None,
                    ready_at=at,
                    due_at=at,
                    warn_at=at,
                    supervision_level=0,
                )
                session.add(row)
                rows[ev.task_id] = row
                tasks.append(row)

            def finish(step: gate.TaskStep, blocked: Any = ev.detail.get("blocked_by")) -> None:
                step.task.finished_at = at
                step.task.reason = json.dumps({"blocked_by": blocked}, ensure_ascii=False)
                step.payload["blocked_by"] = blocked

            gate.move_task(rt, session, app, row, action="skip", actor=SYSTEM_ACTOR, at=at, effect=finish)
        elif ev.kind == "duban":
            row = rows.get(ev.task_id) if ev.task_id else None
            _duban(session, rt, app, row, ev.detail.get("scope", "task"), at=at, due_at=ev.due_at)
        elif ev.kind == "delivery":
            _prepare_delivery(session, rt, app, dict(ev.detail), at=at)
    if tr.status != app.status:
        gate.move_application(rt, session, app, action="task", to_status=tr.status, actor=SYSTEM_ACTOR, at=at)
    if tr.status not in OPEN_APP_STATUSES and app.ended_at is None:
        app.ended_at = at


def _duban(
    session: Session,
    rt: Runtime,
    app: Application,
    row: ApplicationTask | None,
    scope: str,
    *,
    at: datetime,
    due_at: datetime | None,
    note: str = "超过承诺时限，系统自动督办 (past its promise: automatic supervision)",
) -> None:
    if row is not None and row.status in {
        s.value for s in (TaskStatus.PENDING, TaskStatus.ACCEPTED, TaskStatus.CORRECTION)
    }:
        supervise_task(session, rt, app=app, task=row, at=at, note=note, due_at=due_at)
        return
    if scope in ("bundle", "process") or row is None:
        app.supervision_level += 1
        gate.move_application(
            rt,
            session,
            app,
            action="note",
            to_status=None,
            actor=SYSTEM_ACTOR,
            at=at,
            event="supervise",
            payload={
                "scope": "bundle",
                "note": BUNDLE_DUBAN_NOTE,
                "level": app.supervision_level,
                "due_at": due_at.isoformat() if due_at else None,
            },
        )


def raise_level(step: gate.TaskStep) -> None:
    """督办 on a task: one level up, recorded in the event."""
    step.task.supervision_level += 1
    step.payload["level"] = step.task.supervision_level


def supervise_task(
    session: Session,
    rt: Runtime,
    *,
    app: Application,
    task: ApplicationTask,
    at: datetime,
    note: str = "超过承诺时限，系统自动督办 (past its promise: automatic supervision)",
    due_at: datetime | None = None,
) -> None:
    """The platform's 督办 on a late task (a BPMN timer fired, or the sweep found it overdue)."""
    gate.move_task(
        rt,
        session,
        app,
        task,
        action="supervise",
        actor=SYSTEM_ACTOR,
        at=at,
        payload={"note": note, "automatic": True, "due_at": (due_at or task.due_at).isoformat()},
        effect=raise_level,
    )


def _prepare_delivery(
    session: Session, rt: Runtime, app: Application, detail: dict[str, Any], *, at: datetime
) -> None:
    """统一出件: one delivery of every approved result, by the method the applicant chose."""
    method = str(detail.get("method") or "window")
    issued = results.licence_codes(
        session, app, task_ids=[str(i.get("task_id")) for i in detail.get("items", [])]
    )
    items = [
        {k: i.get(k) for k in ("task_id", "item", "name", "department", "result")}
        | {"licence": issued.get(str(i.get("task_id")))}
        for i in detail.get("items", [])
    ]
    method = method if method in ("post", "window", "licence") else "window"
    # The parcel's waybill number (寄递单号), printed on the label when the results are packed.
    tracking_no = f"EMS{app.code.removeprefix(CODE_PREFIX)}" if method == "post" else None
    # Its id is in the case-file event: the row is inserted at once on its own (RETURNING), not by a
    # flush of everything the transaction holds (in a bulk approval, one application's rows at a time).
    delivery_id = insert_returning_id(
        session,
        ApplicationDelivery.__table__,
        {
            "application_id": app.id,
            "method": method,
            "tracking_no": tracking_no,
            "items": json.dumps(items, ensure_ascii=False),
            "recipient": detail.get("recipient"),
            "address": detail.get("address"),
            "status": "prepared",
            "created_at": at,
        },
    )
    gate.move_application(
        rt,
        session,
        app,
        action="note",
        to_status=None,
        actor=SYSTEM_ACTOR,
        at=at,
        event="delivery_prepared",
        payload={
            "delivery": delivery_id,
            "method": method,
            "tracking_no": tracking_no,
            "items": [i["task_id"] for i in items],
        },
    )
    body = (
        f"您的办件 {app.code} 已办结，结果将邮寄，运单号 {tracking_no}。"
        if method == "post"
        else f"您的办件 {app.code} 已办结，请到政务服务中心综合窗口领取结果。"
    )
    # No flush for the outbox's dedupe check either: the key names the delivery just inserted, so no
    # message waiting in the session can have it.
    with session.no_autoflush:
        enqueue(
            session,
            channel="sms",
            recipient=app.applicant_phone,
            subject="办件结果",
            body=body,
            dedupe_key=f"app-delivery:{app.code}:{delivery_id}",
        )


# ---------------------------------------------------------------------------------------------
# Submit
# ---------------------------------------------------------------------------------------------


def _check_applicant(applicant: Applicant) -> Applicant:
    fields: dict[str, str] = {}
    name = (applicant.name or "").strip()
    if not name or len(name) > 100:
        fields["applicant.name"] = "give the applicant's name (up to 100 characters)"
    try:
        phone = normalise_phone(applicant.phone or "")
    except ValueError as exc:
        fields["applicant.phone"] = str(exc)
        phone = ""
    id_number = None
    if applicant.id_number:
        try:
            id_number = normalise_id_number(applicant.id_number)
        except ValueError as exc:
            fields["applicant.id_number"] = str(exc)
    if fields:
        first = next(iter(fields))
        raise Invalid(f"{first}: {fields[first]}", fields=fields, message_zh="申请人信息有误")
    return Applicant(name, phone, id_number)


def check_applicant(applicant: Applicant) -> Applicant:
    """The applicant as ``submit`` checks it (name, phone, ID number), for a file checked elsewhere
    before it is sent (跨省通办)."""
    return _check_applicant(applicant)


def _reused(
    session: Session, applicant: Applicant, reuse: Mapping[str, str]
) -> dict[str, ApplicationMaterial]:
    """Materials the city already holds for this applicant (by sha256), to be used again."""
    found: dict[str, ApplicationMaterial] = {}
    fields: dict[str, str] = {}
    for key, ref in reuse.items():
        digest = str(ref).removeprefix("sha256:")
        owner = [Application.applicant_phone == applicant.phone]
        if applicant.id_number:  # encrypted at rest: found by its blind index
            index = cipher_of(session.get_bind().dialect).blind_index(applicant.id_number)
            owner.append(Application.applicant_id_index == index)
        held = session.scalars(
            select(ApplicationMaterial)
            .join(Application, Application.id == ApplicationMaterial.application_id)
            .where(ApplicationMaterial.sha256 == digest, or_(*owner))
            .limit(1)
        ).first()
        if held is None:
            fields[f"materials.{key}"] = "no material with this digest is held for this applicant"
        else:
            found[key] = held
    if fields:
        first = next(iter(fields))
        raise Invalid(f"{first}: {fields[first]}", fields=fields, message_zh="要复用的材料不存在")
    return found


def _store_materials(
    session: Session,
    app: Application,
    checked: Mapping[str, CheckedUpload],
    reused: Mapping[str, ApplicationMaterial],
    *,
    actor: Actor,
    at: datetime,
) -> None:
    for key, c in checked.items():
        session.add(
            ApplicationMaterial(
                application_id=app.id,
                key=key,
                filename=c.filename,
                content_type=c.content_type,
                size=len(c.data),
                sha256=c.sha256,
                reused=False,
                data=c.data,
                uploaded_at=at,
                uploaded_by=actor.name,
            )
        )
    for key, held in reused.items():
        session.add(
            ApplicationMaterial(
                application_id=app.id,
                key=key,
                filename=held.filename,
                content_type=held.content_type,
                size=held.size,
                sha256=held.sha256,
                reused=True,
                data=None,
                uploaded_at=at,
                uploaded_by=actor.name,
            )
        )


def _material_refs(
    checked: Mapping[str, CheckedUpload],
    reused: Mapping[str, ApplicationMaterial],
    held: Mapping[str, Any],
) -> dict[str, str]:
    """Material key → the reference the engine is given: an upload, a held copy, a licence."""
    return (
        {key: c.ref for key, c in checked.items()}
        | {key: f"sha256:{m.sha256}" for key, m in reused.items()}
        | {key: f"licence:{lic.code}" for key, lic in held.items()}
    )


@dataclass
class PreparedStart:
    """A submission's engine start worked out before its write transaction (see ``Prepared``): used
    only if, under the lock, the bundle's latest version and the material references (uploads, reused
    copies, held licences) are still the ones it started from."""

    checked: dict[str, CheckedUpload]
    definition_id: int
    refs: dict[str, str]
    instance: Instance
    transition: Transition
    state: bytes
    next_due: datetime | None


def _prepare_start(
    rt: Runtime,
    *,
    bundle: str,
    form: Mapping[str, Any],
    who: Applicant,
    uploads: Mapping[str, Upload] | None,
    reuse: Mapping[str, str] | None,
    at: datetime,
) -> PreparedStart | None:
    """The submission's engine start on what a read transaction of its own finds; None when anything
    refuses it (``submit`` then meets the refusal in its usual order, under the lock)."""
    try:
        checked = check_all(uploads or {})
        with rt.db.read() as session:
            definition_id = registry.require_latest_id(session, bundle)
            definition = registry.definition_by_id(session, rt, definition_id)
            reused = _reused(session, who, reuse or {})
            held = results.held_materials(
                session,
                definition=definition,
                holder_id=who.id_number,
                skip={*checked, *reused},
                at=at,
                form=form,
            )
            refs = _material_refs(checked, reused, held)
        instance, tr = engine(rt).start(definition, form=form, materials=refs, now=at)
    except DomainError:
        return None
    state = engine(rt).dumps(instance)
    return PreparedStart(checked, definition_id, refs, instance, tr, state, instance.next_due())


def submit(
    session: Session,
    rt: Runtime,
    *,
    bundle: str,
    form: Mapping[str, Any],
    applicant: Applicant,
    actor: Actor,
    uploads: Mapping[str, Upload] | None = None,
    reuse: Mapping[str, str] | None = None,
    channel: str = "online",
    green_channel: str | None = None,
    consent: assistance.Consent | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> tuple[Application, Outcome]:
    """One submission with the shared form and its materials starts the bundle at every department.

    ``channel`` "assisted" (帮代办) needs the person's ``consent``, recorded with the application.
    """
    at = now or utcnow()
    if channel not in CHANNELS:
        raise Invalid(f"channel must be one of {', '.join(CHANNELS)}", fields={"channel": "unknown"})
    if green_channel is not None and green_channel not in GREEN_GROUPS:
        raise Invalid(
            f"green_channel must be one of {', '.join(GREEN_GROUPS)}",
            fields={"green_channel": "unknown group"},
        )
    who = _check_applicant(applicant)
    # The engine's start before this transaction's first statement (on SQLite: before the write lock).
    early = _prepare_start(rt, bundle=bundle, form=form, who=who, uploads=uploads, reuse=reuse, at=at)
    proxy = (
        assistance.check_consent(session, consent=consent, phone=who.phone, at=at)
        if channel == "assisted"
        else None
    )
    definition_id = registry.require_latest_id(session, bundle)
    definition = registry.definition_by_id(session, rt, definition_id)
    checked = early.checked if early is not None else check_all(uploads or {})
    reused = _reused(session, who, reuse or {})
    held = results.held_materials(
        session, definition=definition, holder_id=who.id_number, skip={*checked, *reused}, at=at, form=form
    )
    refs = _material_refs(checked, reused, held)
    if early is not None and (early.definition_id, early.refs) != (definition_id, refs):
        early = None  # another writer changed what the start depends on: start again from what is stored
    instance, tr = (
        (early.instance, early.transition)
        if early is not None
        else engine(rt).start(definition, form=form, materials=refs, now=at)
    )

    app = Application(
        code=_next_code(session, rt, at),
        definition_id=definition_id,
        bundle_code=definition.code,
        bundle_version=definition.version,
        status=None,
        channel=channel,
        applicant_name=who.name,
        applicant_phone=who.phone,
        applicant_id_number=who.id_number,
        applicant_id_index=cipher_of(session.get_bind().dialect).maybe_index(who.id_number),
        submitted_by_id=actor.id,
        submitted_by_name=actor.name,
        green_channel=green_channel,
        submitted_at=at,
        due_at=instance.due_at,
        visits=1 if channel == "window" else 0,
        corrections=0,
        supervision_level=0,
        state=b"",
        event_count=0,
        last_hash=GENESIS,
    )
    session.add(app)
    gate.move_application(
        rt,
        session,
        app,
        action="submit",
        to_status=AppStatus.RUNNING,
        actor=actor,
        at=at,
        payload={
            "bundle": definition.code,
            "version": definition.version,
            "channel": channel,
            "green_channel": green_channel,
            "materials": {key: ref for key, ref in sorted(refs.items())},
            "reused": sorted(reused),
            "licences": {key: lic.code for key, lic in sorted(held.items())},
        },
    )
    _store_materials(session, app, checked, reused, actor=actor, at=at)
    results.store_held(session, app=app, definition=definition, held=held, actor=actor, at=at)
    if proxy is not None:
        assistance.record_proxy(
            rt, session, app, actor=actor, method=proxy[0], ref=proxy[1], at=at, note=note
        )
    _apply(session, rt, app, definition, tr, at=at, tasks=[])  # a new application has no task rows yet
    if early is not None:
        _store_dumped(rt, app, instance, state=early.state, next_due=early.next_due)
    else:
        _store(rt, app, instance)
    return app, Outcome(app.code, app.status, tr.engine_seconds, tr.engine_cpu_seconds)


# ---------------------------------------------------------------------------------------------
# Department actions
# ---------------------------------------------------------------------------------------------


@dataclass
class TaskAction:
    """What a department sends with an action (only the fields the action needs)."""

    result: Mapping[str, Any] | None = None
    reason: str | None = None
    fields: list[str] | None = None
    materials: list[str] | None = None
    material: str | None = None
    promised_by: date | None = None
    note: str | None = None


def _require(move_required: tuple[str, ...], data: TaskAction) -> None:
    missing = {}
    for name in move_required:
        value = getattr(data, name, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing[name] = "required for this action"
    if missing:
        first = next(iter(missing))
        raise Invalid(f"{first} is required for this action", fields=missing, message_zh=f"请填写 {first}")


def act(
    session: Session,
    rt: Runtime,
    *,
    code: str,
    task_id: str,
    action: str,
    data: TaskAction,
    actor: Actor,
    now: datetime | None = None,
    loaded: tuple[Application, list[ApplicationTask]] | None = None,
    prepared: Prepared | None = None,
) -> Outcome:
    """A department's action on its task: accept, 容缺受理, 补正, approve with a result, reject; 督办.

    ``loaded``: the application and its task rows, locked in this transaction by the caller (a bulk
    action loads all of its applications at once); the list is kept up to date with new task rows.
    ``prepared``: this approval's engine step from ``prepare_approvals``, used only if it still fits.
    """
    at = now or utcnow()
    if loaded is None:
        app, tasks = access.get_with_tasks(session, code=code, actor=actor, lock=True)
    else:
        app, tasks = access.require_visible(session, actor, code=code, app=loaded[0], tasks=loaded[1])
    task = next((t for t in tasks if t.task_id == task_id), None)
    if task is None:
        raise NotFound(f"application {code} has no task {task_id!r}", message_zh=f"办件没有事项 {task_id}")
    move = workflow.task_move(action)
    if move is None or move.internal:
        raise access.refuse_unknown(action)
    refused = access.task_refusal(task, move, actor)
    if refused is not None:
        raise refused
    _require(move.required, data)
    definition = _definition(session, rt, app)
    eng = engine(rt)
    ready = (
        prepared
        if prepared is not None
        and action == "approve"
        and data.result is not None
        and prepared.fits(app, task_id=task_id, result=data.result, at=at)
        else None
    )
    needs_engine = action in ("request_correction", "approve", "reject") and ready is None
    instance = _instance(session, rt, app) if needs_engine else None
    result: list[Transition] = []
    birth: list[dict[str, Any] | None] = []

    def effect(step: gate.TaskStep) -> None:
        t = step.task
        if action in ("accept", "accept_tolerated"):
            t.accepted_at, t.handled_by = at, actor.name
        if action == "accept_tolerated":
            td = definition.tasks[task_id]
            allowed = sorted(
                {*td.materials, *(s.path[0] for s in td.inputs.values() if s.root == "materials")}
            )
            if data.material not in allowed:
                raise Invalid(
                    f"material must be one this item needs: {', '.join(allowed) or 'none'}",
                    fields={"material": "not a material of this item"},
                    message_zh="容缺的材料不属于本事项",
                )
            assert data.promised_by is not None
            due = datetime.combine(data.promised_by, time(23, 59, 59), rt.settings.tz).astimezone(UTC)
            if due <= at:
                raise Invalid(
                    "promised_by must be a later day",
                    fields={"promised_by": "must be in the future"},
                    message_zh="承诺补交日期须晚于今天",
                )
            if due > at + timedelta(days=90):
                raise Invalid(
                    "promised_by is more than 90 days away",
                    fields={"promised_by": "too far"},
                    message_zh="承诺补交日期不得超过 90 天",
                )
            t.tolerated_material, t.tolerated_due_at, t.tolerated_alert = data.material, due, None
            step.payload.update(material=data.material, promised_by=due.isoformat())
        elif action == "request_correction":
            assert instance is not None
            result.append(
                eng.request_correction(
                    instance,
                    task_id=task_id,
                    fields=data.fields or [],
                    materials=data.materials or [],
                    reason=data.reason or "",
                    now=at,
                )
            )
            step.payload.update(
                fields=sorted(data.fields or []),
                materials=sorted(data.materials or []),
                reason=(data.reason or "").strip(),
            )
        elif action == "approve":
            assert data.result is not None
            if ready is not None:
                tr, birth_inputs = ready.transition, ready.birth_inputs
            else:
                assert instance is not None
                tr, birth_inputs = _approve(rt, instance, task_id=task_id, result=data.result, at=at)
            result.append(tr)
            birth.append(birth_inputs)
            t.finished_at, t.handled_by = at, actor.name
            t.result = json.dumps(dict(data.result), ensure_ascii=False)
            step.payload["result"] = dict(data.result)
        elif action == "reject":
            assert instance is not None
            result.append(eng.reject(instance, task_id=task_id, reason=data.reason or "", now=at))
            t.finished_at, t.handled_by = at, actor.name
            t.reason = (data.reason or "").strip()
            step.payload["reason"] = t.reason
        elif action == "supervise":
            step.payload["note"] = (data.note or "").strip()
            raise_level(step)

    gate.move_task(rt, session, app, task, action=action, actor=actor, at=at, effect=effect)
    if action == "approve" and data.result is not None:
        if ready is not None:
            form = ready.form
        else:
            assert instance is not None
            form = instance.form
        holder = results.holder_of(definition.tasks[task_id], form=form, tasks=tasks, result=data.result)
        results.issue_licence(
            session, rt, app=app, task=task, result=data.result, actor=actor, at=at, holder=holder
        )
        if birth and birth[0] is not None:
            results.announce_birth(
                rt,
                session,
                app=app,
                task_id=task_id,
                inputs=birth[0],
                result=data.result,
                actor=actor,
                at=at,
            )
    seconds = cpu = 0.0
    if result:
        tr = result[0]
        seconds, cpu = tr.engine_seconds, tr.engine_cpu_seconds
        _apply(
            session,
            rt,
            app,
            definition,
            tr,
            at=at,
            handled=frozenset({"task_approved", "task_rejected", "correction_requested"}),
            tasks=tasks,
        )
        if ready is not None:
            _store_prepared(rt, app, ready)
        else:
            assert instance is not None
            _store(rt, app, instance)
    return Outcome(app.code, app.status, seconds, cpu)


def act_alone(
    rt: Runtime,
    *,
    code: str,
    task_id: str,
    action: str,
    data: TaskAction,
    actor: Actor,
    now: datetime | None = None,
) -> Outcome:
    """One department action in a write transaction of its own (the API, the CLI, the staff pages): an
    approval's engine step is worked out before the transaction (``prepare_approvals``), as a bulk
    approval's are, and ``act`` uses it if the application is still as it was read."""
    at = now or utcnow()
    prepared = None
    if action == "approve" and data.result is not None:
        prepared = prepare_approvals(rt, [(code, task_id, data.result)], at=at).get((code, task_id))
    with rt.db.write() as session:
        return act(
            session,
            rt,
            code=code,
            task_id=task_id,
            action=action,
            data=data,
            actor=actor,
            now=at,
            prepared=prepared,
        )


# ---------------------------------------------------------------------------------------------
# The applicant: one resubmission, withdrawal
# ---------------------------------------------------------------------------------------------


def resubmit(
    session: Session,
    rt: Runtime,
    *,
    app: Application,
    form_changes: Mapping[str, Any],
    uploads: Mapping[str, Upload] | None,
    actor: Actor,
    now: datetime | None = None,
) -> Outcome:
    """The one resubmission (补正): every flagged field and material at once, nothing else."""
    at = now or utcnow()
    checked = check_all(uploads or {})
    instance = _instance(session, rt, app)
    definition = instance.definition
    tr = engine(rt).resubmit(
        instance, form_changes=form_changes, materials={k: c.ref for k, c in checked.items()}, now=at
    )
    resubmitted = next(e for e in tr.events if e.kind == "resubmitted")
    app.corrections += 1
    gate.move_application(
        rt,
        session,
        app,
        action="resubmit",
        to_status=AppStatus.RUNNING,
        actor=actor,
        at=at,
        payload={k: resubmitted.detail.get(k) for k in ("round", "tasks", "changed_fields", "materials")},
    )
    _store_materials(session, app, checked, {}, actor=actor, at=at)
    _apply(session, rt, app, definition, tr, at=at, handled=frozenset({"resubmitted"}))
    _store(rt, app, instance)
    return Outcome(app.code, app.status, tr.engine_seconds, tr.engine_cpu_seconds)


def withdraw(
    session: Session, rt: Runtime, *, app: Application, reason: str, actor: Actor, now: datetime | None = None
) -> Outcome:
    at = now or utcnow()
    if not reason or not reason.strip():
        raise Invalid(
            "give a reason for withdrawing", fields={"reason": "required"}, message_zh="请填写撤回原因"
        )
    instance = _instance(session, rt, app)
    tr = engine(rt).withdraw(instance, reason=reason.strip(), now=at)
    gate.move_application(
        rt,
        session,
        app,
        action="withdraw",
        to_status=AppStatus.WITHDRAWN,
        actor=actor,
        at=at,
        payload={"reason": reason.strip()},
    )
    app.ended_at = at
    for task in access.tasks_of(session, app):
        if task.status in (TaskStatus.PENDING, TaskStatus.ACCEPTED, TaskStatus.CORRECTION):
            gate.move_task(rt, session, app, task, action="cancel", actor=SYSTEM_ACTOR, at=at)
    _store(rt, app, instance)
    return Outcome(app.code, app.status, tr.engine_seconds, tr.engine_cpu_seconds)


def tick(session: Session, rt: Runtime, *, app: Application, now: datetime | None = None) -> Outcome:
    """Fire the engine's timers due by ``now`` (督办 on late tasks, the bundle's promise)."""
    at = now or utcnow()
    instance = _instance(session, rt, app)
    tr = engine(rt).tick(instance, now=at)
    _apply(session, rt, app, instance.definition, tr, at=at)
    _store(rt, app, instance)
    return Outcome(app.code, app.status, tr.engine_seconds, tr.engine_cpu_seconds)


def pending_correction(session: Session, rt: Runtime, app: Application) -> dict[str, Any]:
    if app.status != AppStatus.AWAITING_CORRECTION:
        return {"fields": [], "materials": [], "tasks": {}}
    return engine(rt).pending_correction(_instance(session, rt, app, change=False))


def role_may_submit(actor: Actor) -> bool:
    return actor.role != Role.AUDITOR


def ready_task(session: Session, rt: Runtime, app: Application, task_id: str) -> Any:
    """The engine's view of a task waiting at its department (its inputs computed from the mapping and
    its materials' references), or None when it is not waiting; for a task another region handles."""
    instance = _instance(session, rt, app, change=False)
    return next((r for r in engine(rt).ready_tasks(instance) if r.task_id == task_id), None)


def form_of(session: Session, rt: Runtime, app: Application) -> dict[str, Any]:
    """The application's current form (after any corrections)."""
    return dict(_instance(session, rt, app, change=False).form)


def material_bytes(session: Session, *, app: Application, material_id: int) -> tuple[str, str, bytes]:
    """(content type, file name, bytes) of a material of ``app``; a reused one reads the held copy."""
    m = session.get(ApplicationMaterial, material_id)
    if m is None or m.application_id != app.id:
        raise NotFound(f"application {app.code} has no material #{material_id}", message_zh="没有这份材料")
    if m.content_type == results.LICENCE_CONTENT_TYPE:
        return "application/json", m.filename, results.licence_document(session, m)
    data = m.data
    if data is None:
        data = session.scalar(
            select(ApplicationMaterial.data)
            .where(ApplicationMaterial.sha256 == m.sha256, ApplicationMaterial.data.is_not(None))
            .limit(1)
        )
    return m.content_type, m.filename, data or b""


def supply_material(
    session: Session,
    rt: Runtime,
    *,
    app: Application,
    uploads: Mapping[str, Upload],
    actor: Actor,
    now: datetime | None = None,
) -> list[str]:
    """The material promised under 容缺受理 arrives; the tasks waiting for it are told. Their task ids."""
    at = now or utcnow()
    if not uploads:
        raise Invalid(
            "attach the promised material", fields={"materials": "no file"}, message_zh="请上传材料"
        )
    waiting = {
        t.tolerated_material: t
        for t in access.tasks_of(session, app)
        if t.tolerated_material and t.tolerated_alert != "received"
    }
    unknown = sorted(k for k in uploads if k not in waiting)
    if unknown:
        raise Invalid(
            f"no task is waiting for {', '.join(unknown)}",
            fields={f"materials.{k}": "not a promised (容缺) material" for k in unknown},
            message_zh="这份材料不是容缺受理时承诺补交的材料",
        )
    checked = check_all(uploads)
    _store_materials(session, app, checked, {}, actor=actor, at=at)
    done = []
    for key, c in checked.items():
        for task in access.tasks_of(session, app):
            if task.tolerated_material != key or task.tolerated_alert == "received":
                continue

            def received(step: gate.TaskStep, ref: str = c.ref) -> None:
                step.task.tolerated_alert = "received"
                step.payload.update(material=step.task.tolerated_material, ref=ref)

            gate.move_task(
                rt, session, app, task, action="material_received", actor=SYSTEM_ACTOR, at=at, effect=received
            )
            done.append(task.task_id)
    return done


def hand_over(
    session: Session,
    rt: Runtime,
    *,
    app: Application,
    delivery_id: int,
    actor: Actor,
    now: datetime | None = None,
) -> ApplicationDelivery:
    """统一窗口出件: the window hands the results to the applicant, or gives the parcel to the courier."""
    from haoban.auth.rbac import require_role

    require_role(actor, *HAND_OVER_ROLES)
    at = now or utcnow()
    delivery = session.get(ApplicationDelivery, delivery_id)
    if delivery is None or delivery.application_id != app.id:
        raise NotFound(f"application {app.code} has no delivery #{delivery_id}", message_zh="没有这次出件")
    if delivery.status != "prepared":
        raise Conflict(
            f"the delivery is already {delivery.status}", message_zh="已出件", status=delivery.status
        )
    delivery.status = "posted" if delivery.method == "post" else "handed_over"
    delivery.delivered_at, delivery.handed_over_by = at, actor.name
    if delivery.method != "post":
        app.visits += 1  # one trip to collect (跑动次数)
    gate.move_application(
        rt,
        session,
        app,
        action="note",
        to_status=None,
        actor=actor,
        at=at,
        event="delivery_posted" if delivery.method == "post" else "handed_over",
        payload={"delivery": delivery.id, "tracking_no": delivery.tracking_no},
    )
    return delivery
