"""Knowledge base (知识库): articles with review before publication, search, first-contact answers.

Articles move draft → published (a supervisor or admin reviews) or draft → rejected (with a note; the
author edits and it is a draft again). Any edit sends a published article back to draft; archiving
withdraws it for good (orders that cited it keep the id in their case file).

Search runs on the in-memory BM25 index of :mod:`haoban.knowledge.search`, one per process and
``Runtime`` (``Runtime.local``), holding the published articles only. A change made in this process
marks it stale at once; changes made by other processes are noticed within ``CHECK_SECONDS`` (a cheap
signature query). Only the articles that changed are re-tokenised. Expired articles stay in the index
but are masked out by the day of the search, so an article that expires at midnight is not offered a
minute later.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import SYSTEM_ACTOR, Actor
from haoban.auth.roles import Role
from haoban.config import city_tz
from haoban.db import utcnow
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.knowledge.models import ARTICLE_STATUS_LABELS, ArticleStatus, KnowledgeArticle
from haoban.knowledge.schemas import ArticleIn, ArticleUpdate, ReviewDecision, ReviewIn
from haoban.knowledge.search import Article, KnowledgeIndex, articles_from_replies
from haoban.orders.models import Order, OrderEvent
from haoban.runtime import Runtime

CHECK_SECONDS = 2.0
PROPOSE_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)
REVIEW_ROLES = (Role.SUPERVISOR, Role.ADMIN)
READ_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.SYSTEM)
SEED_SOURCE = "tipdm2020"


def city_day(at: datetime | None = None) -> date:
    return (at or utcnow()).astimezone(city_tz()).date()


# --- views ---------------------------------------------------------------------------------------


def _tags(article: KnowledgeArticle) -> list[str]:
    try:
        tags = json.loads(article.tags or "[]")
    except ValueError:
        return []
    return [str(t) for t in tags] if isinstance(tags, list) else []


def article_view(a: KnowledgeArticle, *, today: date | None = None) -> dict[str, Any]:
    today = today or city_day()
    status = ArticleStatus(a.status)
    return {
        "id": a.id,
        "question": a.question,
        "answer": a.answer,
        "department": a.department.code if a.department else None,
        "department_name": a.department.name if a.department else None,
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "expired": bool(a.valid_to and a.valid_to < today),
        "tags": _tags(a),
        "source": a.source,
        "status": a.status,
        "status_label": ARTICLE_STATUS_LABELS[status],
        "author": a.author,
        "reviewer": a.reviewer,
        "reviewed_at": a.reviewed_at,
        "review_note": a.review_note,
        "published_at": a.published_at,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "version": a.version,
    }


def _to_index(a: KnowledgeArticle) -> Article:
    return Article(
        id=a.id,
        question=a.question,
        answer=a.answer,
        department=a.department.code if a.department else None,
        tags=tuple(_tags(a)),
        valid_from=a.valid_from,
        valid_to=a.valid_to,
    )


# --- CRUD and review --------------------------------------------------------------------------------


def _department_id(rt: Runtime, code: str | None) -> int | None:
    return rt.directory.require_department(code, active=False).id if code else None


def _load(session: Session, article_id: int, *, lock: bool = False) -> KnowledgeArticle:
    stmt = select(KnowledgeArticle).where(KnowledgeArticle.id == article_id)
    if lock:
        stmt = stmt.with_for_update(of=KnowledgeArticle)
    article = session.scalars(stmt).unique().first()
    if article is None:
        raise NotFound(f"no knowledge article {article_id}")
    return article


def get_article(session: Session, *, article_id: int, actor: Actor) -> KnowledgeArticle:
    article = _load(session, article_id)
    if actor.role not in READ_ROLES and article.status != ArticleStatus.PUBLISHED.value:
        raise NotFound(f"no knowledge article {article_id}")
    return article


def create_article(
    session: Session, rt: Runtime, *, data: ArticleIn, actor: Actor, now: datetime | None = None
) -> KnowledgeArticle:
    """Propose an article: it is a draft until reviewed."""
    rbac.require_role(actor, *PROPOSE_ROLES)
    now = now or utcnow()
    article = KnowledgeArticle(
        question=data.question,
        answer=data.answer,
        department_id=_department_id(rt, data.department),
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        tags=json.dumps(data.tags, ensure_ascii=False),
        source=data.source,
        status=ArticleStatus.DRAFT.value,
        author=actor.name,
        author_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    knowledge_cache(rt).mark_stale()
    return article


def _check_version(article: KnowledgeArticle, expected: int | None) -> None:
    if expected is not None and expected != article.version:
        raise Conflict(
            "the article changed since you loaded it; reload and try again",
            status=article.status,
            version=article.version,
        )


def update_article(
    session: Session,
    rt: Runtime,
    *,
    article_id: int,
    data: ArticleUpdate,
    actor: Actor,
    now: datetime | None = None,
) -> KnowledgeArticle:
    """Edit an article; it becomes a draft again and must be reviewed before it is offered."""
    rbac.require_role(actor, *PROPOSE_ROLES)
    article = _load(session, article_id, lock=True)
    _check_version(article, data.expected_version)
    if article.status == ArticleStatus.ARCHIVED.value:
        raise Conflict("an archived article cannot be edited; propose a new one", status=article.status)
    if actor.role not in REVIEW_ROLES:
        own = article.author_id is not None and article.author_id == actor.id
        if not own or article.status not in (ArticleStatus.DRAFT.value, ArticleStatus.REJECTED.value):
            raise Forbidden("you may edit only your own drafts; ask a supervisor to change this article")
    given = data.model_fields_set - {"expected_version"}
    if not given:
        raise Invalid("nothing to change", fields={"body": "give at least one field"})
    for name in ("question", "answer"):
        if name in given:
            value = getattr(data, name)
            if not value:
                raise Invalid(f"{name} cannot be empty", fields={name: "required"})
            setattr(article, name, value)
    if "department" in given:
        article.department_id = _department_id(rt, data.department)
    if "valid_from" in given:
        article.valid_from = data.valid_from
    if "valid_to" in given:
        article.valid_to = data.valid_to
    if article.valid_from and article.valid_to and article.valid_to < article.valid_from:
        raise Invalid("valid_to is before valid_from", fields={"valid_to": "before valid_from"})
    if "tags" in given:
        article.tags = json.dumps(data.tags or [], ensure_ascii=False)
    if "source" in given:
        article.source = data.source
    article.status = ArticleStatus.DRAFT.value
    article.published_at = None
    article.reviewer = None
    article.reviewed_at = None
    article.review_note = None
    article.updated_at = now or utcnow()
    session.flush()
    knowledge_cache(rt).mark_stale()
    return article


def review_article(
    session: Session,
    rt: Runtime,
    *,
    article_id: int,
    data: ReviewIn,
    actor: Actor,
    now: datetime | None = None,
) -> KnowledgeArticle:
    """Publish a draft, or send it back with a note (审核)."""
    rbac.require_role(actor, *REVIEW_ROLES)
    now = now or utcnow()
    article = _load(session, article_id, lock=True)
    _check_version(article, data.expected_version)
    if article.status != ArticleStatus.DRAFT.value:
        raise Conflict(
            f"only drafts are reviewed; this article is {article.status}",
            status=article.status,
        )
    if data.decision == ReviewDecision.PUBLISH:
        if article.valid_to and article.valid_to < city_day(now):
            raise Invalid(
                "the article has already expired", fields={"valid_to": f"{article.valid_to} lies in the past"}
            )
        article.status = ArticleStatus.PUBLISHED.value
        article.published_at = now
    else:
        if not data.note:
            raise Invalid("say why the article is sent back", fields={"note": "required to reject"})
        article.status = ArticleStatus.REJECTED.value
    article.reviewer = actor.name
    article.reviewed_at = now
    article.review_note = data.note
    article.updated_at = now
    session.flush()
    knowledge_cache(rt).mark_stale()
    return article


def archive_article(
    session: Session, rt: Runtime, *, article_id: int, actor: Actor, now: datetime | None = None
) -> KnowledgeArticle:
    """Withdraw an article (下架). It is kept: answered orders cite it."""
    rbac.require_role(actor, *REVIEW_ROLES)
    article = _load(session, article_id, lock=True)
    if article.status == ArticleStatus.ARCHIVED.value:
        raise Conflict("the article is already archived", status=article.status)
    article.status = ArticleStatus.ARCHIVED.value
    article.updated_at = now or utcnow()
    session.flush()
    knowledge_cache(rt).mark_stale()
    return article


def list_articles(
    session: Session,
    *,
    actor: Actor,
    status: str | None = None,
    text: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> tuple[list[KnowledgeArticle], int]:
    """Articles for the editors' list (newest change first); SQL LIKE on question and answer."""
    rbac.require_role(actor, *READ_ROLES)
    stmt = select(KnowledgeArticle)
    if status:
        if status not in {s.value for s in ArticleStatus}:
            raise Invalid(
                "unknown status", fields={"status": f"one of {', '.join(s.value for s in ArticleStatus)}"}
            )
        stmt = stmt.where(KnowledgeArticle.status == status)
    if text:
        like = f"%{text}%"
        stmt = stmt.where(KnowledgeArticle.question.like(like) | KnowledgeArticle.answer.like(like))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(
        stmt.order_by(KnowledgeArticle.updated_at.desc(), KnowledgeArticle.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).unique()
    return list(rows), total


# --- search -----------------------------------------------------------------------------------------


@dataclass
class KnowledgeCache:
    """The process's search index of published articles for one ``Runtime``."""

    rt: Runtime
    index: KnowledgeIndex = field(default_factory=KnowledgeIndex)
    versions: dict[int, int] = field(default_factory=dict)  # article id → version indexed
    signature: tuple[Any, ...] | None = None
    checked_at: float = 0.0
    stale: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark_stale(self) -> None:
        self.stale = True

    def ensure(self, session: Session) -> None:
        """Bring the index up to date with the published articles (only changed ones re-tokenised)."""
        now = time.monotonic()
        if not self.stale and now - self.checked_at < CHECK_SECONDS:
            return
        with self.lock:
            if not self.stale and time.monotonic() - self.checked_at < CHECK_SECONDS:
                return
            self.stale = False  # a change from now on marks it again
            signature = tuple(
                session.execute(
                    select(
                        func.count(KnowledgeArticle.id),
                        func.coalesce(func.sum(KnowledgeArticle.version), 0),
                        func.max(KnowledgeArticle.id),
                    )
                ).one()
            )
            self.checked_at = time.monotonic()
            if signature == self.signature:
                return
            published = dict(
                session.execute(
                    select(KnowledgeArticle.id, KnowledgeArticle.version).where(
                        KnowledgeArticle.status == ArticleStatus.PUBLISHED.value
                    )
                ).all()
            )
            for article_id in [k for k in self.versions if k not in published]:
                self.index.remove(article_id)
                del self.versions[article_id]
            changed = sorted(k for k, v in published.items() if self.versions.get(k) != v)
            for start in range(0, len(changed), 500):
                chunk = changed[start : start + 500]
                for a in session.scalars(
                    select(KnowledgeArticle).where(KnowledgeArticle.id.in_(chunk))
                ).unique():
                    if a.status == ArticleStatus.PUBLISHED.value:
                        self.index.add(_to_index(a))
                        self.versions[a.id] = a.version
            self.signature = signature
            if changed:
                self.index.rebuild()


def knowledge_cache(rt: Runtime) -> KnowledgeCache:
    return rt.local("knowledge.index", lambda: KnowledgeCache(rt))


def warm(rt: Runtime) -> threading.Thread:
    """Build the search index in the background (tokenising ~2 ms per article), e.g. at start-up."""

    def run() -> None:
        with rt.db.read() as session:
            knowledge_cache(rt).ensure(session)

    thread = threading.Thread(target=run, name="knowledge-warm", daemon=True)
    thread.start()
    return thread


def search(
    session: Session,
    rt: Runtime,
    *,
    q: str,
    department: str | None = None,
    limit: int = 10,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Published articles valid today that answer ``q``, best first."""
    if not q or not q.strip():
        raise Invalid("type a question", fields={"q": "empty"})
    if department:
        rt.directory.require_department(department, active=False)
    cache = knowledge_cache(rt)
    cache.ensure(session)
    day = today or city_day()
    hits = cache.index.search(q, today=day, limit=limit, department=department or None)
    out = []
    for hit in hits:
        a = cache.index.get(hit.article_id)
        if a is None:
            continue
        dept = rt.directory.department(a.department) if a.department else None
        out.append(
            {
                "id": a.id,
                "question": a.question,
                "answer": a.answer,
                "snippet": hit.snippet,
                "score": hit.score,
                "department": a.department,
                "department_name": dept.name if dept else None,
                "valid_to": a.valid_to,
                "tags": list(a.tags),
            }
        )
    return out


# --- answering from an article ----------------------------------------------------------------------


def check_citable(session: Session, *, article_id: int, at: datetime) -> KnowledgeArticle:
    """The article an ``answer`` cites must be published and valid on the day of the answer (else 422)."""
    article = session.get(KnowledgeArticle, article_id)
    field_name = "knowledge_article_id"
    if article is None or article.status != ArticleStatus.PUBLISHED.value:
        raise Invalid(
            f"no published knowledge article {article_id}",
            fields={field_name: "unknown or unpublished article"},
        )
    day = city_day(at)
    if article.valid_to and article.valid_to < day:
        raise Invalid(
            f"knowledge article {article_id} expired on {article.valid_to}",
            fields={field_name: f"expired on {article.valid_to}"},
        )
    if article.valid_from and article.valid_from > day:
        raise Invalid(
            f"knowledge article {article_id} is valid only from {article.valid_from}",
            fields={field_name: f"not valid before {article.valid_from}"},
        )
    return article


def instant_answer_stats(
    session: Session, *, actor: Actor, since: datetime | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """即时答复率 (instant-answer rate): the share of appeals answered at first contact, and how many of
    those answers cited the knowledge base.

    Counted over orders received in [since, until) (default: the last 30 days), leaving out merged
    duplicates (not new appeals) and emergencies transferred to 110/119/120/122. Not the dashboard's
    一次办结率 (finished orders never reopened nor re-dispatched, ``haoban.analytics.service``).
    """
    rbac.require_role(actor, *READ_ROLES)
    until = until or utcnow()
    since = since or until - timedelta(days=30)
    if since >= until:
        raise Invalid("since must be before until", fields={"since": "must be before until"})
    window = (
        Order.received_at >= since,
        Order.received_at < until,
        Order.master_id.is_(None),
        Order.transfer_target.is_(None),
    )
    total = session.scalar(select(func.count(Order.id)).where(*window)) or 0
    answer_event = exists(
        select(OrderEvent.id).where(OrderEvent.order_id == Order.id, OrderEvent.action == "answer")
    )
    answered = session.scalar(select(func.count(Order.id)).where(*window, answer_event)) or 0
    cited: Counter[int] = Counter()
    payloads = session.scalars(
        select(OrderEvent.payload)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(*window, OrderEvent.action == "answer")
    )
    for payload in payloads:
        try:
            article_id = json.loads(payload).get("knowledge_article_id")
        except (ValueError, AttributeError):
            continue
        if isinstance(article_id, int):
            cited[article_id] += 1
    from_knowledge = sum(cited.values())
    top_ids = [k for k, _ in sorted(cited.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]
    questions = dict(
        session.execute(
            select(KnowledgeArticle.id, KnowledgeArticle.question).where(KnowledgeArticle.id.in_(top_ids))
        ).all()
    )
    by_status = dict(
        session.execute(select(KnowledgeArticle.status, func.count()).group_by(KnowledgeArticle.status)).all()
    )
    return {
        "since": since,
        "until": until,
        "orders": total,
        "answered_instantly": answered,
        "instant_answer_rate": round(answered / total, 4) if total else None,
        "answered_from_knowledge": from_knowledge,
        "knowledge_share": round(from_knowledge / answered, 4) if answered else None,
        "top_articles": [{"id": k, "question": questions.get(k), "uses": cited[k]} for k in top_ids],
        "articles": {s.value: by_status.get(s.value, 0) for s in ArticleStatus},
    }


# --- seeding from the government's past replies -------------------------------------------------------


@dataclass
class SeedReport:
    rows: int = 0
    created: int = 0
    already_present: int = 0
    skipped: int = 0  # replies without substance ("已收悉", "已转…处理")


def seed_knowledge(
    rt: Runtime,
    *,
    path: Path | None = None,
    publish: bool = True,
    limit: int | None = None,
    source: str = SEED_SOURCE,
    now: datetime | None = None,
) -> SeedReport:
    """Load articles from messages_with_replies.csv (question = 留言主题, answer = the cleaned reply).

    Idempotent (by ``source:留言编号``). ``publish`` puts them straight into search, recorded as reviewed
    by the system — right for the demo; a city importing its own history would load drafts
    (``publish=False``) and let its editors review them.
    """
    path = path or rt.settings.data_dir / "tipdm2020" / "messages_with_replies.csv"
    if not path.exists():
        raise Invalid(f"no such file: {path}", fields={"file": "not found"})
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("留言编号", "留言主题", "答复意见") if c not in (reader.fieldnames or ())]
        if missing:
            raise Invalid(
                f"{path.name} lacks the columns {', '.join(missing)}",
                fields={"file": f"missing columns: {', '.join(missing)}"},
            )
        rows = list(reader)
    if limit is not None:
        rows = rows[:limit]
    report = SeedReport(rows=len(rows))
    candidates = articles_from_replies(rows)
    report.skipped = len(rows) - len(candidates)
    now = now or utcnow()
    status = ArticleStatus.PUBLISHED.value if publish else ArticleStatus.DRAFT.value
    with rt.db.write() as session:
        for start in range(0, len(candidates), 500):
            chunk = candidates[start : start + 500]
            refs = {f"{source}:{a.id}": a for a in chunk}
            existing = set(
                session.scalars(
                    select(KnowledgeArticle.external_ref).where(KnowledgeArticle.external_ref.in_(list(refs)))
                )
            )
            for ref, a in refs.items():
                if ref in existing:
                    report.already_present += 1
                    continue
                session.add(
                    KnowledgeArticle(
                        question=a.question[:300],
                        answer=a.answer,
                        valid_from=a.valid_from,
                        tags=json.dumps(list(a.tags), ensure_ascii=False),
                        source=f"TipDM 2020 challenge, problem C: 留言 {a.id}",
                        external_ref=ref,
                        status=status,
                        author=SYSTEM_ACTOR.name,
                        reviewer=SYSTEM_ACTOR.name if publish else None,
                        reviewed_at=now if publish else None,
                        published_at=now if publish else None,
                        created_at=now,
                        updated_at=now,
                    )
                )
                report.created += 1
            session.flush()
    knowledge_cache(rt).mark_stale()
    return report
