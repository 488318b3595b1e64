"""免申即享 rules around a grant: the citizen's look-up and confirmation, payouts, reviews, figures, births.

- A person proves who they are with the notice code from the SMS and the last four digits of the phone
  the register holds for them (a child's: the guardian's); a company with its 统一社会信用代码 and the
  last four digits of its contact phone. They see every benefit pushed to them, the account it would be
  paid to (masked), and confirm or decline each one.
- Confirmed grants are paid by the configured payer (``haoban.benefits.payer``); a grant is paid once:
  ``benefit_payments.grant_id`` is unique, and the gate only pays a confirmed, unflagged grant.
- A grant flagged by a data correction waits for a supervisor: uphold it, or withdraw it if unpaid.
- A birth (a finished newborn bundle, or any caller) is registered with ``register_birth``: the child
  joins the register and is matched at once against the policies for people.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import CITIZEN_ACTOR, SYSTEM_ACTOR, Actor
from haoban.auth.roles import ADMIN_ROLES, DASHBOARD_ROLES, Role
from haoban.benefits import gate, matching, sources
from haoban.benefits.facts import COMPANY, RESIDENT
from haoban.benefits.identity import mask_account, normalise_account, normalise_credit_code
from haoban.benefits.models import Company, Grant, GrantEvent, Policy, Resident
from haoban.benefits.payer import Payer
from haoban.benefits.workflow import BY_ACTION, STATUS_LABELS, GrantStatus
from haoban.db import utcnow
from haoban.errors import Invalid, NotFound
from haoban.orders.citizen import mask_name, phone_last4

R = Role
READ_ROLES = (*DASHBOARD_ROLES,)
REVIEW_ROLES = (R.SUPERVISOR, R.ADMIN)
del R
NOT_FOUND = "no benefit matches this code and these phone digits"


# --- who the subject is --------------------------------------------------------------------------------


class Subject:
    """A grant's subject as the portal shows it: name, contact and account on file."""

    def __init__(self, kind: str, sid: int, name: str, phone: str | None, account: str | None) -> None:
        self.kind, self.id, self.name, self.phone, self.account = kind, sid, name, phone, account


def _subject(session: Session, kind: str, sid: int) -> Subject:
    if kind == COMPANY:
        c = session.get(Company, sid)
        if c is None:
            raise NotFound(NOT_FOUND)
        return Subject(kind, sid, c.name, c.contact_phone, c.bank_account)
    r = session.get(Resident, sid)
    if r is None:
        raise NotFound(NOT_FOUND)
    phone, account = r.phone, r.bank_account
    if r.guardian_index:
        g = session.scalar(select(Resident).where(Resident.id_index == r.guardian_index))
        phone, account = (g.phone, g.bank_account) if g else (None, None)
    return Subject(kind, sid, mask_name(r.name) or "", phone, account)


def _digits_match(phone: str | None, last4: str) -> bool:
    return bool(phone) and len(last4) == 4 and last4.isdigit() and phone_last4(phone) == last4


def _grant_for_citizen(session: Session, *, code: str, last4: str) -> tuple[Grant, Subject]:
    grant = session.scalar(select(Grant).where(Grant.code == code.strip().upper()))
    if grant is None:
        raise NotFound(NOT_FOUND)
    subject = _subject(session, grant.subject_kind, grant.subject_id)
    if not _digits_match(subject.phone, last4):
        raise NotFound(NOT_FOUND)  # the same answer as an unknown code: nothing to probe
    return grant, subject


def _policy_names(session: Session) -> dict[str, str]:
    rows = session.execute(select(Policy.code, Policy.name).order_by(Policy.code, Policy.version)).all()
    return {code: name for code, name in rows}


def grant_view(grant: Grant, subject: Subject, names: dict[str, str], *, actor: Actor) -> dict[str, Any]:
    status = GrantStatus(grant.status)
    account = grant.account if grant.account else subject.account
    return {
        "code": grant.code,
        "policy": grant.policy_code,
        "policy_name": names.get(grant.policy_code, grant.policy_code),
        "period": grant.period,
        "rule_row": grant.rule_row,
        "rule_label": grant.rule_label,
        "amount_fen": grant.amount_fen,
        "amount_yuan": matching.yuan(grant.amount_fen),
        "status": status.value,
        "status_label": STATUS_LABELS[status][0],
        "status_label_en": STATUS_LABELS[status][1],
        "under_review": bool(grant.review_reason),
        "account_masked": mask_account(account),
        "needs_account": grant.amount_fen > 0 and not account,
        "created_at": grant.created_at,
        "confirmed_at": grant.confirmed_at,
        "paid_at": grant.paid_at,
        "allowed_actions": gate.allowed(grant, actor),
    }


def _subject_view(session: Session, subject: Subject) -> dict[str, Any]:
    names = _policy_names(session)
    grants = session.scalars(
        select(Grant)
        .where(Grant.subject_kind == subject.kind, Grant.subject_id == subject.id)
        .order_by(Grant.created_at.desc(), Grant.id.desc())
    ).all()
    return {
        "subject_kind": subject.kind,
        "name": subject.name,
        "account_masked": mask_account(subject.account),
        "grants": [grant_view(g, subject, names, actor=CITIZEN_ACTOR) for g in grants],
    }


def citizen_lookup(session: Session, *, code: str, last4: str) -> dict[str, Any]:
    """A person's (or company's) pushed benefits, from one notice code and the phone digits."""
    _grant, subject = _grant_for_citizen(session, code=code, last4=last4)
    return _subject_view(session, subject)


def company_lookup(session: Session, *, credit_code: str, last4: str) -> dict[str, Any]:
    """A company's pushed benefits, from its 统一社会信用代码 and its contact phone's last digits."""
    try:
        code = normalise_credit_code(credit_code)
    except ValueError as exc:
        raise Invalid(str(exc), fields={"credit_code": str(exc)}) from None
    c = session.scalar(select(Company).where(Company.credit_code == code))
    if c is None or not _digits_match(c.contact_phone, last4):
        raise NotFound("no company matches this code and these phone digits")
    return _subject_view(session, _subject(session, COMPANY, c.id))


# --- the citizen's answers -----------------------------------------------------------------------------


def confirm(session: Session, *, code: str, last4: str, account: str | None = None) -> dict[str, Any]:
    """Confirm a pushed benefit; the payout goes to ``account`` or, when none is given, the one on file."""
    grant, subject = _grant_for_citizen(session, code=code, last4=last4)
    chosen = subject.account
    if account:
        try:
            chosen = normalise_account(account)
        except ValueError as exc:
            raise Invalid(str(exc), fields={"account": str(exc)}) from None
    if grant.amount_fen > 0 and not chosen:
        raise Invalid(
            "there is no account on file to pay into: give one",
            fields={"account": "a bank account is needed"},
        )
    now = utcnow()

    def effect(g: Grant) -> None:
        g.account = chosen if g.amount_fen > 0 else None
        g.confirmed_at = now

    gate.transition(
        session,
        grant,
        action="confirm",
        actor=CITIZEN_ACTOR,
        at=now,
        payload={
            "account": mask_account(chosen) if grant.amount_fen > 0 else None,
            "own_account": bool(account),
        },
        effect=effect,
    )
    return grant_view(grant, subject, _policy_names(session), actor=CITIZEN_ACTOR)


def decline(session: Session, *, code: str, last4: str) -> dict[str, Any]:
    grant, subject = _grant_for_citizen(session, code=code, last4=last4)
    gate.transition(session, grant, action="decline", actor=CITIZEN_ACTOR, at=utcnow())
    return grant_view(grant, subject, _policy_names(session), actor=CITIZEN_ACTOR)


# --- payouts -------------------------------------------------------------------------------------------


def pay_confirmed(session: Session, *, payer: Payer, limit: int = 1000) -> int:
    """Pay confirmed, unflagged grants through ``payer``; each one in a savepoint of its own."""
    ids = session.scalars(
        select(Grant.id)
        .where(Grant.status == GrantStatus.CONFIRMED.value, Grant.review_reason.is_(None))
        .order_by(Grant.id)
        .limit(limit)
    ).all()
    paid = 0
    for gid in ids:
        grant = session.get(Grant, gid)
        assert grant is not None
        now = utcnow()
        with session.begin_nested():
            reference = payer.pay(session, grant)
            gate.transition(
                session,
                grant,
                action="pay",
                actor=SYSTEM_ACTOR,
                at=now,
                payload={"payer": payer.name, "reference": reference, "amount_fen": grant.amount_fen},
                effect=lambda g, now=now: setattr(g, "paid_at", now),
            )
        paid += 1
    return paid


# --- staff: reading and reviewing ----------------------------------------------------------------------


def list_grants(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    policy: str | None = None,
    flagged: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[dict[str, Any]], int]:
    rbac.require_role(actor, *READ_ROLES)
    stmt = select(Grant)
    if status:
        if status not in {s.value for s in GrantStatus}:
            raise Invalid(
                f"unknown status {status!r}", fields={"status": ", ".join(s.value for s in GrantStatus)}
            )
        stmt = stmt.where(Grant.status == status)
    if policy:
        stmt = stmt.where(Grant.policy_code == policy)
    if flagged is not None:
        stmt = stmt.where(Grant.review_reason.is_not(None) if flagged else Grant.review_reason.is_(None))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Grant.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    names = _policy_names(session)
    return [staff_view(session, g, names, actor=actor) for g in rows], total


def staff_view(session: Session, grant: Grant, names: dict[str, str], *, actor: Actor) -> dict[str, Any]:
    import json

    subject = _subject(session, grant.subject_kind, grant.subject_id)
    view = grant_view(grant, subject, names, actor=actor)
    view.update(subject_kind=grant.subject_kind, subject_name=subject.name, facts=json.loads(grant.facts))
    view["review_reason"] = grant.review_reason
    return view


def grant_detail(session: Session, *, code: str, actor: Actor) -> dict[str, Any]:
    rbac.require_role(actor, *READ_ROLES)
    grant = session.scalar(select(Grant).where(Grant.code == code.strip().upper()))
    if grant is None:
        raise NotFound(f"no benefit grant {code}")
    import json

    view = staff_view(session, grant, _policy_names(session), actor=actor)
    events = session.scalars(
        select(GrantEvent).where(GrantEvent.grant_id == grant.id).order_by(GrantEvent.seq)
    )
    view["events"] = [
        {
            "seq": e.seq,
            "action": e.action,
            "label": BY_ACTION[e.action].label[0] if e.action in BY_ACTION else e.action,
            "actor": e.actor_name,
            "role": e.actor_role,
            "at": e.at,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "payload": json.loads(e.payload),
            "hash": e.hash,
        }
        for e in events
    ]
    return view


def review(session: Session, *, code: str, decision: str, note: str, actor: Actor) -> dict[str, Any]:
    """A supervisor's answer to a flag: ``uphold`` the grant as it is, or ``withdraw`` an unpaid one."""
    rbac.require_role(actor, *REVIEW_ROLES)
    grant = session.scalar(select(Grant).where(Grant.code == code.strip().upper()))
    if grant is None:
        raise NotFound(f"no benefit grant {code}")
    if decision not in ("uphold", "withdraw"):
        raise Invalid("decision must be uphold or withdraw", fields={"decision": "uphold or withdraw"})
    if not note.strip():
        raise Invalid("say why", fields={"note": "required"})
    if decision == "uphold":
        if not grant.review_reason:
            raise Invalid("this benefit is not flagged for review", fields={"decision": "nothing to uphold"})
        gate.transition(
            session,
            grant,
            action="clear_review",
            actor=actor,
            at=utcnow(),
            payload={"note": note.strip(), "reason": grant.review_reason},
            effect=lambda g: setattr(g, "review_reason", None),
        )
    else:
        gate.transition(
            session, grant, action="withdraw", actor=actor, at=utcnow(), payload={"note": note.strip()}
        )
    return staff_view(session, grant, _policy_names(session), actor=actor)


# --- the list of the eligible (export) -----------------------------------------------------------------

EXPORT_COLUMNS = (
    "code",
    "policy",
    "period",
    "subject_kind",
    "subject",
    "rule_row",
    "rule_label",
    "facts",
    "amount_fen",
    "status",
    "review_reason",
)


def export_rows(
    session: Session, *, policy: str | None = None, period: str | None = None, flagged: bool | None = None
) -> Iterator[dict[str, Any]]:
    """Every grant with the rule row and the facts that made its subject eligible; names masked,
    companies by name. Streams in id order (a city's whole list fits no page)."""
    people = Resident.__table__
    firms = Company.__table__
    t = Grant.__table__
    stmt = (
        select(
            t,
            people.c.name.label("person"),
            firms.c.name.label("firm"),
        )
        .outerjoin(people, (t.c.subject_kind == RESIDENT) & (people.c.id == t.c.subject_id))
        .outerjoin(firms, (t.c.subject_kind == COMPANY) & (firms.c.id == t.c.subject_id))
        .order_by(t.c.id)
    )
    if policy:
        stmt = stmt.where(t.c.policy_code == policy)
    if period:
        stmt = stmt.where(t.c.period == period)
    if flagged is not None:
        stmt = stmt.where(t.c.review_reason.is_not(None) if flagged else t.c.review_reason.is_(None))
    for r in session.execute(stmt.execution_options(yield_per=5000)):
        yield {
            "code": r.code,
            "policy": r.policy_code,
            "period": r.period,
            "subject_kind": r.subject_kind,
            "subject": r.firm if r.subject_kind == COMPANY else mask_name(r.person),
            "rule_row": r.rule_row,
            "rule_label": r.rule_label,
            "facts": r.facts,
            "amount_fen": r.amount_fen,
            "status": r.status,
            "review_reason": r.review_reason or "",
        }


# --- figures for the dashboard -------------------------------------------------------------------------


def figures(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Per policy: eligible (pushed), confirmed, paid (count and fen), under review, days to payment."""
    rbac.require_role(actor, *READ_ROLES)
    done = (GrantStatus.CONFIRMED.value, GrantStatus.PAID.value)
    if session.get_bind().dialect.name == "sqlite":
        days = func.julianday(Grant.paid_at) - func.julianday(Grant.created_at)
    else:
        days = func.extract("epoch", Grant.paid_at - Grant.created_at) / 86400.0
    rows = session.execute(
        select(
            Grant.policy_code,
            func.count(),
            func.sum(case((Grant.status.in_(done), 1), else_=0)),
            func.sum(case((Grant.status == GrantStatus.PAID.value, 1), else_=0)),
            func.sum(case((Grant.status == GrantStatus.PAID.value, Grant.amount_fen), else_=0)),
            func.sum(case((Grant.review_reason.is_not(None), 1), else_=0)),
            func.avg(case((Grant.status == GrantStatus.PAID.value, days), else_=None)),
        ).group_by(Grant.policy_code)
    ).all()
    names = _policy_names(session)
    items = [
        {
            "policy": code,
            "policy_name": names.get(code, code),
            "eligible": int(n),
            "confirmed": int(conf or 0),
            "paid": int(paid or 0),
            "paid_fen": int(paid_fen or 0),
            "under_review": int(flagged or 0),
            "days_to_payment": round(float(avg), 2) if avg is not None else None,
        }
        for code, n, conf, paid, paid_fen, flagged, avg in rows
    ]
    totals = {
        k: sum(i[k] for i in items) for k in ("eligible", "confirmed", "paid", "paid_fen", "under_review")
    }
    return {"policies": items, "totals": totals}


# --- births --------------------------------------------------------------------------------------------


def register_birth(
    session: Session,
    *,
    child_id_number: str,
    child_name: str,
    sex: str,
    birth_date: date,
    mother_id_number: str,
    father_id_number: str | None = None,
    hospital: str = "",
    district: str = "",
    actor: Actor = SYSTEM_ACTOR,
    origin: str = "bundle",
    today: date | None = None,
) -> list[matching.RunReport]:
    """A birth was registered (a finished newborn bundle calls this): store it, match the child now.

    The values are checked like a births CSV row (ID numbers, the birth date inside the child's).
    """
    raw = {
        "child_id_number": child_id_number,
        "child_name": child_name,
        "sex": sex,
        "birth_date": birth_date.isoformat(),
        "mother_id_number": mother_id_number,
        "father_id_number": father_id_number or "",
        "hospital": hospital,
        "district": district,
    }
    rows = sources.check_rows(sources.BIRTHS, [raw], first_line=1)
    sources.store_rows(
        session, source=sources.BIRTHS, rows=rows, filename="birth", actor=actor, origin=origin
    )
    index = sources.index_of(session, rows[0]["child_id_number"])
    child = session.scalar(select(Resident.id).where(Resident.id_index == index))
    assert child is not None
    day = today or utcnow().date()
    return matching.match(session, today=day, actor=actor, subjects={RESIDENT: [child]})


def on_birth(step: Any) -> None:
    """Hook for ``applications.birth_registered``: ``step.session`` and ``step.birth`` (the fields above)."""
    birth = dict(step.birth)
    born = birth.pop("birth_date")
    at = getattr(step, "at", None)
    # The register reads and writes only its own tables, so what the announcing transaction holds need
    # not be flushed for it: a bulk approval's rows then go out together at commit, not one
    # application's at each birth.
    with step.session.no_autoflush:
        register_birth(
            step.session,
            birth_date=born if isinstance(born, date) else date.fromisoformat(str(born)),
            today=at.date() if isinstance(at, datetime) else None,
            **birth,
        )


def require_admin(actor: Actor) -> None:
    rbac.require_role(actor, *ADMIN_ROLES)


def require_read(actor: Actor) -> None:
    rbac.require_role(actor, *READ_ROLES)


# --- the portal's bookmarkable result (Post/Redirect/Get) ------------------------------------------------


def lookup_token(secret: str, *, who: str, code: str, last4: str) -> str:
    """The key of the portal's result link: proves the code and phone digits without showing them."""
    mac = hmac.new(secret.encode(), f"benefits|{who}|{code.strip().upper()}|{last4}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


def lookup_proof(session: Session, *, who: str, code: str, token: str, secret: str) -> str:
    """The phone digits a result link's key stands for; NotFound when it does not match (same answer as
    an unknown code)."""
    phone: str | None = None
    if who == "company":
        try:
            credit = normalise_credit_code(code)
        except ValueError:
            raise NotFound(NOT_FOUND) from None
        c = session.scalar(select(Company).where(Company.credit_code == credit))
        phone = c.contact_phone if c is not None else None
    else:
        grant = session.scalar(select(Grant).where(Grant.code == code.strip().upper()))
        if grant is not None:
            phone = _subject(session, grant.subject_kind, grant.subject_id).phone
    last4 = phone_last4(phone) if phone else ""
    expected = lookup_token(secret, who=who, code=code, last4=last4) if last4 else ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise NotFound(NOT_FOUND)
    return last4
