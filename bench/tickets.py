"""Timed tickets under load: buyers racing for a slot over HTTP, against a real server process.

Round "race": N buyers (default 2,000) for a slot of C places (default 500): exactly C sold, nobody
twice, the rest told "sold out" (checked in the database afterwards). Round "buy": a slot big enough
for everyone, so every request is a purchase. Both report requests/s, purchases/s and latency
percentiles at K concurrent clients (default 64).

    flock /work/bench.lock nice -n 5 .venv/bin/python bench/tickets.py                 # SQLite
    flock /work/bench.lock nice -n 5 .venv/bin/python bench/tickets.py \
        --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres               # PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchutil import create_database, drop_database, machine, write_section

from haoban.auth.actors import SYSTEM_ACTOR
from haoban.config import Settings
from haoban.db import Database
from haoban.orders.citizen import id_number_check_char
from haoban.tourism import tickets
from haoban.tourism.models import Place, Ticket, TicketSlot
from haoban.tourism.places import get_place
from haoban.tourism.schemas import PlanIn
from haoban.wiring import runtime

SECRET = "bench-secret-key-for-the-tickets-benchmark-0123456789"


def ids(n: int) -> list[str]:
    out = []
    for i in range(n):
        first17 = (
            f"430400{1950 + i // 10000:04d}{1 + i // 1000 % 12:02d}{1 + i // 100 % 28 % 28:02d}{i % 1000:03d}"
        )
        out.append(first17 + id_number_check_char(first17))
    assert len(set(out)) == n
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(url: str, places: dict[str, int]) -> dict[str, int]:
    """Migrate, then one place per round with a one-slot plan for tomorrow; returns slot ids."""
    settings = Settings(database_url=url, secret_key=SECRET)
    rt = runtime(Database(url), settings)
    rt.db.upgrade()
    day = date.today() + timedelta(days=1)
    slots = {}
    with rt.db.write() as session:
        for code, capacity in places.items():
            session.add(
                Place(code=code, name=f"压测{code}", kind="venue", hours="{}", photos="[]", tags="[]")
            )
            session.flush()
            tickets.set_plan(
                session,
                place_code=code,
                data=PlanIn(slots=[{"start": "00:00", "end": "24:00", "capacity": capacity}], price_fen=100),
                actor=SYSTEM_ACTOR,
            )
            place = get_place(session, code=code)
            slots[code] = tickets.ensure_slots(
                session, rt, place=place, plan=tickets.plan_for(session, place), day=day
            )[0].id
    rt.db.dispose()
    return slots


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    code = (
        "import uvicorn\n"
        "from haoban.app import create_app\n"
        f"uvicorn.run(create_app(upgrade=False), host='127.0.0.1', port={port}, log_level='warning', "
        "access_log=False)\n"
    )
    env = {
        **os.environ,
        "HAOBAN_DATABASE_URL": url,
        "HAOBAN_SECRET_KEY": SECRET,
        "HAOBAN_JOB_RUNNER": "inprocess",
    }
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


async def load(base: str, code: str, slot_id: int, people: list[str], clients: int) -> dict[str, Any]:
    latencies: list[tuple[float, str]] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(people)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                body = {
                    "slot_id": slot_id,
                    "phone": "13900000000",
                    "visitors": [{"name": f"游客{i}", "id_number": people[i]}],
                }
                t0 = time.perf_counter()
                r = await client.post(f"/api/v1/tourism/places/{code}/orders", json=body)
                dt = time.perf_counter() - t0
                outcome = "sold" if r.status_code == 201 else (r.json().get("reason") or str(r.status_code))
                latencies.append((dt, outcome))

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return {"elapsed": elapsed, "latencies": latencies}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))] * 1000


def check(url: str, slot_id: int, capacity: int) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        sold = conn.execute(select(TicketSlot.sold).where(TicketSlot.id == slot_id)).scalar_one()
        n = conn.execute(select(func.count(Ticket.id)).where(Ticket.slot_id == slot_id)).scalar_one()
        holders = conn.execute(
            select(func.count(func.distinct(Ticket.holder_key))).where(Ticket.slot_id == slot_id)
        ).scalar_one()
    engine.dispose()
    ok = sold == n == holders == capacity
    verdict = "OK" if ok else "WRONG"
    return f"slot.sold={sold}, tickets={n}, distinct holders={holders} (capacity {capacity}): {verdict}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--database", default="", help="PostgreSQL URL of a server database (a fresh one is made)"
    )
    ap.add_argument("--buyers", type=int, default=2000)
    ap.add_argument("--places", type=int, default=500)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="haoban-tickets-"))
    admin = None
    if args.database:
        admin = args.database
        url = create_database(admin, f"haoban_bench_tickets_{uuid.uuid4().hex[:8]}")
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    backend = "PostgreSQL" if args.database else "SQLite"
    slots = prepare(url, {"race": args.places, "buy": args.buyers})
    people = ids(args.buyers * 2)
    load_before = os.getloadavg()
    proc, base = start_server(url)
    try:
        race = asyncio.run(load(base, "race", slots["race"], people[: args.buyers], args.clients))
        buy = asyncio.run(load(base, "buy", slots["buy"], people[args.buyers :], args.clients))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    load_after = os.getloadavg()
    race_check = check(url, slots["race"], args.places)
    buy_check = check(url, slots["buy"], args.buyers)
    if admin is not None:
        drop_database(admin, str(make_url(url).database))

    rows = []
    for label, r in (("race", race), ("buy", buy)):
        outcomes = Counter(o for _dt, o in r["latencies"])
        all_ms = [dt for dt, _o in r["latencies"]]
        sold_ms = [dt for dt, o in r["latencies"] if o == "sold"]
        rows.append(
            f"| {label} | {len(all_ms):,} | {dict(outcomes)} | {len(all_ms) / r['elapsed']:.0f} | "
            f"{outcomes['sold'] / r['elapsed']:.0f} | {pct(all_ms, 0.5):.1f} | {pct(all_ms, 0.99):.1f} | "
            f"{pct(sold_ms, 0.99):.1f} |"
        )
    body = "\n".join(
        [
            f"## Timed tickets ({backend}, {args.clients} clients over HTTP)",
            "",
            f"Command: `flock /work/bench.lock nice -n 5 .venv/bin/python bench/tickets.py"
            f"{' --database ' + args.database if args.database else ''}` · {machine()} · load average "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (the machine is shared).",
            "",
            "One uvicorn process (the app as served, worker off); each request is one buying transaction "
            "(conditional UPDATE of the slot, payer, order, tickets, ledger).",
            "",
            "| round | requests | outcomes | requests/s | purchases/s | p50 ms | p99 ms | p99 ms (bought) |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"- race: {args.buyers:,} buyers for {args.places} places — {race_check}",
            f"- buy: {args.buyers:,} buyers, {args.buyers:,} places — {buy_check}",
        ]
    )
    print(body)
    if not args.no_write:
        write_section(f"tickets_{backend.lower()}", body)


if __name__ == "__main__":
    main()
