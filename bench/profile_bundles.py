"""Profile newborn applications end to end in one process: ``python bench/profile_bundles.py [--db URL]``.

Runs ``--n`` applications the way ``bench/bundles.py`` does (one warm-up first), reports the CPU time
per application in all and inside write transactions (SQLite's write lock is held through the latter),
counts the SQL statements per service call through SQLAlchemy's ``before_cursor_execute`` event, and with
``--profile FILE`` writes a cProfile of the measured applications (read it with ``pstats``).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import multiprocessing as mp
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import event  # noqa: E402

import bundles  # noqa: E402


class Counter:
    def __init__(self) -> None:
        self.by_kind: collections.Counter[str] = collections.Counter()
        self.statements: collections.Counter[str] = collections.Counter()
        self.total = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.total += 1
        self.by_kind[statement.split(None, 1)[0].upper()] += 1
        self.statements[" ".join(statement.split())[:160]] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=None)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--cpu", action="store_true", help="profile CPU time (not wall time)")
    parser.add_argument("--bulk", type=int, default=0, help="departments act in bulk (see bench/bundles.py)")
    args = parser.parse_args()
    url, cleanup = bundles.fresh_database(args.db)
    counter = Counter()
    from sqlalchemy.engine import Engine

    event.listen(Engine, "before_cursor_execute", counter)
    # CPU time inside write transactions (first statement to commit): on SQLite the write lock is
    # held through all of it, so two workers cannot do it side by side.
    locked = {"cpu": 0.0}
    began: dict[int, float] = {}

    def on_begin(conn) -> None:
        if conn.get_execution_options().get("sqlite_immediate"):
            began[id(conn)] = time.process_time()

    def on_end(conn) -> None:
        started = began.pop(id(conn), None)
        if started is not None:
            locked["cpu"] += time.process_time() - started

    event.listen(Engine, "begin", on_begin)
    event.listen(Engine, "commit", on_end)
    event.listen(Engine, "rollback", on_end)
    queue = mp.get_context("spawn").SimpleQueue()

    # Warm up (definitions parsed, caches filled) on one application, then measure.
    bundles.work(url, [10_000_000], queue)
    queue.get()
    counter.__init__()
    locked["cpu"] = 0.0
    timer = time.process_time if args.cpu else time.perf_counter
    prof = cProfile.Profile(timer) if args.profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    bundles.work(url, list(range(args.n)), queue, args.bulk)
    if prof:
        prof.disable()
        prof.dump_stats(args.profile)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    figures = queue.get()
    if cleanup:
        cleanup()
    n = args.n
    print(f"{n} applications: {wall / n * 1000:.1f} ms wall, {cpu / n * 1000:.1f} ms CPU per application")
    print(f"CPU inside write transactions: {locked['cpu'] / n * 1000:.1f} ms per application")
    print(f"SQL statements per application: {counter.total / n:.1f}")
    commits = figures["commits"] / max(1, figures["measured"])
    print(f"Write transactions (commits) per application: {commits:.2f}")
    for kind, count in counter.by_kind.most_common():
        print(f"  {kind:10} {count / n:6.1f}")
    print("Most frequent statements (per application):")
    for stmt, count in counter.statements.most_common(args.top):
        print(f"  {count / n:6.1f}  {stmt}")


if __name__ == "__main__":
    main()
