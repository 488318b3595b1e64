"""Feedback endpoints: reply-quality scores for reviewers, citizens' ratings (好差评), rectifications."""

from __future__ import annotations

import weakref
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Query, Request, Response

from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import RateLimited
from haoban.feedback import service
from haoban.feedback.schemas import RatingIn, RectificationClose
from haoban.ratelimit import RateLimiter

router = APIRouter(prefix="/api/v1", tags=["feedback"])


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status_code=status_code, media_type="application/json")


@router.get("/orders/{code}/reply-score", summary="Quality score of the department's reply, with reasons")
def reply_score(rt: RuntimeDep, actor: ActorDep, code: str) -> Response:
    with rt.db.read() as session:
        return _json(service.reply_scores(session, code=code, actor=actor))


@router.get("/reply-reviews", summary="Replies awaiting review (审核报结), the weakest first")
def reply_reviews(
    rt: RuntimeDep,
    actor: ActorDep,
    grade: Annotated[str | None, Query(max_length=8, description="good, fair or poor")] = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    with rt.db.read() as session:
        items = service.review_queue(
            session, rt, actor=actor, grade=grade, department=department, limit=limit
        )
    return _json({"items": items})


# One limiter per running app (Runtime): citizens' requests per minute per client address.
_limiters: weakref.WeakKeyDictionary[Any, RateLimiter] = weakref.WeakKeyDictionary()


def _allow(request: Request, rt: Any) -> None:
    limiter = _limiters.get(rt)
    if limiter is None or limiter.limit != rt.settings.track_rate_per_minute:
        limiter = _limiters[rt] = RateLimiter(limit=rt.settings.track_rate_per_minute)
    client = request.client.host if request.client else "unknown"
    if not limiter.allow(client):
        raise RateLimited("too many requests from your address; wait a minute and try again")


@router.post(
    "/ratings", status_code=201, tags=["citizen"], summary="Citizens: rate a finished appeal (好差评)"
)
def rate(request: Request, rt: RuntimeDep, data: RatingIn) -> Response:
    _allow(request, rt)
    with rt.db.write() as session:
        rating, rect = service.submit_rating(
            session, rt, code=data.code, last4=data.phone_last4, level=data.level, comment=data.comment
        )
        view = service.rating_view(rating, rect, code=data.code.strip().upper())
    return _json(view, 201)


@router.get("/ratings/{code}", tags=["citizen"], summary="Citizens: your rating of an appeal")
def my_rating(
    request: Request,
    rt: RuntimeDep,
    code: str,
    phone_last4: Annotated[str, Query(pattern=r"^\d{4}$", description="last four digits of your phone")],
) -> Response:
    _allow(request, rt)
    with rt.db.read() as session:
        return _json(service.citizen_rating(session, code=code, last4=phone_last4))


@router.get("/rectifications", summary="Rectifications opened by 差评, the earliest deadline first")
def rectifications(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(description="open (default), closed, or empty for all")] = "open",
    overdue: bool | None = None,
    department: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Response:
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
    return _json({"items": items, "total": total, "page": page, "page_size": page_size})


@router.post("/rectifications/{rectification_id}/close", summary="Close a rectification with a note")
def close(
    rt: RuntimeDep,
    actor: ActorDep,
    rectification_id: int,
    data: Annotated[RectificationClose | None, Body()] = None,
) -> Response:
    data = data or RectificationClose()
    with rt.db.write() as session:
        view = service.close_rectification(
            session, rt, rectification_id=rectification_id, note=data.note, actor=actor
        )
    return _json(view)
