"""Knowledge-base endpoints: search for operators, CRUD with review for editors, the 即时答复率.

Thin: the service checks roles and rules; this module parses, calls and shapes.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from haoban.deps import ActorDep, RecordId, RuntimeDep
from haoban.knowledge import service
from haoban.knowledge.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticleUpdate,
    InstantAnswerStats,
    ReviewIn,
    SearchOut,
)

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])


def _bound(rt: Any, value: date | datetime | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=rt.settings.tz)
    day = value + timedelta(days=1) if end else value
    return datetime(day.year, day.month, day.day, tzinfo=rt.settings.tz)


@router.get(
    "/search",
    response_model=SearchOut,
    summary="Search published, valid articles (while the caller is talking)",
)
def search(
    rt: RuntimeDep,
    actor: ActorDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="the caller's question")],
    department: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> dict[str, Any]:
    started = time.perf_counter()
    with rt.db.read() as session:
        items = service.search(session, rt, q=q, department=department, limit=limit)
    return {"items": items, "took_ms": round((time.perf_counter() - started) * 1000, 2)}


@router.get(
    "/stats",
    response_model=InstantAnswerStats,
    summary="即时答复率: share of appeals answered at first contact (not the dashboard's 一次办结率)",
)
def stats(
    rt: RuntimeDep,
    actor: ActorDep,
    since: Annotated[date | datetime | None, Query(description="default: until − 30 days")] = None,
    until: Annotated[
        date | datetime | None, Query(description="date (inclusive) or time; default now")
    ] = None,
) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.instant_answer_stats(
            session, actor=actor, since=_bound(rt, since, end=False), until=_bound(rt, until, end=True)
        )


@router.get(
    "/articles",
    response_model=ArticlePage,
    summary="Articles for editors (drafts, published, rejected, archived)",
)
def list_articles(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    text: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> dict[str, Any]:
    with rt.db.read() as session:
        rows, total = service.list_articles(
            session, actor=actor, status=status, text=text, page=page, page_size=page_size
        )
        today = service.city_day()
        items = [service.article_view(a, today=today) for a in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size}


@router.post(
    "/articles",
    status_code=201,
    response_model=ArticleOut,
    summary="Propose an article (a draft until reviewed)",
)
def create_article(rt: RuntimeDep, actor: ActorDep, data: ArticleIn) -> dict[str, Any]:
    with rt.db.write() as session:
        view = service.article_view(service.create_article(session, rt, data=data, actor=actor))
    service.knowledge_cache(rt).mark_stale()
    return view


@router.get("/articles/{article_id}", response_model=ArticleOut, summary="One article")
def get_article(rt: RuntimeDep, actor: ActorDep, article_id: RecordId) -> dict[str, Any]:
    with rt.db.read() as session:
        return service.article_view(service.get_article(session, article_id=article_id, actor=actor))


@router.put(
    "/articles/{article_id}",
    response_model=ArticleOut,
    summary="Edit an article (it goes back to draft for review)",
)
def update_article(
    rt: RuntimeDep, actor: ActorDep, article_id: RecordId, data: ArticleUpdate
) -> dict[str, Any]:
    with rt.db.write() as session:
        view = service.article_view(
            service.update_article(session, rt, article_id=article_id, data=data, actor=actor)
        )
    service.knowledge_cache(rt).mark_stale()
    return view


@router.post(
    "/articles/{article_id}/review",
    response_model=ArticleOut,
    summary="Publish a draft, or send it back with a note",
)
def review_article(rt: RuntimeDep, actor: ActorDep, article_id: RecordId, data: ReviewIn) -> dict[str, Any]:
    with rt.db.write() as session:
        view = service.article_view(
            service.review_article(session, rt, article_id=article_id, data=data, actor=actor)
        )
    service.knowledge_cache(rt).mark_stale()
    return view


@router.delete(
    "/articles/{article_id}",
    response_model=ArticleOut,
    summary="Withdraw an article (archived, never offered again)",
)
def archive_article(rt: RuntimeDep, actor: ActorDep, article_id: RecordId) -> dict[str, Any]:
    with rt.db.write() as session:
        view = service.article_view(service.archive_article(session, rt, article_id=article_id, actor=actor))
    service.knowledge_cache(rt).mark_stale()
    return view
