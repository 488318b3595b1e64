"""Where the machine's CPU goes per create while ``haoban serve --workers N`` takes wrk's load on
PostgreSQL: the server processes, the run database's backends, PostgreSQL's shared background
processes (WAL writer, checkpointer, …), wrk itself and the whole machine (/proc/stat), each in ms of
CPU per create, plus how busy each server process was (cores) and what the database did per create
(transactions, rows inserted). A short run: the numbers are CPU per create, not throughput, so they
hold up better on a shared machine than wall-clock rates (PostgreSQL's background processes and the
machine total include other sessions' work: read them on a quiet machine only).

    .venv/bin/python bench/intake_procs.py --workers 1 --seconds 8
    .venv/bin/python bench/intake_procs.py --workers 2 --seconds 8 --clients 16

With one worker, the ratio of two to one worker is about 2 s / (s + o) when the server's CPU per
create (s) bounds one worker and the machine's two cores bound two (o: everything else per create).
The database the run made is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import intake as bench
from benchutil import drop_database
from sqlalchemy import create_engine, text

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def sched(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) summed over ``pid``'s threads
    (/proc/<pid>/task/*/schedstat). Their sum over the wall time says whether the process ever
    had nothing to do: near 1 (or above, for several threads) it wanted a core all the time."""
    run = wait = 0.0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return 0.0, 0.0
    for task in tasks:
        try:
            on_cpu, delay = (int(v) for v in (task / "schedstat").read_text().split()[:2])
        except (OSError, ValueError):
            continue
        run += on_cpu / 1e9
        wait += delay / 1e9
    return run, wait


def children(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's supervisor and its worker processes)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    found, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        todo += kids
    return found


def machine_busy() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, idle / TICK


def pg_state(engine: Any, database: str) -> dict[str, Any]:
    with engine.connect() as conn:
        backends = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
            {"d": database},
        ).scalars()
        backends = list(backends)
        aux = list(conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname IS NULL")).scalars())
        commits, inserted = conn.execute(
            text("SELECT xact_commit, tup_inserted FROM pg_stat_database WHERE datname = :d"), {"d": database}
        ).one()
        lsn = conn.execute(text("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")).scalar_one()
    return {
        "backends": {p: cpu_of(p) for p in backends},
        "aux": {p: cpu_of(p) for p in aux},
        "commits": commits,
        "inserted": inserted,
        "wal": float(lsn),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=5, help="seconds of wrk load before measuring")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="haoban-procs-"))
    url = bench.prepare_db("postgresql", tmp)
    database = url.rsplit("/", 1)[1]
    proc, base = bench.start_haoban(url, args.workers)
    engine = create_engine(url)
    try:
        token = httpx.post(
            base + "/api/v1/auth/token", data={"username": "operator", "password": "demo"}
        ).json()["access_token"]
        bench.run_wrk(
            base + "/api/v1/orders", seconds=args.warmup, clients=args.clients, token=token, tmp=tmp
        )
        servers = children(proc.pid)
        before = pg_state(engine, database)
        server_before = {p: cpu_of(p) for p in servers}
        sched_before = {p: sched(p) for p in servers}
        busy_before, idle_before = machine_busy()
        children_before = os.times()
        wall = time.perf_counter()
        result = bench.run_wrk(
            base + "/api/v1/orders", seconds=args.seconds, clients=args.clients, token=token, tmp=tmp
        )
        wall = time.perf_counter() - wall
        children_after = os.times()
        busy_after, idle_after = machine_busy()
        server_after = {p: cpu_of(p) for p in servers}
        sched_after = {p: sched(p) for p in servers}
        after = pg_state(engine, database)
    finally:
        proc.terminate()
        proc.wait()
        engine.dispose()
    n = result["n"]
    if not n:
        raise SystemExit(f"no create answered in {wall:.1f} s: {result}")

    def per(seconds: float) -> str:
        return f"{seconds / n * 1000:.3f}"

    server = {p: server_after[p] - server_before.get(p, 0.0) for p in server_after}
    backends = sum(v - before["backends"].get(p, 0.0) for p, v in after["backends"].items())
    aux = sum(v - before["aux"].get(p, 0.0) for p, v in after["aux"].items())
    wrk = (children_after.children_user + children_after.children_system) - (
        children_before.children_user + children_before.children_system
    )
    busy, idle = busy_after - busy_before, idle_after - idle_before
    print(
        f"workers {args.workers}, clients {args.clients}: {n} creates in {wall:.1f} s "
        f"({result['rate']:.0f}/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"failed {result['failed']}), load {os.getloadavg()[0]:.1f}"
    )
    busiest = sorted(server.values(), reverse=True)
    print(
        f"  ms CPU per create: server {per(sum(server.values()))} "
        f"(processes' cores busy: {', '.join(f'{c / wall:.2f}' for c in busiest if c > 0.05)}), "
        f"PostgreSQL backends {per(backends)}, PostgreSQL background (shared) {per(aux)}, wrk {per(wrk)}, "
        f"machine total {per(busy)} (idle {idle / wall:.2f} cores)"
    )
    wanted = []
    for p, (run, wait) in sched_after.items():
        run0, wait0 = sched_before.get(p, (0.0, 0.0))
        if run - run0 > 0.05 * wall:
            wanted.append(f"on CPU {(run - run0) / wall:.2f} + waiting for one {(wait - wait0) / wall:.2f}")
    print(f"  server processes, cores (threads summed): {'; '.join(wanted)}")
    print(
        f"  per create: transactions {(after['commits'] - before['commits']) / n:.3f}, "
        f"rows inserted {(after['inserted'] - before['inserted']) / n:.2f}, "
        f"WAL bytes (whole server: other sessions' too) {(after['wal'] - before['wal']) / n:.0f}"
    )
    drop_database(bench.PG_ADMIN, database)


if __name__ == "__main__":
    main()
