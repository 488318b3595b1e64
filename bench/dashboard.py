"""Dashboard benchmark: 1,000,000 synthetic orders over a year, then the dashboard data's latency.

Rows are bulk-inserted with SQLAlchemy Core in batches (not through the API) into a fresh SQLite file
and a fresh PostgreSQL database, migrated and seeded with the demo directory. Then the dashboard's
data (``analytics.service.dashboard``: KPIs, trend, category / district / channel mixes) is computed
repeatedly for the default view (the last 30 days), a quarter by week, and the whole year by month,
plus the supervisor board's per-department deadline counts; p50 / p95 are reported per view.

    .venv/bin/python bench/dashboard.py --orders 1000000 --db sqlite postgresql [--repeat 15] [--write]

``--write`` replaces the "## Dashboard" section of bench/RESULTS.md (other sections are kept).
``--keep`` leaves the databases for inspection; ``--reuse`` skips loading when they already hold rows.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from benchutil import create_database, machine  # noqa: E402

from haoban.analytics import rollups  # noqa: E402
from haoban.analytics import service as analytics  # noqa: E402
from haoban.config import Settings  # noqa: E402
from haoban.db import Database  # noqa: E402
from haoban.dispatch.models import DispatchCorrection  # noqa: E402
from haoban.orders.models import Order, OrderDayMark  # noqa: E402
from haoban.runtime import Runtime  # noqa: E402
from haoban.wiring import runtime as wired_runtime  # noqa: E402

PG_ADMIN = os.environ.get("HAOBAN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_NAME = "haoban_bench_dashboard"
SQLITE_PATH = Path(os.environ.get("HAOBAN_BENCH_SQLITE", "/tmp/haoban_bench_dashboard.db"))
BATCH = 20_000
CHANNELS = ["phone"] * 6 + ["web", "app", "wechat", "window"]
TYPES = ["complaint"] * 4 + ["help"] * 3 + ["consult"] * 2 + ["report", "suggestion", "praise"]
# status → share (roughly a year of a real centre: most orders finished)
STATUSES = [
    ("archived", 30),
    ("closed", 42),
    ("callback", 3),
    ("replied", 2),
    ("signed", 6),
    ("dispatched", 2),
    ("return_requested", 0.5),
    ("pending_dispatch", 1),
    ("answered", 8),
    ("transferred", 1),
    ("merged", 3),
]
CONTENT = (
    "小区门口的路灯坏了三天，晚上很黑，老人小孩出行很不方便，希望有关部门尽快派人修理。"
    "另外附近的下水道也有异味，夏天尤其严重，请一并处理。"
)


def settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key="bench-secret-key-0123456789-abcdefghij")


def fresh(kind: str) -> str:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    return create_database(PG_ADMIN, PG_NAME)


def existing(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    return make_url(PG_ADMIN).set(database=PG_NAME).render_as_string(hide_password=False)


def load(rt: Runtime, *, orders: int, now: datetime, seed: int = 12345) -> float:
    """Bulk-insert ``orders`` synthetic orders received over the 365 days before ``now``."""
    from haoban.demo.seed import seed_accounts, seed_directory, seed_rules

    rt.db.upgrade()
    seed_directory(rt)
    seed_rules(rt)
    seed_accounts(rt)
    d = rt.directory
    rng = random.Random(seed)
    dept_ids = [x.id for x in d.departments_by_id.values()]
    district_ids = [x.id for x in d.districts_by_id.values()]
    cat_ids = [c.id for c in d.categories_by_id.values() if c.level == 3] or [None]
    names, weights = zip(*STATUSES, strict=True)
    started = time.perf_counter()
    year = timedelta(days=365).total_seconds()
    order_table = Order.__table__
    corr_table = DispatchCorrection.__table__
    # Orders arrive in time order, as they do in a real centre (ids and codes follow receipt).
    offsets = sorted((rng.random() * year for _ in range(orders)), reverse=True)
    made = 0
    while made < orders:
        n = min(BATCH, orders - made)
        rows: list[dict[str, Any]] = []
        corrections: list[dict[str, Any]] = []
        for i in range(n):
            oid = made + i + 1
            received = now - timedelta(seconds=offsets[oid - 1])
            status = rng.choices(names, weights)[0]
            order_type = rng.choice(TYPES)
            days = 3 if order_type in ("consult", "help") else 13
            deadline = received + timedelta(days=days * 7 / 5)
            dispatched = status not in ("pending_dispatch", "answered", "transferred")
            finished = status in ("closed", "archived")
            replied = finished or status in ("replied", "callback")
            late = rng.random() < 0.08
            replied_at = (
                received + (deadline - received) * (1.2 if late else rng.uniform(0.1, 0.95))
                if replied
                else None
            )
            callback = None
            if finished or status == "callback":
                r = rng.random()
                callback = "satisfied" if r < 0.8 else ("basically_satisfied" if r < 0.93 else "unsatisfied")
            rows.append(
                {
                    "id": oid,
                    "code": f"HB{received.strftime('%Y%m%d')}{oid:07d}",
                    "channel": rng.choice(CHANNELS),
                    "order_type": order_type,
                    "urgency": "urgent" if rng.random() < 0.03 else "normal",
                    "subject": CONTENT[:20],
                    "content": CONTENT,
                    "citizen_phone": f"138{rng.randrange(10**8):08d}",
                    "district_id": rng.choice(district_ids) if rng.random() < 0.9 else None,
                    "category_id": rng.choice(cat_ids) if rng.random() < 0.95 else None,
                    "lead_department_id": rng.choice(dept_ids) if dispatched else None,
                    "status": status,
                    "received_at": received,
                    "created_at": received,
                    "updated_at": replied_at or received,
                    "dispatched_at": received + timedelta(minutes=5) if dispatched else None,
                    "signed_at": received + timedelta(hours=3) if replied else None,
                    "replied_at": replied_at,
                    "closed_at": replied_at + timedelta(days=1) if finished and replied_at else None,
                    "clock_started_at": received,
                    "handle_deadline": deadline,
                    "handle_warn_at": received + (deadline - received) * 0.8,
                    "deadline_provisional": False,
                    "dispatch_source": "rule" if rng.random() < 0.75 else "human",
                    "dispatch_confidence": 1.0,
                    "callback_result": callback,
                    "redo_count": 1 if rng.random() < 0.03 else 0,
                    "supervision_level": 0,
                    "event_count": 0,
                    "last_hash": "",
                    "version": 1,
                }
            )
            if dispatched and rng.random() < 0.04:
                corrections.append(
                    {
                        "order_id": oid,
                        "text": CONTENT[:20],
                        "source": "return",
                        "actor": "bench",
                        "chosen_department": "cgj",
                        "at": received + timedelta(hours=5),
                    }
                )
        with rt.db.engine.begin() as conn:
            conn.execute(insert(order_table), rows)
            if corrections:
                conn.execute(insert(corr_table), corrections)
        made += n
        print(f"\r  loaded {made:,} / {orders:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    with rt.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if rt.db.is_sqlite:
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("VACUUM ANALYZE orders")
            conn.exec_driver_sql("VACUUM ANALYZE dispatch_corrections")
    return time.perf_counter() - started


def timed(fn: Any, repeat: int) -> tuple[float, float, float]:
    fn()  # warm the caches once, as a dashboard in use would be
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95, samples[-1]


def build_rollups(rt: Runtime, *, now: datetime) -> tuple[float, int]:
    """Build every past day's roll-up (what the ``analytics.rollups`` job does over its runs)."""
    started = time.perf_counter()
    built = 0
    while True:
        result = rollups.refresh(rt.db, now=now, limit=1000)
        built += result.built
        if not result.pending:
            break
    return time.perf_counter() - started, built


def mark_recent(rt: Runtime, *, now: datetime, days: int) -> None:
    """Mark the last ``days`` days before today as changed since their build (what late replies and
    call-backs on recent orders do between two runs of the job): they are then read from the rows."""
    today = analytics.today_local(now)
    with rt.db.write() as session:
        session.execute(
            insert(OrderDayMark.__table__), [{"day": today - timedelta(days=i)} for i in range(1, days + 1)]
        )


def measure(rt: Runtime, *, now: datetime, repeat: int) -> tuple[list[tuple[str, float, float, float]], str]:
    directory = rt.directory
    today = analytics.today_local(now)
    district = sorted(directory.districts_by_id.values(), key=lambda x: x.code)[0].id
    department = sorted(directory.departments_by_id.values(), key=lambda x: x.code)[0].id
    year = today - timedelta(days=364)
    views = [
        ("last 7 days, by day", analytics.scope_for_days(today - timedelta(days=6), today), "day"),
        (
            "default view: last 30 days, by day",
            analytics.scope_for_days(today - timedelta(days=29), today),
            "day",
        ),
        ("a quarter (91 days), by week", analytics.scope_for_days(today - timedelta(days=90), today), "week"),
        ("the whole year (365 days), by month", analytics.scope_for_days(year, today), "month"),
        (
            "the whole year, one district, by month",
            analytics.scope_for_days(year, today, district_id=district),
            "month",
        ),
        (
            "the whole year, one department, by month",
            analytics.scope_for_days(year, today, department_id=department),
            "month",
        ),
    ]
    out = []
    for label, scope, bucket in views:

        def run(scope: analytics.Scope = scope, bucket: str = bucket) -> None:
            with rt.db.read() as session:
                analytics.dashboard(session, scope=scope, now=now, directory=directory, bucket=bucket)  # type: ignore[arg-type]

        out.append((label, *timed(run, repeat)))

    mark_recent(rt, now=now, days=14)
    scope = analytics.scope_for_days(year, today)

    def changed() -> None:
        with rt.db.read() as session:
            analytics.dashboard(session, scope=scope, now=now, directory=directory, bucket="month")

    out.append(("the whole year, the last 14 days changed since their build", *timed(changed, repeat)))
    rebuild, days = build_rollups(rt, now=now)
    note = f"Rebuilding the {days} changed days afterwards took {rebuild * 1000:.0f} ms in all."

    def board() -> None:
        with rt.db.read() as session:
            analytics.department_deadlines(session, now=now, directory=directory)

    out.append(("supervisor board: open orders by department", *timed(board, repeat)))
    return out, note


def write_results(section: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text_ = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    begin, end = "<!-- BEGIN dashboard -->", "<!-- END dashboard -->"
    block = f"{begin}\n{section.rstrip()}\n{end}\n"
    if begin in text_ and end in text_:
        head, rest = text_.split(begin, 1)
        text_ = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text_ = text_.rstrip("\n") + "\n\n" + block
    path.write_text(text_, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--db", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args()
    now = datetime.now(UTC)
    lines = [
        "## Dashboard (`bench/dashboard.py`)",
        "",
        f"Machine: {machine()}. Run on {now.date().isoformat()}.",
        f"Command: `.venv/bin/python bench/dashboard.py --orders {args.orders} --db {' '.join(args.db)} "
        f"--repeat {args.repeat}{' --write' if args.write else ''}`.",
        "",
        f"{args.orders:,} synthetic orders received over the 365 days before the run (statuses in realistic "
        "shares, 4 % of dispatched orders with an upheld return), bulk-inserted with SQLAlchemy Core in "
        f"batches of {BATCH:,}. Each view computes the whole dashboard payload (7 KPIs and volumes, "
        "the trend, category / district / channel mixes) in one read session; times are wall-clock "
        "in the process, "
        f"after one warm-up, over {args.repeat} runs. Target: p50 ≤ 500 ms for every range on both "
        "databases. Whole past days are read from the daily roll-ups (built first, by the same code as "
        "the `analytics.rollups` job), today and days changed since their build from the order rows.",
        "",
    ]
    for kind in args.db:
        url = existing(kind) if args.reuse else fresh(kind)
        rt = wired_runtime(Database(url), settings(url))
        count = 0
        if args.reuse:
            try:
                with rt.db.read() as session:
                    count = session.scalar(select(func.count()).select_from(Order)) or 0
            except Exception:
                count = 0
        if count < args.orders:
            if args.reuse:
                rt.db.dispose()
                url = fresh(kind)
                rt = wired_runtime(Database(url), settings(url))
            print(f"{kind}: loading {args.orders:,} orders", file=sys.stderr)
            seconds = load(rt, orders=args.orders, now=now)
            load_note = f"load {seconds:.0f} s ({args.orders / seconds:,.0f} rows/s)"
        else:
            load_note = f"reused {count:,} rows"
        rt.db.upgrade()  # indexes from later migrations, when the database was reused
        load_avg = os.getloadavg()
        seconds, days = build_rollups(rt, now=now)
        load_note += f"; roll-ups of {days} days built in {seconds:.1f} s"
        results, note = measure(rt, now=now, repeat=args.repeat)
        load_note += f"; load average {load_avg[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
        lines += [
            f"### {kind} ({load_note})",
            "",
            "| view | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        lines += [f"| {label} | {p50:.0f} | {p95:.0f} | {mx:.0f} |" for label, p50, p95, mx in results]
        lines += ["", note, ""]
        rt.db.dispose()
        if not args.keep and kind == "sqlite" and not args.reuse:
            pass  # the file stays for --reuse; it is in /tmp
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_results(section)


if __name__ == "__main__":
    main()
