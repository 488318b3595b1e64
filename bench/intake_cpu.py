"""CPU seconds per create in one process: the served app, its intake writer thread and an in-process
ASGI client with 16 concurrent tasks (whose cost is included). CPU time holds up on a loaded shared
machine where wall-clock throughput does not; compare two versions run the same way.

    .venv/bin/python bench/intake_cpu.py postgresql 1500
    PYTHONPATH=<older checkout>/src .venv/bin/python bench/intake_cpu.py postgresql 1500
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import intake as bench
from sqlalchemy import event


def main() -> None:
    db, n = sys.argv[1], int(sys.argv[2])
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
                seen.clear()
                todo = iter(range(n))

                async def worker() -> None:
                    for _ in todo:
                        await post()

                cpu, wall = time.process_time(), time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(16)))
                return time.process_time() - cpu, time.perf_counter() - wall

    cpu, wall = asyncio.run(run())
    print(
        f"{haoban.__file__} {db}: {n} creates, process CPU {cpu / n * 1000:.3f} ms/create, "
        f"wall {wall:.1f} s, "
        f"statements SQLAlchemy saw per create {sum(seen.values()) / n:.3f} {dict(seen)}, "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
