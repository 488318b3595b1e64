"""Places: import (CSV / YAML, every bad row named by number), opening hours by the city's calendar,
Chinese search on the knowledge base's BM25 index, filters.

Search reuses :class:`haoban.knowledge.search.KnowledgeIndex` (jieba words, synonyms, character
bigrams): a place is an "article" whose question is its names, kind and district, whose tags are its
tags and whose answer is its guide, address and accessibility notes. One index per process and
``Runtime``; it is rebuilt when the places' signature (count, last change) moves, so every process
follows the database.
"""

from __future__ import annotations

import csv
import io
import json
import math
import threading
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.auth import rbac
from haoban.auth.actors import Actor
from haoban.auth.roles import ADMIN_ROLES
from haoban.calendar import WorkCalendar
from haoban.config import Settings
from haoban.db import utcnow
from haoban.errors import Invalid, NotFound
from haoban.knowledge.search import Article, KnowledgeIndex
from haoban.runtime import Runtime
from haoban.tourism.guides import audio_url
from haoban.tourism.models import Place
from haoban.tourism.schemas import ImportProblem, ImportResult, PlaceIn
from haoban.tourism.vocabulary import KIND_LABELS, WEEKDAYS

MAX_IMPORT_ROWS = 5000


# --- opening hours --------------------------------------------------------------------------------


def hours_on(hours: dict[str, Any], day: date, calendar: WorkCalendar) -> dict[str, Any]:
    """Whether and when a place opens on ``day``: rest days and holidays come from the city's calendar."""
    info = calendar.day_info(day)
    weekday = WEEKDAYS[day.weekday()]
    closed = weekday in (hours.get("closed") or [])
    if closed and info.kind == "holiday" and hours.get("open_on_holidays", True):
        closed = False  # 周一闭馆（节假日除外）
    rest = not info.workday
    span = (hours.get("restday") or hours.get("workday")) if rest else hours.get("workday")
    return {
        "day": day,
        "open": not closed,
        "span": None if closed else span,
        "day_kind": info.kind,
        "holiday_name": info.name,
    }


# --- views ----------------------------------------------------------------------------------------


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def place_view(
    place: Place, *, calendar: WorkCalendar, today: date, lang: str = "zh", settings: Settings | None = None
) -> dict[str, Any]:
    """A place as pages and the API show it; with ``settings``, the URL of its spoken guide if made."""
    hours = json.loads(place.hours or "{}")
    zh, en = KIND_LABELS.get(place.kind, (place.kind, place.kind))
    return {
        "id": place.id,
        "code": place.code,
        "name": place.name,
        "name_en": place.name_en,
        "kind": place.kind,
        "kind_label": en if lang == "en" else zh,
        "district": place.district.code if place.district else None,
        "district_name": place.district.name if place.district else None,
        "address": place.address,
        "latitude": place.latitude,
        "longitude": place.longitude,
        "hours": hours,
        "today": hours_on(hours, today, calendar),
        "price_fen": place.price_fen,
        "capacity": place.capacity,
        "accessibility": place.accessibility,
        "photos": _json_list(place.photos),
        "guide": place.guide,
        "guide_en": place.guide_en,
        "tags": _json_list(place.tags),
        "phone": place.phone,
        "demo": place.demo,
        "score": None,
        "guide_audio": audio_url(settings, place.guide) if settings is not None else None,
    }


def get_place(session: Session, *, code: str) -> Place:
    place = session.scalar(select(Place).where(Place.code == code, Place.active.is_(True)))
    if place is None:
        raise NotFound(f"no place {code!r}")
    return place


# --- import ---------------------------------------------------------------------------------------


def _flat_to_nested(row: dict[str, Any]) -> dict[str, Any]:
    """A CSV row: empty cells are absent, ``hours_workday`` / ``hours.workday`` go into ``hours``."""
    out: dict[str, Any] = {}
    hours: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            out.setdefault("_extra", value)
            continue
        key = key.strip()
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        for prefix in ("hours_", "hours."):
            if key.startswith(prefix):
                hours[key[len(prefix) :]] = value
                break
        else:
            out[key] = value
    if hours:
        out["hours"] = hours
    return out


def read_rows(data: bytes | str, *, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV (line numbers, header = 1) or YAML file (entry numbers from 1)."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    suffix = Path(filename).suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise Invalid(f"not valid YAML: {exc}", fields={"file": "not valid YAML"}) from None
        entries = loaded.get("places", loaded) if isinstance(loaded, dict) else loaded
        if not isinstance(entries, list):
            raise Invalid(
                "the YAML file must hold a list of places (or places: [...])", fields={"file": "no list"}
            )
        return [(i, e if isinstance(e, dict) else {"_entry": e}) for i, e in enumerate(entries, start=1)]
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        return [(reader.line_num, _flat_to_nested(row)) for row in reader]
    raise Invalid(
        "import a .csv or .yaml file", fields={"file": f"unsupported file type {suffix or '(none)'}"}
    )


def _problems(row: int, exc: ValidationError) -> list[ImportProblem]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err.get("loc", ())) or "row"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown column"
        out.append(ImportProblem(row=row, field=loc, message=msg))
    return out


def import_places(
    session: Session, rt: Runtime, *, rows: list[tuple[int, dict[str, Any]]], actor: Actor
) -> ImportResult:
    """Create or update places by ``code``. Any bad row: nothing is stored, every problem is named."""
    rbac.require_role(actor, *ADMIN_ROLES)
    if len(rows) > MAX_IMPORT_ROWS:
        raise Invalid(f"at most {MAX_IMPORT_ROWS} places per import", fields={"file": "too many rows"})
    directory = rt.directory
    problems: list[ImportProblem] = []
    valid: list[tuple[PlaceIn, int | None]] = []
    seen: dict[str, int] = {}
    for number, raw in rows:
        try:
            item = PlaceIn.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems(number, exc))
            continue
        if item.code in seen:
            problems.append(
                ImportProblem(row=number, field="code", message=f"code repeats row {seen[item.code]}")
            )
            continue
        seen[item.code] = number
        district_id = None
        if item.district:
            ref = directory.district(item.district)
            if ref is None:
                problems.append(
                    ImportProblem(row=number, field="district", message=f"unknown district {item.district!r}")
                )
                continue
            district_id = ref.id
        valid.append((item, district_id))
    if problems:
        raise Invalid(
            f"{len({p.row for p in problems})} row(s) cannot be imported; nothing was stored",
            problems=[p.model_dump() for p in problems],
        )
    existing = {p.code: p for p in session.scalars(select(Place).where(Place.code.in_(list(seen))))}
    created = updated = 0
    now = utcnow()
    for item, district_id in valid:
        place = existing.get(item.code)
        if place is None:
            place = Place(code=item.code)
            session.add(place)
            created += 1
        else:
            updated += 1
        place.name = item.name
        place.name_en = item.name_en
        place.kind = item.kind.value
        place.district_id = district_id
        place.address = item.address
        place.latitude = item.latitude
        place.longitude = item.longitude
        place.hours = json.dumps(item.hours.model_dump(exclude_defaults=False), ensure_ascii=False)
        place.price_fen = item.price_fen
        place.capacity = item.capacity
        place.accessibility = item.accessibility
        place.photos = json.dumps(item.photos, ensure_ascii=False)
        place.guide = item.guide
        place.guide_en = item.guide_en
        place.tags = json.dumps(item.tags, ensure_ascii=False)
        place.phone = item.phone
        place.demo = item.demo
        place.active = True
        place.updated_at = now
    session.flush()
    return ImportResult(created=created, updated=updated)


DEMO_FILE = "demo_places.yaml"


def demo_rows() -> list[tuple[int, dict[str, Any]]]:
    text = resources.files("haoban.tourism").joinpath(DEMO_FILE).read_text(encoding="utf-8")
    return read_rows(text, filename=DEMO_FILE)


def demo_plans() -> dict[str, dict[str, Any]]:
    """The demo places' ticketing plans (``plans:`` in the demo file), by place code."""
    text = resources.files("haoban.tourism").joinpath(DEMO_FILE).read_text(encoding="utf-8")
    return dict(yaml.safe_load(text).get("plans") or {})


# --- search ---------------------------------------------------------------------------------------


@dataclass
class _PlaceIndex:
    index: KnowledgeIndex
    signature: tuple[Any, ...]


class PlaceSearch:
    """The places' BM25 index for this process; rebuilt when the stored places change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: _PlaceIndex | None = None

    def get(self, session: Session) -> KnowledgeIndex:
        signature = tuple(session.execute(select(func.count(Place.id), func.max(Place.updated_at))).one())
        with self._lock:
            if self._current is None or self._current.signature != signature:
                places = session.scalars(select(Place).where(Place.active.is_(True))).all()
                self._current = _PlaceIndex(KnowledgeIndex(_article(p) for p in places), signature)
            return self._current.index


def _article(p: Place) -> Article:
    zh, en = KIND_LABELS.get(p.kind, (p.kind, p.kind))
    district = p.district.name if p.district else ""
    question = " ".join(x for x in (p.name, p.name_en or "", zh, en, district) if x)
    answer = " ".join(x for x in (p.guide or "", p.address or "", p.accessibility or "") if x)
    return Article(id=p.id, question=question, answer=answer or p.name, tags=tuple(_json_list(p.tags)))


def place_search(rt: Runtime) -> PlaceSearch:
    return rt.local("tourism.places", PlaceSearch)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), enough for "near me" inside a city."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def list_places(
    session: Session,
    rt: Runtime,
    *,
    today: date,
    q: str | None = None,
    kind: str | None = None,
    district: str | None = None,
    free: bool | None = None,
    open_today: bool = False,
    accessible: bool = False,
    near: tuple[float, float] | None = None,
    lang: str = "zh",
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Places matching the filters; searched (best first), nearest first, or by kind and name."""
    stmt = select(Place).where(Place.active.is_(True))
    if kind:
        stmt = stmt.where(Place.kind == kind)
    if district:
        ref = rt.directory.district(district)
        if ref is None:
            raise Invalid("unknown district", fields={"district": f"unknown district {district!r}"})
        stmt = stmt.where(Place.district_id == ref.id)
    if free is True:
        stmt = stmt.where(Place.price_fen.is_(None) | (Place.price_fen == 0))
    elif free is False:
        stmt = stmt.where(Place.price_fen > 0)
    if accessible:
        stmt = stmt.where(Place.accessibility.is_not(None), Place.accessibility != "")
    places = {p.id: p for p in session.scalars(stmt)}
    calendar = rt.calendar
    scores: dict[int, float] = {}
    if q and q.strip():
        hits = place_search(rt).get(session).search(q.strip(), today=today, limit=len(places) or 1)
        scores = {h.article_id: h.score for h in hits if h.article_id in places}
        ordered = [places[i] for i in sorted(scores, key=lambda i: -scores[i])]
    else:
        ordered = sorted(places.values(), key=lambda p: (p.kind, p.code))
    views = []
    for p in ordered:
        view = place_view(p, calendar=calendar, today=today, lang=lang, settings=rt.settings)
        if open_today and not view["today"]["open"]:
            continue
        view["score"] = scores.get(p.id)
        if near is not None and p.latitude is not None and p.longitude is not None:
            view["distance_km"] = round(distance_km(near[0], near[1], p.latitude, p.longitude), 2)
        views.append(view)
    if near is not None:
        views = [v for v in views if "distance_km" in v]
        views.sort(key=lambda v: v["distance_km"])
    return views[:limit]


def walking_order(stops: list[dict[str, Any]], *, start: str | None = None) -> list[dict[str, Any]]:
    """A suggested order to visit ``stops`` (place views with coordinates) on foot in one day.

    Nearest neighbour from ``start`` (a code; default the first stop), then 2-opt until no swap of two
    legs shortens the walk: for a handful of stops this finds the shortest open path or one very close.
    Each stop gains ``leg_km`` (from the previous stop).
    """
    pts = [s for s in stops if s.get("latitude") is not None and s.get("longitude") is not None]
    if len(pts) < 2:
        return pts

    def d(a: dict[str, Any], b: dict[str, Any]) -> float:
        return distance_km(a["latitude"], a["longitude"], b["latitude"], b["longitude"])

    first = next((p for p in pts if p["code"] == start), pts[0])
    route, rest = [first], [p for p in pts if p is not first]
    while rest:
        nxt = min(rest, key=lambda p: d(route[-1], p))
        route.append(nxt)
        rest.remove(nxt)
    improved = True
    while improved:
        improved = False
        for i in range(1, len(route) - 1):
            for j in range(i + 1, len(route)):
                # Reverse route[i..j]: the start stays, the end may change (an open path).
                before = d(route[i - 1], route[i]) + (d(route[j], route[j + 1]) if j + 1 < len(route) else 0)
                after = d(route[i - 1], route[j]) + (d(route[i], route[j + 1]) if j + 1 < len(route) else 0)
                if after < before - 1e-9:
                    route[i : j + 1] = reversed(route[i : j + 1])
                    improved = True
    out = []
    for k, p in enumerate(route):
        out.append({**p, "leg_km": round(d(route[k - 1], p), 2) if k else 0.0})
    return out


NANYUE_DAY_TAG = "南岳一日"


def nanyue_day(session: Session, rt: Runtime, *, today: date, lang: str = "zh") -> list[dict[str, Any]]:
    """A day at 南岳 on foot: the 南岳 district's spots and venues marked for the day, from the Grand Temple
    (南岳大庙, where the old pilgrims' path begins) up the mountain."""
    views = list_places(session, rt, today=today, district="nanyue", lang=lang, limit=500)
    stops = [v for v in views if v["kind"] in ("spot", "venue") and v["code"] != "nanyue-hengshan"]
    marked = [
        v for v in stops if NANYUE_DAY_TAG in v["tags"] or v["code"] in ("nanyue-damiao", "zhurong-peak")
    ]
    return walking_order(marked or stops, start="nanyue-damiao")
