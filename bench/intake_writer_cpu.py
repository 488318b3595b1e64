"""CPU per order of the intake writer alone on PostgreSQL: the writer thread's Python (process CPU of
this process, which runs nothing else while it writes) and the database backends' (utime + stime from
/proc/<pid>/stat of every backend of the run's database; Linux, same machine). N batches of B orders,
prepared beforehand, written one batch per transaction like ``IntakeWriter`` does under load.

    .venv/bin/python bench/intake_writer_cpu.py 300 16
    PYTHONPATH=<older checkout>/src .venv/bin/python bench/intake_writer_cpu.py 300 16

Compare two versions run the same way, back to back: CPU holds up on a loaded machine better than wall
time, but not perfectly. Where pg_walinspect is available (PostgreSQL 15+ contrib), the WAL the
measured batches wrote is summed exactly, from the records of their own transactions (the xmin of the
rows they inserted) by resource manager: load-independent, unlike the server-wide WAL position that
other sessions move too. The database the run made is dropped at the end.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import intake as bench
from benchutil import drop_database
from intake_cpu import backend_cpu
from sqlalchemy import text


def main() -> None:
    n, size = int(sys.argv[1]), int(sys.argv[2])
    url = bench.prepare_db("postgresql", Path(tempfile.mkdtemp(prefix="haoban-writer-")))
    bench.seed(url)
    os.environ.update({k: v for k, v in bench.haoban_env(url).items() if k.startswith("HAOBAN")})
    import haoban
    from haoban import cliutil
    from haoban.orders.intake import IntakeWriter, prepare_order
    from haoban.orders.schemas import OrderCreate

    rt = cliutil.runtime()
    actor = cliutil.acting_user(rt, "operator")
    rng = random.Random(1)
    batches = [
        [prepare_order(rt, data=OrderCreate(**bench.order_body(rng)), actor=actor) for _ in range(size)]
        for _ in range(n + 10)
    ]
    writer = IntakeWriter(rt.db)
    database = url.rsplit("/", 1)[1]
    try:
        for batch in batches[:10]:  # warm-up: connection, prepared statements, number blocks
            writer._write_batch(batch)
        start_lsn = _lsn(rt.db.engine)
        before, cpu = backend_cpu(rt.db.engine, database), time.process_time()
        for batch in batches[10:]:
            writer._write_batch(batch)
        cpu = time.process_time() - cpu
        after = backend_cpu(rt.db.engine, database)
        wal = _wal(rt.db.engine, start_lsn, n * size)
    finally:
        writer.close()
        rt.db.dispose()
    backends = sum(v - before.get(pid, 0.0) for pid, v in after.items())
    orders = n * size
    print(
        f"{haoban.__file__}: {n} batches of {size}: writer (Python) {cpu / orders * 1000:.3f} ms/order, "
        f"PostgreSQL backends {backends / orders * 1000:.3f} ms/order, load {os.getloadavg()[0]:.1f}"
    )
    if wal:
        print(wal)
    drop_database(bench.PG_ADMIN, database)


def _lsn(engine: Any) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one())


def _wal(engine: Any, start: str, orders: int) -> str:
    """WAL bytes per order that the measured batches' own transactions wrote, by resource manager
    (records carry their transaction id; the batches' ids are the xmin of the orders they wrote)."""
    with engine.connect() as conn:
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_walinspect"))
            conn.commit()
        except Exception:  # not installed or not allowed: no WAL figure
            conn.rollback()
            return ""
        end = conn.execute(text("SELECT pg_current_wal_flush_lsn()")).scalar_one()  # records end there
        rows = conn.execute(
            text(
                "SELECT resource_manager, count(*), sum(record_length - fpi_length), sum(fpi_length) "
                "FROM pg_get_wal_records_info(:a, :b) "
                "WHERE xid IN (SELECT DISTINCT xmin::text::xid FROM orders WHERE id > 0) "
                "GROUP BY resource_manager ORDER BY 3 DESC"
            ),
            {"a": start, "b": str(end)},
        ).all()
    total = sum(b for _, _, b, _ in rows)
    images = sum(f for _, _, _, f in rows)
    parts = ", ".join(f"{rm} {c / orders:.2f} records {b / orders:.0f} B" for rm, c, b, _ in rows)
    # Full-page images depend on when the server last checkpointed (other sessions' WAL moves that):
    # reported apart, the records themselves are what a create costs.
    return (
        f"WAL of the measured batches' transactions per order: {total / orders:.0f} bytes of records "
        f"({parts}) + {images / orders:.0f} bytes of full-page images"
    )


if __name__ == "__main__":
    main()
