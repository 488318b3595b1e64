"""AI游衡阳 pages for visitors (no login): places with search and filters, a place's page. Phone first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haoban.errors import Invalid
from haoban.tourism import places
from haoban.tourism.vocabulary import KIND_LABELS, PlaceKind
from haoban.web.common import PageRoute, lang_of, render, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _today(request: Request) -> Any:
    return datetime.now(runtime(request).settings.tz).date()


def _flag(value: str | None) -> bool:
    return value in ("1", "on", "true", "yes")


def fen(value: int | None, lang: str) -> str:
    """Fen as yuan for people: 4000 → ¥40; None or 0 → free."""
    if not value:
        return "免费" if lang == "zh" else "Free"
    yuan = value / 100
    return f"¥{yuan:.0f}" if value % 100 == 0 else f"¥{yuan:.2f}"


def tour_context(request: Request) -> dict[str, Any]:
    lang = lang_of(request)
    return {
        "fen": lambda v: fen(v, lang),
        "kind_label": lambda k: KIND_LABELS.get(k, (k, k))[1 if lang == "en" else 0],
    }


@router.get("/tour")
def tour_home(request: Request) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    qp = request.query_params
    values = {
        "q": (qp.get("q") or "").strip()[:100],
        "kind": qp.get("kind") or "",
        "district": qp.get("district") or "",
        "free": qp.get("free") or "",
        "open_today": qp.get("open_today") or "",
        "accessible": qp.get("accessible") or "",
    }
    errors: dict[str, str] = {}
    kind = values["kind"] if values["kind"] in set(PlaceKind) else None
    if values["kind"] and kind is None:
        errors["kind"] = "unknown kind"
    items: list[dict[str, Any]] = []
    try:
        with rt.db.read() as session:
            items = places.list_places(
                session,
                rt,
                today=_today(request),
                q=values["q"] or None,
                kind=kind,
                district=values["district"] or None,
                free=True if values["free"] == "1" else (False if values["free"] == "0" else None),
                open_today=_flag(values["open_today"]),
                accessible=_flag(values["accessible"]),
                lang=lang,
            )
    except Invalid as exc:
        errors.update(exc.detail.get("fields", {}))
    return render(
        request,
        "tour_home.html",
        {
            **tour_context(request),
            "items": items,
            "values": values,
            "errors": errors,
            "kinds": [(str(k), KIND_LABELS[k]) for k in PlaceKind],
            "districts": sorted(rt.directory.districts_by_id.values(), key=lambda d: d.code),
        },
        status_code=422 if errors else 200,
    )


@router.get("/tour/places/{code}")
def tour_place(request: Request, code: str) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    with rt.db.read() as session:
        place = places.get_place(session, code=code)
        view = places.place_view(place, calendar=rt.calendar, today=_today(request), lang=lang)
    return render(request, "tour_place.html", {**tour_context(request), "p": view})
