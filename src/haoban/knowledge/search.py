"""Knowledge base search for instant answers (即时答复): the shared BM25 index (:mod:`haoban.textsearch`)
over published articles, and candidate articles drawn from the government's past replies.

The index's terms, field weights, validity masking and timings are described in
:mod:`haoban.textsearch`; it answers in ~2 ms on 10,000 articles (bench/knowledge.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from haoban.textsearch import Article, Hit, TextIndex
from haoban.textutil import SYNONYMS, clean_reply, tokenize

__all__ = ["SYNONYMS", "Article", "Hit", "KnowledgeIndex", "articles_from_replies", "clean_reply"]

# The knowledge base's index is the shared one; the name stays for its callers.
KnowledgeIndex = TextIndex


# --- candidate articles from the government's past replies -------------------------------------

_EMPTY_SUBSTANCE = re.compile(
    r"^(?:[^。！!]{0,40}(?:已收悉|已转[^。！!]{0,30}|敬请关注[^。！!]{0,10}|请您?耐心等待[^。！!]{0,10})[。！!]?\s*)*$"
)


def _parse_day(value: str) -> date | None:
    value = (value or "").strip()
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def articles_from_replies(rows: Iterable[dict], *, min_chars: int = 20) -> list[Article]:
    """Candidate articles from ``messages_with_replies.csv`` rows, for an editor to review.

    Question = 留言主题; answer = the cleaned 答复意见 (greeting, receipt formula, sign-off and date
    removed); tags = the question's main words; valid from the reply day (答复时间). Replies with
    no substance left ("已收悉", "已转…处理", under *min_chars* content characters) are skipped.
    """
    out: list[Article] = []
    for row in rows:
        question = (row.get("留言主题") or "").strip()
        answer = clean_reply(row.get("答复意见") or "")
        substance = re.sub(r"[^0-9A-Za-z\u4e00-\u9fff]", "", answer)
        if not question or len(substance) < min_chars or _EMPTY_SUBSTANCE.match(answer):
            continue
        try:
            article_id = int(str(row.get("留言编号", "")).strip())
        except ValueError:
            continue
        tags = tuple(dict.fromkeys(w for w in tokenize(question) if len(w) >= 2))[:5]
        out.append(
            Article(
                id=article_id,
                question=question,
                answer=answer,
                tags=tags,
                valid_from=_parse_day(row.get("答复时间") or ""),
            )
        )
    return out
