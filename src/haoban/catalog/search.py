"""Public search over the catalogue's active items, on the knowledge base's BM25 index
(:mod:`haoban.textsearch`: jieba words with synonyms plus character bigrams, field-weighted).

An item is indexed as: "question" = its name and what people call it (俗称; the field that weighs
most), "tags" = its result, parent
item, life events, department and type, "answer" = its conditions, materials and legal basis (for the
snippet). One index per process and runtime; it follows the table by a cheap signature query (count,
sum of versions, largest id) at most every ``CHECK_SECONDS``, re-tokenising only changed items.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.catalog.models import ServiceItem
from haoban.errors import Invalid
from haoban.textsearch import Article, TextIndex

CHECK_SECONDS = 2.0


def _json_list(raw: str | None) -> list[str]:
    try:
        values = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in values] if isinstance(values, list) else []


def _document(item: ServiceItem) -> Article:
    events = _json_list(item.life_events)
    keywords = _json_list(item.keywords)
    tags = [
        t for t in (item.result_name, item.group_name, *events, item.department.name, item.task_type) if t
    ]
    materials = "、".join(m.name for m in item.materials)
    body = "。".join(
        t
        for t in (
            item.conditions,
            f"申请材料：{materials}" if materials else None,
            item.legal_basis,
        )
        if t
    )
    return Article(
        id=item.id,
        question=" ".join([item.name, *keywords]),
        answer=body or item.name,
        department=item.department.code,
        tags=tuple(tags),
    )


@dataclass
class CatalogIndex:
    """The process's search index of active catalogue items."""

    index: TextIndex = field(default_factory=TextIndex)
    versions: dict[int, int] = field(default_factory=dict)  # item id → version indexed
    signature: tuple[Any, ...] | None = None
    checked_at: float = 0.0
    stale: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark_stale(self) -> None:
        self.stale = True

    def ensure(self, session: Session) -> None:
        if not self.stale and time.monotonic() - self.checked_at < CHECK_SECONDS:
            return
        with self.lock:
            if not self.stale and time.monotonic() - self.checked_at < CHECK_SECONDS:
                return
            self.stale = False
            signature = tuple(
                session.execute(
                    select(
                        func.count(ServiceItem.id),
                        func.coalesce(func.sum(ServiceItem.version), 0),
                        func.max(ServiceItem.id),
                    )
                ).one()
            )
            self.checked_at = time.monotonic()
            if signature == self.signature:
                return
            active = dict(
                session.execute(
                    select(ServiceItem.id, ServiceItem.version).where(ServiceItem.active.is_(True))
                ).all()
            )
            for item_id in [k for k in self.versions if k not in active]:
                self.index.remove(item_id)
                del self.versions[item_id]
            changed = sorted(k for k, v in active.items() if self.versions.get(k) != v)
            for start in range(0, len(changed), 500):
                chunk = changed[start : start + 500]
                for item in session.scalars(select(ServiceItem).where(ServiceItem.id.in_(chunk))).unique():
                    self.index.add(_document(item))
                    self.versions[item.id] = item.version
            self.signature = signature
            if changed:
                self.index.rebuild()


def search(
    session: Session,
    *,
    index: CatalogIndex,
    q: str,
    department: str | None = None,
    limit: int = 10,
) -> list[tuple[ServiceItem, float, str]]:
    """Active items answering ``q`` (Chinese words, paraphrases), best first: (item, score, snippet)."""
    if not q or not q.strip():
        raise Invalid("type what you want to do, e.g. 新生儿落户", fields={"q": "empty"})
    index.ensure(session)
    hits = index.index.search(q, limit=limit, department=department or None)
    if not hits:
        return []
    items = {
        i.id: i
        for i in session.scalars(
            select(ServiceItem).where(
                ServiceItem.id.in_([h.article_id for h in hits]), ServiceItem.active.is_(True)
            )
        ).unique()
    }
    return [(items[h.article_id], h.score, h.snippet) for h in hits if h.article_id in items]
