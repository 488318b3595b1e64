"""Feedback endpoints: reply-quality scores for reviewers, citizens' ratings (好差评), rectifications.

Thin: the service checks roles and rules; citizens' requests count against the shared rate limit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from haoban.deps import ActorDep, RecordId, RuntimeDep, client_address
from haoban.feedback import service, service_ratings
from haoban.feedback.schemas import (
    RateableOut,
    RatingIn,
    RatingOut,
    RectificationAnswer,
    RectificationClose,
    RectificationOut,
    RectificationPage,
    RectificationReview,
    ReplyReviewsOut,
    ReplyScoresOut,
    ServiceRatingIn,
    ServiceRatingOut,
    ServiceRectificationOut,
    ServiceRectificationPage,
    VisitIn,
    VisitOut,
)
from haoban.ratelimit import check_rate
from haoban.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["feedback"])


def _citizen_rate(request: Request, rt: Runtime) -> None:
    # Ratings share the tracking allowance: both are a citizen proving a code with phone digits.
    check_rate(rt.db, scope="track", client=client_address(request), limit=rt.settings.track_rate_per_minute)


@router.get(
    "/orders/{code}/reply-score",
    response_model=ReplyScoresOut,
    summary="Quality score of the department's reply, with reasons",
)
def reply_score(rt: RuntimeDep, actor: ActorDep, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.reply_scores(session, code=code, actor=actor)


@router.get(
    "/reply-reviews",
    response_model=ReplyReviewsOut,
    summary="Replies awaiting review (审核报结), the weakest first",
)
def reply_reviews(
    rt: RuntimeDep,
    actor: ActorDep,
    grade: Annotated[str | None, Query(max_length=8, description="good, fair or poor")] = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    with rt.db.read() as session:
        items = service.review_queue(
            session, rt, actor=actor, grade=grade, department=department, limit=limit
        )
    return {"items": items}


@router.post(
    "/ratings",
    status_code=201,
    tags=["citizen"],
    response_model=RatingOut,
    summary="Citizens: rate a finished appeal (好差评)",
)
def rate(request: Request, rt: RuntimeDep, data: RatingIn) -> dict[str, Any]:
    _citizen_rate(request, rt)
    with rt.db.write() as session:
        rating, rect = service.submit_rating(
            session, rt, code=data.code, last4=data.phone_last4, level=data.level, comment=data.comment
        )
        return service.rating_view(rating, rect, code=data.code.strip().upper())


@router.get(
    "/ratings/{code}",
    tags=["citizen"],
    response_model=RatingOut,
    summary="Citizens: your rating of an appeal",
)
def my_rating(
    request: Request,
    rt: RuntimeDep,
    code: str,
    phone_last4: Annotated[str, Query(pattern=r"^\d{4}$", description="last four digits of your phone")],
) -> dict[str, Any]:
    _citizen_rate(request, rt)
    with rt.db.read() as session:
        return service.citizen_rating(session, code=code, last4=phone_last4)


@router.get(
    "/rectifications",
    response_model=RectificationPage,
    summary="Rectifications opened by 差评, the earliest deadline first",
)
def rectifications(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(description="open (default), closed, or empty for all")] = "open",
    overdue: bool | None = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    with rt.db.read() as session:
        items, total = service.list_rectifications(
            session,
            rt,
            actor=actor,
            status=status or None,
            overdue=overdue,
            department=department,
            page=page,
            page_size=page_size,
        )
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.post(
    "/rectifications/{rectification_id}/close",
    response_model=RectificationOut,
    summary="Close a rectification with a note",
)
def close(
    rt: RuntimeDep,
    actor: ActorDep,
    rectification_id: RecordId,
    data: Annotated[RectificationClose | None, Body()] = None,
) -> dict[str, Any]:
    data = data or RectificationClose()
    with rt.db.write() as session:
        return service.close_rectification(
            session, rt, rectification_id=rectification_id, note=data.note, actor=actor
        )


# --- 好差评 for services: applications and window visits -------------------------------------------------


@router.post(
    "/service-visits",
    status_code=201,
    response_model=VisitOut,
    summary="Window clerks: register a visit so the person can rate it (the code and QR link to hand out)",
)
def register_visit(rt: RuntimeDep, actor: ActorDep, data: VisitIn) -> dict[str, Any]:
    with rt.db.write() as session:
        visit = service_ratings.register_visit(
            session,
            rt,
            actor=actor,
            item=data.item,
            person_phone=data.person_phone,
            channel=data.channel,
            note=data.note,
        )
        return service_ratings.visit_view(rt, visit)


@router.get("/service-visits/{code}", response_model=VisitOut, summary="Window clerks: one registered visit")
def get_visit(rt: RuntimeDep, actor: ActorDep, code: str) -> dict[str, Any]:
    with rt.db.read() as session:
        return service_ratings.visit_view(rt, service_ratings.get_visit(session, code=code, actor=actor))


@router.post(
    "/service-ratings",
    status_code=201,
    tags=["citizen"],
    response_model=ServiceRatingOut,
    summary="Applicants: rate a finished application or a window visit (好差评), once",
)
def rate_service(request: Request, rt: RuntimeDep, data: ServiceRatingIn) -> dict[str, Any]:
    _citizen_rate(request, rt)
    with rt.db.write() as session:
        rating, rect, code = service_ratings.submit(
            session,
            rt,
            code=data.code,
            last4=data.phone_last4,
            level=data.level,
            aspects=data.aspects,
            comment=data.comment,
            item=data.item,
        )
        return service_ratings.rating_view(session, rt, rating, rect, code=code)


@router.get(
    "/service-ratings/{code}",
    tags=["citizen"],
    response_model=RateableOut,
    summary="Applicants: what you may rate under this code, and your rating with its rectification",
)
def my_service_rating(
    request: Request,
    rt: RuntimeDep,
    code: str,
    phone_last4: Annotated[str, Query(pattern=r"^\d{4}$", description="last four digits of your phone")],
) -> dict[str, Any]:
    _citizen_rate(request, rt)
    with rt.db.read() as session:
        return service_ratings.rateable(session, rt, code=code, last4=phone_last4)


@router.get(
    "/service-rectifications",
    response_model=ServiceRectificationPage,
    summary="Rectifications opened by services' 差评 (a department sees its own), earliest deadline first",
)
def service_rectifications(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(description="open, answered, closed; empty for all")] = None,
    overdue: bool | None = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    with rt.db.read() as session:
        items, total = service_ratings.list_rectifications(
            session,
            rt,
            actor=actor,
            status=status or None,
            overdue=overdue,
            department=department,
            page=page,
            page_size=page_size,
        )
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.get(
    "/service-rectifications/{rectification_id}",
    response_model=ServiceRectificationOut,
    summary="One rectification of a service's 差评",
)
def service_rectification(rt: RuntimeDep, actor: ActorDep, rectification_id: RecordId) -> dict[str, Any]:
    with rt.db.read() as session:
        return service_ratings.get_rectification(session, rt, rectification_id=rectification_id, actor=actor)


@router.post(
    "/service-rectifications/{rectification_id}/answer",
    response_model=ServiceRectificationOut,
    summary="The department: what was done to put the 差评 right",
)
def answer_rectification(
    rt: RuntimeDep, actor: ActorDep, rectification_id: RecordId, data: RectificationAnswer
) -> dict[str, Any]:
    with rt.db.write() as session:
        return service_ratings.answer_rectification(
            session, rt, rectification_id=rectification_id, answer=data.answer, actor=actor
        )


@router.post(
    "/service-rectifications/{rectification_id}/review",
    response_model=ServiceRectificationOut,
    summary="Supervisors: accept the department's answer (closes it) or reject it (reopens it)",
)
def review_rectification(
    rt: RuntimeDep, actor: ActorDep, rectification_id: RecordId, data: RectificationReview
) -> dict[str, Any]:
    with rt.db.write() as session:
        return service_ratings.review_rectification(
            session,
            rt,
            rectification_id=rectification_id,
            decision=data.decision,
            note=data.note,
            actor=actor,
        )
