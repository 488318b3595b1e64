"""Figures per “一件事” bundle for the dashboard: submission → completion time against the promise, the
share finished on time, the share submitted online, trips saved (跑动次数), materials reused; and each
of the bundle's items with its online level (网上可办).

Trips saved: done item by item, each item that is not fully online (全程网办) costs one trip to a
window; the bundle's application cost ``Application.visits`` trips (a window submission, a collection).
The difference, never below zero, summed over finished and running applications.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from haoban.applications import registry, single
from haoban.applications.models import Application, ApplicationMaterial
from haoban.applications.workflow import AppStatus
from haoban.catalog.models import ServiceItem
from haoban.runtime import Runtime

DONE = (AppStatus.COMPLETED.value, AppStatus.PARTIALLY_COMPLETED.value)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def bundle_figures(session: Session, rt: Runtime) -> list[dict[str, Any]]:
    """One row per bundle (its latest version's name and items); applications of every version count."""
    rows = []
    for row in registry.latest_rows(session):
        if single.is_single(row.code):
            continue  # single items registered at a window: the catalogue's figures cover them
        definition = registry.definition_of(rt, row)
        codes = [t.item for t in definition.tasks.values()]
        online = dict(
            session.execute(
                select(ServiceItem.code, ServiceItem.online).where(ServiceItem.code.in_(codes))
            ).all()
        )
        trips_separately = sum(0 if online.get(c) == "full" else 1 for c in codes)
        apps = session.execute(
            select(
                Application.id,
                Application.status,
                Application.channel,
                Application.submitted_at,
                Application.ended_at,
                Application.due_at,
                Application.visits,
            ).where(
                Application.bundle_code == definition.code, Application.status != AppStatus.WITHDRAWN.value
            )
        ).all()
        done = [a for a in apps if a.status in DONE and a.ended_at is not None]
        hours = [(a.ended_at - a.submitted_at).total_seconds() / 3600 for a in done]
        on_time = sum(1 for a in done if a.ended_at <= a.due_at)
        materials = session.execute(
            select(ApplicationMaterial.reused, func.count(ApplicationMaterial.id))
            .join(Application, Application.id == ApplicationMaterial.application_id)
            .where(Application.bundle_code == definition.code)
            .group_by(ApplicationMaterial.reused)
        ).all()
        by_reuse = {bool(r): n for r, n in materials}
        total_materials = sum(by_reuse.values())
        rows.append(
            {
                "code": definition.code,
                "name": definition.name,
                "name_en": definition.name_en,
                "promise": definition.promise.text(),
                "applications": len(apps),
                "finished": len(done),
                "median_hours": median(hours) if hours else None,
                "max_hours": max(hours) if hours else None,
                "on_time_rate": _share(on_time, len(done)),
                "online_rate": _share(sum(1 for a in apps if a.channel == "online"), len(apps)),
                "trips_saved": sum(max(0, trips_separately - a.visits) for a in apps),
                "trips_separately": trips_separately,
                "materials_reused": by_reuse.get(True, 0),
                "materials_reuse_rate": _share(by_reuse.get(True, 0), total_materials),
                "items": [
                    {"code": c, "name": t.name, "name_en": t.name_en, "online": online.get(c)}
                    for c, t in zip(codes, definition.tasks.values(), strict=True)
                ],
                "items_online_rate": _share(
                    sum(1 for c in codes if online.get(c) in ("full", "appointment")), len(codes)
                ),
            }
        )
    return rows
