"""Licence rules: issue, verify (public), revoke, and "does the government already hold it?".

Issuing is a plain function the applications call when a department approves an item with a result
(``issue``); it is idempotent by ``source_ref``. Verification needs only the code and answers
valid / expired / revoked / unknown with the hash, the licence's name, the issuing department, the
dates and the holder's masked name — nothing else personal. A holder's downloaded copy (``document``)
can be checked against the register: any change to it changes its hash.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, inspect, or_, select
from sqlalchemy.orm import Session, lazyload

from haoban.auth import rbac
from haoban.auth.actors import Actor
from haoban.auth.roles import ADMIN_ROLES, Role
from haoban.catalog.models import ItemMaterial, ServiceItem
from haoban.config import city_tz
from haoban.db import transaction_memo, utcnow
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.licences.models import Licence, LicenceUse
from haoban.security.crypto import cipher_of
from haoban.security.privacy import mask_text

# Verification codes: 16 characters of an alphabet without look-alikes (0/O, 1/I/L), ~80 bits.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 16
CANONICAL_FIELDS = (
    "code",
    "kind",
    "name",
    "number",
    "holder_id",
    "holder_name",
    "department",
    "issued_on",
    "valid_from",
    "valid_until",
    "payload",
)
_ITEMS = "licences.items"  # per transaction (db.transaction_memo): {kind: ServiceItem} read in it
_DRAWN = "licences.drawn"  # per transaction: {source_ref: _Drawn} drawn ahead in it
_PENDING = "licences.pending"  # per transaction: the _Pending licences issued in it
# Who may see a licence in full (with the holder) and look up what the government holds.
READ_ROLES = (Role.ADMIN, Role.AUDITOR, Role.SYSTEM, Role.HANDLER, Role.WINDOW)


def city_day(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(city_tz()).date()


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Codes are read aloud and typed: ignore case, spaces and dashes."""
    return "".join(c for c in code.upper() if c.isalnum())


def canonical(fields: dict[str, Any]) -> str:
    """The canonical form the hash is taken over: the licence's fields as JSON with sorted keys, no
    spaces, UTF-8 characters as themselves, dates as ISO days."""
    body = {k: fields.get(k) for k in CANONICAL_FIELDS}
    for k in ("issued_on", "valid_from", "valid_until"):
        if isinstance(body[k], date):
            body[k] = body[k].isoformat()
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields).encode("utf-8")).hexdigest()


def fields_of(lic: Licence) -> dict[str, Any]:
    """The licence's content as issued (what ``sha256`` covers)."""
    return {
        "code": lic.code,
        "kind": lic.kind,
        "name": lic.name,
        "number": lic.number,
        "holder_id": lic.holder_id,
        "holder_name": lic.holder_name,
        "department": lic.department.code,
        "issued_on": lic.issued_on.isoformat(),
        "valid_from": lic.valid_from.isoformat(),
        "valid_until": lic.valid_until.isoformat() if lic.valid_until else None,
        "payload": json.loads(lic.payload or "{}"),
    }


def status_of(lic: Licence, *, today: date | None = None) -> str:
    day = today or city_day()
    if lic.revoked_at is not None:
        return "revoked"
    if lic.valid_from > day:
        return "not_yet_valid"
    if lic.valid_until is not None and lic.valid_until < day:
        return "expired"
    return "valid"


def intact(lic: Licence) -> bool:
    """Does the stored row still hash to what was issued? (A changed row does not.)"""
    return digest(fields_of(lic)) == lic.sha256


def mask_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


# --- views ---------------------------------------------------------------------------------------------


def document(lic: Licence) -> dict[str, Any]:
    """The holder's copy: the licence's content and its hash (checkable with ``verify_document``)."""
    return {**fields_of(lic), "sha256": lic.sha256}


def licence_view(lic: Licence, *, today: date | None = None) -> dict[str, Any]:
    """Staff's view: everything, with the state and the integrity check."""
    return {
        **fields_of(lic),
        "item_name": lic.item.name,
        "department_name": lic.department.name,
        "sha256": lic.sha256,
        "status": status_of(lic, today=today),
        "intact": intact(lic),
        "issued_at": lic.issued_at,
        "issued_by": lic.issued_by,
        "revoked_at": lic.revoked_at,
        "revoked_by": lic.revoked_by,
        "revoke_reason": lic.revoke_reason,
    }


def public_view(lic: Licence | None, code: str, *, today: date | None = None) -> dict[str, Any]:
    """What anyone with the code learns: no ID number, the holder's name masked."""
    if lic is None:
        return {"code": normalise_code(code), "status": "unknown"}
    ok = intact(lic)
    return {
        "code": lic.code,
        # A row that no longer matches its hash is not vouched for, whatever its dates say.
        "status": status_of(lic, today=today) if ok else "tampered",
        "intact": ok,
        "sha256": lic.sha256,
        "kind": lic.kind,
        "name": lic.name,
        "number": mask_text(lic.number),  # an ID card's number is the holder's ID number
        "holder": mask_name(lic.holder_name),
        "department": lic.department.code,
        "department_name": lic.department.name,
        "issued_on": lic.issued_on,
        "valid_from": lic.valid_from,
        "valid_until": lic.valid_until,
        "revoked_at": lic.revoked_at.astimezone(city_tz()).date() if lic.revoked_at else None,
    }


# --- issue, find, verify, revoke -------------------------------------------------------------------------


def _may_act_for(actor: Actor, department_id: int) -> bool:
    if actor.role in ADMIN_ROLES:
        return True
    return actor.role == Role.HANDLER and actor.department_id == department_id


def issue(
    session: Session,
    *,
    kind: str,
    holder_id: str,
    holder_name: str,
    actor: Actor,
    number: str | None = None,
    payload: dict[str, Any] | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    source_ref: str | None = None,
    now: datetime | None = None,
) -> Licence:
    """Issue the electronic licence that is the result of catalogue item ``kind`` to a holder.

    Called by the applications when a department approves an item (actor: the approving handler of the
    item's department, or the platform). With ``source_ref`` it is idempotent: the same step issues once.
    """
    errors: dict[str, str] = {}
    holder_id = (holder_id or "").strip().upper()
    holder_name = (holder_name or "").strip()
    if not holder_id or len(holder_id) > 40 or not holder_id.isalnum():
        errors["holder_id"] = "an ID number or unified social credit code (letters and digits)"
    if not holder_name or len(holder_name) > 100:
        errors["holder_name"] = "required, at most 100 characters"
    if number is not None and not (0 < len(number.strip()) <= 64):
        errors["number"] = "1 to 64 characters"
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = "before valid_from"
    # The checks below read the register without flushing the caller's pending writes (an approval's
    # task and case-file rows go out once, at commit); licences still pending in this session (a bulk
    # approval's earlier ones) are checked here as the register would be.
    waiting = _pending(session)
    with session.no_autoflush:
        item = _item(session, kind)
        if item is None or not item.active:
            errors["kind"] = f"no active catalogue item {kind!r}"
        if errors:
            raise Invalid("the licence cannot be issued", fields=errors)
        assert item is not None
        if not _may_act_for(actor, item.department_id):
            raise Forbidden("only the item's department (or an administrator) issues its licence")
        now = now or utcnow()
        today = city_day(now)
        given = number.strip() if number else None
        drawn = _drawn(session)
        ahead = drawn.pop(source_ref, None) if source_ref and not given else None
        if ahead is not None and (ahead.item_id, ahead.day) != (item.id, today):
            ahead = None
        while True:
            # A number of our own is the department, the day and the code's first six characters:
            # 31**6 values, so two licences of an item issued the same day share one now and then (a
            # few in a hundred at 10,000 a day). Draw again then; a number the caller gave must be
            # free. One query asks all three: is this step's licence issued already (``source_ref``),
            # is the code taken (~80 bits: practically never), is the number taken. A code drawn
            # ahead (``draw_ahead``) was asked all three already, in the bulk's one query.
            code = ahead.code if ahead is not None else new_code()
            number = given or f"{item.department.code.upper()}{today:%Y%m%d}{code[:6]}"
            number_index = holder_index(session, number)
            taken = [
                *(
                    ()
                    if ahead is not None
                    else session.execute(
                        _CLASH,
                        dict(code=code, source_ref=source_ref, item_id=item.id, number_index=number_index),
                    ).all()
                ),
                *waiting.clashing(
                    code=code, source_ref=source_ref, item_id=item.id, number_index=number_index
                ),
                # Codes drawn ahead for this transaction's other licences are as good as taken.
                *(
                    d
                    for d in (() if ahead is not None else drawn.values())
                    if d.code == code or (d.item_id == item.id and d.number_index == number_index)
                ),
            ]
            ahead = None
            if source_ref and any(row.source_ref == source_ref for row in taken):
                existing = waiting.by_source_ref(source_ref) or (
                    session.scalars(select(Licence).where(Licence.source_ref == source_ref)).unique().first()
                )
                assert existing is not None
                if existing.kind != kind or existing.holder_id != holder_id:
                    raise Conflict(f"{source_ref!r} already issued a different licence", code=existing.code)
                return existing
            if any(row.code == code for row in taken):
                continue
            if not taken:
                break
            if given:
                name = item.result_name or item.name
                raise Conflict(f"a {name} numbered {number} already exists", number=number)
    lic = Licence(
        code=code,
        item_id=item.id,
        kind=item.code,
        name=item.result_name or item.name,
        number=number,
        number_index=number_index,
        holder_id=holder_id,
        holder_index=holder_index(session, holder_id),
        holder_name=holder_name,
        department_id=item.department_id,
        issued_on=today,
        valid_from=valid_from or today,
        valid_until=valid_until,
        payload=json.dumps(payload or {}, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
        source_ref=source_ref,
        issued_at=now,
        issued_by=actor.name,
    )
    lic.item = item
    lic.department = item.department
    lic.sha256 = digest(fields_of(lic))
    session.add(lic)  # written with the rest of the caller's transaction (a clash there: IntegrityError)
    waiting.add(lic)
    return lic


class _Pending:
    """The licences ``issue`` added in this transaction, by code, ``source_ref`` and number; only
    those still pending (not yet flushed, not rolled back) count, as when ``session.new`` was
    scanned for them. Why not scan: ``session.new`` is a fresh list of every object the transaction
    has not written, and a bulk approval of a hundred applications holds hundreds, so scanning it
    for each licence made issuing quadratic in the bulk's size, all of it under SQLite's write lock."""

    def __init__(self) -> None:
        self._by_code: dict[str, Licence] = {}
        self._by_ref: dict[str, Licence] = {}
        self._by_number: dict[tuple[int, str], Licence] = {}

    def add(self, lic: Licence) -> None:
        self._by_code[lic.code] = lic
        if lic.source_ref:
            self._by_ref[lic.source_ref] = lic
        self._by_number[(lic.item_id, lic.number_index)] = lic

    def clashing(
        self, *, code: str, source_ref: str | None, item_id: int, number_index: str
    ) -> list[Licence]:
        found = [
            self._by_code.get(code),
            self._by_ref.get(source_ref) if source_ref else None,
            self._by_number.get((item_id, number_index)),
        ]
        unique = {id(lic): lic for lic in found if lic is not None and inspect(lic).pending}
        return list(unique.values())

    def by_source_ref(self, source_ref: str) -> Licence | None:
        lic = self._by_ref.get(source_ref)
        return lic if lic is not None and inspect(lic).pending else None


def _pending(session: Session) -> _Pending:
    return transaction_memo(session, _PENDING, _Pending)


def pending_codes(session: Session, source_refs: Iterable[str]) -> dict[str, str]:
    """``source_ref`` → code of the licences ``issue`` added in this transaction and not yet written."""
    waiting = _pending(session)
    found = {ref: waiting.by_source_ref(ref) for ref in source_refs}
    return {ref: lic.code for ref, lic in found.items() if lic is not None}


# The question ``issue`` asks the register, built once: an approval issues licences inside its write
# transaction, and building the statement anew for each one cost more than running it. A None
# ``source_ref`` matches no row (``= NULL`` is never true), as when the clause was left out.
_CLASH = select(Licence.source_ref, Licence.code).where(
    or_(
        Licence.code == bindparam("code"),
        Licence.source_ref == bindparam("source_ref"),
        and_(Licence.item_id == bindparam("item_id"), Licence.number_index == bindparam("number_index")),
    )
)


@dataclass(frozen=True)
class _Drawn:
    """A licence's code drawn ahead (``draw_ahead``): free in the register when it was drawn."""

    source_ref: str
    code: str
    item_id: int
    day: date
    number_index: str


def _drawn(session: Session) -> dict[str, _Drawn]:
    """This transaction's codes drawn ahead, by ``source_ref`` (``issue`` takes its own out)."""
    drawn: dict[str, _Drawn] = transaction_memo(session, _DRAWN, dict)
    return drawn


def draw_ahead(session: Session, wanted: Iterable[tuple[str, str]], *, now: datetime | None = None) -> int:
    """Draw the codes (and so the numbers) of the licences this transaction is about to issue,
    ``wanted`` being (kind, source_ref) pairs, and ask the register about all of them in one query: a
    bulk approval issues a licence per task, and asked once per licence. ``issue`` then takes a
    drawn code found free instead of asking again (any other is drawn again there, as always, as is
    one that clashes with a licence issued in this transaction since). How many were drawn free."""
    day = city_day(now or utcnow())
    drawn = _drawn(session)
    candidates: list[_Drawn] = []
    with session.no_autoflush:
        for kind, ref in wanted:
            item = _item(session, kind)
            if item is None or not item.active or ref in drawn:
                continue
            code = new_code()
            number = f"{item.department.code.upper()}{day:%Y%m%d}{code[:6]}"
            candidates.append(_Drawn(ref, code, item.id, day, holder_index(session, number)))
        if not candidates:
            return 0
        by_item: dict[int, list[str]] = {}
        for c in candidates:
            by_item.setdefault(c.item_id, []).append(c.number_index)
        rows = session.execute(
            select(Licence.source_ref, Licence.code, Licence.item_id, Licence.number_index).where(
                or_(
                    Licence.code.in_([c.code for c in candidates]),
                    Licence.source_ref.in_([c.source_ref for c in candidates]),
                    *(
                        and_(Licence.item_id == item_id, Licence.number_index.in_(indexes))
                        for item_id, indexes in by_item.items()
                    ),
                )
            )
        ).all()
    taken_codes = {r.code for r in rows} | {w.code for w in drawn.values()}
    taken_refs = {r.source_ref for r in rows}
    taken_numbers = {(r.item_id, r.number_index) for r in rows} | {
        (w.item_id, w.number_index) for w in drawn.values()
    }
    for obj in session.new:  # licences issued in this transaction and not yet written
        if isinstance(obj, Licence):
            taken_codes.add(obj.code)
            taken_refs.add(obj.source_ref)
            taken_numbers.add((obj.item_id, obj.number_index))
    free = 0
    for c in candidates:
        number = (c.item_id, c.number_index)
        if c.code in taken_codes or c.source_ref in taken_refs or number in taken_numbers:
            continue  # left to ``issue`` (an issued step, or a number drawn twice: drawn again there)
        drawn[c.source_ref] = c
        taken_codes.add(c.code)
        taken_numbers.add(number)
        free += 1
    return free


def _item(session: Session, kind: str) -> ServiceItem | None:
    """The catalogue item ``kind`` (with its department), read once per transaction: a bulk approval
    issues a licence of the same item for each of its tasks, and each asked for the item again."""
    items: dict[str, ServiceItem] = transaction_memo(session, _ITEMS, dict)
    item = items.get(kind)
    if item is None:
        item = (
            session.scalars(
                select(ServiceItem).where(ServiceItem.code == kind).options(lazyload(ServiceItem.materials))
            )
            .unique()
            .first()
        )
        if item is not None:
            items[kind] = item
    return item


def holder_index(session: Session, value: str) -> str:
    """The blind index an (encrypted) holder ID number or licence number is found by."""
    return cipher_of(session.get_bind().dialect).blind_index(value)


def find(session: Session, code: str) -> Licence | None:
    return session.scalars(select(Licence).where(Licence.code == normalise_code(code))).unique().first()


def get(session: Session, *, code: str, actor: Actor) -> Licence:
    """A licence in full, for staff: administrators and auditors; handlers of the issuing department."""
    rbac.require_role(actor, *READ_ROLES)
    lic = find(session, code)
    if lic is None or (actor.role == Role.HANDLER and actor.department_id != lic.department_id):
        raise NotFound(f"no licence {normalise_code(code)}")
    return lic


def verify(session: Session, *, code: str, today: date | None = None) -> dict[str, Any]:
    """Public: the state of the licence with this code (unknown when there is none)."""
    return public_view(find(session, code), code, today=today)


def verify_document(session: Session, *, doc: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """Public: is this copy exactly what was issued? Its recomputed hash must equal the register's."""
    code = str(doc.get("code") or "")
    if not code:
        raise Invalid("the document has no code", fields={"code": "required"})
    lic = find(session, code)
    view = public_view(lic, code, today=today)
    presented = digest(doc)
    view["presented_sha256"] = presented
    view["matches"] = lic is not None and presented == lic.sha256 and view["intact"]
    return view


def revoke(session: Session, *, code: str, reason: str, actor: Actor, now: datetime | None = None) -> Licence:
    """Revoke (注销/吊销) a licence: the issuing department or an administrator, with a reason. Its
    content and hash stay; verification answers "revoked" from now on."""
    lic = find(session, code)
    if lic is None:
        raise NotFound(f"no licence {normalise_code(code)}")
    if not _may_act_for(actor, lic.department_id):
        raise Forbidden("only the issuing department (or an administrator) revokes a licence")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("say why the licence is revoked", fields={"reason": "required"})
    if lic.revoked_at is not None:
        raise Conflict(f"licence {lic.code} was already revoked", revoked_at=lic.revoked_at.isoformat())
    lic.revoked_at = now or utcnow()
    lic.revoked_by = actor.name
    lic.revoke_reason = reason[:2000]
    session.flush()
    return lic


# --- what the government already holds (材料复用) ---------------------------------------------------------


def held(
    session: Session, *, holder_id: str, kinds: Iterable[str], today: date | None = None
) -> dict[str, Licence]:
    """The holder's valid licences of these kinds (the newest of each kind), by kind."""
    day = today or city_day()
    wanted = list(dict.fromkeys(kinds))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Licence)
        .where(
            Licence.holder_index == holder_index(session, holder_id.strip().upper()),
            Licence.kind.in_(wanted),
            Licence.revoked_at.is_(None),
            Licence.valid_from <= day,
        )
        .order_by(Licence.issued_at.desc(), Licence.id.desc())
    ).unique()
    out: dict[str, Licence] = {}
    for lic in rows:
        if lic.valid_until is not None and lic.valid_until < day:
            continue
        if lic.kind not in out and intact(lic):
            out[lic.kind] = lic
    return out


def reusable_materials(
    session: Session, *, item_code: str, holder_id: str, today: date | None = None
) -> list[dict[str, Any]]:
    """For each material of the item: whether the government already holds it for this person, and by
    which licence. A held material is not asked for again (免提交)."""
    materials = list(
        session.scalars(
            select(ItemMaterial)
            .join(ServiceItem, ServiceItem.id == ItemMaterial.item_id)
            .where(ServiceItem.code == item_code)
            .order_by(ItemMaterial.position)
        )
    )
    if not materials and session.scalar(select(ServiceItem.id).where(ServiceItem.code == item_code)) is None:
        raise NotFound(f"no service item {item_code!r}")
    have = held(
        session, holder_id=holder_id, kinds=[m.licence_kind for m in materials if m.licence_kind], today=today
    )
    out = []
    for m in materials:
        lic = have.get(m.licence_kind) if m.licence_kind else None
        out.append(
            {
                "material": m.name,
                "licence_kind": m.licence_kind,
                "reused": lic is not None,
                "licence_code": lic.code if lic else None,
                "licence_name": lic.name if lic else None,
            }
        )
    return out


def record_use(
    session: Session,
    *,
    licence_code: str,
    item_code: str,
    material: str,
    ref: str,
    now: datetime | None = None,
) -> bool:
    """Record that a licence stood in for a material of an application (idempotent by licence, ref and
    material). Returns whether a new use was recorded."""
    lic = find(session, licence_code)
    if lic is None:
        raise NotFound(f"no licence {normalise_code(licence_code)}")
    exists = session.scalar(
        select(LicenceUse.id).where(
            LicenceUse.licence_id == lic.id, LicenceUse.ref == ref, LicenceUse.material == material
        )
    )
    if exists:
        return False
    session.add(
        LicenceUse(licence_id=lic.id, item_code=item_code, material=material, ref=ref, at=now or utcnow())
    )
    session.flush()
    return True


def metrics(session: Session, *, today: date | None = None) -> dict[str, Any]:
    """Licences issued, by kind, revoked, and materials reused instead of asked for."""
    day = today or city_day()
    total = session.scalar(select(func.count(Licence.id))) or 0
    revoked = session.scalar(select(func.count(Licence.id)).where(Licence.revoked_at.is_not(None))) or 0
    expired = (
        session.scalar(
            select(func.count(Licence.id)).where(
                Licence.revoked_at.is_(None), Licence.valid_until.is_not(None), Licence.valid_until < day
            )
        )
        or 0
    )
    by_kind = session.execute(
        select(Licence.kind, Licence.name, func.count(Licence.id))
        .group_by(Licence.kind, Licence.name)
        .order_by(func.count(Licence.id).desc(), Licence.kind)
    ).all()
    uses = session.scalar(select(func.count(LicenceUse.id))) or 0
    return {
        "licences": total,
        "valid": total - revoked - expired,
        "revoked": revoked,
        "expired": expired,
        "materials_reused": uses,
        "by_kind": [{"kind": k, "name": n, "licences": c} for k, n, c in by_kind],
    }
