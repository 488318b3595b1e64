"""Dashboard data over HTTP: every figure as JSON, and as CSV with the ``.csv`` suffix."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from haoban.analytics import service
from haoban.analytics.schemas import (
    CategoryRow,
    ChannelRow,
    Dashboard,
    DepartmentRow,
    DistrictRow,
    Kpis,
    TrendRow,
)
from haoban.auth.rbac import require_role
from haoban.auth.roles import DASHBOARD_ROLES
from haoban.db import utcnow
from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import Invalid, NotFound
from haoban.feedback import service_ratings
from haoban.feedback.schemas import RatingFigureRow, ServiceRatingFigures
from haoban.runtime import Runtime

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

FIGURES = ("kpis", "trend", "categories", "districts", "channels", "departments")
# 好差评 of applications and window visits, one figure per breakdown (haoban.feedback.service_ratings).
RATING_FIGURES = {f"service_ratings_{d}": d for d in service_ratings.DIMENSIONS}


def _scope(
    rt: Runtime,
    *,
    now: Any,
    first: date | None,
    last: date | None,
    district: str | None,
    department: str | None,
    bucket: str,
) -> Any:
    """Check the bucket and resolve the date range and filters (shared by every analytics endpoint)."""
    if bucket not in service.BUCKETS:
        raise Invalid("unknown bucket", fields={"bucket": f"one of {', '.join(service.BUCKETS)}"})
    return service.resolve_scope(
        rt.directory, now=now, first=first, last=last, district=district, department=department
    )


def figure_rows(
    rt: Runtime,
    *,
    figure: str,
    first: date | None = None,
    last: date | None = None,
    district: str | None = None,
    department: str | None = None,
    bucket: str = "day",
) -> Any:
    """One figure's data (a dict for ``kpis``, a list of rows for the others)."""
    if figure not in FIGURES:
        raise NotFound(f"no figure {figure!r}; figures are: {', '.join((*FIGURES, *RATING_FIGURES))}")
    now = utcnow()
    directory = rt.directory
    scope = _scope(
        rt, now=now, first=first, last=last, district=district, department=department, bucket=bucket
    )
    with rt.db.read_only() as session:
        if figure == "kpis":
            return service.kpis(session, scope=scope, now=now)
        if figure == "trend":
            return service.trend(session, scope=scope, bucket=bucket)  # type: ignore[arg-type]
        if figure == "categories":
            return service.category_mix(session, scope=scope, directory=directory)
        if figure == "districts":
            return service.district_mix(session, scope=scope, directory=directory)
        if figure == "channels":
            return service.channel_mix(session, scope=scope)
        dept_id = scope.department_id
        return service.department_deadlines(session, now=now, directory=directory, department_id=dept_id)


def kpi_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The KPI dict flattened to rows (name, value) for CSV."""
    rows = [{"name": k, "value": data[k]} for k in service.KPI_NAMES]
    rows += [{"name": f"count:{k}", "value": v} for k, v in data["counts"].items()]
    return rows


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return "\ufeff" + buf.getvalue()


Day = Annotated[date | None, Query(description="local day, YYYY-MM-DD")]


Filters = dict[str, Any]


def _filters(
    from_: Annotated[date | None, Query(alias="from", description="first local day, YYYY-MM-DD")] = None,
    to: Day = None,
    district: str | None = None,
    department: str | None = None,
    bucket: str = "day",
) -> Filters:
    return {"first": from_, "last": to, "district": district, "department": department, "bucket": bucket}


FiltersDep = Annotated[Filters, Depends(_filters)]


@router.get(
    "/dashboard", response_model=Dashboard, summary="Everything the city dashboard shows (KPIs, trend, mixes)"
)
def dashboard(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> dict[str, Any]:
    require_role(actor, *DASHBOARD_ROLES)
    now = utcnow()
    scope = _scope(
        rt,
        now=now,
        first=f["first"],
        last=f["last"],
        district=f["district"],
        department=f["department"],
        bucket=f["bucket"],
    )
    with rt.db.read_only() as session:
        return service.dashboard(session, scope=scope, now=now, directory=rt.directory, bucket=f["bucket"])  # type: ignore[arg-type]


def _figure(rt: Any, actor: Any, name: str, f: Filters) -> Any:
    require_role(actor, *DASHBOARD_ROLES)
    if name in RATING_FIGURES:
        return _service_rating_figures(rt, actor, f)[RATING_FIGURES[name]]
    return figure_rows(rt, figure=name, **f)


def _service_rating_figures(rt: Any, actor: Any, f: Filters) -> dict[str, Any]:
    """Ratings given in the period (by local day), optionally of one department; ``district`` does not
    apply (applications and visits are not placed in a district)."""
    now = utcnow()
    scope = _scope(
        rt, now=now, first=f["first"], last=f["last"], district=None, department=f["department"], bucket="day"
    )
    with rt.db.read_only() as session:
        return service_ratings.figures(
            session,
            rt,
            actor=actor,
            start=scope.start,
            end=scope.end,
            department_id=scope.department_id,
            now=now,
        )


@router.get("/kpis", response_model=Kpis, summary="The headline KPIs and the counts behind them")
def kpis(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
    return _figure(rt, actor, "kpis", f)


@router.get(
    "/trend", response_model=list[TrendRow], summary="Received, finished and on time per day / week / month"
)
def trend(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
    return _figure(rt, actor, "trend", f)


@router.get("/categories", response_model=list[CategoryRow], summary="Orders per top-level category")
def categories(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
    return _figure(rt, actor, "categories", f)


@router.get("/districts", response_model=list[DistrictRow], summary="Orders and closure per district")
def districts(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
    return _figure(rt, actor, "districts", f)


@router.get("/channels", response_model=list[ChannelRow], summary="Orders per intake channel")
def channels(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
    return _figure(rt, actor, "channels", f)


@router.get(
    "/departments", response_model=list[DepartmentRow], summary="Open orders per department: overdue, warning"
)
def departments(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
    return _figure(rt, actor, "departments", f)


@router.get(
    "/service-ratings",
    response_model=ServiceRatingFigures,
    summary="好差评 of applications and window visits per department, item, window clerk and channel",
)
def service_rating_figures(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
    require_role(actor, *DASHBOARD_ROLES)
    return _service_rating_figures(rt, actor, f)


def _rating_route(name: str) -> Any:
    def route(rt: RuntimeDep, actor: ActorDep, f: FiltersDep) -> Any:
        return _figure(rt, actor, name, f)

    route.__name__ = name
    return route


for _name, _dimension in RATING_FIGURES.items():
    router.add_api_route(
        f"/{_name}",
        _rating_route(_name),
        methods=["GET"],
        response_model=list[RatingFigureRow],
        summary=f"好差评 per {_dimension[:-1]}",
    )


@router.get(
    "/{figure}.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the figure as CSV (UTF-8 with BOM)"}},
    summary="One figure as CSV: kpis, trend, categories, districts, channels, departments, "
    "service_ratings_{departments,items,clerks,channels}",
)
def figure_csv(rt: RuntimeDep, actor: ActorDep, figure: str, f: FiltersDep) -> Response:
    data = _figure(rt, actor, figure, f)
    rows = kpi_rows(data) if figure == "kpis" else data
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename={figure}.csv"},
    )


@router.get("/{figure}", include_in_schema=False)
def unknown_figure(rt: RuntimeDep, actor: ActorDep, figure: str) -> None:
    require_role(actor, *DASHBOARD_ROLES)
    raise NotFound(f"no figure {figure!r}; figures are: {', '.join((*FIGURES, *RATING_FIGURES))}")
