"""CPU seconds per create in one process: the served app, its intake writer thread and an in-process
ASGI client with 16 concurrent tasks (whose cost is included). CPU time holds up on a loaded shared
machine where wall-clock throughput does not; compare two versions run the same way.

    .venv/bin/python bench/intake_cpu.py postgresql 1500
    PYTHONPATH=<older checkout>/src .venv/bin/python bench/intake_cpu.py postgresql 1500
    .venv/bin/python bench/intake_cpu.py sqlite 1500 --profile /tmp/creates.txt

``--profile FILE`` samples every thread's stack every millisecond while the creates run (an in-process
sampler: py-spy is not in the lock) and writes the functions by share of samples, inclusive and
exclusive, with the writer thread and the event loop apart; it adds its own cost to the CPU figure.
On PostgreSQL the run also reports the CPU its database's backends used per create (utime + stime
from /proc/<pid>/stat of every backend connected to the run's database: the same machine, Linux only)
and the writer's mean batch size (creates per group commit). The PostgreSQL database the run made is
dropped at the end.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import intake as bench
from sqlalchemy import event


class Sampler(threading.Thread):
    """Every ``interval`` seconds, the stack of every other thread: inclusive and exclusive counts per
    function (file:line name), per thread name."""

    def __init__(self, interval: float = 0.001) -> None:
        super().__init__(name="sampler", daemon=True)
        self.interval = interval
        self.running = threading.Event()
        self.stop = threading.Event()
        self.samples: collections.Counter[str] = collections.Counter()
        self.inclusive: collections.Counter[tuple[str, str]] = collections.Counter()
        self.exclusive: collections.Counter[tuple[str, str]] = collections.Counter()

    def run(self) -> None:
        me = threading.get_ident()
        while not self.stop.is_set():
            time.sleep(self.interval)
            if not self.running.is_set():
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                thread = names.get(ident, "?")
                if thread.startswith(
                    ("haoban-warm", "asyncio_", "ThreadPoolExecutor")
                ) and frame.f_code.co_name in (
                    "wait",
                    "_worker",
                ):
                    continue
                self.samples[thread] += 1
                seen: set[str] = set()
                first = True
                f: Any = frame
                while f is not None:
                    code = f.f_code
                    where = code.co_filename.rsplit("site-packages/", 1)[-1]
                    key = f"{code.co_name} {where}:{code.co_firstlineno}"
                    if first:
                        self.exclusive[(thread, key)] += 1
                        first = False
                    if key not in seen:
                        seen.add(key)
                        self.inclusive[(thread, key)] += 1
                    f = f.f_back

    def report(self, top: int = 60) -> str:
        lines = [f"samples per thread: {dict(self.samples)}"]
        for title, counter in (("inclusive", self.inclusive), ("exclusive", self.exclusive)):
            for thread, total in self.samples.most_common():
                lines.append(f"\n== {title}, thread {thread} ({total} samples)")
                rows = sorted(((n, k) for (t, k), n in counter.items() if t == thread), reverse=True)[:top]
                lines += [f"{n / total * 100:6.1f}%  {k}" for n, k in rows]
        return "\n".join(lines)


def backend_cpu(engine: Any, database: str) -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL backend connected to ``database`` (by pid)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": database})
        pids = [p for (p,) in pids]
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return out


def batches() -> tuple[float, float]:
    """(group commits, orders in them) so far: the intake writer's batch-size histogram."""
    from haoban.metrics import INTAKE_BATCH

    count = total = 0.0
    for metric in INTAKE_BATCH.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                count = sample.value
            elif sample.name.endswith("_sum"):
                total = sample.value
    return count, total


def main() -> None:
    # httpx's in-process transport tries `import sniffio` on every request; where it is not installed
    # (it is not in the lock) each failed import walks sys.path: ~15 % of the client's time, charged
    # to the create. A None entry makes the import fail at once, as it would with sniffio absent.
    try:
        import sniffio  # noqa: F401
    except ImportError:
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    args = sys.argv[1:]
    profile = None
    if "--profile" in args:
        i = args.index("--profile")
        profile = args[i + 1]
        del args[i : i + 2]
    db, n = args[0], int(args[1])
    sampler = Sampler() if profile else None
    if sampler:
        sampler.start()
    tmp = Path(tempfile.mkdtemp(prefix="haoban-cpu-"))
    url = bench.prepare_db(db, tmp) if db == "postgresql" else f"sqlite:///{tmp}/cpu.db"
    bench.seed(url)
    os.environ.update({k: v for k, v in bench.haoban_env(url).items() if k.startswith("HAOBAN")})
    import haoban
    from haoban import cliutil
    from haoban.cli import _build_served_app

    rt = cliutil.runtime()
    app: Any = _build_served_app(rt, run_worker=False)
    seen: collections.Counter[str] = collections.Counter()

    @event.listens_for(rt.db.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen[statement.split()[0]] += 1

    async def run() -> tuple[float, float]:
        async with app.router.lifespan_context(app):
            await asyncio.sleep(40)  # serve's warm-up and gc.freeze
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                form = {"username": "operator", "password": "demo"}
                token = (await client.post("/api/v1/auth/token", data=form)).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                rng = random.Random(1)

                async def post() -> None:
                    r = await client.post("/api/v1/orders", json=bench.order_body(rng), headers=headers)
                    assert r.status_code == 201, r.text

                for _ in range(100):
                    await post()
                todo = iter(range(n))

                async def worker() -> None:
                    for _ in todo:
                        await post()

                pg_before = backend_cpu(rt.db.engine, database) if db == "postgresql" else {}
                batches_before = batches()
                seen.clear()
                cpu, wall = time.process_time(), time.perf_counter()
                if sampler:
                    sampler.running.set()
                prof = None
                if os.environ.get("HAOBAN_CPROFILE"):
                    import cProfile

                    prof = cProfile.Profile()
                    prof.enable()
                await asyncio.gather(*(worker() for _ in range(16)))
                if prof is not None:
                    prof.disable()
                    prof.dump_stats(os.environ["HAOBAN_CPROFILE"])
                if sampler:
                    sampler.running.clear()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                counted.update(seen)
                if db == "postgresql":
                    after = backend_cpu(rt.db.engine, database)
                    pg["backends"] = sum(v - pg_before.get(pid, 0.0) for pid, v in after.items())
                count, total = batches()
                pg["batches"] = count - batches_before[0]
                pg["batched"] = total - batches_before[1]
                return cpu, wall

    pg: dict[str, float] = {}
    counted: collections.Counter[str] = collections.Counter()
    database = url.rsplit("/", 1)[1]
    cpu, wall = asyncio.run(run())
    print(
        f"{haoban.__file__} {db}: {n} creates, process CPU {cpu / n * 1000:.3f} ms/create, "
        f"wall {wall:.1f} s, "
        f"statements SQLAlchemy saw per create {sum(counted.values()) / n:.3f} {dict(counted)}, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    if pg.get("batches"):
        print(f"writer batches {pg['batches']:.0f}, mean batch {pg['batched'] / pg['batches']:.1f} orders")
    if "backends" in pg:
        print(f"PostgreSQL backends of the run's database: CPU {pg['backends'] / n * 1000:.3f} ms/create")
    if sampler:
        sampler.stop.set()
        Path(profile).write_text(sampler.report(), encoding="utf-8")  # type: ignore[arg-type]
    rt.db.dispose()
    if db == "postgresql":
        from benchutil import drop_database
        from sqlalchemy.engine import make_url

        drop_database(bench.PG_ADMIN, str(make_url(url).database))


if __name__ == "__main__":
    main()
