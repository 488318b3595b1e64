"""Dashboard data over HTTP: every figure as JSON, and as CSV with the ``.csv`` suffix."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from haoban.analytics import service
from haoban.auth.rbac import require_role
from haoban.auth.roles import DASHBOARD_ROLES
from haoban.db import utcnow
from haoban.deps import ActorDep, RuntimeDep
from haoban.errors import Invalid, NotFound
from haoban.runtime import Runtime

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

FIGURES = ("kpis", "trend", "categories", "districts", "channels", "departments")


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
        raise NotFound(f"no figure {figure!r}; figures are: {', '.join(FIGURES)}")
    now = utcnow()
    directory = rt.directory
    scope = _scope(
        rt, now=now, first=first, last=last, district=district, department=department, bucket=bucket
    )
    with rt.db.read() as session:
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


@router.get("/dashboard", summary="Everything the city dashboard shows (KPIs, trend, mixes)")
def dashboard(
    rt: RuntimeDep,
    actor: ActorDep,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
    district: str | None = None,
    department: str | None = None,
    bucket: str = "day",
) -> dict[str, Any]:
    require_role(actor, *DASHBOARD_ROLES)
    now = utcnow()
    scope = _scope(rt, now=now, first=from_, last=to, district=district, department=department, bucket=bucket)
    with rt.db.read() as session:
        data = service.dashboard(session, scope=scope, now=now, directory=rt.directory, bucket=bucket)  # type: ignore[arg-type]
    return data


@router.get("/{figure}", summary="One figure: kpis, trend, categories, districts, channels, departments")
def figure(
    rt: RuntimeDep,
    actor: ActorDep,
    figure: str,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Day = None,
    district: str | None = None,
    department: str | None = None,
    bucket: str = "day",
) -> Any:
    require_role(actor, *DASHBOARD_ROLES)
    as_csv = figure.endswith(".csv")
    name = figure.removesuffix(".csv")
    data = figure_rows(
        rt, figure=name, first=from_, last=to, district=district, department=department, bucket=bucket
    )
    if not as_csv:
        return data
    rows = kpi_rows(data) if name == "kpis" else data
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )
