"""好差评 for services: applicants rate a finished application (办件) or a window visit, once.

- A window clerk registers a visit (item, the person's phone) and hands out its code as a slip or a QR
  code; the person rates with that code and the last four digits of their phone. An applicant rates a
  finished application with its code and phone digits. Both follow the orders' ratings
  (``haoban.feedback.service``): the same five levels, the same rate limit, one rating each, and the same
  answer for a wrong guess as for a code that does not exist.
- A rating names the aspects it is about (服务态度, 办事效率, 材料要求 …) and, for an application that
  spans several departments, the item (事项) it is about. Department, item, window clerk and channel are
  copied onto the rating, so the figures per each are one query over the ratings.
- A 差评 (``service.is_bad``) opens a rectification (整改) due on the same working-day rule as the orders'
  (``service.rectification_due``), at the item's department. The department answers, a supervisor
  accepts (closed, and the applicant sees the answer) or rejects it (open again). The sweep escalates a
  rectification still open past its deadline, and again every rectification period after. Rating,
  rectification and result go into the application's case file through its gate.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haoban.applications import access as app_access
from haoban.applications import gate as app_gate
from haoban.applications import registry
from haoban.applications.models import Application
from haoban.applications.workflow import APP_STATUS_LABELS, AppStatus
from haoban.auth.actors import CITIZEN_ACTOR, SYSTEM_ACTOR, Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import DASHBOARD_ROLES, Role
from haoban.catalog import service as catalog
from haoban.db import utcnow
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.feedback.models import ServiceRating, ServiceRectification, ServiceVisit
from haoban.feedback.schemas import (
    ASPECTS,
    RATING_LEVELS,
    SERVICE_CHANNELS,
    RatingLevel,
)
from haoban.feedback.service import is_bad, rectification_due
from haoban.notifications.service import enqueue
from haoban.orders.citizen import mask_phone, normalise_phone, phone_last4, track_token
from haoban.runtime import Runtime

R = Role
VISIT_ROLES = (R.WINDOW, R.VOLUNTEER, R.ADMIN)  # who registers a window visit for rating
RECTIFICATION_READ_ROLES = (R.HANDLER, R.SUPERVISOR, R.ADMIN, R.AUDITOR)  # handlers: their department's
ANSWER_ROLES = (R.HANDLER,)  # the department the rectification is assigned to
REVIEW_ROLES = (R.SUPERVISOR, R.ADMIN)
FIGURE_ROLES = DASHBOARD_ROLES
del R
VISIT_PREFIX = "CK"  # 窗口评价码: CK + local date + six random digits
FINISHED = frozenset({AppStatus.COMPLETED, AppStatus.PARTIALLY_COMPLETED, AppStatus.REJECTED})
RECTIFICATION_STATUSES = ("open", "answered", "closed")
PENDING = ("open", "answered")  # not closed yet
BUNDLE_DEPARTMENTS = ("一件事（多部门联办）", "One thing, several departments")
LEADERSHIP_INBOX = "role:supervisor"


def _missing() -> NotFound:
    # One answer for a wrong code, wrong digits and a code that does not exist: guesses learn nothing.
    return NotFound(
        "no finished application or window visit matches this code and phone digits",
        message_zh="没有与此编号和手机号后四位相符的办件或窗口办事记录",
    )


def normalise_code(code: str) -> str:
    return code.strip().upper()


# --- window visits ---------------------------------------------------------------------------------------


def register_visit(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    item: str,
    person_phone: str,
    channel: str = "window",
    note: str | None = None,
    now: datetime | None = None,
) -> ServiceVisit:
    """A window clerk records a visit (the item served, the person's phone) so the person can rate it."""
    require_role(actor, *VISIT_ROLES)
    now = now or utcnow()
    errors: dict[str, str] = {}
    try:
        phone = normalise_phone(person_phone)
    except ValueError as exc:
        errors["person_phone"] = str(exc)
    try:
        found = catalog.get_item(session, code=item.strip())
    except NotFound:
        errors["item"] = f"no active catalogue item {item!r}"
    if channel not in ("window", "assisted"):
        errors["channel"] = "window or assisted"
    if errors:
        raise Invalid("the visit cannot be registered", fields=errors, message_zh="窗口办事记录有误")
    day = now.astimezone(rt.settings.tz).strftime("%Y%m%d")
    for _ in range(20):
        code = f"{VISIT_PREFIX}{day}{secrets.randbelow(10**6):06d}"
        if session.scalar(select(ServiceVisit.id).where(ServiceVisit.code == code)) is None:
            break
    else:  # pragma: no cover - a million codes a day
        raise Conflict("no free visit code left today; try again")
    visit = ServiceVisit(
        code=code,
        item_code=found.code,
        item_name=found.name,
        department_id=found.department_id,
        channel=channel,
        clerk_id=actor.id,
        clerk_name=actor.name,
        person_phone=phone,
        note=note or None,
        visited_at=now,
    )
    session.add(visit)
    session.flush()
    return visit


def visit_view(rt: Runtime, visit: ServiceVisit) -> dict[str, Any]:
    return {
        "code": visit.code,
        "item": visit.item_code,
        "item_name": visit.item_name,
        "department": rt.directory.department_code(visit.department_id),
        "department_name": rt.directory.department_name(visit.department_id),
        "channel": visit.channel,
        "clerk": visit.clerk_name,
        "phone": mask_phone(visit.person_phone) or "",
        "visited_at": visit.visited_at,
        "rate_url": rate_path(visit.code),
        "qr_url": f"/window/visits/{visit.code}/qr.svg",
    }


def rate_path(code: str) -> str:
    """The portal page where the person rates (what the QR code and the slip point at)."""
    return f"/portal/rate-service?code={code}"


def get_visit(session: Session, *, code: str, actor: Actor) -> ServiceVisit:
    require_role(actor, *VISIT_ROLES)
    visit = session.scalar(select(ServiceVisit).where(ServiceVisit.code == normalise_code(code)))
    if visit is None:
        raise NotFound(f"no window visit {code!r}", message_zh=f"没有窗口办事记录 {code}")
    return visit


# --- what is being rated -----------------------------------------------------------------------------------


@dataclass
class Subject:
    kind: str  # application / visit
    code: str
    name: str
    name_en: str | None
    finished: bool
    status: str
    items: list[dict[str, Any]]  # item, name, name_en, department_id
    channel: str
    clerk_id: int | None
    clerk_name: str | None
    app: Application | None = None
    visit: ServiceVisit | None = None


def _subject(session: Session, rt: Runtime, *, code: str, last4: str, lock: bool = False) -> Subject:
    code = normalise_code(code)
    if code.startswith(VISIT_PREFIX):
        stmt = select(ServiceVisit).where(ServiceVisit.code == code)
        visit = session.scalar(stmt.with_for_update() if lock else stmt)
        if visit is None or phone_last4(visit.person_phone) != last4:
            raise _missing()
        item = {
            "item": visit.item_code,
            "name": visit.item_name,
            "name_en": None,
            "department_id": visit.department_id,
        }
        return Subject(
            "visit",
            visit.code,
            visit.item_name,
            None,
            True,
            "visited",
            [item],
            visit.channel,
            visit.clerk_id,
            visit.clerk_name,
            visit=visit,
        )
    app = app_access.load(session, code, lock=lock)
    if app is None or phone_last4(app.applicant_phone) != last4:
        raise _missing()
    definition = registry.definition_by_id(session, rt, app.definition_id)
    items: dict[str, dict[str, Any]] = {}
    for t in app_access.tasks_of(session, app):
        items.setdefault(
            t.item_code,
            {"item": t.item_code, "name": t.name, "name_en": t.name_en, "department_id": t.department_id},
        )
    staffed = app.channel in ("window", "assisted")
    return Subject(
        "application",
        app.code,
        definition.name,
        definition.name_en,
        AppStatus(app.status) in FINISHED,
        app.status,
        list(items.values()),
        app.channel,
        app.submitted_by_id if staffed else None,
        app.submitted_by_name if staffed else None,
        app=app,
    )


def proof(session: Session, *, code: str, token: str, secret: str) -> tuple[str, str]:
    """(code, last4) for a rating page's bookmarkable key (``orders.citizen.track_token``, the tracking
    links' key); the same NotFound as a wrong guess when it does not match."""
    code = normalise_code(code)
    if code.startswith(VISIT_PREFIX):
        phone = session.scalar(select(ServiceVisit.person_phone).where(ServiceVisit.code == code))
    else:
        phone = session.scalar(select(Application.applicant_phone).where(Application.code == code))
    last4 = phone_last4(phone)
    if not last4 or not hmac.compare_digest(
        token.encode(), track_token(secret, code=code, last4=last4).encode()
    ):
        raise _missing()
    return code, last4


def _item_view(rt: Runtime, item: dict[str, Any]) -> dict[str, Any]:
    dept = item["department_id"]
    return {
        "item": item["item"],
        "name": item["name"],
        "name_en": item["name_en"],
        "department": rt.directory.department_code(dept) if dept else None,
        "department_name": rt.directory.department_name(dept) if dept else None,
    }


def rateable(session: Session, rt: Runtime, *, code: str, last4: str) -> dict[str, Any]:
    """What the applicant may rate under this code: the name, whether it is finished, its items, and
    their rating when they gave one (404 alike for wrong digits and unknown codes)."""
    subject = _subject(session, rt, code=code, last4=last4)
    rating = _rating_of(session, subject)
    label = APP_STATUS_LABELS[AppStatus(subject.status)] if subject.app else ("已办理", "Served")
    return {
        "code": subject.code,
        "subject": subject.kind,
        "name": subject.name,
        "name_en": subject.name_en,
        "status": subject.status,
        "status_label": label[0],
        "status_label_en": label[1],
        "finished": subject.finished,
        "items": [_item_view(rt, i) for i in subject.items],
        "rating": _rating_out(session, rt, rating, code=subject.code) if rating else None,
    }


def _rating_of(session: Session, subject: Subject) -> ServiceRating | None:
    if subject.app is not None:
        where = ServiceRating.application_id == subject.app.id
    else:
        assert subject.visit is not None
        where = ServiceRating.visit_id == subject.visit.id
    return session.scalar(select(ServiceRating).where(where))


# --- rating ----------------------------------------------------------------------------------------------


def _level_view(level: str) -> dict[str, Any]:
    score, zh, en = RATING_LEVELS[RatingLevel(level)]
    return {"level": level, "score": score, "label": zh, "label_en": en}


def _choose_item(rt: Runtime, subject: Subject, *, item: str | None, bad: bool) -> dict[str, Any]:
    """The item a rating is about: the one named, the only one, or the bundle as a whole. A 差评 must
    land at one department, so on an application of several departments it names its item."""
    if item:
        for i in subject.items:
            if i["item"] == item.strip():
                return i
        raise Invalid(
            f"{item!r} is not an item of {subject.code}",
            fields={"item": "one of " + ", ".join(i["item"] for i in subject.items)},
            message_zh="所选事项不属于此办件",
        )
    if len(subject.items) == 1:
        return subject.items[0]
    departments = {i["department_id"] for i in subject.items}
    if bad and len(departments) != 1:
        names = "、".join(i["name"] for i in subject.items)
        raise Invalid(
            "name the item your 差评 is about, so that its department can put it right",
            fields={"item": "one of " + ", ".join(i["item"] for i in subject.items)},
            message_zh=f"请选择您不满意的事项（{names}），以便由承办部门整改",
        )
    return {
        "item": subject.app.bundle_code if subject.app else subject.code,
        "name": subject.name,
        "name_en": subject.name_en,
        "department_id": departments.pop() if len(departments) == 1 else None,
    }


def submit(
    session: Session,
    rt: Runtime,
    *,
    code: str,
    last4: str,
    level: RatingLevel,
    aspects: list[str] | None = None,
    comment: str | None = None,
    item: str | None = None,
    now: datetime | None = None,
) -> tuple[ServiceRating, ServiceRectification | None, str]:
    """Rate a finished application or a window visit, once; a 差评 opens a rectification.

    Returns the rating, the rectification (or None) and the subject's code."""
    now = now or utcnow()
    subject = _subject(session, rt, code=code, last4=last4, lock=True)
    if not subject.finished:
        raise Conflict(
            "this application is not finished yet: rate it once it is",
            message_zh="办件尚未办结，办结后即可评价",
            status=subject.status,
        )
    if _rating_of(session, subject) is not None:
        raise Conflict(
            "this has already been rated; a rating cannot be changed", message_zh="已评价过，不能修改"
        )
    unknown = [a for a in aspects or [] if a not in ASPECTS]
    if unknown:
        raise Invalid(f"unknown aspect {unknown[0]!r}", fields={"aspects": "one of " + ", ".join(ASPECTS)})
    score = RATING_LEVELS[level][0]
    chosen = _choose_item(rt, subject, item=item, bad=is_bad(score))
    rating = ServiceRating(
        subject=subject.kind,
        application_id=subject.app.id if subject.app else None,
        visit_id=subject.visit.id if subject.visit else None,
        level=level.value,
        score=score,
        aspects=json.dumps(list(aspects or []), ensure_ascii=False),
        comment=comment or None,
        item_code=chosen["item"],
        item_name=chosen["name"],
        department_id=chosen["department_id"],
        channel=subject.channel,
        clerk_id=subject.clerk_id,
        clerk_name=subject.clerk_name,
        created_at=now,
    )
    session.add(rating)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            "this has already been rated; a rating cannot be changed", message_zh="已评价过，不能修改"
        ) from None
    _score, label, label_en = RATING_LEVELS[level]
    payload: dict[str, Any] = {
        "level": level.value,
        "label": label,
        "label_en": label_en,
        "score": score,
        "item": chosen["item"],
    }
    if aspects:
        payload["aspects"] = list(aspects)
    if comment:
        payload["comment"] = comment
    _note(session, rt, subject.app, action="rate", actor=CITIZEN_ACTOR, payload=payload, at=now)
    rect = None
    if is_bad(score):
        rect = _open_rectification(session, rt, subject=subject, rating=rating, now=now)
    session.flush()
    return rating, rect, subject.code


def _note(
    session: Session,
    rt: Runtime,
    app: Application | None,
    *,
    action: str,
    actor: Actor,
    payload: dict[str, Any],
    at: datetime,
) -> None:
    """Record in the application's case file (a visit has none: its rectification row is its record)."""
    if app is None:
        return
    app_gate.move_application(
        rt, session, app, action="note", to_status=None, actor=actor, at=at, payload=payload, event=action
    )


def _open_rectification(
    session: Session, rt: Runtime, *, subject: Subject, rating: ServiceRating, now: datetime
) -> ServiceRectification:
    assert rating.department_id is not None  # _choose_item names one for every 差评
    days, due = rectification_due(rt, now)
    rect = ServiceRectification(
        rating_id=rating.id,
        department_id=rating.department_id,
        status="open",
        deadline=due.at,
        deadline_provisional=due.provisional,
        escalate_at=due.at,
        escalation_level=0,
        created_at=now,
    )
    session.add(rect)
    session.flush()
    dept = rt.directory.department_code(rating.department_id)
    _note(
        session,
        rt,
        subject.app,
        action="rectification_open",
        actor=CITIZEN_ACTOR,
        payload={
            "rectification": rect.id,
            "rating": rating.level,
            "item": rating.item_code,
            "department": dept,
            "working_days": days,
            "deadline": due.at.isoformat(),
            "provisional": due.provisional or None,
        },
        at=now,
    )
    enqueue(
        session,
        channel="internal",
        recipient=f"department:{dept}",
        subject="好差评差评整改",
        body=f"{subject.code}（{rating.item_name}）收到差评（{RATING_LEVELS[RatingLevel(rating.level)][1]}），"
        f"请于 {due.at.astimezone(rt.calendar.tzinfo):%Y-%m-%d %H:%M} 前完成整改并答复。",
        dedupe_key=f"svc-rect-open:{rect.id}",
    )
    return rect


def _rating_out(
    session: Session,
    rt: Runtime,
    rating: ServiceRating,
    *,
    code: str,
    rect: ServiceRectification | None = None,
) -> dict[str, Any]:
    if rect is None:
        rect = session.scalar(select(ServiceRectification).where(ServiceRectification.rating_id == rating.id))
    dept = rating.department_id
    return {
        "code": code,
        "subject": rating.subject,
        **_level_view(rating.level),
        "aspects": json.loads(rating.aspects),
        "comment": rating.comment,
        "item": rating.item_code,
        "item_name": rating.item_name,
        "department": rt.directory.department_code(dept) if dept else None,
        "department_name": rt.directory.department_name(dept) if dept else None,
        "channel": rating.channel,
        "created_at": rating.created_at,
        "rectification": (
            {
                "status": rect.status,
                "deadline": rect.deadline,
                # The rater sees the department's answer once a supervisor has accepted it.
                "answer": rect.answer if rect.status == "closed" else None,
                "closed_at": rect.closed_at,
            }
            if rect
            else None
        ),
    }


def rating_view(
    session: Session, rt: Runtime, rating: ServiceRating, rect: ServiceRectification | None, *, code: str
) -> dict[str, Any]:
    return _rating_out(session, rt, rating, code=code, rect=rect)


# --- rectifications (差评整改) ------------------------------------------------------------------------


def _scope_clause(actor: Actor) -> ColumnElement[bool] | None:
    """A department sees its own rectifications only; supervisors, admins and auditors see all."""
    if actor.role == Role.HANDLER:
        if actor.department_id is None:
            return ServiceRectification.id.is_(None)
        return ServiceRectification.department_id == actor.department_id
    return None


def _code_of(session: Session, rating: ServiceRating) -> str:
    if rating.application_id is not None:
        app = session.get(Application, rating.application_id)
        return app.code if app else ""
    visit = session.get(ServiceVisit, rating.visit_id)
    return visit.code if visit else ""


def rectification_view(
    session: Session, rt: Runtime, rect: ServiceRectification, rating: ServiceRating, *, now: datetime
) -> dict[str, Any]:
    return {
        "id": rect.id,
        "code": _code_of(session, rating),
        "subject": rating.subject,
        "item": rating.item_code,
        "item_name": rating.item_name,
        "department": rt.directory.department_code(rect.department_id),
        "department_name": rt.directory.department_name(rect.department_id),
        "channel": rating.channel,
        "clerk": rating.clerk_name,
        "rating": {**_level_view(rating.level), "comment": rating.comment, "created_at": rating.created_at},
        "aspects": json.loads(rating.aspects),
        "status": rect.status,
        "deadline": rect.deadline,
        "deadline_provisional": rect.deadline_provisional,
        "overdue": rect.status == "open" and now > rect.deadline,
        "escalation_level": rect.escalation_level,
        "created_at": rect.created_at,
        "answer": rect.answer,
        "answered_at": rect.answered_at,
        "answered_by": rect.answered_by,
        "review_note": rect.review_note,
        "reviewed_at": rect.reviewed_at,
        "reviewed_by": rect.reviewed_by,
        "closed_at": rect.closed_at,
    }


def list_rectifications(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    status: str | None = None,
    overdue: bool | None = None,
    department: str | None = None,
    page: int = 1,
    page_size: int = 20,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Rectifications of services' 差评 the actor may see, the earliest deadline first."""
    require_role(actor, *RECTIFICATION_READ_ROLES)
    now = now or utcnow()
    stmt = select(ServiceRectification, ServiceRating).join(
        ServiceRating, ServiceRating.id == ServiceRectification.rating_id
    )
    clause = _scope_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    if status:
        if status not in RECTIFICATION_STATUSES:
            raise Invalid("unknown status", fields={"status": "one of " + ", ".join(RECTIFICATION_STATUSES)})
        stmt = stmt.where(ServiceRectification.status == status)
    if overdue is True:
        stmt = stmt.where(ServiceRectification.status == "open", ServiceRectification.deadline < now)
    elif overdue is False:
        stmt = stmt.where((ServiceRectification.status != "open") | (ServiceRectification.deadline >= now))
    if department:
        dept = rt.directory.require_department(department, active=False)
        stmt = stmt.where(ServiceRectification.department_id == dept.id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(
        stmt.order_by(ServiceRectification.deadline, ServiceRectification.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return [rectification_view(session, rt, rect, rating, now=now) for rect, rating in rows], total


def _load_rect(session: Session, *, rectification_id: int, actor: Actor) -> ServiceRectification:
    stmt = select(ServiceRectification).where(ServiceRectification.id == rectification_id)
    clause = _scope_clause(actor)
    if clause is not None:
        stmt = stmt.where(clause)
    rect = session.scalar(stmt.with_for_update())
    if rect is None:  # another department's rectification reads as missing
        raise NotFound(
            f"no rectification {rectification_id} that you can see", message_zh="没有您可查看的整改"
        )
    return rect


def _context(session: Session, rect: ServiceRectification) -> tuple[ServiceRating, Application | None]:
    rating = session.get(ServiceRating, rect.rating_id)
    assert rating is not None
    app = session.get(Application, rating.application_id) if rating.application_id is not None else None
    return rating, app


def get_rectification(
    session: Session, rt: Runtime, *, rectification_id: int, actor: Actor, now: datetime | None = None
) -> dict[str, Any]:
    require_role(actor, *RECTIFICATION_READ_ROLES)
    rect = _load_rect(session, rectification_id=rectification_id, actor=actor)
    rating, _app = _context(session, rect)
    return rectification_view(session, rt, rect, rating, now=now or utcnow())


def answer_rectification(
    session: Session,
    rt: Runtime,
    *,
    rectification_id: int,
    answer: str,
    actor: Actor,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The department says what it did to put the 差评 right; a supervisor reviews it next."""
    require_role(actor, *RECTIFICATION_READ_ROLES)
    now = now or utcnow()
    rect = _load_rect(session, rectification_id=rectification_id, actor=actor)
    if actor.role not in ANSWER_ROLES or actor.department_id != rect.department_id:
        raise Forbidden(
            "only the department the rectification is assigned to answers it",
            message_zh="只有负责整改的部门可以答复",
        )
    if rect.status != "open":
        raise Conflict(f"this rectification is {rect.status}, not open", message_zh="该整改不在待整改状态")
    answer = (answer or "").strip()
    if len(answer) < 2:
        raise Invalid("say what was done", fields={"answer": "required"}, message_zh="请填写整改情况")
    rating, app = _context(session, rect)
    rect.status = "answered"
    rect.answer = answer
    rect.answered_at = now
    rect.answered_by = actor.name
    late = now > rect.deadline
    _note(
        session,
        rt,
        app,
        action="rectification_answer",
        actor=actor,
        payload={"rectification": rect.id, "answer": answer, "late": late or None},
        at=now,
    )
    enqueue(
        session,
        channel="internal",
        recipient=LEADERSHIP_INBOX,
        subject="差评整改待审核",
        body=f"{_code_of(session, rating)}（{rating.item_name}）的差评整改已答复，请审核。",
        dedupe_key=f"svc-rect-answer:{rect.id}:{now.isoformat()}",
    )
    session.flush()
    return rectification_view(session, rt, rect, rating, now=now)


def review_rectification(
    session: Session,
    rt: Runtime,
    *,
    rectification_id: int,
    decision: str,
    note: str | None,
    actor: Actor,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A supervisor accepts the department's answer (closed; the rater sees it) or rejects it (open)."""
    require_role(actor, *REVIEW_ROLES)
    now = now or utcnow()
    if decision not in ("accept", "reject"):
        raise Invalid("unknown decision", fields={"decision": "accept or reject"})
    note = (note or "").strip() or None
    if decision == "reject" and not note:
        raise Invalid(
            "say why the answer is not enough",
            fields={"note": "required to reject"},
            message_zh="请说明退回理由",
        )
    rect = _load_rect(session, rectification_id=rectification_id, actor=actor)
    if rect.status != "answered":
        raise Conflict(
            f"this rectification is {rect.status}: only an answered one is reviewed",
            message_zh="只有已答复的整改可以审核",
            status=rect.status,
        )
    rating, app = _context(session, rect)
    rect.review_note = note
    rect.reviewed_at = now
    rect.reviewed_by = actor.name
    payload: dict[str, Any] = {"rectification": rect.id, "decision": decision, "note": note}
    if decision == "accept":
        rect.status = "closed"
        rect.closed_at = now
        payload["answer"] = rect.answer
    else:
        rect.status = "open"
    _note(session, rt, app, action="rectification_review", actor=actor, payload=payload, at=now)
    if decision == "reject":
        enqueue(
            session,
            channel="internal",
            recipient=f"department:{rt.directory.department_code(rect.department_id)}",
            subject="差评整改被退回",
            body=f"{_code_of(session, rating)}（{rating.item_name}）的整改答复被退回：{note}",
            dedupe_key=f"svc-rect-reject:{rect.id}:{now.isoformat()}",
        )
    session.flush()
    return rectification_view(session, rt, rect, rating, now=now)


@dataclass
class SweepResult:
    escalated: int = 0


def sweep(session: Session, rt: Runtime, *, now: datetime | None = None, limit: int = 500) -> SweepResult:
    """Escalate rectifications still open past their deadline: the first time to the department and the
    supervisors (督办), then again (升级督办) every rectification period they stay open. Running it twice
    at the same moment escalates nothing the second time."""
    now = now or utcnow()
    result = SweepResult()
    rows = session.scalars(
        select(ServiceRectification)
        .where(ServiceRectification.status == "open", ServiceRectification.escalate_at < now)
        .order_by(ServiceRectification.escalate_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for rect in rows:
        rating, app = _context(session, rect)
        rect.escalation_level += 1
        _days, nxt = rectification_due(rt, now)
        rect.escalate_at = nxt.at
        level = rect.escalation_level
        _note(
            session,
            rt,
            app,
            action="rectification_escalate",
            actor=SYSTEM_ACTOR,
            payload={"rectification": rect.id, "level": level, "deadline": rect.deadline.isoformat()},
            at=now,
        )
        dept = rt.directory.department_code(rect.department_id)
        what = "差评整改超期督办" if level == 1 else "差评整改超期升级督办"
        body = (
            f"{_code_of(session, rating)}（{rating.item_name}）的差评整改已超过期限"
            f"（{rect.deadline.astimezone(rt.calendar.tzinfo):%Y-%m-%d %H:%M}），第 {level} 次督办。"
        )
        for recipient in (f"department:{dept}", LEADERSHIP_INBOX):
            enqueue(
                session,
                channel="internal",
                recipient=recipient,
                subject=what,
                body=body,
                dedupe_key=f"svc-rect-escalate:{rect.id}:{level}:{recipient}",
            )
        result.escalated += 1
    session.flush()
    return result


# --- figures (dashboard, API, CSV) --------------------------------------------------------------------

DIMENSIONS = ("departments", "items", "clerks", "channels")
LEVEL_KEYS = tuple(level.value for level in RATING_LEVELS)


def _count_if(condition: Any) -> Any:
    return func.sum(sql_case((condition, 1), else_=0))


def figures(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    start: datetime | None = None,
    end: datetime | None = None,
    department_id: int | None = None,
    now: datetime | None = None,
    lang: str = "zh",
) -> dict[str, Any]:
    """Ratings given in ``[start, end)`` per department, item, window clerk and channel, with the
    levels, 好评率, mean score, 差评 and their rectifications (open, overdue, closed)."""
    require_role(actor, *FIGURE_ROLES)
    now = now or utcnow()
    where: list[ColumnElement[bool]] = []
    if start is not None:
        where.append(ServiceRating.created_at >= start)
    if end is not None:
        where.append(ServiceRating.created_at < end)
    if department_id is not None:
        where.append(ServiceRating.department_id == department_id)
    measures = [
        func.count(ServiceRating.id),
        *(_count_if(ServiceRating.level == k) for k in LEVEL_KEYS),
        func.sum(ServiceRating.score),
        _count_if(ServiceRectification.status.in_(PENDING)),
        _count_if((ServiceRectification.status == "open") & (ServiceRectification.deadline < now)),
        _count_if(ServiceRectification.status == "closed"),
    ]
    base = (
        select(*measures)
        .select_from(ServiceRating)
        .outerjoin(ServiceRectification, ServiceRectification.rating_id == ServiceRating.id)
    )
    en = lang == "en"

    def rows(*keys: Any) -> list[tuple[Any, ...]]:
        stmt = base.add_columns(*keys).where(*where).group_by(*keys)
        return list(session.execute(stmt).all())

    def shape(key: str | None, label: str, m: tuple[Any, ...]) -> dict[str, Any]:
        total = int(m[0] or 0)
        levels = {k: int(v or 0) for k, v in zip(LEVEL_KEYS, m[1:6], strict=True)}
        good = levels["very_satisfied"] + levels["satisfied"] + levels["basically_satisfied"]
        return {
            "key": key,
            "label": label,
            "ratings": total,
            **levels,
            "good_rate": round(good / total, 4) if total else None,
            "average": round(int(m[6] or 0) / total, 2) if total else None,
            "bad": levels["unsatisfied"] + levels["very_unsatisfied"],
            "rectifications_open": int(m[7] or 0),
            "rectifications_overdue": int(m[8] or 0),
            "rectifications_closed": int(m[9] or 0),
        }

    n = len(measures)
    directory = rt.directory
    departments = []
    for r in rows(ServiceRating.department_id):
        dept_id = r[n]
        if dept_id is None:
            label = BUNDLE_DEPARTMENTS[1 if en else 0]
        else:
            label = directory.department_name(dept_id) or str(dept_id)
        departments.append(shape(directory.department_code(dept_id) if dept_id else None, label, r[:n]))
    items = [shape(r[n], r[n + 1], r[:n]) for r in rows(ServiceRating.item_code, ServiceRating.item_name)]
    clerks = []
    for r in rows(ServiceRating.clerk_id, ServiceRating.clerk_name):
        label = r[n + 1] or ("Online (no clerk)" if en else "网上办（无窗口人员）")
        clerks.append(shape(str(r[n]) if r[n] is not None else None, label, r[:n]))
    channels = [
        shape(r[n], SERVICE_CHANNELS.get(r[n], (r[n], r[n]))[1 if en else 0], r[:n])
        for r in rows(ServiceRating.channel)
    ]
    total_row = session.execute(base.where(*where)).one()
    for group in (departments, items, clerks, channels):
        group.sort(key=lambda x: (-x["ratings"], x["label"]))
    return {
        "total": shape(None, "Total" if en else "合计", tuple(total_row)),
        "departments": departments,
        "items": items,
        "clerks": clerks,
        "channels": channels,
    }
