"""The visitors' question box: answers by retrieval over the places' guides, opening hours and tickets.

Every place contributes small "facts", each an article of the knowledge base's BM25 index
(:class:`haoban.knowledge.search.KnowledgeIndex`): its guide (split into passages), its opening hours
(today's, by the city's calendar, and the rule), its tickets (price, slots, refund rule) and its
address and accessibility. A question gets the best three facts with their source (place and kind of
fact). When the best score is under ``MIN_SCORE`` — nothing fits — the answer is "I don't know" with a
link to 12345. The threshold and the top-3 rate are measured on a labelled question set
(``tourism/questions.yaml``; ``bench/tourism_qa.py``).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.knowledge.search import Article, KnowledgeIndex
from haoban.runtime import Runtime
from haoban.textutil import split_sentences
from haoban.tourism.models import Place, TicketPlan
from haoban.tourism.places import hours_on
from haoban.tourism.vocabulary import KIND_LABELS, WEEKDAY_LABELS

# Below this BM25 score the best fact shares too little with the question: say "I don't know". Chosen on
# the labelled set (tourism/questions.yaml): the weakest right answer scores ~3.6, the strongest
# unanswerable question ~3.0 (bench/tourism_qa.py prints both sides).
MIN_SCORE = 3.3
# Every place is in Hengyang: the city's name in a question says nothing about which fact answers it
# ("明天衡阳会下雨吗" must not match "衡阳市博物馆位于衡阳市…").
CITY_WORDS = ("衡阳市", "衡阳")
FACT_KINDS = ("guide", "hours", "tickets", "visit")
FACT_LABELS: dict[str, tuple[str, str]] = {
    "guide": ("导览", "Guide"),
    "hours": ("开放时间", "Opening hours"),
    "tickets": ("门票", "Tickets"),
    "visit": ("地址与无障碍", "Address and access"),
}


@dataclass(frozen=True)
class Fact:
    id: int
    place_code: str
    place_name: str
    kind: str
    text: str


def _yuan(fen: int | None) -> str:
    return "免费" if not fen else f"{fen / 100:g}元"


def _passages(text: str, size: int = 120) -> list[str]:
    """The guide cut into passages of a few sentences, so an answer is a passage, not a whole essay."""
    out: list[str] = []
    cur = ""
    for s in split_sentences(text) or [text]:
        if cur and len(cur) + len(s) > size:
            out.append(cur)
            cur = ""
        cur += s
    if cur:
        # A short tail joins the passage before it: alone it would outrank it on length, saying less.
        if out and len(cur) < size // 3:
            out[-1] += cur
        else:
            out.append(cur)
    return out


def facts_for(
    place: Place, plan: TicketPlan | None, *, today: date, calendar: Any
) -> list[tuple[str, str, tuple[str, ...]]]:
    """(kind, text, tags) facts about one place."""
    name = place.name
    facts: list[tuple[str, str, tuple[str, ...]]] = []
    for passage in _passages(place.guide or ""):
        facts.append(("guide", passage, ()))
    hours = json.loads(place.hours or "{}")
    if hours.get("workday") or hours.get("closed"):
        parts = [f"{name}开放时间：工作日{hours.get('workday') or '全天'}"]
        if hours.get("restday"):
            parts.append(f"周末和节假日{hours['restday']}")
        if hours.get("closed"):
            days = "、".join(WEEKDAY_LABELS[d][0] for d in hours["closed"])
            parts.append(
                f"{days}闭馆" + ("（法定节假日除外）" if hours.get("open_on_holidays", True) else "")
            )
        now = hours_on(hours, today, calendar)
        parts.append(f"今天{'开放 ' + (now['span'] or '全天') if now['open'] else '闭馆'}")
        facts.append(
            ("hours", "，".join(parts) + "。", ("几点", "开门", "关门", "开放时间", "营业时间", "闭馆"))
        )
    if plan is not None and plan.active:
        slots = json.loads(plan.slots)
        spans = "、".join(f"{s['start']}-{s['end']}" for s in slots)
        refund = json.loads(plan.refund_rule or "[]")
        rule = (
            "；".join(f"开始前{r['before_hours']:g}小时以上退{r['percent']}%" for r in refund) or "不可退票"
        )
        facts.append(
            (
                "tickets",
                f"{name}门票{_yuan(plan.price_fen)}，实名分时预约，每人每个时段限一张，可提前{plan.book_days_ahead}天预约。"
                f"入园时段：{spans}。退票：{rule}。",
                ("门票", "票价", "多少钱", "预约", "买票", "购票", "退票", "时段"),
            )
        )
    elif place.price_fen is not None or place.kind in ("spot", "venue"):
        facts.append(
            (
                "tickets",
                f"{name}{'价格' if place.kind in ('hotel', 'food') else '门票'}{_yuan(place.price_fen)}。",
                ("门票", "多少钱", "价格"),
            )
        )
    visit = [f"{name}位于{place.address}" if place.address else ""]
    if place.accessibility:
        visit.append(f"无障碍：{place.accessibility}")
    if place.phone:
        visit.append(f"电话{place.phone}")
    text = "。".join(v for v in visit if v)
    if text:
        facts.append(("visit", text + "。", ("在哪", "地址", "怎么去", "无障碍", "轮椅", "电话")))
    return facts


class QuestionIndex:
    """The facts' BM25 index for this process; rebuilt when places or plans change, or the day turns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sig: tuple[Any, ...] | None = None
        self._index = KnowledgeIndex()
        self._facts: dict[int, Fact] = {}

    def get(self, session: Session, rt: Runtime, *, today: date) -> tuple[KnowledgeIndex, dict[int, Fact]]:
        sig = (
            *session.execute(select(func.count(Place.id), func.max(Place.updated_at))).one(),
            *session.execute(select(func.count(TicketPlan.place_id), func.max(TicketPlan.updated_at))).one(),
            today,
        )
        with self._lock:
            if sig != self._sig:
                plans = {p.place_id: p for p in session.scalars(select(TicketPlan))}
                facts: dict[int, Fact] = {}
                articles = []
                for place in session.scalars(select(Place).where(Place.active.is_(True)).order_by(Place.id)):
                    kind_zh = KIND_LABELS.get(place.kind, ("", ""))[0]
                    for kind, text, tags in facts_for(
                        place, plans.get(place.id), today=today, calendar=rt.calendar
                    ):
                        fid = len(facts) + 1
                        facts[fid] = Fact(fid, place.code, place.name, kind, text)
                        question = f"{place.name} {place.name_en or ''} {kind_zh} {FACT_LABELS[kind][0]}"
                        place_tags = tuple(json.loads(place.tags or "[]"))
                        articles.append(
                            Article(id=fid, question=question, answer=text, tags=tags + place_tags)
                        )
                self._index = KnowledgeIndex(articles)
                self._facts = facts
                self._sig = sig
            return self._index, self._facts


def question_index(rt: Runtime) -> QuestionIndex:
    return rt.local("tourism.questions", QuestionIndex)


def ask(session: Session, rt: Runtime, *, question: str, today: date, limit: int = 3) -> dict[str, Any]:
    """The best ``limit`` facts for ``question`` with their sources, or "I don't know" and 12345."""
    index, facts = question_index(rt).get(session, rt, today=today)
    query = question.strip()[:200]
    for word in CITY_WORDS:
        query = query.replace(word, " ")
    hits = index.search(query, today=today, limit=limit) if query.strip() else []
    answers = [
        {
            "place": facts[h.article_id].place_code,
            "place_name": facts[h.article_id].place_name,
            "kind": facts[h.article_id].kind,
            "kind_label": FACT_LABELS[facts[h.article_id].kind][0],
            "text": facts[h.article_id].text,
            "score": h.score,
            "source": f"/tour/places/{facts[h.article_id].place_code}",
        }
        for h in hits
    ]
    known = bool(answers) and answers[0]["score"] >= MIN_SCORE
    return {
        "question": question,
        "known": known,
        "answers": answers if known else [],
        "fallback": None if known else {"hotline": "12345", "url": "/portal"},
    }
