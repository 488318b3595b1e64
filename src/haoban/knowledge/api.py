"""Knowledge-base endpoints: search for operators, CRUD with review for editors, 一次办结率."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from haoban.auth import rbac
from haoban.deps import ActorDep, RuntimeDep
from haoban.knowledge import service
from haoban.knowledge.schemas import ArticleIn, ArticleUpdate, ReviewIn

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status_code=status_code, media_type="application/json")


def _bound(value: date | datetime | None, *, end: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=service.LOCAL_TZ)
    day = value + timedelta(days=1) if end else value
    return datetime(day.year, day.month, day.day, tzinfo=service.LOCAL_TZ)


@router.get("/search", summary="Search published, valid articles (while the caller is talking)")
def search(
    rt: RuntimeDep,
    actor: ActorDep,
    q: Annotated[str, Query(min_length=1, max_length=200, description="the caller's question")],
    department: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Response:
    started = time.perf_counter()
    with rt.db.read() as session:
        items = service.search(session, rt, q=q, department=department, limit=limit)
    return _json({"items": items, "took_ms": round((time.perf_counter() - started) * 1000, 2)})


@router.get("/stats", summary="一次办结率: share of appeals answered at first contact")
def stats(
    rt: RuntimeDep,
    actor: ActorDep,
    since: Annotated[date | datetime | None, Query(description="default: until − 30 days")] = None,
    until: Annotated[
        date | datetime | None, Query(description="date (inclusive) or time; default now")
    ] = None,
) -> Response:
    rbac.require_role(actor, *service.READ_ROLES)
    with rt.db.read() as session:
        return _json(
            service.first_contact_stats(
                session, since=_bound(since, end=False), until=_bound(until, end=True)
            )
        )


@router.get("/articles", summary="Articles for editors (drafts, published, rejected, archived)")
def list_articles(
    rt: RuntimeDep,
    actor: ActorDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    text: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Response:
    with rt.db.read() as session:
        rows, total = service.list_articles(
            session, actor=actor, status=status, text=text, page=page, page_size=page_size
        )
        today = service.city_day()
        items = [service.article_view(a, today=today) for a in rows]
    return _json({"items": items, "total": total, "page": page, "page_size": page_size})


@router.post("/articles", status_code=201, summary="Propose an article (a draft until reviewed)")
def create_article(rt: RuntimeDep, actor: ActorDep, data: ArticleIn) -> Response:
    with rt.db.write() as session:
        article = service.create_article(session, rt, data=data, actor=actor)
        view = service.article_view(article)
    service.knowledge_cache(rt).mark_stale()
    return _json(view, 201)


@router.get("/articles/{article_id}", summary="One article")
def get_article(rt: RuntimeDep, actor: ActorDep, article_id: int) -> Response:
    with rt.db.read() as session:
        return _json(service.article_view(service.get_article(session, article_id=article_id, actor=actor)))


@router.put("/articles/{article_id}", summary="Edit an article (it goes back to draft for review)")
def update_article(rt: RuntimeDep, actor: ActorDep, article_id: int, data: ArticleUpdate) -> Response:
    with rt.db.write() as session:
        article = service.update_article(session, rt, article_id=article_id, data=data, actor=actor)
        view = service.article_view(article)
    service.knowledge_cache(rt).mark_stale()
    return _json(view)


@router.post("/articles/{article_id}/review", summary="Publish a draft, or send it back with a note")
def review_article(rt: RuntimeDep, actor: ActorDep, article_id: int, data: ReviewIn) -> Response:
    with rt.db.write() as session:
        article = service.review_article(session, rt, article_id=article_id, data=data, actor=actor)
        view = service.article_view(article)
    service.knowledge_cache(rt).mark_stale()
    return _json(view)


@router.delete("/articles/{article_id}", summary="Withdraw an article (archived, never offered again)")
def archive_article(rt: RuntimeDep, actor: ActorDep, article_id: int) -> Response:
    with rt.db.write() as session:
        article = service.archive_article(session, rt, article_id=article_id, actor=actor)
        view = service.article_view(article)
    service.knowledge_cache(rt).mark_stale()
    return _json(view)
