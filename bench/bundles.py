"""End-to-end benchmark of “一件事” applications on the database: ``python bench/bundles.py [--db URL]``.

N newborn applications (default 10,000) are submitted through ``applications.service.submit`` and
driven to completion as the departments would: each ready task accepted, then approved with its
result (issuing its electronic licence; 户口登记 announces the birth to 免申即享), until the bundle
ends with its delivery. Every call is its own write transaction, as over the API. ``--workers``
processes (default 2, one per core) share the applications.

Reported: applications/s end to end, the engine's time per task transition (p50/p99, from
``Outcome.engine_seconds``: SpiffWorkflow's work for the call, without loading and storing the
state), the time of each service call, SQL statements and write transactions per application, the
worker processes' CPU time per application, and database rows and bytes per application. Targets
(issue 11): ≤ 5 ms engine time per transition at p99; 10,000 applications in ≤ 5 minutes on 2 cores.
Unless ``--n`` is 10,000 the 10,000 figure is a linear extrapolation of the measured rate, said so.

Every write transaction is a durable commit (SQLite ``synchronous=FULL``, PostgreSQL
``synchronous_commit=on``), and an application takes 13 of them (submit, then accept and approve for
each of six tasks; with ``--bulk N`` each department accepts, then approves, the pending tasks of N
applications in one transaction each: three rounds, six department-rounds, so 1 + 12/N per
application), so the disk's flush rate bounds the run: before each run a probe times durable
commits of one writer on the database's own file system (SQLite) or server (PostgreSQL), and the
report states the ceiling that gives.
SQLite by default (a fresh file); ``--db postgresql+psycopg://…/postgres`` makes a fresh database.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from queue import Empty
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchutil import create_database, drop_database, machine, write_section  # noqa: E402
from sqlalchemy import create_engine, event, select, text  # noqa: E402

from haoban.config import Settings  # noqa: E402
from haoban.db import Database  # noqa: E402
from haoban.runtime import Runtime  # noqa: E402
from haoban.wiring import runtime as wired_runtime  # noqa: E402

SECTION = "bundles"
# Tables an application writes to (its own, and what its approvals issue and announce).
TABLES = (
    "applications",
    "application_tasks",
    "application_events",
    "application_materials",
    "application_deliveries",
    "licences",
    "outbox",
    "licence_uses",
)
HANDLERS = {
    "birth_certificate": "wjw",
    "vaccination": "wjw",
    "hukou": "gaj",
    "social_security_card": "rsj",
    "insurance_enrolment": "ybj",
    "insurance_payment": "tax",
}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, secret_key="bench-secret-key-0123456789-0123456789-abc")


def fresh_database(url: str | None) -> tuple[str, Any]:
    """A migrated database with the demo directory, accounts, catalogue and the shipped bundles."""
    from haoban.applications import registry
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.demo.seed import seed_accounts, seed_catalog, seed_directory, seed_rules

    cleanup = None
    if url is None or url == "sqlite":
        tmp = tempfile.mkdtemp(prefix="haoban-bench-bundles-")
        url = f"sqlite:///{tmp}/bench.db"
    elif url.startswith("postgresql"):
        admin_url, name = url, f"haoban_bench_{uuid.uuid4().hex[:8]}"
        url = create_database(admin_url, name)

        def cleanup() -> None:
            drop_database(admin_url, name)

    rt = wired_runtime(Database(url), settings_for(url))
    rt.db.upgrade()
    seed_directory(rt)
    seed_rules(rt)
    seed_accounts(rt)
    seed_catalog(rt, full=False)
    with rt.db.write() as session:
        registry.install_shipped(session, rt, actor=SYSTEM_ACTOR)
    rt.db.dispose()
    return url, cleanup


@functools.cache
def _example() -> dict[str, Any]:
    from haoban.bundles.definitions import shipped_example

    return shipped_example("newborn")


def application(n: int) -> tuple[dict[str, Any], dict[str, dict[str, Any]], str]:
    """The worked example, made unique: the n-th baby (born on its own day, its own ID number)."""
    from haoban.benefits.demo import id_number

    example = _example()
    born = date(2026, 11, 28) - timedelta(days=n // 400)
    child = id_number(born, n % 2 == 0, (n % 400) + 50)
    form = example["form"]
    form = {
        **form,
        "baby": {
            **form["baby"],
            "sex": "male" if n % 2 == 0 else "female",
            "born_at": f"{born.isoformat()}T08:30:00+08:00",
            "name": f"王小禾{n}",
        },
    }
    results = {k: dict(v) for k, v in example["results"].items()}
    results["hukou"]["citizen_id_number"] = child
    phone = f"138{n % 100_000_000:08d}"
    form["contact"] = {"phone": phone}
    return form, results, phone


def work(url: str, numbers: list[int], queue: Any, bulk: int = 0) -> None:
    """One worker: submit and finish ``numbers`` applications; send back timings.

    ``bulk`` > 0: the departments work as a busy one does — every ``bulk`` submissions, each department
    accepts its pending tasks of those applications in one bulk action (one transaction) and approves
    them in another (``applications.bulk.act_many``), until the applications end.
    """
    from haoban.applications import service
    from haoban.applications.materials import Upload
    from haoban.auth.actors import CITIZEN_ACTOR, Actor
    from haoban.auth.models import User
    from haoban.auth.roles import Role

    rt: Runtime = wired_runtime(Database(url), settings_for(url))
    counts = {"statements": 0, "commits": 0}

    def on_statement(*_args: Any) -> None:
        counts["statements"] += 1

    def on_commit(*_args: Any) -> None:
        counts["commits"] += 1

    # CPU time inside write transactions (first statement to commit): on SQLite the write lock is held
    # through all of it, so it is what the workers cannot do side by side.
    locked = {"cpu": 0.0}
    began: dict[int, float] = {}

    def on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("sqlite_immediate"):
            began[id(conn)] = time.process_time()

    def on_end(conn: Any) -> None:
        started = began.pop(id(conn), None)
        if started is not None:
            locked["cpu"] += time.process_time() - started

    event.listen(rt.db.engine, "before_cursor_execute", on_statement)
    event.listen(rt.db.engine, "commit", on_commit)
    event.listen(rt.db.engine, "begin", on_begin)
    event.listen(rt.db.engine, "commit", on_end)
    event.listen(rt.db.engine, "rollback", on_end)
    with rt.db.read() as session:
        users = {u.username: u for u in session.scalars(select(User))}
    actors = {
        task: Actor(
            id=users[f"h_{dept}"].id,
            username=f"h_{dept}",
            name=users[f"h_{dept}"].display_name,
            role=Role.HANDLER,
            department_id=rt.directory.department(dept).id,
        )
        for task, dept in HANDLERS.items()
    }
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    engine_s: list[float] = []
    engine_cpu: list[float] = []
    cpu_started = time.process_time()
    calls: dict[str, list[float]] = {"submit": [], "accept": [], "approve": []}
    start_at = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    measured = 0
    by_code: dict[str, dict[str, Any]] = {}  # bulk: the submitted, unfinished applications' results

    def submit(n: int) -> tuple[str, str, dict[str, Any], datetime]:
        form, results, phone = application(n)
        uploads = {
            "parents_id_cards": Upload("parents_id_cards", "身份证.pdf", pdf + str(n).encode()),
            "household_register": Upload("household_register", "户口簿.pdf", pdf + b"h" + str(n).encode()),
        }
        now = start_at + timedelta(seconds=n)
        t0 = time.perf_counter()
        with rt.db.write() as session:
            app, outcome = service.submit(
                session,
                rt,
                bundle="newborn",
                form=form,
                applicant=service.Applicant("李娟", phone, "430405199001011233"),
                actor=CITIZEN_ACTOR,
                uploads=uploads,
                now=now,
            )
            code = app.code
        calls["submit"].append(time.perf_counter() - t0)
        engine_s.append(outcome.engine_seconds)
        engine_cpu.append(outcome.engine_cpu_seconds)
        return code, outcome.status, results, now

    def pending_of(codes: list[str]) -> list[tuple[str, str]]:
        from haoban.applications.models import Application, ApplicationTask

        with rt.db.read() as session:
            return [
                (c, t)
                for c, t in session.execute(
                    select(Application.code, ApplicationTask.task_id)
                    .join(Application, Application.id == ApplicationTask.application_id)
                    .where(Application.code.in_(codes), ApplicationTask.status == "pending")
                    .order_by(ApplicationTask.id)
                ).all()
            ]

    def drive_in_bulk(now: datetime) -> None:
        """Every department finishes its pending tasks of ``by_code`` in two bulk actions per round."""
        from haoban.applications import bulk as bulk_actions

        while by_code:
            pending = pending_of(list(by_code))
            if not pending:
                break
            now += timedelta(minutes=7)
            depts: dict[str, list[tuple[str, str]]] = {}
            for code, task_id in pending:
                depts.setdefault(HANDLERS[task_id], []).append((code, task_id))
            for tasks in depts.values():
                actor = actors[tasks[0][1]]
                for action in ("accept", "approve"):
                    items = [
                        bulk_actions.BulkItem(c, t, by_code[c][t] if action == "approve" else None)
                        for c, t in tasks
                    ]
                    t0 = time.perf_counter()
                    with rt.db.write() as session:
                        outcomes = bulk_actions.act_many(
                            session, rt, action=action, items=items, actor=actor, now=now
                        )
                    calls[action].append((time.perf_counter() - t0) / len(items))
                    if action == "approve":
                        engine_s.extend(o.engine_seconds for o in outcomes)
                        engine_cpu.extend(o.engine_cpu_seconds for o in outcomes)
                        for o in outcomes:
                            if o.status != "running":
                                if o.status != "completed":
                                    raise SystemExit(f"application {o.code} ended {o.status}")
                                by_code.pop(o.code, None)

    batch_start = start_at
    for i, n in enumerate(numbers):
        if i == 1:  # the first application warms the process up (definitions parsed, caches filled)
            cpu_started = time.process_time()
            counts.update(statements=0, commits=0)
            locked["cpu"] = 0.0
            # ... and its calls are not in the figures either.
            engine_s.clear()
            engine_cpu.clear()
            for timings in calls.values():
                timings.clear()
        measured += i >= 1
        code, status, results, now = submit(n)
        if bulk:
            by_code[code] = results
            batch_start = max(batch_start, now)
            # The warm-up application alone, then batches of ``bulk``.
            if i == 0 or len(by_code) >= bulk or i == len(numbers) - 1:
                drive_in_bulk(batch_start)
            continue
        while status == "running":
            with rt.db.read() as session:
                from haoban.applications.models import Application, ApplicationTask

                pending = session.scalars(
                    select(ApplicationTask.task_id)
                    .join(Application, Application.id == ApplicationTask.application_id)
                    .where(Application.code == code, ApplicationTask.status == "pending")
                    .order_by(ApplicationTask.id)
                ).all()
            if not pending:
                break
            for task_id in pending:
                now += timedelta(minutes=7)
                for action, data in (
                    ("accept", service.TaskAction()),
                    ("approve", service.TaskAction(result=results[task_id])),
                ):
                    t0 = time.perf_counter()
                    # As the API, the CLI and the staff pages do it (one action, its own transaction).
                    outcome = service.act_alone(
                        rt,
                        code=code,
                        task_id=task_id,
                        action=action,
                        data=data,
                        actor=actors[task_id],
                        now=now,
                    )
                    calls[action].append(time.perf_counter() - t0)
                    if action == "approve":
                        engine_s.append(outcome.engine_seconds)
                        engine_cpu.append(outcome.engine_cpu_seconds)
                status = outcome.status
        if status != "completed":
            raise SystemExit(f"application {code} ended {status}")
    if by_code:
        raise SystemExit(f"{len(by_code)} applications did not finish")
    rt.db.dispose()
    queue.put(
        {
            "engine": engine_s,
            "engine_cpu": engine_cpu,
            "calls": calls,
            "cpu": time.process_time() - cpu_started,
            "locked_cpu": locked["cpu"],
            "measured": measured,
            "statements": counts["statements"],
            "commits": counts["commits"],
        }
    )


def footprint(url: str) -> tuple[dict[str, int], int]:
    """Rows per table and the bytes the application tables take."""
    eng = create_engine(url)
    rows: dict[str, int] = {}
    with eng.connect() as conn:
        for table in TABLES:
            rows[table] = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        if url.startswith("sqlite"):
            try:
                size = sum(
                    conn.execute(
                        text("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :t"), {"t": t}
                    ).scalar_one()
                    for t in TABLES
                )
            except Exception:  # SQLite built without dbstat: the whole file
                pages = conn.execute(text("PRAGMA page_count")).scalar_one()
                size = pages * conn.execute(text("PRAGMA page_size")).scalar_one()
        else:
            size = sum(
                conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": t}).scalar_one() for t in TABLES
            )
    eng.dispose()
    return rows, size


def durable_commits_per_s(url: str, count: int = 200) -> float:
    """One writer's durable commits per second on this database's storage, now (a scratch table)."""
    eng = Database(url).engine
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE bench_commit_probe (n INTEGER)"))
    started = time.perf_counter()
    for i in range(count):
        with eng.begin() as conn:
            conn.execute(text("INSERT INTO bench_commit_probe (n) VALUES (:n)"), {"n": i})
    rate = count / (time.perf_counter() - started)
    with eng.begin() as conn:
        conn.execute(text("DROP TABLE bench_commit_probe"))
    eng.dispose()
    return rate


def run(url: str | None, n: int, workers: int, bulk: int = 0) -> tuple[str, dict[str, Any]]:
    db_url, cleanup = fresh_database(url)
    commit_rate = durable_commits_per_s(db_url)
    backend = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    rows_before, bytes_before = footprint(db_url)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    load_before = os.getloadavg()
    wall = time.perf_counter()
    procs = [
        ctx.Process(target=work, args=(db_url, list(range(w, n, workers)), queue, bulk))
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    parts: list[dict[str, Any]] = []
    while len(parts) < len(procs):
        try:
            parts.append(queue.get(timeout=5))
        except Empty:
            failed = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if failed:
                for p in procs:
                    p.terminate()
                raise SystemExit(f"a worker failed (exit {failed[0]})") from None
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a worker failed ({p.exitcode})")
    wall = time.perf_counter() - wall
    load_after = os.getloadavg()
    rows_after, bytes_after = footprint(db_url)
    if cleanup:
        cleanup()
    engine_s = [s for p in parts for s in p["engine"]]
    engine_cpu = [s for p in parts for s in p["engine_cpu"]]
    measured = max(1, sum(p["measured"] for p in parts))
    cpu = sum(p["cpu"] for p in parts) / measured * n
    locked_cpu = sum(p["locked_cpu"] for p in parts) / measured * n
    commits = sum(p["commits"] for p in parts) / measured
    calls = {k: [s for p in parts for s in p["calls"][k]] for k in ("submit", "accept", "approve")}
    rows = {t: (rows_after[t] - rows_before[t]) / n for t in TABLES}
    figures = {
        "backend": backend,
        "n": n,
        "workers": workers,
        "bulk": bulk,
        "wall": wall,
        "apps_per_s": n / wall,
        "engine_p50_ms": pct(engine_s, 0.5) * 1000,
        "engine_p99_ms": pct(engine_s, 0.99) * 1000,
        "engine_cpu_p50_ms": pct(engine_cpu, 0.5) * 1000,
        "engine_cpu_p99_ms": pct(engine_cpu, 0.99) * 1000,
        "cpu_per_app_ms": cpu / n * 1000,
        "locked_cpu_per_app_ms": locked_cpu / n * 1000,
        "transitions": len(engine_s),
        "calls": {k: (pct(v, 0.5) * 1000, pct(v, 0.99) * 1000, len(v)) for k, v in calls.items()},
        "statements_per_app": sum(p["statements"] for p in parts) / measured,
        "commits_per_app": commits,
        "commit_rate": commit_rate,
        "rows": rows,
        "rows_total": sum(rows.values()),
        "bytes": (bytes_after - bytes_before) / n,
        "load_before": load_before,
        "load_after": load_after,
    }
    return backend, figures


def describe(f: dict[str, Any], command: str) -> list[str]:
    lb, la = f["load_before"], f["load_after"]
    calls = f["calls"]
    rows = ", ".join(f"{t} {v:.1f}" for t, v in f["rows"].items())
    ten_k = f["wall"] * 10_000 / f["n"]
    measured_or_scaled = (
        f"{ten_k:.0f} s measured"
        if f["n"] == 10_000
        else f"{ten_k:.0f} s extrapolated linearly from {f['n']:,} (not measured)"
    )
    # SQLite has one writer at a time, so its commits are serial; PostgreSQL may flush several at once.
    ceiling = f["commit_rate"] / f["commits_per_app"]
    flushing = (
        "SQLite: they are" if f["backend"] == "SQLite" else "PostgreSQL may flush concurrent commits together"
    )
    return [
        f"### {f['backend']}: {f['n']:,} newborn applications, {f['workers']} worker processes"
        + (f", departments in bulk actions of up to {f['bulk']} tasks" if f.get("bulk") else ""),
        "",
        f"Command: `{command}`. Load average (1/5/15 min) before {lb[0]:.2f}/{lb[1]:.2f}/{lb[2]:.2f}, after "
        f"{la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f}.",
        "",
        f"- **{f['apps_per_s']:.1f} applications/s** end to end: {f['n']:,} in {f['wall']:.0f} s; "
        f"10,000 would take {measured_or_scaled} (target ≤ 300 s: {'met' if ten_k <= 300 else 'not met'}).",
        f"- Durable commits: {f['commits_per_app']:.1f} write transactions per application; one writer "
        f"got {f['commit_rate']:.0f} durable commits/s from this storage just before the run, i.e. "
        f"{ceiling:.1f} applications/s if commits were flushed one at a time "
        f"({flushing}).",
        f"- SQL statements per application: {f['statements_per_app']:.0f} (service calls and the inbox "
        "reads between them).",
        f"- **Engine time per task transition: p50 {f['engine_p50_ms']:.2f} ms, "
        f"p99 {f['engine_p99_ms']:.2f} ms** over {f['transitions']:,} transitions (submission + six "
        f"approvals each, the workers' first application left out; "
        f"target p99 ≤ 5 ms: {'met' if f['engine_p99_ms'] <= 5 else 'not met'}); "
        "its CPU time "
        f"p50 {f['engine_cpu_p50_ms']:.2f} ms, p99 {f['engine_cpu_p99_ms']:.2f} ms "
        f"({'met' if f['engine_cpu_p99_ms'] <= 5 else 'not met'}).",
        "- CPU time of the worker processes per application (everything: service, ORM, engine, "
        f"serializer{', and SQLite itself' if f['backend'] == 'SQLite' else ''}): "
        f"{f['cpu_per_app_ms']:.0f} ms, i.e. at most {2000 / f['cpu_per_app_ms']:.0f} "
        "applications/s on two free cores"
        f"{'' if f['backend'] == 'SQLite' else ' before the PostgreSQL server’s own work'}; "
        f"{f['locked_cpu_per_app_ms']:.0f} ms of it inside write transactions"
        + (
            f" (SQLite's one write lock is held through it: at most "
            f"{1000 / max(f['locked_cpu_per_app_ms'], 0.001):.0f} applications/s whatever the workers)."
            if f["backend"] == "SQLite"
            else "."
        ),
        (
            "- Service calls, p50 / p99 ms (submit: its own transaction; accept / approve: a bulk "
            "action's time divided by its tasks): "
            if f.get("bulk")
            else "- Service calls, p50 / p99 ms (each its own transaction: load, engine, store, rows, "
            "case file): "
        )
        + "; ".join(f"{k} {v[0]:.1f} / {v[1]:.1f} (n={v[2]:,})" for k, v in calls.items())
        + ".",
        f"- Per application: {f['rows_total']:.1f} rows ({rows}); {f['bytes'] / 1024:.1f} KiB in those "
        "tables (tables and their indexes).",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--db",
        action="append",
        help="sqlite (a fresh file) or a PostgreSQL server URL; repeat for several (default: sqlite)",
    )
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--bulk",
        type=int,
        default=0,
        help="departments act in bulk: every N submissions, one accept and one approve transaction per "
        "department and round (default 0: every action its own transaction)",
    )
    parser.add_argument("--write", action="store_true", help="write the section in bench/RESULTS.md")
    args = parser.parse_args()
    command = "flock /work/bench.lock .venv/bin/python bench/bundles.py " + " ".join(sys.argv[1:])
    lines = [
        "## “一件事” applications end to end (`bench/bundles.py`)",
        "",
        f"Machine: {machine()}. Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the 2 cores are shared with "
        "other helpers (load averages below).",
        "",
    ]
    for url in args.db or [None]:
        _backend, figures = run(url, args.n, args.workers, args.bulk)
        part = describe(figures, command)
        print("\n".join(part), flush=True)
        lines += part
    if args.write:
        write_section(SECTION, "\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
