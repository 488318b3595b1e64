"""What an approved item yields, and what the applicant need not bring again.

- **Electronic licences (电子证照).** When a department approves a task whose catalogue item has a
  result (``ServiceItem.result_name``), the result is issued as an electronic licence of that item
  through ``haoban.licences`` (stored with its hash, verifiable by anyone holding its code), to the
  applicant, once per task (idempotent by ``<application code>/<task id>``). The case file and the
  applicant's timeline record its code.
- **Materials reused (材料复用).** A bundle material that names a ``licence_kind`` is not asked for
  when the applicant already holds a valid licence of that kind: the licence stands in for it, and
  the use is recorded (``licences.record_use``).
- **Births.** Approving the newborn household registration (户口登记, ``BIRTH_ITEM``) announces the
  birth on ``applications.birth_registered``, where 免申即享 (``haoban.benefits``) registers the child
  and matches the benefits it is owed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.applications import gate
from haoban.applications.models import Application, ApplicationMaterial, ApplicationTask
from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.auth.roles import ADMIN_ROLES, Role
from haoban.bundles.definitions import Definition, TaskDef
from haoban.catalog.models import ServiceItem
from haoban.licences import service as licences
from haoban.licences.models import Licence
from haoban.runtime import Runtime

BIRTH_ITEM = "gaj-newborn-hukou-registration"
LICENCE_CONTENT_TYPE = "application/vnd.haoban.licence+json"
_NAMES_TTL = 60.0  # seconds a process trusts what it read of an item's result


def source_ref(app: Application, task_id: str) -> str:
    return f"{app.code}/{task_id}"


def licence_name(session: Session, rt: Runtime, item_code: str) -> str | None:
    """The licence an item yields (its result name), None when it yields none; cached for a minute."""
    cache: dict[str, tuple[float, str | None]] = rt.local("applications.item_results", dict)
    now = time.monotonic()
    found = cache.get(item_code)
    if found is not None and found[0] > now:
        return found[1]
    with session.no_autoflush:  # the catalogue is not what the caller's transaction writes
        name = session.scalar(
            select(ServiceItem.result_name).where(ServiceItem.code == item_code, ServiceItem.active.is_(True))
        )
    cache[item_code] = (now + _NAMES_TTL, name or None)
    return name or None


def _issuer(actor: Actor, task: ApplicationTask) -> Actor:
    """The approving handler issues their department's licence; anyone else's approval, the platform."""
    own = actor.role == Role.HANDLER and actor.department_id == task.department_id
    if own or actor.role in ADMIN_ROLES:
        return actor
    return SYSTEM_ACTOR


def _pick(data: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def holder_of(
    td: TaskDef,
    *,
    form: Mapping[str, Any],
    tasks: Sequence[ApplicationTask],
    result: Mapping[str, Any],
) -> tuple[str, str] | None:
    """(ID number or credit code, name) of whoever holds the licence ``td``'s item yields, when the
    mapping names someone other than the applicant (``holder``) and both values are there."""
    if not td.holder:
        return None
    done = {t.task_id: t for t in tasks}
    values = []
    for part in ("id", "name"):
        source = td.holder[part]
        if source.root == "form":
            value = _pick(form, source.path)
        elif source.root == "result":
            value = _pick(result, source.path)
        else:
            row = done.get(source.path[0])
            value = _pick(json.loads(row.result), source.path[1:]) if row is not None and row.result else None
        values.append(str(value).strip() if value is not None else "")
    return (values[0], values[1]) if all(values) else None


def issue_licence(
    session: Session,
    rt: Runtime,
    *,
    app: Application,
    task: ApplicationTask,
    result: Mapping[str, Any],
    actor: Actor,
    at: datetime,
    holder: tuple[str, str] | None = None,
) -> Licence | None:
    """Issue the licence ``task``'s item yields to ``holder`` (ID number, name), else the applicant.

    None: the item yields none, or there is no ID number to hold it by."""
    holder_id, holder_name = holder or (app.applicant_id_number or "", app.applicant_name)
    if licence_name(session, rt, task.item_code) is None or not holder_id:
        return None
    lic = licences.issue(
        session,
        kind=task.item_code,
        holder_id=holder_id,
        holder_name=holder_name,
        actor=_issuer(actor, task),
        payload={"application": app.code, "task": task.task_id, "result": dict(result)},
        source_ref=source_ref(app, task.task_id),
        now=at,
    )
    gate.move_application(
        rt,
        session,
        app,
        action="note",
        to_status=None,
        actor=actor,
        at=at,
        event="licence_issued",
        payload={
            "task": task.task_id,
            "licence": lic.code,
            "name": lic.name,
            "number": lic.number,
            "sha256": lic.sha256,
            # Whose it is: the applicant's, or someone's they applied for (the holder's ID stays in
            # the encrypted register, not in the case file).
            "holder": "other" if holder is not None else "applicant",
        },
    )
    return lic


def draw_licences(
    session: Session, rt: Runtime, steps: Sequence[tuple[Application, ApplicationTask]], *, at: datetime
) -> None:
    """Before approving ``steps`` (application, task) in one transaction: the codes of the licences
    their items yield, drawn and checked against the register in one query (``licences.draw_ahead``)."""
    licences.draw_ahead(
        session,
        [
            (task.item_code, source_ref(app, task.task_id))
            for app, task in steps
            if licence_name(session, rt, task.item_code) is not None
        ],
        now=at,
    )


def licence_codes(session: Session, app: Application, *, task_ids: Collection[str]) -> dict[str, str]:
    """The codes of the licences issued for ``app``'s tasks ``task_ids``, by task id.

    Asked by exact ``source_ref`` (its unique index): a prefix match (``LIKE 'BJ…/%'``) scanned the
    whole register on SQLite, a cost growing with every licence ever issued."""
    refs = {source_ref(app, task_id): task_id for task_id in task_ids}
    if not refs:
        return {}
    # Without flushing: the licences this transaction issued are taken from the session (a bulk
    # approval's rows then go out together at commit, not one application's at a time).
    with session.no_autoflush:
        rows = session.execute(
            select(Licence.source_ref, Licence.code).where(Licence.source_ref.in_(list(refs)))
        ).all()
    found = {refs[ref]: code for ref, code in rows if ref in refs}
    # ``source_ref`` is unique: one issued now was not stored before.
    for ref, code in licences.pending_codes(session, refs).items():
        found.setdefault(refs[ref], code)
    return found


def held_materials(
    session: Session,
    *,
    definition: Definition,
    holder_id: str | None,
    skip: Collection[str],
    at: datetime,
    form: Mapping[str, Any] | None = None,
) -> dict[str, Licence]:
    """Material key → the valid licence that stands in for it (materials not in ``skip``): the
    applicant's (``holder_id``), or — for a material whose ``holder`` names a form field — the licence
    of whoever that field names (a child, a company the applicant acts for)."""
    by_holder: dict[str, dict[str, str]] = {}
    for key, m in definition.materials.items():
        if not m.licence_kind or key in skip:
            continue
        owner = holder_id
        if m.holder is not None:
            value = _pick(form or {}, m.holder.path)
            owner = str(value).strip().upper() if value else None
        if owner:
            by_holder.setdefault(owner, {})[key] = m.licence_kind
    out: dict[str, Licence] = {}
    for owner, wanted in by_holder.items():
        have = licences.held(session, holder_id=owner, kinds=wanted.values(), today=licences.city_day(at))
        out.update({key: have[kind] for key, kind in wanted.items() if kind in have})
    return out


def store_held(
    session: Session,
    *,
    app: Application,
    definition: Definition,
    held: Mapping[str, Licence],
    actor: Actor,
    at: datetime,
) -> None:
    """Record the licences standing in for materials: a material row each, and the licence's use."""
    for key, lic in held.items():
        session.add(
            ApplicationMaterial(
                application_id=app.id,
                key=key,
                filename=f"{lic.name}-{lic.code}.json",
                content_type=LICENCE_CONTENT_TYPE,
                size=0,
                sha256=lic.sha256,
                reused=True,
                data=None,
                uploaded_at=at,
                uploaded_by=actor.name,
            )
        )
        item = next((t.item for t in definition.tasks.values() if key in t.materials), definition.code)
        licences.record_use(
            session,
            licence_code=lic.code,
            item_code=item,
            material=definition.materials[key].name,
            ref=app.code,
            now=at,
        )


def licence_document(session: Session, material: ApplicationMaterial) -> bytes:
    """The licence a reused material stands for, as the holder's copy (JSON with its hash)."""
    lic = session.scalars(select(Licence).where(Licence.sha256 == material.sha256)).unique().first()
    return json.dumps(licences.document(lic), ensure_ascii=False).encode() if lic else b""


def announce_birth(
    rt: Runtime,
    session: Session,
    *,
    app: Application,
    task_id: str,
    inputs: Mapping[str, Any],
    result: Mapping[str, Any],
    actor: Actor,
    at: datetime,
) -> None:
    """户口登记 approved: tell 免申即享 about the child (``applications.birth_registered``)."""
    born_at = datetime.fromisoformat(str(inputs.get("born_at")))
    birth = {
        "child_id_number": str(result.get("citizen_id_number") or ""),
        "child_name": str(inputs.get("baby_name") or ""),
        "sex": {"male": "M", "female": "F"}.get(str(inputs.get("sex")), str(inputs.get("sex") or "")),
        "birth_date": born_at.astimezone(rt.settings.tz).date().isoformat(),
        "mother_id_number": str(inputs.get("mother_id_number") or ""),
        "father_id_number": str(inputs.get("father_id_number") or "") or None,
    }
    gate.move_application(
        rt,
        session,
        app,
        action="note",
        to_status=None,
        actor=actor,
        at=at,
        event="birth_registered",
        payload={"task": task_id},
        birth=birth,
    )
