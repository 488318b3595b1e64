"""Near-duplicate orders (并单 candidates) and hotspots (热点) over the orders in the database.

The pure algorithms live in :mod:`haoban.hotspots.neardup` and :mod:`haoban.hotspots.clustering`;
this module feeds them from the database and shapes their answers.

Near-duplicates
    Each process keeps one :class:`~haoban.hotspots.neardup.NearDuplicateIndex` of the OPEN orders per
    ``Runtime``, built on first use. Before every lookup it catches up with the case file: every order
    that was created or changed appends an event, so the events with an id above the last one seen name
    the orders to (re)index or drop. Nothing in the intake or action paths has to call in, and other
    processes' changes are seen too. On PostgreSQL a transaction may commit after a later one: ids that
    were skipped are re-checked for a few minutes before they are given up as rolled back.
Hotspots
    Orders received in a window (all states: a closed complaint still shows what the city is talking
    about), with the support votes imported alongside board messages, clustered and ranked by
    :func:`~haoban.hotspots.clustering.find_hotspots`. Results are cached per process until an order or
    a vote is added.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from haoban.auth.actors import Actor
from haoban.auth.roles import CALL_CENTRE, Role
from haoban.config import city_tz
from haoban.db import utcnow
from haoban.errors import Invalid
from haoban.hotspots.clustering import Appeal, Hotspot, find_hotspots
from haoban.hotspots.incidents import Features, IncidentIndex, IncidentMatch, Reason, elsewhere
from haoban.hotspots.models import OrderVote
from haoban.hotspots.neardup import DocRef, Match, NearDuplicateIndex
from haoban.orders import workflow
from haoban.orders.access import get_order
from haoban.orders.actions import apply_action
from haoban.orders.models import Order, OrderEvent
from haoban.orders.schemas import ActionRequest
from haoban.runtime import Runtime
from haoban.textutil import extract_districts

# Who may read duplicate candidates and hotspots: the call centre and the auditors.
READ_ROLES = (*sorted(CALL_CENTRE), Role.AUDITOR)
OPEN_STATUSES = frozenset(s.value for s in workflow.OPEN_STATUSES)
# A skipped event id is re-checked this long before it is taken for a rolled-back insert.
GAP_SECONDS = 300.0
MAX_GAPS = 10_000


# --- near-duplicates ---------------------------------------------------------------------------


def order_text(subject: str | None, content: str) -> str:
    """What the index compares: the detail, with the subject in front when it says something more."""
    subject = (subject or "").strip()
    content = content or ""
    if not subject or content.lstrip().startswith(subject):
        return content
    return f"{subject}。{content}"


def top_category(rt: Runtime, category_id: int | None) -> str | None:
    """The first-level category (一级分类) of a category id.

    Duplicates must agree on the broad topic only: two calls about one broken street lamp may be
    classified differently at the third level, but not as 城乡建设 against 教育文体.
    """
    if category_id is None:
        return None
    ref = rt.directory.categories_by_id.get(category_id)
    return ref.ancestors[0] if ref and ref.ancestors else None


def _district_code(rt: Runtime, district_id: int | None) -> str | None:
    if district_id is None:
        return None
    ref = rt.directory.districts_by_id.get(district_id)
    return ref.code if ref else None


def _district_name(rt: Runtime, district_id: int | None) -> str | None:
    """The district's name: the incident matcher compares it with names the gazetteer reads in text."""
    if district_id is None:
        return None
    ref = rt.directory.districts_by_id.get(district_id)
    return ref.name if ref else None


@dataclass
class _Tracked:
    district: str | None
    category: str | None


@dataclass
class OpenOrderIndex:
    """The indexes of one process's open orders, kept in step with the case file: near-copies
    (:class:`NearDuplicateIndex`) and incidents — one problem at one place in other words
    (:class:`IncidentIndex`)."""

    rt: Runtime
    index: NearDuplicateIndex
    incidents: IncidentIndex = field(default_factory=IncidentIndex)
    built: bool = False
    last_event_id: int = 0
    gaps: dict[int, float] = field(default_factory=dict)
    tracked: dict[int, _Tracked] = field(default_factory=dict)  # order id → what it was indexed with
    codes: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sync(self, session: Session) -> None:
        """Catch up with orders created or changed since the last call (builds on first use)."""
        with self.lock:
            if not self.built:
                self._build(session)
            else:
                self._catch_up(session)

    def _build(self, session: Session) -> None:
        # Events written while the orders load are replayed by the next catch-up: read the mark first.
        self.last_event_id = session.scalar(select(func.max(OrderEvent.id))) or 0
        last_id = 0
        while True:
            rows = session.execute(
                _ORDER_COLUMNS.where(Order.status.in_(OPEN_STATUSES), Order.id > last_id)
                .order_by(Order.id)
                .limit(2000)
            ).all()
            if not rows:
                break
            for row in rows:
                self._apply(row)
            last_id = rows[-1].id
        self.built = True

    def _catch_up(self, session: Session) -> None:
        now = time.monotonic()
        self.gaps = {k: t for k, t in self.gaps.items() if now - t < GAP_SECONDS}
        cond = OrderEvent.id > self.last_event_id
        if self.gaps:
            cond = or_(cond, OrderEvent.id.in_(list(self.gaps)))
        events = session.execute(
            select(OrderEvent.id, OrderEvent.order_id).where(cond).order_by(OrderEvent.id)
        )
        changed: set[int] = set()
        expected = self.last_event_id + 1
        for ev_id, order_id in events:
            changed.add(order_id)
            self.gaps.pop(ev_id, None)
            if ev_id >= expected:
                for missing in range(expected, min(ev_id, expected + MAX_GAPS)):
                    self.gaps[missing] = now
                expected = ev_id + 1
        self.last_event_id = max(self.last_event_id, expected - 1)
        if len(self.gaps) > MAX_GAPS:
            for k in sorted(self.gaps)[: len(self.gaps) - MAX_GAPS]:
                del self.gaps[k]
        ids = sorted(changed)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = session.execute(_ORDER_COLUMNS.where(Order.id.in_(chunk))).all()
            for row in rows:
                self._apply(row)

    def _apply(self, row: Any) -> None:
        if row.status not in OPEN_STATUSES:
            if self.tracked.pop(row.id, None) is not None:
                code = self.codes.pop(row.id)
                self.index.remove(code)
                self.incidents.remove(code)
            return
        sig = _Tracked(_district_code(self.rt, row.district_id), top_category(self.rt, row.category_id))
        if self.tracked.get(row.id) == sig:
            return
        self.tracked[row.id] = sig
        self.codes[row.id] = row.code
        text = order_text(row.subject, row.content)
        self.index.add(
            DocRef(key=row.code, text=text, at=row.received_at, district=sig.district, category=sig.category)
        )
        self.incidents.add(
            row.code, text, at=row.received_at, district=_district_name(self.rt, row.district_id)
        )


_ORDER_COLUMNS = select(
    Order.id,
    Order.code,
    Order.subject,
    Order.content,
    Order.received_at,
    Order.district_id,
    Order.category_id,
    Order.status,
)


def open_order_index(rt: Runtime) -> OpenOrderIndex:
    """The process's near-duplicate index for ``rt`` (created empty; built on first ``sync``)."""
    return rt.local(
        "hotspots.open_orders",
        lambda: OpenOrderIndex(
            rt,
            NearDuplicateIndex(
                threshold=rt.settings.duplicate_threshold,
                window=timedelta(days=rt.settings.duplicate_window_days),
            ),
        ),
    )


@dataclass(frozen=True)
class _Hit:
    key: str
    similarity: float  # Jaccard of the shingles when a near-copy, else 0
    score: float  # how surely one incident: the incident score, 1.0 for a near-copy
    reasons: tuple[Reason, ...]


def _merge_hits(
    copies: Sequence[Match],
    incidents: Sequence[IncidentMatch],
    limit: int,
    *,
    query: Features | None = None,
    index: IncidentIndex | None = None,
) -> list[_Hit]:
    """Near-copies and incident matches as one list, best first; a near-copy keeps its incident
    reasons too when both indexes found it. With the *query*'s features and the *index*, a near copy
    about another place (both name one, they share none: a template sent about several estates) is
    left out."""
    by: dict[str, _Hit] = {}
    for m in incidents:
        by[m.key] = _Hit(m.key, 0.0, m.score, m.reasons)
    for c in copies:
        if query is not None and index is not None and c.key not in by:
            other = index.features_of(c.key)
            if other is not None and elsewhere(query, other):
                continue
        hit = by.get(c.key)
        reasons = (Reason("near_copy", f"{c.similarity:.2f}"), *(hit.reasons if hit else ()))
        by[c.key] = _Hit(c.key, c.similarity, 1.0, reasons)
    return sorted(by.values(), key=lambda h: (-h.score, -h.similarity, h.key))[:limit]


def _candidates(session: Session, rt: Runtime, matches: Sequence[_Hit]) -> list[dict[str, Any]]:
    if not matches:
        return []
    orders = {
        o.code: o for o in session.scalars(select(Order).where(Order.code.in_([m.key for m in matches])))
    }
    out = []
    for m in matches:
        o = orders.get(m.key)
        if o is None or o.status not in OPEN_STATUSES:
            continue  # changed since the last catch-up
        out.append(
            {
                "code": o.code,
                "similarity": m.similarity,
                "score": m.score,
                "reasons": [{"signal": r.signal, "detail": r.detail} for r in m.reasons],
                "subject": o.subject,
                "status": o.status,
                "status_label": workflow.STATUS_LABELS[workflow.Status(o.status)][0],
                "district": o.district.name if o.district else None,
                "category": o.category.path if o.category else None,
                "department": o.lead_department.code if o.lead_department else None,
                "received_at": o.received_at,
                # The merge action takes open masters only; one awaiting its call-back has been answered.
                "mergeable": o.status != workflow.Status.CALLBACK.value,
            }
        )
    return out


def order_duplicates(
    session: Session, rt: Runtime, *, code: str, actor: Actor, limit: int = 5
) -> dict[str, Any]:
    """Open orders that say the same as order ``code`` about the same place, most similar first."""
    order = get_order(session, code=code, actor=actor)
    ix = open_order_index(rt)
    ix.sync(session)
    doc = DocRef(
        key=order.code,
        text=order_text(order.subject, order.content),
        at=order.received_at,
        district=_district_code(rt, order.district_id),
        category=top_category(rt, order.category_id),
    )
    copies = [m for m in ix.index.query(doc, limit=limit + 1) if m.key != order.code]
    f = ix.incidents.features(doc.text, district=order.district.name if order.district else None)
    found = ix.incidents.query(f, at=order.received_at, exclude=order.code, limit=limit + 1)
    matches = _merge_hits(copies, found, limit + 1, query=f, index=ix.incidents)
    if order.master_id is not None:
        # A merged order's master is no news: it is listed separately.
        master_code = order.master.code if order.master else None
        matches = [m for m in matches if m.key != master_code]
    return {
        "code": order.code,
        "threshold": ix.index.threshold,
        "incident_threshold": ix.incidents.threshold,
        "window_days": ix.index.window.days,
        "candidates": _candidates(session, rt, matches[:limit]),
    }


def check_duplicates(
    session: Session,
    rt: Runtime,
    *,
    text: str,
    district: str | None = None,
    category: str | None = None,
    at: datetime | None = None,
    limit: int = 5,
) -> dict[str, Any]:
    """Open orders similar to an appeal not registered yet (the operator is still typing)."""
    errors: dict[str, str] = {}
    if not text or not text.strip():
        errors["text"] = "type what the caller says"
    dref = rt.directory.lookup_district(district, errors=errors) if district else None
    district_code = dref.code if dref else None
    cref = rt.directory.lookup_category(category, errors=errors) if category else None
    category_top = (cref.ancestors[0] if cref.ancestors else cref.code) if cref else None
    if at is not None and at.tzinfo is None:
        errors["received_at"] = "needs a time zone offset, e.g. 2026-09-30T10:00:00+08:00"
    if errors:
        raise Invalid("cannot look for duplicates", fields=errors)
    ix = open_order_index(rt)
    ix.sync(session)
    doc = DocRef(key="", text=text, at=at or utcnow(), district=district_code, category=category_top)
    copies = ix.index.query(doc, limit=limit)
    f = ix.incidents.features(text, district=dref.name if dref else None)
    found = ix.incidents.query(f, at=doc.at, limit=limit)
    return {
        "threshold": ix.index.threshold,
        "incident_threshold": ix.incidents.threshold,
        "window_days": ix.index.window.days,
        "candidates": _candidates(
            session, rt, _merge_hits(copies, found, limit, query=f, index=ix.incidents)
        ),
    }


# --- one answer for all callers: merge a candidate group ------------------------------------------

# States an order may be merged from (the state table's "merge" transition).
MERGEABLE = frozenset(s.value for s in workflow.BY_ACTION["merge"].sources if s is not None)


def group_master(members: Sequence[dict[str, Any]]) -> tuple[str | None, list[str]]:
    """The master of a candidate group and the members to merge under it.

    The master is the member furthest along (already signed or replied: a department works on it),
    else the first received; every other member that may still be merged follows it.
    """
    callback = workflow.Status.CALLBACK.value
    open_ = [m for m in members if m["status"] in OPEN_STATUSES and m["status"] != callback]
    if len(open_) < 2:
        return None, []
    ahead = [m for m in open_ if m["status"] not in MERGEABLE]
    master = min(ahead or open_, key=lambda m: (m["received_at"], m["code"]))
    rest = [m["code"] for m in open_ if m["code"] != master["code"] and m["status"] in MERGEABLE]
    return master["code"], rest


def merge_all(
    session: Session, rt: Runtime, *, master: str, duplicates: Sequence[str], actor: Actor
) -> dict[str, Any]:
    """Merge every duplicate under ``master`` (并单) in one go: each through the orders' gate, all in
    this transaction — one refused merge (state, role, scope) refuses them all."""
    codes = list(dict.fromkeys(c.strip() for c in duplicates if c and c.strip()))
    errors: dict[str, str] = {}
    if not codes:
        errors["duplicates"] = "name at least one order to merge"
    if master in codes:
        errors["duplicates"] = f"{master} is the master; it cannot be merged into itself"
    if errors:
        raise Invalid("cannot merge", fields=errors)
    for code in codes:
        apply_action(session, rt, code=code, action="merge", data=ActionRequest(master=master), actor=actor)
    return {"master": master, "merged": codes}


# --- votes ----------------------------------------------------------------------------------------


@dataclass
class VoteImport:
    rows: int = 0
    created: int = 0
    already_present: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    votes_stored: int = 0


def _int(value: str | None) -> int:
    try:
        return max(0, int(float((value or "0").strip() or 0)))
    except ValueError:
        return 0


def store_votes(
    session: Session, *, source: str, rows: Iterable[dict[str, str]], now: datetime | None = None
) -> int:
    """Upsert the votes of board messages already imported as orders (by ``source:留言编号``)."""
    now = now or utcnow()
    by_ref: dict[str, tuple[int, int, str | None]] = {}
    for row in rows:
        ref = (row.get("留言编号") or row.get("external_ref") or "").strip()
        if not ref:
            continue
        writer = (row.get("留言用户") or "").strip()[:64] or None
        by_ref[f"{source}:{ref}"[:120]] = (_int(row.get("点赞数")), _int(row.get("反对数")), writer)
    stored = 0
    refs = list(by_ref)
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        ids = dict(
            session.execute(select(Order.external_ref, Order.id).where(Order.external_ref.in_(chunk))).all()
        )
        existing = {
            v.order_id: v
            for v in session.scalars(select(OrderVote).where(OrderVote.order_id.in_(ids.values())))
        }
        for ref, order_id in ids.items():
            up, down, writer = by_ref[ref]
            vote = existing.get(order_id)
            if vote is None:
                session.add(
                    OrderVote(
                        order_id=order_id,
                        votes_up=up,
                        votes_down=down,
                        writer=writer,
                        source=source,
                        updated_at=now,
                    )
                )
            elif (vote.votes_up, vote.votes_down, vote.writer) != (up, down, writer):
                vote.votes_up, vote.votes_down, vote.writer, vote.updated_at = up, down, writer, now
            stored += 1
    return stored


def import_votes(
    rt: Runtime,
    *,
    path: Path,
    actor: Actor,
    source: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> VoteImport:
    """Import a board export with votes (TipDM messages_with_votes.csv) as orders, then their votes.

    The orders go through the ordinary bulk importer (idempotent by ``source:留言编号``); re-running
    the import updates the vote counts and adds nothing else.
    """
    from haoban.orders.bulk import import_file

    if path.suffix.lower() not in (".csv", ".txt"):
        raise Invalid(
            f"cannot read {path.name}: votes are imported from a .csv file", fields={"file": "not CSV"}
        )
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        header = {h.strip() for h in reader.fieldnames or ()}
    missing = [c for c in ("留言编号", "点赞数", "反对数") if c not in header]
    if missing:
        raise Invalid(
            f"{path.name} lacks the columns {', '.join(missing)}",
            fields={"file": f"missing columns: {', '.join(missing)}"},
        )
    source = source or path.stem
    report = import_file(rt, path=path, actor=actor, source=source, progress=progress)
    with rt.db.write() as session:
        stored = store_votes(session, source=source, rows=rows)
    _hotspot_cache_clear(rt)
    return VoteImport(
        rows=report.total,
        created=report.created,
        already_present=report.already_present,
        errors=report.errors,
        votes_stored=stored,
    )


# --- hotspots ---------------------------------------------------------------------------------------


def parse_bound(value: str | None, *, name: str, end: bool) -> datetime | None:
    """A window bound from text: a date (the city's day; ``end``: through that day) or a time."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        parsed: date | datetime = (
            date.fromisoformat(value) if len(value) <= 10 else datetime.fromisoformat(value)
        )
    except ValueError:
        raise Invalid(
            f"unreadable {name} {value!r}",
            fields={name: "a date (2019-01-01) or a time (2019-01-01T08:00:00+08:00)"},
        ) from None
    return to_local_bound(parsed, end=end)


def to_local_bound(value: datetime | date | None, *, end: bool) -> datetime | None:
    """A window bound as an aware datetime: a date means the city's day (``end``: through that day)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=city_tz())
    day = value + timedelta(days=1) if end else value
    return datetime(day.year, day.month, day.day, tzinfo=city_tz())


def load_appeals(
    session: Session, rt: Runtime, *, since: datetime, until: datetime, district_id: int | None = None
) -> list[Appeal]:
    """Orders received in [since, until) as appeals: local times, votes, writers, districts."""
    master = aliased(Order)
    stmt = (
        select(
            Order.code,
            Order.subject,
            Order.content,
            Order.received_at,
            Order.district_id,
            Order.citizen_phone,
            OrderVote.votes_up,
            OrderVote.votes_down,
            OrderVote.writer,
            master.code.label("master_code"),
        )
        .outerjoin(OrderVote, OrderVote.order_id == Order.id)
        .outerjoin(master, master.id == Order.master_id)
        .where(Order.received_at >= since, Order.received_at < until)
        .order_by(Order.received_at, Order.id)
    )
    if district_id is not None:
        stmt = stmt.where(Order.district_id == district_id)
    names = {d.id: d.name for d in rt.directory.districts_by_id.values()}
    out = []
    for row in session.execute(stmt.execution_options(yield_per=2000)):
        district = names.get(row.district_id) if row.district_id else None
        if district is None:
            # Board messages name their district in the text (masked as "A3区" in the public data).
            found = extract_districts(row.subject) or extract_districts(row.content[:300])
            district = found[0] if found else None
        out.append(
            Appeal(
                key=row.code,
                subject=row.subject,
                text=row.content,
                at=row.received_at.astimezone(city_tz()),
                district=district,
                votes=row.votes_up or 0,
                against=row.votes_down or 0,
                user=row.writer or row.citizen_phone,
                incident=row.master_code,
            )
        )
    return out


def hotspot_view(h: Hotspot, subjects: dict[str, str], *, max_members: int = 200) -> dict[str, Any]:
    """A hotspot as the API and the CLI show it; ``sample_orders`` pairs sample subjects with codes."""
    sample_orders = []
    for subject in h.samples:
        code = next((k for k in h.members if subjects.get(k) == subject), None)
        sample_orders.append({"code": code, "subject": subject})
    return {
        "rank": h.rank,
        "label": h.label,
        "title": h.title,
        "key_phrases": h.key_phrases,
        "place": h.place,
        "district": h.district,
        "districts": h.districts,
        "start": h.start.isoformat(),
        "end": h.end.isoformat(),
        "days": h.days,
        "size": h.size,
        "incidents": h.incidents,
        "spread": h.spread,
        "votes": h.votes,
        "growth": h.growth,
        "score": h.score,
        "sample_orders": sample_orders,
        "members": h.members[:max_members],
        "members_truncated": len(h.members) > max_members,
    }


@dataclass
class _HotspotCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    items: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)


def _hotspot_cache(rt: Runtime) -> _HotspotCache:
    return rt.local("hotspots.results", _HotspotCache)


def _hotspot_cache_clear(rt: Runtime) -> None:
    cache = _hotspot_cache(rt)
    with cache.lock:
        cache.items.clear()


MAX_TOP = 100


def hotspots(
    session: Session,
    rt: Runtime,
    *,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
    district: str | None = None,
    top: int = 10,
    seed: int = 0,
    min_size: int = 2,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The top hotspots among orders received in [since, until) (default: the last 30 days).

    Deterministic for a fixed ``seed`` (which only picks the background sample for key phrases).
    """
    errors: dict[str, str] = {}
    end = to_local_bound(until, end=True)
    if end is None:
        # Whole minutes, so that repeated calls share the cache.
        current = (now or utcnow()).astimezone(UTC)
        end = current.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = to_local_bound(since, end=False) or end - timedelta(days=30)
    if start >= end:
        errors["since"] = "must be before until"
    if not 1 <= top <= MAX_TOP:
        errors["top"] = f"between 1 and {MAX_TOP}"
    if min_size < 2:
        errors["min_size"] = "at least 2"
    district_ref = rt.directory.lookup_district(district, errors=errors) if district else None
    if errors:
        raise Invalid("cannot compute hotspots", fields=errors)

    marker = session.execute(select(func.count(Order.id), func.max(Order.id))).one()
    # A merge (并单) changes the incident groups without adding an order.
    merged = session.scalar(select(func.count(Order.id)).where(Order.master_id.is_not(None)))
    votes = session.execute(select(func.count(), func.max(OrderVote.updated_at)).select_from(OrderVote)).one()
    key = (
        start,
        end,
        district_ref.id if district_ref else None,
        top,
        seed,
        min_size,
        *marker,
        merged,
        *votes,
    )
    cache = _hotspot_cache(rt)
    with cache.lock:
        hit = cache.items.get(key)
    if hit is not None:
        return hit

    appeals = load_appeals(
        session, rt, since=start, until=end, district_id=district_ref.id if district_ref else None
    )
    found = find_hotspots(
        appeals,
        since=start.astimezone(city_tz()),
        until=end.astimezone(city_tz()),
        top=top,
        seed=seed,
        min_size=min_size,
        progress=progress,
    )
    subjects = {a.key: a.subject for a in appeals}
    result = {
        "since": start.astimezone(city_tz()).isoformat(),
        "until": end.astimezone(city_tz()).isoformat(),
        "district": district_ref.name if district_ref else None,
        "orders": len(appeals),
        "seed": seed,
        "hotspots": [hotspot_view(h, subjects) for h in found],
    }
    with cache.lock:
        if len(cache.items) >= 16:
            cache.items.pop(next(iter(cache.items)))
        cache.items[key] = result
    return result
