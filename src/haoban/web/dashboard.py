"""The city dashboard: KPI cards and offline plotly charts; every figure links to its CSV export."""

from __future__ import annotations

from datetime import date, timedelta
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
from haoban.errors import Invalid
from haoban.licences import service as licences
from haoban.web.common import PageRoute, lang_of, render, require_actor, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _day(value: str | None, name: str, errors: dict[str, str]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "YYYY-MM-DD"
        return None


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
    first = _day(q.get("from"), "from", errors)
    last = _day(q.get("to"), "to", errors)
    bucket = q.get("bucket") or "day"
    if bucket not in analytics.BUCKETS:
        errors["bucket"] = "day / week / month"
        bucket = "day"
    district = q.get("district") or None
    now = utcnow()
    try:
        scope = analytics.resolve_scope(rt.directory, now=now, first=first, last=last, district=district)
    except Invalid as exc:
        errors.update(exc.detail.get("fields", {}))
        district = None
        scope = analytics.resolve_scope(rt.directory, now=now)
        first = last = None
    with rt.db.read_only() as session:
        data = analytics.dashboard(session, scope=scope, now=now, directory=rt.directory, bucket=bucket)  # type: ignore[arg-type]
        benefit_figures = benefits.figures(session, actor=actor)
        catalog_figures = {"m": catalog.metrics(session), "lm": licences.metrics(session)}
        case_figures = case_service.figures(session, actor=actor, now=now)
        bundle_figures = bundle_kpis.bundle_figures(session, rt)
        assist = assistance.kpis(session, actor=actor) if actor.role in assistance.KPI_ROLES else None
    shown_first = analytics.today_local(scope.start)
    shown_last = (scope.end.astimezone(rt.settings.tz) - timedelta(days=1)).date()
    params = {"from": shown_first.isoformat(), "to": shown_last.isoformat(), "bucket": bucket}
    if district:
        params["district"] = district
    return render(
        request,
        "dashboard.html",
        {
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
            "bundle_figures": bundle_figures,
            "assist": assist,
        },
        actor=actor,
    )
