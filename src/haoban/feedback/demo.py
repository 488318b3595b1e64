"""The demo's 好差评 for services: window visits by the demo's window clerk and 帮代办 assistant, rated
with a realistic spread (mostly good, a few 差评 whose rectifications are open, answered or closed), so
the dashboard's section and the rectification page have something to show. Clearly synthetic; idempotent.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.models import User
from haoban.catalog.models import ServiceItem
from haoban.feedback import service_ratings
from haoban.feedback.models import ServiceVisit
from haoban.feedback.schemas import RatingLevel
from haoban.runtime import Runtime

# Level weights: roughly what cities publish (好评率 above 95%, 差评 a few in a hundred).
LEVELS = (
    (RatingLevel.VERY_SATISFIED, 70),
    (RatingLevel.SATISFIED, 18),
    (RatingLevel.BASICALLY_SATISFIED, 7),
    (RatingLevel.UNSATISFIED, 3),
    (RatingLevel.VERY_UNSATISFIED, 2),
)
GOOD_ASPECTS = ("attitude", "efficiency", "guide", "environment")
BAD_ASPECTS = ("materials", "trips", "efficiency", "attitude", "process")
COMMENTS_BAD = ("材料要求前后不一致，多跑了一趟", "排队时间太长", "工作人员解释不清楚")


def _actor(session: Session, username: str) -> Actor | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return None
    return Actor(id=user.id, username=user.username, name=user.display_name, role=user.role)


def seed_demo_ratings(session: Session, rt: Runtime, *, today: date, visits: int = 60, seed: int = 5) -> int:
    """Register and rate ``visits`` window visits over the last 30 days; returns how many were made."""
    if session.scalar(select(func.count(ServiceVisit.id))):
        return 0
    clerks = [a for a in (_actor(session, "window"), _actor(session, "volunteer")) if a is not None]
    items = list(session.scalars(select(ServiceItem).where(ServiceItem.active.is_(True)).limit(40)))
    if not clerks or not items:
        return 0
    rng = random.Random(seed)
    tz = rt.settings.tz
    made = 0
    for n in range(visits):
        clerk = clerks[0] if rng.random() < 0.75 else clerks[-1]
        day = today - timedelta(days=rng.randrange(0, 30))
        at = datetime.combine(day, time(9, 0), tzinfo=tz) + timedelta(minutes=rng.randrange(0, 420))
        phone = f"139{rng.randrange(10**8):08d}"
        visit = service_ratings.register_visit(
            session,
            rt,
            actor=clerk,
            item=rng.choice(items).code,
            person_phone=phone,
            channel="window" if clerk.role == "window" else "assisted",
            now=at,
        )
        made += 1
        if rng.random() < 0.15:
            continue  # not everyone rates
        level = rng.choices([lv for lv, _ in LEVELS], weights=[w for _, w in LEVELS])[0]
        bad = level in (RatingLevel.UNSATISFIED, RatingLevel.VERY_UNSATISFIED)
        aspects = rng.sample(BAD_ASPECTS if bad else GOOD_ASPECTS, k=rng.randint(1, 2))
        rated = at + timedelta(minutes=rng.randrange(5, 120))
        _rating, rect, _code = service_ratings.submit(
            session,
            rt,
            code=visit.code,
            last4=phone[-4:],
            level=level,
            aspects=aspects,
            comment=rng.choice(COMMENTS_BAD) if bad else None,
            now=rated,
        )
        if rect is not None and n % 2 == 0:
            _answer(session, rt, rect.id, rect.department_id, at=rated + timedelta(days=2), close=n % 4 == 0)
    return made


def _answer(
    session: Session, rt: Runtime, rect_id: int, department_id: int, *, at: datetime, close: bool
) -> None:
    handler = session.scalar(
        select(User).where(User.department_id == department_id, User.role == "handler").limit(1)
    )
    if handler is None:
        return
    actor = Actor(handler.id, handler.username, handler.display_name, handler.role, handler.department_id)
    service_ratings.answer_rectification(
        session,
        rt,
        rectification_id=rect_id,
        answer="已约谈窗口人员，更新一次性告知清单",
        actor=actor,
        now=at,
    )
    if close:
        reviewer = _actor(session, "supervisor")
        if reviewer is not None:
            service_ratings.review_rectification(
                session, rt, rectification_id=rect_id, decision="accept", note=None, actor=reviewer, now=at
            )
