"""The city dashboard: KPI cards and offline plotly charts; every figure links to its CSV export."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from haoban.analytics import service as analytics
from haoban.applications import assistance
from haoban.applications import kpis as bundle_kpis
from haoban.auth.roles import DASHBOARD_ROLES
from haoban.benefits import service as benefits
from haoban.casework import service as case_service
from haoban.catalog import service as catalog
from haoban.db import utcnow
from haoban.directory.vocabulary import CHANNEL_LABELS
from haoban.errors import Invalid, NotFound
from haoban.feedback import service_ratings
from haoban.feedback.schemas import RATING_LEVELS
from haoban.licences import service as licences
from haoban.web import i18n, staff
from haoban.web.common import PageRoute, lang_of, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _day(value: str | None, name: str, errors: dict[str, str], lang: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = i18n.translate("dash_err_day", lang)
        return None


# The analytics service's reasons, in the page's language (the service speaks to the API in English).
_SCOPE_ERRORS = {
    "must not be after 'to'": "dash_err_order",
    "a period of at most ten years": "dash_err_long",
}


def _scope_error(field: str, text: str, lang: str) -> str:
    key = _SCOPE_ERRORS.get(text)
    if key:
        return i18n.translate(key, lang)
    if field == "district":
        return i18n.translate("dash_err_district", lang)
    return text


def _hotspot_params(params: dict[str, str]) -> dict[str, str]:
    """The hotspots API's query for the period and district the dashboard shows."""
    out = {"since": params["from"], "until": params["to"]}
    if "district" in params:
        out["district"] = params["district"]
    return out


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    actor = require_actor(request, *DASHBOARD_ROLES)
    rt = runtime(request)
    q = request.query_params
    lang = lang_of(request)
    errors: dict[str, str] = {}
    first = _day(q.get("from"), "from", errors, lang)
    last = _day(q.get("to"), "to", errors, lang)
    bucket = q.get("bucket") or "day"
    if bucket not in analytics.BUCKETS:
        errors["bucket"] = i18n.translate("dash_err_bucket", lang)
        bucket = "day"
    district = q.get("district") or None
    typed = {"from": q.get("from") or "", "to": q.get("to") or "", "district": district or ""}
    now = utcnow()
    try:
        if errors:
            raise Invalid("the period or filter is not valid", fields={})
        scope = analytics.resolve_scope(rt.directory, now=now, first=first, last=last, district=district)
    except Invalid as exc:
        # The filters keep what was typed, the error says why in the page's language, and the figures
        # below say plainly that they are the default period's (not the period asked for).
        for field, text in exc.detail.get("fields", {}).items():
            errors[field] = _scope_error(field, str(text), lang)
        district = None
        scope = analytics.resolve_scope(rt.directory, now=now)
        first = last = None
    with rt.db.read_only() as session:
        data = analytics.dashboard(session, scope=scope, now=now, directory=rt.directory, bucket=bucket)  # type: ignore[arg-type]
        benefit_figures = benefits.figures(session, actor=actor)
        catalog_figures = {"m": catalog.metrics(session), "lm": licences.metrics(session)}
        case_figures = case_service.figures(session, actor=actor, now=now)
        rating_figures = service_ratings.figures(
            session, rt, actor=actor, start=scope.start, end=scope.end, now=now, lang=lang
        )
        bundle_figures = bundle_kpis.bundle_figures(session, rt)
        assist = assistance.kpis(session, actor=actor) if actor.role in assistance.KPI_ROLES else None
    if lang == "en":  # English names where the directory has them
        for row in data.get("districts") or []:
            row["name"] = staff.district_name(rt, row.get("code"), lang) or row.get("name")
        for row in data.get("categories") or []:
            if row.get("code"):
                row["name"] = staff.category_short(rt, row["code"], lang)
    shown_first = analytics.today_local(scope.start)
    shown_last = (scope.end.astimezone(rt.settings.tz) - timedelta(days=1)).date()
    params = {"from": shown_first.isoformat(), "to": shown_last.isoformat(), "bucket": bucket}
    if district:
        params["district"] = district
    if errors:
        shown_first_text, shown_last_text = typed["from"], typed["to"]
    else:
        shown_first_text, shown_last_text = shown_first.isoformat(), shown_last.isoformat()
    return render(
        request,
        "dashboard.html",
        {
            "typed_first": shown_first_text,
            "typed_last": shown_last_text,
            "typed_district": typed["district"] if errors else (district or ""),
            "default_period": f"{shown_first.isoformat()} – {shown_last.isoformat()}" if errors else "",
            "export_qs": urlencode({**params, "lang": lang}),
            "export_qs_en": urlencode({**params, "lang": "en"}),
            "d": data,
            "k": data["kpis"],
            "kpi_names": analytics.KPI_NAMES,
            "first": shown_first.isoformat(),
            "last": shown_last.isoformat(),
            "bucket": bucket,
            "district": district or "",
            "districts": sorted(rt.directory.districts_by_id.values(), key=lambda d: d.code),
            "errors": errors,
            "qs": urlencode(params),
            "chart_json": orjson.dumps(data, default=str).decode().replace("</", "<\\/"),
            "channel_labels": {k: v[1] if lang == "en" else v[0] for k, v in CHANNEL_LABELS.items()},
            "hotspots_url": "/api/v1/hotspots?" + urlencode(_hotspot_params(params)),
            "benefits": benefit_figures,
            "catalog": catalog_figures,
            "cases": case_figures,
            "ratings": rating_figures,
            "rating_levels": [(k.value, zh, en) for k, (_s, zh, en) in RATING_LEVELS.items()],
            "bundle_figures": bundle_figures,
            "assist": assist,
        },
        actor=actor,
    )


# --- CSV exports for people: Chinese headers and values in the Chinese UI, English with lang=en --------

CSV_HEADERS: dict[str, tuple[str, str]] = {
    "name": ("指标", "Figure"),
    "value": ("数值", "Value"),
    "bucket": ("时间段", "Period"),
    "received": ("受理量", "Received"),
    "finished": ("办结量", "Finished"),
    "on_time": ("按时办结", "Finished on time"),
    "code": ("编码", "Code"),
    "orders": ("工单数", "Orders"),
    "closure_rate": ("办结率", "Closure rate"),
    "channel": ("渠道", "Channel"),
    "open": ("在办", "Open"),
    "overdue": ("超时", "Overdue"),
    "warning": ("预警", "Warning"),
}
COUNT_LABELS: dict[str, tuple[str, str]] = {
    "received": ("受理量", "received"),
    "finished": ("办结量", "finished"),
    "finished_replied": ("已答复的办结量", "finished with a reply"),
    "on_time": ("按时办结量", "finished on time"),
    "dispatched": ("派单量", "dispatched"),
    "dispatched_finished": ("已派单办结量", "dispatched and finished"),
    "called_back": ("已回访量", "called back"),
    "satisfied": ("满意量", "satisfied"),
    "unsatisfied": ("不满意量", "unsatisfied"),
    "resolved": ("解决量", "resolved"),
    "finished_redone": ("重办后办结量", "finished after a redo"),
    "auto_dispatched": ("自动派单量", "dispatched automatically"),
    "open": ("在办量", "open"),
    "overdue_open": ("超时在办量", "open and overdue"),
    "return": ("退单量", "returned"),
}


def export_rows(rt: Any, figure: str, rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """A figure's rows with headers and values in ``lang``; codes stay in their own column."""
    en = lang == "en"
    out = []
    for row in rows:
        r = dict(row)
        if figure == "kpis":
            name = str(r["name"])
            if name.startswith("count:"):
                r["name"] = i18n.label(COUNT_LABELS, name.removeprefix("count:"), lang)
            else:
                r["name"] = i18n.translate(f"kpi_{name}", lang)
        elif figure == "channels":
            r["channel"] = i18n.label(CHANNEL_LABELS, r.get("channel"), lang)
        elif figure == "departments" and en:
            r["name"] = staff.dept_name(rt, r.get("code"), lang) or r.get("name")
        elif figure == "districts" and en and r.get("code"):
            r["name"] = staff.district_name(rt, r.get("code"), lang) or r.get("name")
        elif figure == "categories" and not r.get("name"):
            r["name"] = i18n.translate("uncategorised", lang)
        elif figure == "categories" and en and r.get("code"):
            r["name"] = staff.category_short(rt, r["code"], lang)
        out.append({i18n.label(CSV_HEADERS, k, lang): v for k, v in r.items()})
    return out


@router.get("/dashboard/export/{figure}.csv")
def export_csv(request: Request, figure: str) -> Response:
    """The dashboard's CSV in the page's language (``lang=en`` for English); the API's CSV keeps codes."""
    from haoban.analytics import api as analytics_api  # the API's figure function: one query per figure

    actor = require_actor(request, *DASHBOARD_ROLES)
    rt = runtime(request)
    if figure not in analytics_api.FIGURES:
        raise NotFound(f"no figure {figure!r}")
    q = request.query_params
    lang = q.get("lang") if q.get("lang") in i18n.LANGS else lang_of(request)
    errors: dict[str, str] = {}
    filters = {
        "first": _day(q.get("from"), "from", errors, lang),
        "last": _day(q.get("to"), "to", errors, lang),
        "district": q.get("district") or None,
        "department": None,
        "bucket": q.get("bucket") or "day",
    }
    if errors:
        raise Invalid("the period is not valid", fields=errors)
    data = analytics_api._figure(rt, actor, figure, filters)
    rows = analytics_api.kpi_rows(data) if figure == "kpis" else data
    body = analytics_api.to_csv(export_rows(rt, figure, rows, lang))
    suffix = "-en" if lang == "en" else ""
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{figure}{suffix}.csv"'},
    )
