"""Federation administration: this instance's identity, partners and agreements, cross-region cases
and their timeline, and the read-outs (outbox, refusals, dashboard). The wire protocol is in
``protocol``; the flows (12345 transfers, 跨省通办) in their own modules."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, DASHBOARD_ROLES
from haoban.auth.roles import Role as R
from haoban.db import transaction_memo, utcnow
from haoban.errors import Conflict, Invalid, NotFound
from haoban.federation import messages
from haoban.federation.models import (
    Agreement,
    CrossCase,
    CrossCaseEvent,
    OutboxEntry,
    Partner,
    Refusal,
)

# 国办发〔2020〕35号's three modes, and 12345 transfers between cities (跨区域转办).
MODES: dict[str, tuple[str, str]] = {
    "online": ("全程网办", "Fully online"),
    "proxy": ("异地代收代办", "Received here, handled at home"),
    "joint": ("多地联办", "Handled jointly"),
    "transfer": ("跨区域转办", "12345 transfer"),
}
HOTLINE_ITEM = "hotline"  # the agreement item that covers 12345 transfers
READ_ROLES = (*DASHBOARD_ROLES,)
# Who may send a note or a file to a partner: the hotline, window staff and admins.
SEND_ROLES = (R.OPERATOR, R.DISPATCHER, R.SUPERVISOR, R.ADMIN, R.WINDOW, R.HANDLER)
# Who reads cross-region cases and their timelines: the dashboard's readers and the window's staff.
CASE_ROLES = (*ADMIN_ROLES, *READ_ROLES, R.WINDOW)


# --- identity ---------------------------------------------------------------------------------------


def key_path(settings: Any) -> Path:
    return Path(settings.federation_key_file or (Path(settings.data_dir) / "federation_ed25519.key"))


def identity(settings: Any) -> dict[str, Any]:
    """Region, name and public key (never the private key); ``public_key`` None before keygen."""
    path = key_path(settings)
    try:
        public = messages.public_b64(messages.load_key(path))
    except FileNotFoundError:
        public = None
    return {"region": settings.federation_region, "name": settings.federation_name, "public_key": public}


# --- partners -----------------------------------------------------------------------------------------


def _check_region(region: str, field: str = "region") -> str:
    region = region.strip()
    if not (region.isdigit() and 6 <= len(region) <= 12):
        raise Invalid(
            "a region code is the 6-digit 行政区划代码 (e.g. 430400)", fields={field: "6 to 12 digits"}
        )
    return region


def _check_endpoint(endpoint: str) -> str:
    endpoint = endpoint.strip().rstrip("/")
    if not endpoint.startswith(("http://", "https://")) or len(endpoint) > 300:
        raise Invalid("the endpoint is the partner's base URL", fields={"endpoint": "http(s)://host[:port]"})
    return endpoint


def _check_key(public_key: str) -> str:
    try:
        messages.parse_public(public_key)
    except ValueError as exc:
        raise Invalid(
            "not an Ed25519 public key", fields={"public_key": f"base64 of 32 bytes ({exc})"}
        ) from None
    return public_key.strip()


def partner_view(p: Partner, today: date | None = None) -> dict[str, Any]:
    today = today or utcnow().date()
    return {
        "region": p.region,
        "name": p.name,
        "endpoint": p.endpoint,
        "public_key": p.public_key,
        "active": p.active,
        "agreements": [agreement_view(a, today) for a in p.agreements],
    }


def agreement_view(a: Agreement, today: date | None = None) -> dict[str, Any]:
    today = today or utcnow().date()
    return {
        "id": a.id,
        "partner": a.partner.region,
        "items": json.loads(a.items),
        "modes": json.loads(a.modes),
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "note": a.note,
        "in_force": in_force(a, today),
    }


def in_force(a: Agreement, today: date) -> bool:
    return a.valid_from <= today and (a.valid_to is None or today <= a.valid_to)


def list_partners(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    require_role(actor, *ADMIN_ROLES, *READ_ROLES)
    return [partner_view(p) for p in session.scalars(select(Partner).order_by(Partner.region))]


def get_partner(session: Session, region: str, *, active_only: bool = False) -> Partner:
    p = session.scalar(select(Partner).where(Partner.region == region))
    if p is None or (active_only and not p.active):
        raise NotFound(f"no partner with region {region!r}; an admin registers partners first")
    return p


def save_partner(
    session: Session,
    *,
    actor: Actor,
    region: str,
    name: str,
    endpoint: str,
    public_key: str,
    active: bool = True,
    own_region: str = "",
) -> dict[str, Any]:
    """Register a partner, or update the one with this region (a new endpoint or key)."""
    require_role(actor, *ADMIN_ROLES)
    region = _check_region(region)
    if region == own_region:
        raise Invalid("that is this instance's own region", fields={"region": "a partner's region"})
    if not name.strip():
        raise Invalid("name the partner", fields={"name": "required, e.g. 来宾市"})
    p = session.scalar(select(Partner).where(Partner.region == region))
    if p is None:
        p = Partner(region=region, created_at=utcnow())
        session.add(p)
    p.name = name.strip()[:100]
    p.endpoint = _check_endpoint(endpoint)
    p.public_key = _check_key(public_key)
    p.active = active
    session.flush()
    session.refresh(p)
    return partner_view(p)


def add_agreement(
    session: Session,
    *,
    actor: Actor,
    partner: str,
    items: list[str],
    modes: list[str],
    valid_from: date,
    valid_to: date | None = None,
    note: str = "",
) -> dict[str, Any]:
    require_role(actor, *ADMIN_ROLES)
    p = get_partner(session, partner)
    items = [i.strip() for i in items if i.strip()]
    if not items:
        raise Invalid("an agreement covers at least one item", fields={"items": "catalogue or bundle codes"})
    unknown = [m for m in modes if m not in MODES]
    if not modes or unknown:
        raise Invalid(
            f"unknown modes: {', '.join(unknown) or '(none given)'}",
            fields={"modes": f"of {', '.join(MODES)}"},
        )
    if valid_to is not None and valid_to < valid_from:
        raise Invalid("the agreement ends before it starts", fields={"valid_to": "on or after valid_from"})
    a = Agreement(
        partner_id=p.id,
        items=json.dumps(sorted(set(items)), ensure_ascii=False),
        modes=json.dumps(sorted(set(modes))),
        valid_from=valid_from,
        valid_to=valid_to,
        note=note[:300],
        created_at=utcnow(),
    )
    session.add(a)
    session.flush()
    session.refresh(a)
    return agreement_view(a)


def end_agreement(session: Session, *, actor: Actor, agreement_id: int, on: date) -> dict[str, Any]:
    """End an agreement on ``on`` (the last day it holds); agreements are never deleted."""
    require_role(actor, *ADMIN_ROLES)
    a = session.get(Agreement, agreement_id)
    if a is None:
        raise NotFound(f"no agreement {agreement_id}")
    if on < a.valid_from:
        raise Invalid("an agreement cannot end before it starts", fields={"valid_to": f">= {a.valid_from}"})
    a.valid_to = on
    return agreement_view(a)


def list_agreements(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    require_role(actor, *ADMIN_ROLES, *READ_ROLES)
    return [agreement_view(a) for a in session.scalars(select(Agreement).order_by(Agreement.id))]


def covering(session: Session, partner: Partner, *, item: str, mode: str, today: date) -> Agreement | None:
    """The agreement in force with ``partner`` that covers ``item`` in ``mode`` (None: none does)."""
    for a in partner.agreements:
        if in_force(a, today) and item in json.loads(a.items) and mode in json.loads(a.modes):
            return a
    return None


def require_agreement(session: Session, partner: Partner, *, item: str, mode: str, today: date) -> Agreement:
    a = covering(session, partner, item=item, mode=mode, today=today)
    if a is None:
        raise Invalid(
            f"no agreement in force with {partner.name} ({partner.region}) covers {item} in mode {mode}",
            fields={"item": "not covered by an agreement with this partner"},
        )
    return a


# --- cross-region cases ---------------------------------------------------------------------------------


def open_case(
    session: Session,
    *,
    case_key: str,
    partner: Partner,
    direction: str,
    kind: str,
    mode: str,
    item: str,
    title: str = "",
    local_ref: str | None = None,
    remote_ref: str | None = None,
    at: datetime | None = None,
) -> CrossCase:
    at = at or utcnow()
    case = session.scalar(
        select(CrossCase).where(CrossCase.case_key == case_key, CrossCase.partner_id == partner.id)
    )
    if case is None:
        case = CrossCase(
            case_key=case_key,
            partner_id=partner.id,
            direction=direction,
            kind=kind,
            mode=mode,
            item=item,
            title=title[:200],
            local_ref=local_ref,
            remote_ref=remote_ref,
            state="open",
            created_at=at,
            updated_at=at,
        )
        session.add(case)
        session.flush()
        case_memo(session).pop(local_ref, None)
    return case


# Who registers an application of ours for a partner region: the federation's message handlers (a
# 跨省通办 file, ``crossregion._on_file``; a 多地联办 task, ``joint._on_task``), always as the platform.
PARTNER_SUBMITTER = SYSTEM_ACTOR


def may_answer_partner(submitted_by_id: int | None, submitted_by_name: str) -> bool:
    """Can an application submitted by this actor answer a partner's case (``crossregion.report_back``)?

    Only an application the federation registered for a partner can (its case is opened in the same
    transaction); one a citizen, a clerk, a volunteer or staff submitted never does, so its steps skip
    the look-up (13 queries per newborn application).
    """
    return submitted_by_id is None and submitted_by_name == PARTNER_SUBMITTER.name


def case_memo(session: Session) -> dict[str | None, int | None]:
    """This transaction's answers to "which incoming case does this local code answer?"
    (``crossregion.incoming_case``); a new transaction starts with none."""
    return transaction_memo(session, "federation.incoming_cases", dict)


def find_case(session: Session, *, case_key: str, partner: Partner) -> CrossCase | None:
    return session.scalar(
        select(CrossCase).where(CrossCase.case_key == case_key, CrossCase.partner_id == partner.id)
    )


def record_acceptance(
    session: Session, msg: OutboxEntry, result: dict[str, Any], *, with_status: bool = True
) -> tuple[CrossCase, str] | None:
    """The partner acknowledged ``msg`` with its own code: keep it on the case and record the step.

    Returns the case and the code, or None when the partner named no code or no case matches."""
    case = find_case(session, case_key=msg.case_key, partner=msg.partner)
    code = str(result.get("code") or "")[:40]
    if case is None or not code:
        return None
    case.remote_ref = code
    detail: dict[str, Any] = {"code": code, "status": result.get("status")} if with_status else {"code": code}
    record(session, case, side=msg.partner.region, what="accepted", detail=detail, at=utcnow())
    return case, code


def record_arrival(
    session: Session,
    case: CrossCase,
    *,
    partner_region: str,
    sent_at: datetime,
    home_region: str,
    what: str,
    detail: dict[str, Any],
    answer: dict[str, Any],
    at: datetime,
) -> dict[str, Any]:
    """A partner's file arrived and we took it on: record its step (``what``, at its sending time) and
    our acceptance under our own code (``answer``: the code, and the status where there is one), and
    return ``answer`` as the reply to the partner."""
    record(session, case, side=partner_region, what=what, detail=detail, at=sent_at)
    record(session, case, side=home_region, what="accepted", detail=answer, at=at)
    return answer


def case_by_local_ref(session: Session, local_ref: str) -> CrossCase | None:
    return session.scalar(select(CrossCase).where(CrossCase.local_ref == local_ref).order_by(CrossCase.id))


def record(
    session: Session, case: CrossCase, *, side: str, what: str, detail: dict[str, Any], at: datetime
) -> CrossCaseEvent:
    """Add an entry to the case's timeline (both sides record every step, so the timelines agree)."""
    event = CrossCaseEvent(
        case_id=case.id, at=at, side=side, what=what, detail=json.dumps(detail, ensure_ascii=False)
    )
    session.add(event)
    case.updated_at = at
    return event


def timeline(session: Session, case: CrossCase) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CrossCaseEvent).where(CrossCaseEvent.case_id == case.id).order_by(CrossCaseEvent.id)
    )
    return [{"at": e.at, "side": e.side, "what": e.what, "detail": json.loads(e.detail)} for e in rows]


def case_view(session: Session, case: CrossCase) -> dict[str, Any]:
    return {
        "case_key": case.case_key,
        "partner": case.partner.region,
        "partner_name": case.partner.name,
        "direction": case.direction,
        "kind": case.kind,
        "mode": case.mode,
        "mode_label": MODES.get(case.mode, (case.mode, case.mode))[0],
        "item": case.item,
        "title": case.title,
        "local_ref": case.local_ref,
        "remote_ref": case.remote_ref,
        "state": case.state,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "timeline": timeline(session, case),
    }


def list_cases(session: Session, *, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    require_role(actor, *CASE_ROLES)
    rows = session.scalars(select(CrossCase).order_by(CrossCase.id.desc()).limit(limit))
    return [case_view(session, c) for c in rows]


def dashboard(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    """Cross-region cases per partner and mode: how many, open, done, in each direction."""
    require_role(actor, *CASE_ROLES)
    rows = session.execute(
        select(
            Partner.region,
            Partner.name,
            CrossCase.mode,
            CrossCase.direction,
            CrossCase.state,
            func.count(CrossCase.id),
        )
        .join(Partner, Partner.id == CrossCase.partner_id)
        .group_by(Partner.region, Partner.name, CrossCase.mode, CrossCase.direction, CrossCase.state)
    ).all()
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for region, name, mode, direction, state, n in rows:
        cell = out.setdefault(
            (region, mode),
            {
                "partner": region,
                "partner_name": name,
                "mode": mode,
                "mode_label": MODES.get(mode, (mode, mode))[0],
                "outgoing": 0,
                "incoming": 0,
                "open": 0,
                "done": 0,
            },
        )
        cell["outgoing" if direction == "out" else "incoming"] += n
        cell["done" if state == "done" else "open"] += n
    return [out[k] for k in sorted(out)]


def mode_totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The dashboard's rows summed per mode over every partner: each of the three 跨省通办 modes and
    12345 transfers, with zeros (a mode nobody used yet still shows)."""
    totals = {
        m: {"mode": m, "mode_label": label[0], "outgoing": 0, "incoming": 0, "open": 0, "done": 0}
        for m, label in MODES.items()
    }
    for r in rows:
        cell = totals.get(r["mode"])
        if cell is None:
            continue
        for k in ("outgoing", "incoming", "open", "done"):
            cell[k] += r[k]
    return list(totals.values())


# --- outbox and refusals ---------------------------------------------------------------------------------


def outbox_view(e: OutboxEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "message_id": e.message_id,
        "partner": e.partner.region,
        "case": e.case_key,
        "seq": e.seq,
        "kind": e.kind,
        "status": e.status,
        "attempts": e.attempts,
        "next_attempt_at": e.next_attempt_at,
        "last_error": e.last_error,
        "created_at": e.created_at,
        "delivered_at": e.delivered_at,
    }


def list_outbox(
    session: Session, *, actor: Actor, status: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    require_role(actor, *ADMIN_ROLES, *READ_ROLES)
    q = select(OutboxEntry).order_by(OutboxEntry.id.desc()).limit(limit)
    if status:
        q = q.where(OutboxEntry.status == status)
    return [outbox_view(e) for e in session.scalars(q)]


def retry_outbox(session: Session, *, actor: Actor, entry_id: int) -> dict[str, Any]:
    """Send a refused (or waiting) message again at the next run (after the partner fixed its side)."""
    require_role(actor, *ADMIN_ROLES)
    msg = session.get(OutboxEntry, entry_id)
    if msg is None:
        raise NotFound(f"no outbox message {entry_id}")
    if msg.status == "delivered":
        raise Conflict("this message was delivered; there is nothing to retry")
    msg.status = "pending"
    msg.next_attempt_at = utcnow()
    return outbox_view(msg)


def list_refusals(session: Session, *, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    require_role(actor, *ADMIN_ROLES, *READ_ROLES)
    rows = session.scalars(select(Refusal).order_by(Refusal.id.desc()).limit(limit))
    return [
        {
            "at": r.at,
            "sender": r.sender,
            "reason": r.reason,
            "message_id": r.message_id,
            "detail": r.detail,
            "address": r.address,
        }
        for r in rows
    ]


def get_case(session: Session, *, actor: Actor, case_key: str) -> dict[str, Any]:
    require_role(actor, *CASE_ROLES)
    case = session.scalar(select(CrossCase).where(CrossCase.case_key == case_key).order_by(CrossCase.id))
    if case is None:
        raise NotFound(f"no cross-region case {case_key!r}")
    return case_view(session, case)
