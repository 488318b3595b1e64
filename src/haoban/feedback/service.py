"""Feedback rules: reply-quality scores for the reviewers, citizens' ratings (好差评), rectifications.

- Every department reply is scored (:func:`haoban.feedback.reply_quality.score_reply`) by an
  ``orders.reply`` after-hook (``haoban.feedback.hooks``) and stored with the order and the case-file
  event that carried it; reviewers see the score and the reasons, and a queue of replies awaiting
  review sorted worst first.
- A citizen rates a finished order once, with the tracking code and the last four digits of their phone.
  The rating goes into the order's case file (一事一档); a 差评 (不满意 / 非常不满意) opens a rectification
  (整改) due ``rectification_working_days`` working days later, which a supervisor closes with a note.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import CITIZEN_ACTOR, Actor
from haoban.auth.roles import Role
from haoban.calendar import Deadline, DurationUnit
from haoban.db import utcnow
from haoban.errors import Conflict, Invalid, NotFound
from haoban.feedback.models import Rating, Rectification, ReplyScore
from haoban.feedback.reply_quality import score_reply
from haoban.feedback.schemas import BAD_SCORE, RATING_LEVELS, RatingLevel
from haoban.notifications.service import enqueue
from haoban.orders import access, events, queries
from haoban.orders.models import Order
from haoban.orders.workflow import STATUS_LABELS, Status
from haoban.runtime import Runtime

log = logging.getLogger(__name__)

R = Role
SCORE_READ_ROLES = (R.OPERATOR, R.DISPATCHER, R.SUPERVISOR, R.ADMIN, R.AUDITOR)
REVIEW_QUEUE_ROLES = (R.DISPATCHER, R.SUPERVISOR, R.ADMIN, R.AUDITOR)
RECTIFICATION_READ_ROLES = (R.SUPERVISOR, R.ADMIN, R.AUDITOR)
RECTIFICATION_CLOSE_ROLES = (R.SUPERVISOR, R.ADMIN)
del R
# A citizen may rate once the answer has reached them: at the call-back, after closing, or an instant answer.
RATEABLE = frozenset(
    {Status.CALLBACK.value, Status.CLOSED.value, Status.ARCHIVED.value, Status.ANSWERED.value}
)


def appeal_text(order: Order) -> str:
    subject = (order.subject or "").strip()
    content = order.content or ""
    if not subject or content.lstrip().startswith(subject):
        return content
    return f"{subject}。{content}"


# --- reply quality ---------------------------------------------------------------------------------


def record_reply_score(
    session: Session, *, order: Order, reply: str, at: datetime, event_seq: int
) -> ReplyScore | None:
    """Score a department's reply and store it against the case-file event (``event_seq``) that carried it.

    A scorer failure is logged and never blocks the reply.
    """
    try:
        score = score_reply(
            appeal=appeal_text(order), reply=reply, appeal_at=order.received_at, replied_at=at
        )
    except Exception:  # pragma: no cover - the scorer is pure; a bug there must not stop a department
        log.exception("reply scoring failed for order %s", order.code)
        return None
    row = ReplyScore(
        order_id=order.id,
        event_seq=event_seq,
        total=score.total,
        relevance=score.relevance,
        completeness=score.completeness,
        timeliness=score.timeliness,
        tone=score.tone,
        grade=score.grade,
        reasons=json.dumps(score.reasons, ensure_ascii=False),
        scored_at=at,
    )
    session.add(row)
    return row


GRADE_LABELS = {"good": "好", "fair": "一般", "poor": "差"}


def score_view(s: ReplyScore) -> dict[str, Any]:
    return {
        "event_seq": s.event_seq,
        "total": s.total,
        "grade": s.grade,
        "grade_label": GRADE_LABELS.get(s.grade, s.grade),
        "relevance": s.relevance,
        "completeness": s.completeness,
        "timeliness": s.timeliness,
        "tone": s.tone,
        "reasons": json.loads(s.reasons),
        "scored_at": s.scored_at,
    }


def reply_scores(session: Session, *, code: str, actor: Actor) -> dict[str, Any]:
    """The quality scores of an order's replies, latest first (a merged order shows its master's)."""
    rbac.require_role(actor, *SCORE_READ_ROLES)
    order = access.get_order(session, code=code, actor=actor)
    source = order
    rows = _scores_of(session, order.id)
    if not rows and order.master_id is not None and order.master is not None:
        source = order.master
        rows = _scores_of(session, source.id)
    return {
        "code": order.code,
        "status": order.status,
        "reply": order.reply_text,
        "scored_order": source.code,
        "latest": score_view(rows[0]) if rows else None,
        "history": [score_view(r) for r in rows],
    }


def _scores_of(session: Session, order_id: int) -> list[ReplyScore]:
    return list(
        session.scalars(
            select(ReplyScore).where(ReplyScore.order_id == order_id).order_by(ReplyScore.event_seq.desc())
        )
    )


def review_queue(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    grade: str | None = None,
    department: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Replies awaiting the hotline's review (审核报结), the weakest first, with score and reasons."""
    rbac.require_role(actor, *REVIEW_QUEUE_ROLES)
    if grade is not None and grade not in GRADE_LABELS:
        raise Invalid("unknown grade", fields={"grade": f"one of {', '.join(GRADE_LABELS)}"})
    latest = (
        select(ReplyScore.order_id, func.max(ReplyScore.event_seq).label("seq"))
        .group_by(ReplyScore.order_id)
        .subquery()
    )
    stmt = (
        select(Order, ReplyScore)
        .outerjoin(latest, latest.c.order_id == Order.id)
        .outerjoin(ReplyScore, (ReplyScore.order_id == Order.id) & (ReplyScore.event_seq == latest.c.seq))
        .where(Order.status == Status.REPLIED.value)
    )
    if department:
        stmt = stmt.where(
            Order.lead_department_id == rt.directory.require_department(department, active=False).id
        )
    if grade:
        stmt = stmt.where(ReplyScore.grade == grade)
    rows = session.execute(stmt).unique().all()
    rows.sort(key=lambda r: (r[1] is None, r[1].total if r[1] else 0.0, r[0].replied_at or r[0].updated_at))
    return [
        {
            "code": o.code,
            "subject": o.subject,
            "department": o.lead_department.code if o.lead_department else None,
            "department_name": o.lead_department.name if o.lead_department else None,
            "replied_at": o.replied_at,
            "reply": o.reply_text,
            "score": score_view(s) if s else None,
        }
        for o, s in rows[:limit]
    ]


# --- ratings (好差评) -----------------------------------------------------------------------------------


def _level_view(level: str) -> dict[str, Any]:
    score, zh, en = RATING_LEVELS[RatingLevel(level)]
    return {"level": level, "score": score, "label": zh, "label_en": en}


def submit_rating(
    session: Session,
    rt: Runtime,
    *,
    code: str,
    last4: str,
    level: RatingLevel,
    comment: str | None = None,
    channel: str = "web",
    now: datetime | None = None,
) -> tuple[Rating, Rectification | None]:
    """Record a citizen's rating (once per order); a 差评 opens a rectification with its own deadline."""
    now = now or utcnow()
    order = queries.load_for_citizen(session, code=code, last4=last4, lock=True)
    if order.status not in RATEABLE:
        raise Conflict(
            "this appeal is not finished yet: rate it once you have received the answer",
            status=order.status,
            status_label=STATUS_LABELS[Status(order.status)][0],
        )
    if session.scalar(select(Rating.id).where(Rating.order_id == order.id)) is not None:
        raise Conflict("this appeal has already been rated; a rating cannot be changed")
    score = RATING_LEVELS[level][0]
    rating = Rating(
        order_id=order.id,
        level=level.value,
        score=score,
        comment=comment or None,
        channel=channel,
        created_at=now,
    )
    session.add(rating)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("this appeal has already been rated; a rating cannot be changed") from None
    payload: dict[str, Any] = {"level": level.value, "score": score}
    if comment:
        payload["comment"] = comment
    events.note(session, order, action="rate", actor=CITIZEN_ACTOR, payload=payload, at=now)
    rectification = None
    if is_bad(score):
        rectification = _open_rectification(session, rt, order=order, rating=rating, now=now)
    session.flush()
    return rating, rectification


def is_bad(score: int) -> bool:
    """差评: 不满意 or 非常不满意 — the ratings that open a rectification (orders and services alike)."""
    return score <= BAD_SCORE


def rectification_due(rt: Runtime, now: datetime) -> tuple[int, Deadline]:
    """When a rectification opened at ``now`` is due: ``rectification_working_days`` working days later
    on the city's calendar (holidays and 调休 included). The one rule for orders' and services' 差评."""
    days = rt.settings.rectification_working_days
    return days, rt.calendar.add(now, days, DurationUnit.WORKING_DAYS)


def _open_rectification(
    session: Session, rt: Runtime, *, order: Order, rating: Rating, now: datetime
) -> Rectification:
    days, due = rectification_due(rt, now)
    rect = Rectification(
        order_id=order.id,
        rating_id=rating.id,
        department_id=order.lead_department_id,
        status="open",
        deadline=due.at,
        deadline_provisional=due.provisional,
        created_at=now,
    )
    session.add(rect)
    session.flush()
    events.note(
        session,
        order,
        action="rectification_open",
        actor=CITIZEN_ACTOR,
        payload={
            "rectification": rect.id,
            "rating": rating.level,
            "working_days": days,
            "deadline": due.at.isoformat(),
            "provisional": due.provisional or None,
        },
        at=now,
    )
    dept = rt.directory.department_code(order.lead_department_id)
    enqueue(
        session,
        channel="internal",
        recipient=f"department:{dept}" if dept else "role:supervisor",
        subject="差评整改",
        body=f"工单 {order.code} 收到差评（{RATING_LEVELS[RatingLevel(rating.level)][1]}），"
        f"请于 {due.at.astimezone(rt.calendar.tzinfo):%Y-%m-%d %H:%M} 前完成整改。",
        order_id=order.id,
    )
    return rect


def rating_view(rating: Rating, rectification: Rectification | None, *, code: str) -> dict[str, Any]:
    out = {
        "code": code,
        **_level_view(rating.level),
        "comment": rating.comment,
        "created_at": rating.created_at,
    }
    out["rectification"] = (
        {"status": rectification.status, "deadline": rectification.deadline} if rectification else None
    )
    return out


def citizen_rating(session: Session, *, code: str, last4: str) -> dict[str, Any]:
    """The citizen's own rating of their appeal (404 when none, or when code and digits do not match).

    Both 404s read the same: a right code with no rating must not answer differently from a wrong one.
    """
    missing = "no rated appeal matches this code and phone number"
    try:
        order = queries.load_for_citizen(session, code=code, last4=last4)
    except NotFound:
        raise NotFound(missing) from None
    rating = session.scalar(select(Rating).where(Rating.order_id == order.id))
    if rating is None:
        raise NotFound(missing)
    rect = session.scalar(select(Rectification).where(Rectification.rating_id == rating.id))
    return rating_view(rating, rect, code=order.code)


# --- rectifications (差评整改) ----------------------------------------------------------------------------


RECTIFICATION_STATUSES = ("open", "closed")


def list_rectifications(
    session: Session,
    rt: Runtime,
    *,
    actor: Actor,
    status: str | None = "open",
    overdue: bool | None = None,
    department: str | None = None,
    page: int = 1,
    page_size: int = 20,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Rectifications, the earliest deadline first."""
    rbac.require_role(actor, *RECTIFICATION_READ_ROLES)
    now = now or utcnow()
    stmt = select(Rectification, Rating, Order).join(Rating, Rating.id == Rectification.rating_id)
    stmt = stmt.join(Order, Order.id == Rectification.order_id)
    if status:
        if status not in RECTIFICATION_STATUSES:
            raise Invalid("unknown status", fields={"status": f"one of {', '.join(RECTIFICATION_STATUSES)}"})
        stmt = stmt.where(Rectification.status == status)
    if overdue is True:
        stmt = stmt.where(Rectification.status == "open", Rectification.deadline < now)
    elif overdue is False:
        stmt = stmt.where((Rectification.status != "open") | (Rectification.deadline >= now))
    if department:
        stmt = stmt.where(
            Rectification.department_id == rt.directory.require_department(department, active=False).id
        )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(
        stmt.order_by(Rectification.deadline, Rectification.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).unique()
    items = [rectification_view(rect, rating, order, rt, now=now) for rect, rating, order in rows]
    return items, total


def rectification_view(
    rect: Rectification, rating: Rating, order: Order, rt: Runtime, *, now: datetime | None = None
) -> dict[str, Any]:
    now = now or utcnow()
    directory = rt.directory
    return {
        "id": rect.id,
        "code": order.code,
        "subject": order.subject,
        "department": directory.department_code(rect.department_id),
        "department_name": directory.department_name(rect.department_id),
        "rating": {**_level_view(rating.level), "comment": rating.comment, "created_at": rating.created_at},
        "status": rect.status,
        "deadline": rect.deadline,
        "deadline_provisional": rect.deadline_provisional,
        "overdue": rect.status == "open" and rect.deadline < now,
        "created_at": rect.created_at,
        "closed_at": rect.closed_at,
        "closed_by": rect.closed_by,
        "note": rect.note,
    }


def close_rectification(
    session: Session,
    rt: Runtime,
    *,
    rectification_id: int,
    note: str | None,
    actor: Actor,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Close a rectification with a note saying what was done; recorded in the order's case file."""
    rbac.require_role(actor, *RECTIFICATION_CLOSE_ROLES)
    now = now or utcnow()
    rect = session.scalars(
        select(Rectification).where(Rectification.id == rectification_id).with_for_update()
    ).first()
    if rect is None:
        raise NotFound(f"no rectification {rectification_id}")
    if rect.status != "open":
        raise Conflict("this rectification is already closed", status=rect.status)
    if not note:
        raise Invalid("say what was done to put it right", fields={"note": "required to close"})
    order = (
        session.scalars(select(Order).where(Order.id == rect.order_id).with_for_update(of=Order))
        .unique()
        .one()
    )
    rect.status = "closed"
    rect.closed_at = now
    rect.closed_by = actor.name
    rect.note = note
    events.note(
        session,
        order,
        action="rectification_close",
        actor=actor,
        payload={"rectification": rect.id, "note": note, "late": now > rect.deadline or None},
        at=now,
    )
    session.flush()
    rating = session.get(Rating, rect.rating_id)
    assert rating is not None
    return rectification_view(rect, rating, order, rt, now=now)
