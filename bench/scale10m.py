"""Ten million orders on PostgreSQL (issue 15 item 5): do list, track, inbox, sweep and dashboard keep
their targets without partitioning?

A dedicated database (``haoban_bench_10m``, dropped and created anew; drop it after the run: ~31 GB) is
migrated with the project's migrations and seeded with the demo directory. Orders are generated in the
database, set-based (``INSERT … SELECT … FROM generate_series`` in chunks), over the two years before the
run: ids rise with receipt time as the intake writer draws them, ~1 % of orders still open (the chance an
order is open falls off with its age, plus a few stuck ones), realistic shares of type, channel, status,
late replies, district / department / category (skewed). Each order gets its case-file events (register,
dispatch, sign, reply, review, call-back, archive: as far as its status got), a few co-handlers and
upheld returns. Secondary indexes of ``orders`` and ``order_events`` are dropped for the load and rebuilt
from their migration definitions afterwards; then ``VACUUM ANALYZE`` and the dashboard's daily roll-ups,
built by the product's own ``analytics.rollups.refresh``.

Then the product's own code paths are timed (service functions, as the routes call them; no
hand-written SQL): the staff order list (first page, varied filters; a deep filtered page), the intake
console's dispatch queue, tracking by code + phone digits, a department's inbox (as ``/inbox`` reads
it), the deadline sweep (one period, rolled back), the dashboard's 7 / 30 / quarter / year views and
the supervisor board. For every path that misses its target, ``EXPLAIN (ANALYZE, BUFFERS)`` of each of
its statements is written next to the results.

Be kind to a shared machine: run it as ``nice -n 15`` (``--nice``: the same for PostgreSQL); every
PostgreSQL backend it opens is reniced to that as it connects, and any other backend on its database
(a parallel worker) as it is seen.

    nice -n 15 .venv/bin/python bench/scale10m.py --orders 10000000 [--reuse] [--repeat 30]
    nice -n 19 .venv/bin/python bench/scale10m.py --orders 10000000 --nice 19 --build-only --rollup-days 0

``--reuse`` skips the load (and the roll-ups already built) when the database already holds the rows
(``state.json`` in the results folder says so). ``--build-only`` stops before timing anything (to build
the database on a busy machine and time it on a quiet one); ``--rollup-days 0`` builds no roll-ups.
Results: ``/tmp/haoban_scale10m/results.md`` (+ ``explain.txt``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchutil import create_database, machine  # noqa: E402

from haoban.analytics import rollups  # noqa: E402
from haoban.analytics import service as analytics  # noqa: E402
from haoban.auth.actors import Actor  # noqa: E402
from haoban.config import Settings  # noqa: E402
from haoban.db import Database  # noqa: E402
from haoban.orders import presenters, queries, sweep  # noqa: E402
from haoban.runtime import Runtime  # noqa: E402
from haoban.wiring import runtime as wired_runtime  # noqa: E402

PG_ADMIN = os.environ.get("HAOBAN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_NAME = os.environ.get("HAOBAN_SCALE_DB", "haoban_bench_10m")
OUT = Path(os.environ.get("HAOBAN_SCALE_OUT", "/tmp/haoban_scale10m"))
CHUNK = 100_000
LOADERS = 2
DAYS = 730
NICE = 15

# Targets. The dashboard's is issue 12's (p50 ≤ 500 ms per range). No document states one for the
# list, queue, inbox or tracking pages: ≤ 200 ms p99 for an interactive page's queries is assumed
# here. The sweep runs in the background every minute: ≤ 1 s p99 assumed.
TARGETS = {"interactive": ("p99", 200.0), "dashboard": ("p50", 500.0), "sweep": ("p99", 1000.0)}

CONTENTS = [
    "小区门口的路灯坏了三天，晚上很黑，老人小孩出行很不方便，希望有关部门尽快派人修理。",
    "楼下餐馆油烟直排，每天中午和晚上油烟很大，窗户都不敢开，请环保部门来检查处理。",
    "我们小区附近工地夜间施工，凌晨两点还在打桩，噪音严重影响休息，请相关部门管一管。",
    "公交车站的站牌被撞坏了，一直没人修，外地人经常找不到站点，希望尽快恢复。",
    "单位拖欠我三个月工资共一万二千元，多次讨要无果，请劳动监察部门帮忙维权。",
    "咨询一下新生儿落户需要准备哪些材料，在哪里办理，能不能网上办。",
    "小区二次供水水质发黄，有异味，已经持续一周，物业不处理，请求帮助。",
    "路边占道经营的摊贩太多，人行道被堵住了，行人只能走机动车道，非常危险。",
    "建议在学校门口增设人行横道和减速带，上下学时段车辆太快，孩子过马路很危险。",
    "医保报销比例是多少，异地就医怎么备案，打了几个电话都没说清楚。",
]


def settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key="bench-secret-key-0123456789-abcdefghij")


def url_of(name: str) -> str:
    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def renice_backends(engine: Engine) -> None:
    """Renice every backend this engine opens (the load, the index builds and the timed queries), and
    every 10 s any other backend on the database (a parallel worker), for as long as the run lasts."""

    @event.listens_for(engine, "connect")
    def _renice(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
        cur.close()
        subprocess.run(["renice", "-n", str(NICE), "-p", str(pid)], capture_output=True, check=False)

    def _others() -> None:
        done: set[int] = set()
        while True:
            with engine.connect() as conn:
                pids = conn.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
                ).all()
            fresh = [str(p) for p in pids if p not in done]
            if fresh:
                subprocess.run(["renice", "-n", str(NICE), "-p", *fresh], capture_output=True, check=False)
                done.update(pids)
            time.sleep(10)

    threading.Thread(target=_others, name="renice", daemon=True).start()


def fresh_database(log: Callable[[str], None]) -> None:
    create_database(PG_ADMIN, PG_NAME)
    log(f"created database {PG_NAME} anew (dropped first if it existed)")


# ---------------------------------------------------------------------------------------------- load

ORDERS_SQL = """
INSERT INTO orders (
  id, code, channel, order_type, urgency, subject, content, citizen_name, citizen_phone, address,
  district_id, category_id, lead_department_id, status, received_at, created_at, updated_at,
  dispatched_at, signed_at, replied_at, closed_at, archived_at, clock_started_at, sign_started_at,
  sign_deadline, handle_deadline, deadline_provisional, sign_warn_at, handle_warn_at, sign_alert,
  handle_alert, dispatch_source, dispatch_confidence, reply_text, callback_result, redo_count,
  supervision_level, event_count, last_hash, version)
WITH base AS (
  SELECT g AS id,
         CAST(:t0 AS timestamptz) + ((g - 1) * :step + random() * :step) * interval '1 second' AS rec,
         random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
         random() AS r6, random() AS r7, random() AS r8, random() AS r9
  FROM generate_series(CAST(:lo AS int), CAST(:hi AS int)) AS g
), aged AS (
  SELECT b.*, extract(epoch FROM CAST(:now AS timestamptz) - rec)::float8 / 86400.0 AS age,
         CASE WHEN r4 < 0.33 THEN 'complaint' WHEN r4 < 0.58 THEN 'help' WHEN r4 < 0.75 THEN 'consult'
              WHEN r4 < 0.84 THEN 'report' WHEN r4 < 0.94 THEN 'suggestion' ELSE 'praise' END AS otype
  FROM base b
), st AS MATERIALIZED (
  SELECT a.*,
    CASE
      WHEN r1 < 0.03 THEN 'merged'
      WHEN r1 < 0.12 THEN 'answered'
      WHEN r1 < 0.125 THEN 'transferred'
      WHEN r2 < exp(-age / 6.0) OR r2 < 0.0005 THEN
        CASE WHEN age < 0.02 THEN CASE WHEN r3 < 0.5 THEN 'pending_dispatch' ELSE 'dispatched' END
             WHEN age < 1 THEN CASE WHEN r3 < 0.1 THEN 'pending_dispatch' WHEN r3 < 0.5 THEN 'dispatched'
                                    ELSE 'signed' END
             ELSE CASE WHEN r3 < 0.05 THEN 'dispatched' WHEN r3 < 0.08 THEN 'return_requested'
                       WHEN r3 < 0.68 THEN 'signed' WHEN r3 < 0.85 THEN 'replied' ELSE 'callback' END
        END
      WHEN age > 90 AND r3 < 0.85 THEN 'archived'
      WHEN age BETWEEN 30 AND 90 AND r3 < 0.3 THEN 'archived'
      ELSE 'closed'
    END AS status,
    rec + (CASE WHEN otype IN ('consult', 'help') THEN 4.2 ELSE 14.0 END)::float8 * interval '1 day'
      AS deadline
  FROM aged a
), t AS (
  SELECT s.*,
    status NOT IN ('pending_dispatch', 'answered', 'transferred', 'merged') AS dispatched,
    status IN ('replied', 'callback', 'closed', 'archived') AS replied,
    status IN ('closed', 'archived') AS finished,
    r5 < 0.08 AS late,
    rec + (deadline - rec) * 0.8 AS hwarn,
    rec + (5 + r6 * 55) * interval '1 minute' AS dat,
    CASE status WHEN 'pending_dispatch' THEN 1 WHEN 'answered' THEN 2 WHEN 'transferred' THEN 2
                WHEN 'merged' THEN 2 WHEN 'dispatched' THEN 2 WHEN 'return_requested' THEN 3
                WHEN 'signed' THEN 3 WHEN 'replied' THEN 4 WHEN 'callback' THEN 5 WHEN 'closed' THEN 6
                ELSE 7 END AS ec
  FROM st s
), u AS MATERIALIZED (
  SELECT t.*,
    CASE WHEN replied THEN least(rec + (deadline - rec) * (CASE WHEN late THEN 1.2 ELSE 0.1 + 0.85 * r7 END),
                                 rec + (CAST(:now AS timestamptz) - rec) * 0.9) END AS rat
  FROM t
)
SELECT
  id,
  'HB' || to_char(rec AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || lpad(id::text, 8, '0'),
  (ARRAY['phone','phone','phone','phone','phone','phone','web','app','wechat','window'])
    [1 + floor(r8 * 10)::int],
  otype,
  CASE WHEN r9 < 0.03 THEN 'urgent' ELSE 'normal' END,
  left((CAST(:contents AS text[]))[1 + (id % 10)], 20),
  (CAST(:contents AS text[]))[1 + (id % 10)] || ' (' || id || ')',
  CASE WHEN r6 < 0.7 THEN '市民' || (id % 997) END,
  '1' || (3 + floor(r9 * 7))::int || lpad(floor(random() * 1e9)::bigint::text, 9, '0'),
  CASE WHEN r7 < 0.6 THEN '衡阳市某区某路' || (id % 500) || '号' END,
  CASE WHEN r8 < 0.92 THEN (CAST(:districts AS int[]))[1 + floor(power(random(), 1.4) * :nd)::int] END,
  CASE WHEN r3 < 0.95 THEN (CAST(:categories AS int[]))[1 + floor(power(random(), 2.0) * :nc)::int] END,
  CASE WHEN dispatched THEN (CAST(:departments AS int[]))[1 + floor(power(random(), 2.0) * :np)::int] END,
  status, rec, rec,
  coalesce(CASE WHEN status = 'archived' THEN rat + interval '25 days'
                WHEN finished THEN rat + interval '1 day' END, rat, dat, rec),
  CASE WHEN dispatched THEN dat END,
  CASE WHEN dispatched AND status NOT IN ('dispatched', 'return_requested')
       THEN least(dat + (0.5 + 5.5 * r8) * interval '1 hour', coalesce(rat, CAST(:now AS timestamptz))) END,
  rat,
  CASE WHEN finished THEN rat + interval '1 day' END,
  CASE WHEN status = 'archived' THEN rat + interval '25 days' END,
  rec,
  CASE WHEN dispatched THEN dat END,
  CASE WHEN dispatched THEN dat + interval '1 day' END,
  deadline,
  false,
  CASE WHEN dispatched THEN dat + interval '0.8 day' END,
  hwarn,
  CASE WHEN status = 'dispatched' AND CAST(:now AS timestamptz) > dat + interval '1 day' THEN 'overdue'
       WHEN status = 'dispatched' AND CAST(:now AS timestamptz) > dat + interval '0.8 day' THEN 'warning' END,
  CASE WHEN NOT dispatched THEN NULL
       WHEN status IN ('dispatched', 'return_requested', 'signed', 'replied') THEN
         CASE WHEN CAST(:now AS timestamptz) > deadline THEN 'overdue'
              WHEN CAST(:now AS timestamptz) > hwarn THEN 'warning' END
       WHEN late THEN 'overdue'
       WHEN rat > hwarn THEN 'warning' END,
  CASE WHEN NOT dispatched THEN NULL WHEN r4 < 0.75 THEN 'rule' WHEN r4 < 0.85 THEN 'model' ELSE 'human' END,
  CASE WHEN dispatched THEN 0.5 + r5 * 0.5 END,
  CASE WHEN replied THEN '经核查，已安排人员处理，感谢您的反映。' END,
  CASE WHEN finished THEN CASE WHEN r9 < 0.8 THEN 'satisfied' WHEN r9 < 0.93 THEN 'basically_satisfied'
                               ELSE 'unsatisfied' END END,
  CASE WHEN r6 < 0.03 THEN 1 ELSE 0 END,
  CASE WHEN status IN ('dispatched', 'signed', 'return_requested') AND CAST(:now AS timestamptz) > deadline
       THEN 1 ELSE 0 END,
  ec,
  repeat(md5(id || '.' || ec), 2),
  1
FROM u
"""

# One row per step the order went through; a chain-shaped hash (not a real chain: nothing verifies it here).
EVENTS_SQL = """
INSERT INTO order_events (order_id, seq, action, actor_id, actor_name, actor_role, at, from_status,
                          to_status, payload, prev_hash, hash)
SELECT o.id, s.seq,
  CASE WHEN s.seq = 1 THEN 'register'
       WHEN o.status = 'answered' THEN 'answer'
       WHEN o.status = 'transferred' THEN 'transfer'
       WHEN o.status = 'merged' THEN 'merge'
       ELSE (ARRAY['register','dispatch','sign','reply','review_reply','callback','archive'])[s.seq] END,
  CASE WHEN s.seq = 1 THEN 2 ELSE 100 + (o.id % 50) END,
  CASE WHEN s.seq IN (3, 4) THEN '承办人' ELSE '话务员' END,
  CASE WHEN s.seq IN (3, 4) THEN 'handler' ELSE 'operator' END,
  CASE s.seq WHEN 1 THEN o.received_at
             WHEN 2 THEN coalesce(o.dispatched_at, o.received_at + interval '3 minutes')
             WHEN 3 THEN coalesce(o.signed_at, o.dispatched_at + interval '2 hours')
             WHEN 4 THEN coalesce(o.replied_at, o.signed_at)
             WHEN 5 THEN o.replied_at + interval '2 hours'
             WHEN 6 THEN coalesce(o.closed_at, o.replied_at + interval '1 day')
             ELSE o.archived_at END,
  CASE WHEN s.seq = 1 THEN NULL
       WHEN o.status IN ('answered', 'transferred', 'merged') THEN 'registered'
       ELSE (ARRAY['', 'pending_dispatch', 'dispatched', 'signed', 'replied', 'callback', 'closed'])[s.seq]
  END,
  CASE WHEN s.seq = 1
       THEN CASE WHEN o.status = 'pending_dispatch' THEN 'pending_dispatch' ELSE 'registered' END
       WHEN o.status IN ('answered', 'transferred', 'merged') THEN o.status
       WHEN o.status = 'return_requested' AND s.seq = 3 THEN 'return_requested'
       ELSE (ARRAY['', 'dispatched', 'signed', 'replied', 'callback', 'closed', 'archived'])[s.seq] END,
  '{"note":"' || CASE WHEN s.seq = 4 THEN '已处理' ELSE '' END || '"}',
  CASE WHEN s.seq = 1 THEN repeat('0', 64) ELSE repeat(md5(o.id || '.' || (s.seq - 1)), 2) END,
  repeat(md5(o.id || '.' || s.seq), 2)
FROM orders o CROSS JOIN LATERAL generate_series(1, o.event_count) AS s(seq)
WHERE o.id BETWEEN CAST(:lo AS int) AND CAST(:hi AS int)
"""

SIDE_SQL = [
    # A few co-handling departments (1 % of dispatched orders): the inbox's visibility looks at them.
    """INSERT INTO order_co_handlers (order_id, department_id)
       SELECT o.id, (CAST(:departments AS int[]))[1 + (o.id * 7 % :np)]
       FROM orders o WHERE o.id BETWEEN CAST(:lo AS int) AND CAST(:hi AS int)
         AND o.lead_department_id IS NOT NULL AND o.id % 100 = 0
         AND (CAST(:departments AS int[]))[1 + (o.id * 7 % :np)] <> o.lead_department_id""",
    # Upheld returns (4 % of dispatched orders): the dashboard's returned counts read them.
    """INSERT INTO dispatch_corrections (order_id, text, source, actor, chosen_department, at)
       SELECT o.id, o.subject, 'return', 'bench', 'cgj', o.dispatched_at + interval '5 hours'
       FROM orders o WHERE o.id BETWEEN CAST(:lo AS int) AND CAST(:hi AS int)
         AND o.lead_department_id IS NOT NULL AND o.id % 25 = 3""",
]

LOADED_TABLES = ("orders", "order_events")


def secondary_indexes(conn: Any) -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) of the plain indexes of the loaded tables (constraints stay)."""
    rows = conn.execute(
        text(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND i.tablename = ANY(:t)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
        ),
        {"t": list(LOADED_TABLES)},
    ).all()
    return [(r[0], r[1]) for r in rows]


def load(
    rt: Runtime, *, orders: int, now: datetime, minutes: float | None, log: Callable[[str], None]
) -> dict[str, float]:
    from haoban.demo.seed import seed_accounts, seed_directory, seed_rules

    rt.db.upgrade()
    seed_directory(rt)
    seed_rules(rt)
    seed_accounts(rt)
    d = rt.directory
    rng = random.Random(15)
    districts = [x.id for x in d.districts_by_id.values()]
    departments = [x.id for x in d.departments_by_id.values()]
    categories = [c.id for c in d.categories_by_id.values() if c.level == 3]
    for xs in (districts, departments, categories):
        rng.shuffle(xs)  # which ones the skew favours
    t0 = now - timedelta(days=DAYS)
    params: dict[str, Any] = {
        "t0": t0,
        "now": now,
        "step": DAYS * 86400 / orders,
        "contents": CONTENTS,
        "districts": districts,
        "nd": len(districts),
        "categories": categories,
        "nc": len(categories),
        "departments": departments,
        "np": len(departments),
    }
    timings: dict[str, float] = {}
    engine = rt.db.engine
    with engine.connect() as conn:
        indexes = secondary_indexes(conn)
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
        conn.commit()
    log(f"dropped {len(indexes)} secondary indexes for the load: {', '.join(n for n, _ in indexes)}")
    started = time.perf_counter()
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]

    def chunk(lo: int) -> int:
        hi = min(orders, lo + CHUNK - 1)
        p = {**params, "lo": lo, "hi": hi}
        with engine.connect() as conn:
            conn.exec_driver_sql("SET synchronous_commit = off")
            conn.exec_driver_sql("SET jit = off")  # compiling each chunk's statement costs more than it saves
            # Skip the per-row foreign-key triggers of the load (rows are consistent by construction).
            conn.exec_driver_sql("SET session_replication_role = replica")
            conn.execute(text(ORDERS_SQL), p)
            conn.execute(text(EVENTS_SQL), p)
            for sql in SIDE_SQL:
                conn.execute(text(sql), p)
            conn.commit()
        return hi - lo + 1

    # Two loaders (both niced): each takes whole chunks of ids, orders with their events, the newest
    # first, so that a load cut short by --load-minutes holds the most recent part of the series
    # (every open order, every recent day) rather than its oldest.
    deadline = time.monotonic() + minutes * 60 if minutes else None

    def guarded(lo: int) -> int:
        if deadline is not None and time.monotonic() > deadline:
            return 0
        return chunk(lo)

    with Progress(*columns) as progress, ThreadPoolExecutor(LOADERS) as pool:
        task = progress.add_task("orders + case-file events", total=orders)
        loaded = 0
        for done in pool.map(guarded, reversed(range(1, orders + 1, CHUNK))):
            loaded += done
            progress.advance(task, done)
            if done and loaded % 1_000_000 < CHUNK:
                log(f"  {loaded:,} orders loaded")
    log(
        f"loaded {loaded:,} of {orders:,} orders"
        + (" (cut short by --load-minutes)" if loaded < orders else "")
    )
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT setval('order_events_id_seq', (SELECT max(id) FROM order_events))")
        conn.exec_driver_sql("SELECT setval('orders_id_seq', (SELECT max(id) FROM orders))")
        conn.commit()
    timings["rows"] = time.perf_counter() - started
    log(f"rows loaded in {timings['rows']:.0f} s")
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        conn.exec_driver_sql("SET max_parallel_maintenance_workers = 0")
        with Progress(*columns) as progress:
            task = progress.add_task("indexes", total=len(indexes))
            for name, ddl in indexes:
                conn.exec_driver_sql(ddl)
                conn.commit()
                progress.advance(task)
                log(f"  built {name}")
    timings["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("orders", "order_events", "order_co_handlers", "dispatch_corrections"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    timings["analyze"] = time.perf_counter() - started
    return timings


def build_rollups(rt: Runtime, *, now: datetime, days: int | None = None) -> tuple[float, int]:
    """Every past day's roll-up (the newest ``days`` only, when given: the dashboard's longest range
    is a year), by the product's ``analytics.rollups.refresh`` (the job's code, newest day first)."""
    started = time.perf_counter()
    built = 0
    with Progress(
        TextColumn("roll-ups"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} days"),
        TimeElapsedColumn(),
    ) as progress:
        task = progress.add_task("roll-ups", total=None)
        while True:
            result = rollups.refresh(rt.db, now=now, limit=20)
            built += result.built
            progress.update(task, completed=built, total=built + result.pending)
            if not result.pending or (days is not None and built >= days):
                break
    return time.perf_counter() - started, built


# ------------------------------------------------------------------------------------------- measure


class Recorder:
    """Statements the engine runs while armed (for EXPLAIN of a path that misses its target)."""

    def __init__(self, engine: Engine) -> None:
        self.armed = False
        self.seen: list[tuple[str, Any]] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _seen(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
            if self.armed:
                self.seen.append((statement, parameters))


def percentile(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def timed(fn: Callable[[int], Any], repeat: int, budget: float) -> list[float]:
    """``repeat`` calls after one warm-up, fewer (at least 3) when they take longer than ``budget`` s."""
    fn(0)  # warm-up, as a page in use would be
    out: list[float] = []
    stop = time.perf_counter() + budget
    for i in range(1, repeat + 1):
        t0 = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t0) * 1000)
        if len(out) >= 3 and time.perf_counter() > stop:
            break
    return out


def measure(
    rt: Runtime, *, now: datetime, repeat: int, budget: float, only: list[str] | None = None
) -> list[dict[str, Any]]:
    from haoban.orders.models import Order
    from haoban.web.orders import INBOX_TABS, inbox_orders

    directory = rt.directory
    rng = random.Random(1515)
    operator = Actor(id=2, username="operator", name="话务员", role="operator")
    districts = sorted(directory.districts_by_id.values(), key=lambda x: x.code)
    departments = sorted(directory.departments_by_id.values(), key=lambda x: x.code)
    top = [c for c in directory.categories_by_id.values() if c.level == 1]
    with rt.db.read() as session:
        busiest = session.execute(
            text(
                "SELECT lead_department_id, count(*) FROM orders WHERE status IN "
                "('dispatched','signed','replied','return_requested') GROUP BY 1 ORDER BY 2 DESC"
            )
        ).all()
        # Track look-ups: codes spread over the two years (with their phone's last four digits).
        first, last = session.execute(text("SELECT min(id), max(id) FROM orders")).one()
        ids = [rng.randint(first, last) for _ in range(repeat * 4 + 1)]
        tracked = session.execute(
            text("SELECT code, right(citizen_phone, 4) FROM orders WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()
    big_dept = busiest[0][0]
    mid_dept = busiest[len(busiest) // 2][0]
    handlers = [
        Actor(id=None, username="h", name="承办人", role="handler", department_id=d)
        for d in (big_dept, mid_dept)
    ]
    statuses = [None, ["signed"], ["dispatched", "signed"], ["closed"], ["replied", "callback"]]

    def list_page(
        filters: queries.OrderFilter, *, page: int = 1, cursor: str | None = None, actor: Actor = operator
    ) -> None:
        # What GET /api/v1/orders does: the page, its capped total, and each row presented.
        with rt.db.read() as session:
            found = queries.page_orders(
                session, rt, actor=actor, filters=filters, page=page, cursor=cursor, page_size=20
            )
            [presenters.order_summary(o, rt, now=now) for o in found.rows]

    def staff_first(i: int) -> None:
        s = statuses[i % len(statuses)]
        extra: dict[str, Any] = {}
        if i % 3 == 1:
            extra["district"] = districts[i % len(districts)].code
        if i % 3 == 2:
            extra["department"] = departments[i % len(departments)].code
        list_page(queries.OrderFilter(status=s, **extra))

    def deep_filter(i: int) -> queries.OrderFilter:
        # One district's closed orders of one top-level category, newest first.
        return queries.OrderFilter(
            status=["closed", "archived"],
            district=districts[i % len(districts)].code,
            category=top[i % len(top)].code,
        )

    def deep_page(i: int) -> int:
        return 50 + (i * 37) % 200

    def cursor_at(stmt_filter: queries.OrderFilter, offset: int) -> str:
        """The cursor a client holds after following ``offset`` rows of next links (found untimed)."""
        with rt.db.read() as session:
            stmt = queries._filtered(rt, operator, stmt_filter, now)
            row = session.execute(
                stmt.with_only_columns(Order.received_at, Order.id)
                .order_by(Order.received_at.desc(), Order.id.desc())
                .offset(offset - 1)
                .limit(1)
            ).one()
        return queries.encode_cursor("newest", row, total=queries.TOTAL_CAP, exact=False)  # as page 1 said

    last_numbered = queries.last_numbered_page(20)

    def numbered_page(i: int) -> int:
        # Pages 2 to the last the API takes by number (50: the first 1,000 orders); deeper ones only
        # by cursor.
        return 2 + (i * 7) % (last_numbered - 1)

    def staff_deep_numbered(i: int) -> None:
        list_page(deep_filter(i), page=numbered_page(i))

    deep_cursors = [cursor_at(deep_filter(i), (deep_page(i) - 1) * 20) for i in range(repeat + 1)]
    unfiltered_cursors = [
        cursor_at(queries.OrderFilter(), (200 + (i * 131) % 4800) * 20) for i in range(repeat + 1)
    ]

    def staff_deep(i: int) -> None:
        list_page(deep_filter(i), cursor=deep_cursors[i % len(deep_cursors)])

    def staff_deep_unfiltered(i: int) -> None:
        list_page(queries.OrderFilter(), cursor=unfiltered_cursors[i % len(unfiltered_cursors)])

    def console_queue(i: int) -> None:
        # /console/queue's list: orders waiting for a dispatcher, oldest first.
        with rt.db.read() as session:
            rows, _total = queries.list_orders(
                session,
                rt,
                actor=operator,
                filters=queries.OrderFilter(status=["pending_dispatch", "registered"]),
                page=1 + i % 2,
                page_size=20,
                order="oldest",
            )
            [presenters.order_detail(o, rt, actor=operator, now=now) for o in rows]

    def track(i: int) -> None:
        code, last4 = tracked[i % len(tracked)]
        with rt.db.read() as session:
            queries.track(session, code=code, last4=last4)

    tabs = list(INBOX_TABS)

    def inbox_tab(actor: Actor, tab: str, cursor: str | None = None) -> None:
        # /inbox: the tab counts and overdue total, one tab's page (web.orders.inbox_orders).
        with rt.db.read() as session:
            found, _, _ = inbox_orders(session, rt, actor, tab=tab, page=1, cursor=cursor, now=now)
            [presenters.order_summary(o, rt, now=now) for o in found.rows]

    def inbox(i: int) -> None:
        inbox_tab(handlers[i % 2], tabs[i % len(tabs)])

    def inbox_all(i: int) -> None:
        inbox_tab(handlers[i % 2], "all")

    def all_cursor(actor: Actor, offset: int) -> str:
        with rt.db.read() as session:
            statuses_, _ = INBOX_TABS["all"]
            stmt = queries._filtered(rt, actor, queries.OrderFilter(status=statuses_), now)
            row = session.execute(
                stmt.with_only_columns(Order.received_at, Order.id)
                .order_by(Order.received_at.desc(), Order.id.desc())
                .offset(offset - 1)
                .limit(1)
            ).one()
        return queries.encode_cursor("newest", row, total=queries.TOTAL_CAP, exact=False)  # as page 1 said

    all_cursors = [all_cursor(handlers[i % 2], deep_page(i) * 20) for i in range(repeat + 1)]

    def inbox_all_deep(i: int) -> None:
        inbox_tab(handlers[i % 2], "all", cursor=all_cursors[i % len(all_cursors)])

    def sweep_once(i: int) -> None:
        # One period of the deadline sweep a minute after the load, rolled back so each run sees the same.
        session = rt.db.session()
        try:
            sweep.sweep(session, rt, now=now + timedelta(minutes=1 + i % 5))
            session.flush()
        finally:
            session.rollback()
            session.close()

    today = analytics.today_local(now)

    def dash(days: int, bucket: str) -> Callable[[int], None]:
        scope = analytics.scope_for_days(today - timedelta(days=days - 1), today)

        def run(_i: int) -> None:
            with rt.db.read() as session:
                analytics.dashboard(session, scope=scope, now=now, directory=directory, bucket=bucket)  # type: ignore[arg-type]

        return run

    def board(_i: int) -> None:
        with rt.db.read() as session:
            analytics.department_deadlines(session, now=now, directory=directory)

    paths: list[tuple[str, str, Callable[[int], None], int]] = [
        (
            "staff list, first page (status / district / department filters varied)",
            "interactive",
            staff_first,
            repeat,
        ),
        (
            "staff list, page 50–250 by cursor (district + category + closed)",
            "interactive",
            staff_deep,
            repeat,
        ),
        (
            f"staff list, page 2–{last_numbered} by number, the numbered pages' reach "
            "(district + category + closed)",
            "interactive",
            staff_deep_numbered,
            repeat,
        ),
        ("staff list, page 200–5,000 by cursor, unfiltered", "interactive", staff_deep_unfiltered, repeat),
        ("intake console queue (pending dispatch, oldest first)", "interactive", console_queue, repeat),
        ("track by code + phone digits", "interactive", track, repeat * 4),
        ("department inbox (counts, overdue total, one tab)", "interactive", inbox, repeat),
        ("department inbox, all tab, first page", "interactive", inbox_all, repeat),
        ("department inbox, all tab, page 50–250 by cursor", "interactive", inbox_all_deep, repeat),
        ("deadline sweep, one period (rolled back)", "sweep", sweep_once, max(5, repeat // 3)),
        ("dashboard, last 7 days by day", "dashboard", dash(7, "day"), max(5, repeat // 2)),
        ("dashboard, last 30 days by day (default)", "dashboard", dash(30, "day"), max(5, repeat // 2)),
        ("dashboard, a quarter by week", "dashboard", dash(91, "week"), max(5, repeat // 2)),
        ("dashboard, the year by month", "dashboard", dash(365, "month"), max(5, repeat // 2)),
        ("supervisor board: open orders by department", "dashboard", board, max(5, repeat // 2)),
    ]
    recorder = Recorder(rt.db.engine)
    results = []
    explain_lines: list[str] = []
    for label, kind, fn, n in paths:
        if only and not any(word in label for word in only):
            continue
        samples = timed(fn, n, budget)
        n = len(samples)
        stat, limit = TARGETS[kind]
        p50, p99 = statistics.median(samples), percentile(samples, 0.99)
        value = p50 if stat == "p50" else p99
        met = value <= limit
        results.append(
            {
                "path": label,
                "kind": kind,
                "n": n,
                "p50": p50,
                "p99": p99,
                "max": max(samples),
                "target": f"{stat} ≤ {limit:.0f} ms",
                "met": met,
            }
        )
        print(f"{label}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({'met' if met else 'MISSED'})", flush=True)
        if not met:
            recorder.seen.clear()
            recorder.armed = True
            fn(1)
            recorder.armed = False
            explain_lines.append(
                f"=== {label} (p50 {p50:.0f} ms, p99 {p99:.0f} ms; target {stat} ≤ {limit:.0f})"
            )
            with rt.db.engine.connect() as conn:
                for statement, parameters in recorder.seen:
                    if not statement.lstrip().upper().startswith("SELECT"):
                        continue
                    plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
                    explain_lines.append(statement)
                    explain_lines.append(f"-- parameters: {parameters}")
                    explain_lines += [r[0] for r in plan]
                    explain_lines.append("")
                conn.rollback()
    (OUT / "explain.txt").write_text("\n".join(explain_lines), encoding="utf-8")
    return results


def sizes() -> list[tuple[str, str, int]]:
    eng = create_engine(url_of(PG_NAME))
    with eng.connect() as conn:
        rows = conn.execute(
            text(
                """SELECT relname, pg_size_pretty(pg_total_relation_size(c.oid)),
                          (SELECT reltuples::bigint FROM pg_class WHERE oid = c.oid)
                   FROM pg_class c WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace
                   ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 8"""
            )
        ).all()
        db = conn.scalar(text("SELECT pg_size_pretty(pg_database_size(current_database()))"))
    eng.dispose()
    return [(r[0], r[1], int(r[2])) for r in rows] + [("(database)", db, 0)]


def main() -> None:
    global NICE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--rollup-days", type=int, default=None, help="build only the newest N days' roll-ups")
    ap.add_argument("--load-minutes", type=float, default=None, help="stop loading after this long")
    ap.add_argument("--paths", nargs="*", help="time only the paths whose label contains one of these words")
    ap.add_argument("--path-seconds", type=float, default=90, help="stop repeating one path after this long")
    ap.add_argument("--nice", type=int, default=NICE, help="niceness of every PostgreSQL backend of the run")
    ap.add_argument("--build-only", action="store_true", help="load (and roll-ups), then stop: time nothing")
    args = ap.parse_args()
    NICE = args.nice
    OUT.mkdir(parents=True, exist_ok=True)
    logfile = (OUT / "log.txt").open("a", encoding="utf-8")

    def log(msg: str) -> None:
        line = f"{datetime.now(UTC):%H:%M:%S} {msg}"
        print(line, flush=True)
        logfile.write(line + "\n")
        logfile.flush()

    load_before = os.getloadavg()
    log(f"start: load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    url = url_of(PG_NAME)
    state = OUT / "state.json"
    info: dict[str, Any] = json.loads(state.read_text()) if args.reuse and state.exists() else {}
    if not info.get("loaded"):
        fresh_database(log)
        now = datetime.now(UTC).replace(microsecond=0)
        info = {"now": now.isoformat(), "orders": args.orders}
    now = datetime.fromisoformat(info["now"])
    db = Database(url)
    renice_backends(db.engine)
    rt = wired_runtime(db, settings(url))
    if not info.get("loaded"):
        log(f"loading {args.orders:,} orders received over the {DAYS} days before {now.isoformat()}")
        info["load"] = load(rt, orders=args.orders, now=now, minutes=args.load_minutes, log=log)
        info["loaded"] = True
        state.write_text(json.dumps(info))
    rt.db.upgrade()  # indexes of later migrations on a reused database
    if args.rollup_days != 0:
        seconds, days = build_rollups(rt, now=now, days=args.rollup_days)
        info.setdefault("rollups", []).append([seconds, days])
        state.write_text(json.dumps(info))
        log(f"roll-ups: {days} days built in {seconds:.0f} s")
    # Statistics of the freshly filled roll-up tables, as autovacuum would gather them soon after: with
    # none, the planner took the year's mix for one row and sorted it on disk.
    with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("dashboard_daily", "dashboard_daily_mix", "dashboard_monthly_mix", "dashboard_days"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    with rt.db.read() as session:
        counts = dict(session.execute(text("SELECT status, count(*) FROM orders GROUP BY 1")).all())
        events = session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'order_events'"))
    log(f"orders by status: {counts}; events ≈ {events:,}")
    if args.build_only:
        log(f"built {PG_NAME} (state: {state}); nothing timed (--build-only)")
        rt.db.dispose()
        return
    load_mid = os.getloadavg()
    results = measure(rt, now=now, repeat=args.repeat, budget=args.path_seconds, only=args.paths)
    load_after = os.getloadavg()
    table = sizes()
    lines = [
        f"Machine: {machine()}. Run {now:%Y-%m-%d} (data's now {now:%H:%M} UTC), measured "
        f"{datetime.now(UTC):%H:%M} UTC.",
        f"Command: `nice -n {NICE} .venv/bin/python bench/scale10m.py --orders {args.orders} "
        f"--repeat {args.repeat}"
        f"{' --reuse' if args.reuse else ''}` (every PostgreSQL backend reniced to {NICE}).",
        f"Load average (1 min): {load_before[0]:.2f} at start, {load_mid[0]:.2f} before timing, "
        f"{load_after[0]:.2f} after.",
        f"Load: {json.dumps(info.get('load', {}))} s; roll-ups: {info.get('rollups', [])} (s, days).",
        f"Orders by status: {json.dumps(counts)}; events ≈ {events:,}.",
        "",
        "| table | size | rows |",
        "|---|---:|---:|",
        *[f"| {n} | {s} | {r:,} |" for n, s, r in table],
        "",
        "| path | calls | p50 ms | p99 ms | max ms | target | |",
        "|---|---:|---:|---:|---:|---|---|",
        *[
            f"| {r['path']} | {r['n']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['target']} | "
            f"{'met' if r['met'] else '**missed**'} |"
            for r in results
        ],
    ]
    (OUT / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (OUT / "results.json").write_text(json.dumps({"info": info, "results": results}, default=str))
    print("\n".join(lines))
    rt.db.dispose()


if __name__ == "__main__":
    main()
