"""Catalogue rules: create, replace, withdraw and read items; import rows; the catalogue's metrics.

Writes need an administrator (or the platform seeding the demo); reading is public, but a withdrawn
item is visible only to staff who may read the configuration. Every item is keyed by its code: an
import with an item that is already there and equal changes nothing, so re-importing is idempotent.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import CITIZEN_ACTOR, Actor
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.catalog import bulk
from haoban.catalog.bulk import ERROR_KEY
from haoban.catalog.models import (
    FORM_LABELS,
    KIND_LABELS,
    ONLINE_LABELS,
    ItemKind,
    ItemMaterial,
    OnlineLevel,
    ServiceItem,
)
from haoban.catalog.schemas import ItemIn
from haoban.db import utcnow
from haoban.directory.models import Department
from haoban.directory.service import DeptRef, DirectorySnapshot
from haoban.errors import Conflict, Invalid, NotFound

# --- views -------------------------------------------------------------------------------------------


def _json_list(raw: str | None) -> list[str]:
    try:
        values = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(e) for e in values] if isinstance(values, list) else []


def _events(item: ServiceItem) -> list[str]:
    return _json_list(item.life_events)


def _dept_name(dept: Department, lang: str) -> str:
    return dept.name if lang == "zh" else (dept.name_en or dept.name)


def material_view(m: ItemMaterial, lang: str = "zh") -> dict[str, Any]:
    zh, en = FORM_LABELS.get(m.form, (m.form, m.form))
    return {
        "name": m.name,
        "form": m.form,
        "form_label": zh if lang == "zh" else en,
        "count": m.count,
        "tolerance": m.tolerance,
        "held_by_government": m.held_by_government,
        "licence_kind": m.licence_kind,
        "note": m.note,
    }


def item_summary(item: ServiceItem, lang: str = "zh") -> dict[str, Any]:
    k = 0 if lang == "zh" else 1
    return {
        "code": item.code,
        "name": item.name,
        "department": item.department.code,
        "department_name": _dept_name(item.department, lang),
        "kind": item.kind,
        "kind_label": KIND_LABELS.get(item.kind, (item.kind, item.kind))[k],
        "statutory_days": item.statutory_days,
        "promised_days": item.promised_days,
        "online": item.online,
        "online_label": ONLINE_LABELS.get(item.online, (item.online, item.online))[k],
        "life_events": _events(item),
        "active": item.active,
    }


def item_view(item: ServiceItem, lang: str = "zh") -> dict[str, Any]:
    return {
        **item_summary(item, lang),
        "name_en": item.name_en,
        "group_name": item.group_name,
        "task_type": item.task_type,
        "audience": item.audience,
        "days_saved": item.statutory_days - item.promised_days,
        "fee_fen": item.fee_fen,
        "fee_note": item.fee_note,
        "legal_basis": item.legal_basis,
        "conditions": item.conditions,
        "form_name": item.form_name,
        "location": item.location,
        "hours": item.hours,
        "result_name": item.result_name,
        "keywords": _json_list(item.keywords),
        "materials": [material_view(m, lang) for m in item.materials],
        "source": item.source,
        "version": item.version,
        "updated_at": item.updated_at,
    }


def item_input(item: ServiceItem) -> dict[str, Any]:
    """The item as the input it would be created from (export; the "is it unchanged?" test)."""
    return ItemIn(
        code=item.code,
        name=item.name,
        name_en=item.name_en,
        department=item.department.code,
        group_name=item.group_name,
        task_type=item.task_type,
        audience=item.audience,  # type: ignore[arg-type]
        kind=item.kind,  # type: ignore[arg-type]
        statutory_days=item.statutory_days,
        promised_days=item.promised_days,
        online=item.online,  # type: ignore[arg-type]
        fee_fen=item.fee_fen,
        fee_note=item.fee_note,
        legal_basis=item.legal_basis,
        conditions=item.conditions,
        form_name=item.form_name,
        location=item.location,
        hours=item.hours,
        result_name=item.result_name,
        life_events=_events(item),
        keywords=_json_list(item.keywords),
        materials=[
            {  # type: ignore[misc]
                "name": m.name,
                "form": m.form,
                "count": m.count,
                "tolerance": m.tolerance,
                "licence_kind": m.licence_kind,
                "note": m.note,
            }
            for m in item.materials
        ],
        source=item.source,
    ).model_dump(mode="json")


# --- look-ups ------------------------------------------------------------------------------------------


def resolve_department(directory: DirectorySnapshot, value: str) -> DeptRef:
    """A department by code or by its full name (as a city's spreadsheet writes it)."""
    ref = directory.department(value)
    if ref is None:
        ref = next((d for d in directory.departments.values() if d.name == value), None)
    if ref is None:
        raise Invalid(f"unknown department {value!r}", fields={"department": f"unknown department {value!r}"})
    return ref


def _load(session: Session, code: str, *, lock: bool = False) -> ServiceItem | None:
    stmt = select(ServiceItem).where(ServiceItem.code == code)
    if lock:
        stmt = stmt.with_for_update(of=ServiceItem)
    return session.scalars(stmt).unique().first()


def get_item(session: Session, *, code: str, actor: Actor | None = None) -> ServiceItem:
    """An item by code. The public sees active items only; configuration readers see withdrawn ones too."""
    item = _load(session, code)
    staff = actor is not None and actor.role in (*READ_CONFIG_ROLES, *ADMIN_ROLES)
    if item is None or (not item.active and not staff):
        raise NotFound(f"no service item {code!r}")
    return item


def existing_codes(session: Session) -> set[str]:
    return set(session.scalars(select(ServiceItem.code)))


def department_of(session: Session, *, codes: Iterable[str]) -> dict[str, str]:
    """Item code → department code for the given codes (active items only), for bundle validation."""
    rows = session.execute(
        select(ServiceItem.code, Department.code)
        .join(Department, Department.id == ServiceItem.department_id)
        .where(ServiceItem.code.in_(list(codes)), ServiceItem.active.is_(True))
    )
    return {code: dept for code, dept in rows}


def list_items(
    session: Session,
    *,
    actor: Actor | None = None,
    department: str | None = None,
    life_event: str | None = None,
    online: str | None = None,
    kind: str | None = None,
    text: str | None = None,
    include_withdrawn: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[ServiceItem], int]:
    """Items by department, life event, online level, kind or a word of the name; sorted by code."""
    stmt = select(ServiceItem)
    if include_withdrawn:
        rbac.require_role(actor or CITIZEN_ACTOR, *READ_CONFIG_ROLES, *ADMIN_ROLES)
    else:
        stmt = stmt.where(ServiceItem.active.is_(True))
    if department:
        stmt = stmt.join(Department, Department.id == ServiceItem.department_id).where(
            Department.code == department
        )
    if online:
        if online not in {o.value for o in OnlineLevel}:
            raise Invalid("unknown online level", fields={"online": "one of full, appointment, window"})
        stmt = stmt.where(ServiceItem.online == online)
    if kind:
        if kind not in {k.value for k in ItemKind}:
            raise Invalid("unknown kind", fields={"kind": "one of immediate, promised"})
        stmt = stmt.where(ServiceItem.kind == kind)
    if life_event:
        # Stored as a JSON list of strings: match the quoted element, not a substring of another event.
        stmt = stmt.where(ServiceItem.life_events.like(f"%{json.dumps(life_event, ensure_ascii=False)}%"))
    if text:
        stmt = stmt.where(ServiceItem.name.like(f"%{text}%"))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.order_by(ServiceItem.code).offset((page - 1) * page_size).limit(page_size))
    return list(rows.unique()), total


def life_events(session: Session) -> list[tuple[str, int]]:
    """Life events (人生事件 / 企业事件) with the number of active items under each, most items first."""
    counts: Counter[str] = Counter()
    for raw in session.scalars(select(ServiceItem.life_events).where(ServiceItem.active.is_(True))):
        try:
            for e in json.loads(raw or "[]"):
                counts[str(e)] += 1
        except ValueError:
            continue
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# --- writes --------------------------------------------------------------------------------------------


def _check_licences(data: ItemIn, known: set[str]) -> None:
    unknown = {
        f"materials.{i}.licence_kind": f"no catalogue item {m.licence_kind!r} issues this licence"
        for i, m in enumerate(data.materials)
        if m.licence_kind and m.licence_kind not in known and m.licence_kind != data.code
    }
    if unknown:
        raise Invalid("a material names a licence kind the catalogue does not have", fields=unknown)


def _apply(item: ServiceItem, data: ItemIn, department_id: int) -> None:
    item.name = data.name
    item.name_en = data.name_en
    item.department_id = department_id
    item.group_name = data.group_name
    item.task_type = data.task_type
    item.audience = data.audience.value
    item.kind = data.kind.value
    item.statutory_days = data.statutory_days
    item.promised_days = data.promised_days
    item.online = data.online.value
    item.fee_fen = data.fee_fen
    item.fee_note = data.fee_note
    item.legal_basis = data.legal_basis
    item.conditions = data.conditions
    item.form_name = data.form_name
    item.location = data.location
    item.hours = data.hours
    item.result_name = data.result_name
    item.life_events = json.dumps(data.life_events, ensure_ascii=False)
    item.keywords = json.dumps(data.keywords, ensure_ascii=False)
    item.source = data.source
    item.active = True
    item.materials = [
        ItemMaterial(
            position=i,
            name=m.name,
            form=m.form.value,
            count=m.count,
            tolerance=m.tolerance,
            licence_kind=m.licence_kind,
            note=m.note,
        )
        for i, m in enumerate(data.materials, start=1)
    ]


def upsert_item(
    session: Session,
    *,
    data: ItemIn,
    directory: DirectorySnapshot,
    actor: Actor,
    known_codes: set[str] | None = None,
    preloaded: tuple[ServiceItem | None] | None = None,
    flush: bool = True,
    now: datetime | None = None,
) -> tuple[ServiceItem, str]:
    """Create the item or bring it in line with ``data``: returns it and created / updated / unchanged.

    ``preloaded`` holds the stored item (or None) when the caller already loaded it, locked."""
    rbac.require_role(actor, *ADMIN_ROLES)
    dept = resolve_department(directory, data.department)
    _check_licences(data, known_codes if known_codes is not None else existing_codes(session))
    now = now or utcnow()
    item = _load(session, data.code, lock=True) if preloaded is None else preloaded[0]
    wanted = {**data.model_dump(mode="json"), "department": dept.code}
    if item is None:
        item = ServiceItem(code=data.code, created_at=now, updated_at=now)
        _apply(item, data, dept.id)
        session.add(item)
        if flush:  # an import flushes its new items together (one multi-row INSERT)
            session.flush()
        return item, "created"
    if item.active and item_input(item) == wanted:
        return item, "unchanged"
    # Replacing the list deletes the old rows first, so positions can be reused in the same flush.
    item.materials = []
    session.flush()
    _apply(item, data, dept.id)
    item.updated_at = now
    session.flush()
    return item, "updated"


def _equal(item: ServiceItem, data: ItemIn, directory: DirectorySnapshot) -> bool:
    try:
        dept = resolve_department(directory, data.department)
    except Invalid:
        return False
    return item_input(item) == {**data.model_dump(mode="json"), "department": dept.code}


def create_item(
    session: Session, *, data: ItemIn, directory: DirectorySnapshot, actor: Actor, now: datetime | None = None
) -> ServiceItem:
    rbac.require_role(actor, *ADMIN_ROLES)
    if _load(session, data.code) is not None:
        raise Conflict(f"service item {data.code!r} already exists; PUT to replace it", code=data.code)
    item, _ = upsert_item(session, data=data, directory=directory, actor=actor, now=now)
    return item


def replace_item(
    session: Session,
    *,
    code: str,
    data: ItemIn,
    directory: DirectorySnapshot,
    actor: Actor,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ServiceItem:
    rbac.require_role(actor, *ADMIN_ROLES)
    if data.code != code:
        raise Invalid("the code in the body differs from the address", fields={"code": f"must be {code!r}"})
    item = _load(session, code)
    if item is None:
        raise NotFound(f"no service item {code!r}")
    if expected_version is not None and expected_version != item.version:
        raise Conflict(
            "the item changed since you loaded it; reload and try again", version=item.version, code=code
        )
    item, _ = upsert_item(session, data=data, directory=directory, actor=actor, now=now)
    return item


def withdraw_item(session: Session, *, code: str, actor: Actor, now: datetime | None = None) -> ServiceItem:
    """Withdraw an item (停用): it leaves the public catalogue; its code stays taken (licences cite it)."""
    rbac.require_role(actor, *ADMIN_ROLES)
    item = _load(session, code, lock=True)
    if item is None:
        raise NotFound(f"no service item {code!r}")
    if not item.active:
        raise Conflict(f"service item {code!r} is already withdrawn", code=code)
    item.active = False
    item.updated_at = now or utcnow()
    session.flush()
    return item


# --- import --------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str | None, str]] = field(default_factory=list)  # (row, code, message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [{"row": r, "code": c, "message": m} for r, c, m in self.errors],
        }


def _describe(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ())) or "row"
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {'unknown column' if e.get('type') == 'extra_forbidden' else msg}")
    return "; ".join(parts)


def import_rows(
    session: Session,
    *,
    rows: Iterable[tuple[int, dict[str, Any]]],
    directory: DirectorySnapshot,
    actor: Actor,
    strict: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Import (row number, fields) pairs. A bad row is reported by its number and changes nothing; good
    rows are kept — or, ``strict``, any bad row refuses the whole file (``Invalid`` naming every row).
    A material may name a licence issued by an item later in the same file."""
    rbac.require_role(actor, *ADMIN_ROLES)
    report = ImportReport()
    parsed: list[tuple[int, ItemIn]] = []
    seen: dict[str, int] = {}
    for number, raw in rows:
        report.total += 1
        code = str(raw.get("code") or "").strip() or None
        if ERROR_KEY in raw:
            report.errors.append((number, code, str(raw[ERROR_KEY])))
            continue
        try:
            data = ItemIn.model_validate(raw)
        except ValidationError as exc:
            report.errors.append((number, code, _describe(exc)))
            continue
        if data.code in seen:
            report.errors.append(
                (number, data.code, f"code {data.code!r} already given on row {seen[data.code]}")
            )
            continue
        seen[data.code] = number
        parsed.append((number, data))
    known = existing_codes(session) | set(seen)
    stored: dict[str, ServiceItem] = {}
    codes = [d.code for _, d in parsed]
    for start in range(0, len(codes), 500):
        stmt = select(ServiceItem).where(ServiceItem.code.in_(codes[start : start + 500]))
        stored.update((i.code, i) for i in session.scalars(stmt.with_for_update(of=ServiceItem)).unique())
    for number, data in parsed:
        current = stored.get(data.code)
        try:
            if current is not None and current.active and _equal(current, data, directory):
                report.unchanged += 1
                continue
            # Every check runs before anything is written: a refused row leaves nothing behind.
            _, outcome = upsert_item(
                session,
                data=data,
                directory=directory,
                actor=actor,
                known_codes=known,
                preloaded=(current,),
                flush=False,
                now=now,
            )
        except Invalid as exc:
            fields = exc.detail.get("fields") or {}
            message = "; ".join(f"{k}: {v}" for k, v in fields.items()) if fields else exc.message
            report.errors.append((number, data.code, message))
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    session.flush()
    report.errors.sort(key=lambda e: e[0])
    if strict and report.errors:
        # All or nothing: the caller's transaction rolls back, so no row of the file is stored.
        raise Invalid(
            f"{len(report.errors)} of {report.total} rows refused; nothing was imported",
            fields={f"row {r}": m for r, _c, m in report.errors},
            errors=report.as_dict()["errors"],
        )
    return report


def export_text(session: Session, *, fmt: str) -> str:
    """The active catalogue as CSV or YAML, sorted by code; importing it back changes nothing."""
    items = [
        item_input(i)
        for i in session.scalars(
            select(ServiceItem).where(ServiceItem.active.is_(True)).order_by(ServiceItem.code)
        ).unique()
    ]
    if fmt == "csv":
        return bulk.write_csv(items)
    if fmt == "yaml":
        return bulk.write_yaml(items)
    raise Invalid(f"unknown format {fmt!r}", fields={"format": "csv or yaml"})


# --- metrics -------------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def metrics(session: Session) -> dict[str, Any]:
    """网上可办率, time-limit compression, items per department, materials the government holds."""
    active = ServiceItem.active.is_(True)
    rows = session.execute(
        select(
            ServiceItem.online, ServiceItem.kind, ServiceItem.statutory_days, ServiceItem.promised_days
        ).where(active)
    ).all()
    total = len(rows)
    by_online = Counter(r.online for r in rows)
    online_ok = by_online[OnlineLevel.FULL.value] + by_online[OnlineLevel.APPOINTMENT.value]
    statutory = sum(r.statutory_days for r in rows)
    promised = sum(r.promised_days for r in rows)
    per_item = [1 - r.promised_days / r.statutory_days for r in rows if r.statutory_days > 0]
    dept_rows = session.execute(
        select(Department.code, Department.name, ServiceItem.online, func.count(ServiceItem.id))
        .join(ServiceItem, ServiceItem.department_id == Department.id)
        .where(active)
        .group_by(Department.code, Department.name, ServiceItem.online)
    ).all()
    depts: dict[str, dict[str, Any]] = {}
    for code, name, online, n in dept_rows:
        d = depts.setdefault(code, {"department": code, "department_name": name, "items": 0, "online": 0})
        d["items"] += n
        if online != OnlineLevel.WINDOW.value:
            d["online"] += n
    by_department = [
        {
            "department": d["department"],
            "department_name": d["department_name"],
            "items": d["items"],
            "online_rate": _rate(d["online"], d["items"]),
        }
        for d in sorted(depts.values(), key=lambda d: (-d["items"], d["department"]))
    ]
    mat = session.execute(
        select(
            func.count(ItemMaterial.id),
            func.count(ItemMaterial.licence_kind),
            func.count(ItemMaterial.id).filter(ItemMaterial.tolerance.is_(True)),
        )
        .join(ServiceItem, ServiceItem.id == ItemMaterial.item_id)
        .where(active)
    ).one()
    materials, held, tolerance = int(mat[0]), int(mat[1]), int(mat[2])
    return {
        "items": total,
        "online_rate": _rate(online_ok, total),
        "full_online_rate": _rate(by_online[OnlineLevel.FULL.value], total),
        "immediate_rate": _rate(sum(1 for r in rows if r.kind == ItemKind.IMMEDIATE.value), total),
        "statutory_days_total": statutory,
        "promised_days_total": promised,
        "compression": round(1 - promised / statutory, 4) if statutory else None,
        "mean_item_compression": round(sum(per_item) / len(per_item), 4) if per_item else None,
        "materials": materials,
        "materials_held": held,
        "materials_reuse_rate": _rate(held, materials),
        "materials_tolerance": tolerance,
        "by_department": by_department,
        "by_online": {o.value: by_online.get(o.value, 0) for o in OnlineLevel},
    }
