"""What a process says about itself: who it is, its database, its job queue, and the live counts that
a scrape of ``/metrics`` reads from the database (queue depth and age, overdue orders)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select, text

from haoban.db import current
from haoban.metrics import RESIDENT_BYTES, resident_bytes
from haoban.ops.logs import HOST
from haoban.orders.models import Order
from haoban.orders.sweep import CLOCKS

STARTED = time.time()


def process_info() -> dict[str, Any]:
    rss = resident_bytes()
    RESIDENT_BYTES.labels(str(os.getpid())).set(rss)
    return {
        "host": HOST,
        "pid": os.getpid(),
        "started_at": datetime.fromtimestamp(STARTED, UTC),
        "uptime_seconds": round(time.time() - STARTED, 1),
        "resident_bytes": rss,
    }


def _head() -> str | None:
    from alembic.script import ScriptDirectory

    from haoban.db import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


_HEAD: list[str | None] = []


def database_info(rt: Any) -> dict[str, Any]:
    if not _HEAD:
        _HEAD.append(_head())
    started = time.perf_counter()
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        schema = current(rt.db.engine)
    except Exception as exc:  # the answer says what is wrong instead of failing
        return {
            "dialect": rt.db.engine.dialect.name,
            "ok": False,
            "error": f"{exc.__class__.__name__}: {exc}"[:300],
        }
    return {
        "dialect": rt.db.engine.dialect.name,
        "ok": True,
        "schema": schema,
        "head": _HEAD[0],
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def jobs_info(rt: Any) -> dict[str, Any]:
    from haoban.jobs import uses_procrastinate

    try:
        if rt.jobs is not None:
            return dict(rt.jobs.stats())
        if uses_procrastinate(rt):
            from haoban.jobs.pg import queue_stats

            return {"runner": "procrastinate", "alive": False, **queue_stats(rt)}
        return {"runner": "inprocess", "alive": False}
    except Exception as exc:
        return {"runner": "unknown", "alive": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}


class LiveCollector:
    """Gauges read from the database at scrape time: the same answer whichever process is scraped."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = jobs_info(self.rt)
        for key, help_ in (
            ("due", "Jobs due and waiting for a worker"),
            ("running_jobs", "Jobs running now"),
            ("oldest_due_seconds", "How long the oldest due job has waited"),
            ("workers", "Job workers registered (procrastinate)"),
        ):
            if isinstance(jobs.get(key), int | float):
                yield GaugeMetricFamily(f"haoban_jobs_{key}", help_, value=float(jobs[key]))
        alerts = GaugeMetricFamily(
            "haoban_orders_alerted",
            "Open orders past a deadline's warning point, by clock and level",
            labels=["clock", "level"],
        )
        with self.rt.db.read() as session:
            for clock in CLOCKS:
                alert = getattr(Order, f"{clock.name}_alert")
                rows = session.execute(
                    select(alert, func.count(Order.id))
                    .where(Order.status.in_(clock.statuses), alert.is_not(None))
                    .group_by(alert)
                ).all()
                counts = dict.fromkeys(("warning", "overdue"), 0) | {level: n for level, n in rows}
                for level, n in counts.items():
                    alerts.add_metric([clock.name, level], float(n))
        yield alerts
        yield GaugeMetricFamily("haoban_database_up", "1 when the database answers", value=1.0)
