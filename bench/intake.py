"""Intake benchmark: K concurrent clients create orders over HTTP against a running server.

In the same run, the same client posts to a bare FastAPI endpoint that does nothing (this machine's
framework ceiling). Each server runs in its own process (uvicorn, one worker, access log off). The
client is `wrk` (Debian package ``wrk``; one thread, K connections, a Lua script that varies each
body) because a Python client saturates a core long before the server does; without wrk the script
falls back to an asyncio httpx client and says so.

    apt-get install wrk
    .venv/bin/python bench/intake.py --seconds 15 --clients 16 64 --db sqlite postgresql [--write]
    .venv/bin/python bench/intake.py --workers 1 2 --clients 16 --db postgresql --simulate 3000 --write

``--write`` replaces the "## Intake" section of bench/RESULTS.md (with ``--workers``: the
"## Intake scale-out" section). ``--workers 1 2`` runs the bare ceiling and haoban with each number
of server processes (``uvicorn --workers`` / ``haoban serve --workers``). ``--simulate N`` then runs two
``haoban serve`` processes on different ports against one PostgreSQL database, spreads N creates over
both, and checks that every acknowledged order exists exactly once and every case file verifies.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from benchutil import create_database, drop_database, machine

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PG_ADMIN = os.environ.get("HAOBAN_BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WARMUP_SECONDS = 20

BARE_APP = """
from fastapi import FastAPI
from pydantic import BaseModel
app = FastAPI()
class Body(BaseModel):
    content: str
    type: str = "consult"
@app.post("/noop", status_code=201)
async def noop(body: Body) -> dict:
    return {"ok": True}
"""

TEXTS = [
    "小区门口的路灯坏了三天，晚上很黑，请尽快修理。",
    "公积金提取需要哪些材料？网上能办吗？",
    "楼下餐馆油烟很大，影响居民生活，希望环保部门查处。",
    "公司拖欠工资三个月，要求人社部门督促支付。",
    "公交12路班次太少，早高峰等车超过半小时。",
    "请问新生儿落户需要准备什么？",
    "商家虚假宣传，拒绝退款，请市场监管部门处理。",
    "路边井盖丢失，存在安全隐患。",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str, timeout: float = 240) -> None:  # a loaded shared machine starts slowly
    end = time.time() + timeout
    while time.time() < end:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not come up")


def start_bare(tmp: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=tmp,
    )
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/docs")
    return proc, base


CREATED: list[str] = []  # the PostgreSQL databases this run made: dropped when it ends


def prepare_db(db: str, tmp: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    name = f"haoban_bench_{os.getpid()}"
    if name not in CREATED:
        CREATED.append(name)
    return create_database(PG_ADMIN, name)


BASELINE: str | None = None  # --baseline: the src/ directory of the code to compare against


def haoban_env(url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "HAOBAN_DATABASE_URL": url,
        "HAOBAN_SECRET_KEY": "bench-secret-key-0123456789abcdef0123",
    }
    if BASELINE:
        env["PYTHONPATH"] = BASELINE
    return env


def seed(url: str) -> None:
    subprocess.run(
        [PY, "-m", "haoban.cli", "demo", "seed", "--orders", "0"],
        env=haoban_env(url),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_haoban(url: str, workers: int = 1, *, seeded: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    if not seeded:
        seed(url)
    port = free_port()
    args = ["serve", "--port", str(port), "--workers", str(workers), "--no-worker", "--log-level", "warning"]
    proc = subprocess.Popen(
        [PY, "-m", "haoban.cli", *args],
        env=haoban_env(url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/api/v1/health")
    # serve warms the knowledge-base index in the background after start-up; measure after it.
    time.sleep(WARMUP_SECONDS)
    return proc, base


async def run_load(url: str, *, n: int, clients: int, headers: dict[str, str], body_of) -> dict[str, float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    failures = 0
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as client:

        async def worker(seed: int) -> None:
            nonlocal failures
            rng = random.Random(seed)
            for _ in counter:
                t0 = time.perf_counter()
                try:
                    r = await client.post(url, json=body_of(rng))
                    ok = r.status_code == 201
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - t0)
                if not ok:
                    failures += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "n": n,
        "clients": clients,
        "rate": n / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "failed": failures,
    }


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
local texts = {%(texts)s}
local types = {"consult", "complaint", "help"}
local districts = {"\\"珠晖区\\"", "\\"石鼓区\\"", "\\"蒸湘区\\"", "null"}
local i = 0
request = function()
  i = i + 1
  local body = string.format('{"type":"%%s","content":"%%s","citizen_phone":"138%%08d","district":%%s}',
    types[i %% #types + 1], texts[i %% #texts + 1], i %% 100000000, districts[i %% #districts + 1])
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect,
    summary.errors.timeout + summary.errors.read + summary.errors.write))
end
"""


def run_wrk(url: str, *, seconds: int, clients: int, token: str | None, tmp: Path) -> dict[str, float]:
    script = WRK_SCRIPT % {
        "auth": f'wrk.headers["Authorization"] = "Bearer {token}"' if token else "",
        "texts": ", ".join(f'"{t}"' for t in TEXTS),
    }
    path = tmp / f"load-{clients}.lua"
    path.write_text(script, encoding="utf-8")
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(path), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, duration_us, p50, p99, status_err, conn_err, io_err = map(int, line.split()[1:])
    return {
        "n": requests,
        "clients": clients,
        "rate": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "failed": status_err + conn_err + io_err,
    }


def order_body(rng: random.Random) -> dict[str, object]:
    return {
        "type": rng.choice(["consult", "complaint", "help"]),
        "content": rng.choice(TEXTS),
        "citizen_phone": "138" + "".join(str(rng.randrange(10)) for _ in range(8)),
        "citizen_name": "测试",
        "district": rng.choice(["珠晖区", "石鼓区", "蒸湘区", None]),
    }


def bare_body(rng: random.Random) -> dict[str, object]:
    return {"content": rng.choice(TEXTS), "type": "consult"}


def verify(url: str, base: str, n_expected: int) -> str:
    env = {**os.environ, "HAOBAN_DATABASE_URL": url}
    out = subprocess.run([PY, "-m", "haoban.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr.strip()[-200:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=15, help="load duration per measurement (wrk)")
    ap.add_argument("--n", type=int, default=4000, help="requests per measurement (httpx fallback)")
    ap.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--workers", type=int, nargs="+", help="server processes to compare, e.g. 1 2")
    ap.add_argument("--simulate", type=int, default=0, help="creates over two servers, then checked")
    ap.add_argument(
        "--baseline",
        help="with --workers: also run the code in this src/ directory (e.g. a git worktree of an older "
        "commit: its data/ must sit beside src/), interleaved with the current code, rows labelled "
        "before/after",
    )
    args = ap.parse_args()
    if args.workers:
        scale_out(args)
        return
    use_wrk = shutil.which("wrk") is not None
    if not use_wrk:
        print("wrk not found: falling back to the httpx client (it, not the server, will be the limit)")
    rows: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="haoban-bench-"))

    def measure(url: str, k: int, token: str | None, body_of) -> dict[str, float]:  # type: ignore[no-untyped-def]
        if use_wrk:
            return run_wrk(url, seconds=args.seconds, clients=k, token=token, tmp=tmp)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return asyncio.run(run_load(url, n=args.n, clients=k, headers=headers, body_of=body_of))

    def row(label: str, r: dict[str, float], share: str) -> None:
        rows.append(
            f"| {label} | {r['clients']} | {r['n']} | {r['rate']:.0f} | {r['p50_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['failed']} | {share} |"
        )
        print(rows[-1], flush=True)

    try:
        bare, bare_base = start_bare(tmp)
        ceilings: dict[int, dict[str, float]] = {}
        try:
            measure(bare_base + "/noop", 16, None, bare_body)  # warm-up
            for k in args.clients:
                ceilings[k] = measure(bare_base + "/noop", k, None, bare_body)
                row("bare FastAPI POST (ceiling)", ceilings[k], "–")
        finally:
            bare.terminate()
            bare.wait()
        for db in args.db:
            url = prepare_db(db, tmp)
            proc, base = start_haoban(url)
            try:
                token = httpx.post(
                    base + "/api/v1/auth/token", data={"username": "operator", "password": "demo"}
                ).json()["access_token"]
                for k in args.clients:
                    r = measure(base + "/api/v1/orders", k, token, order_body)
                    row(f"full create, {db}", r, f"{r['rate'] / ceilings[k]['rate'] * 100:.0f}%")
            finally:
                proc.terminate()
                proc.wait()
            print(f"case files after the {db} run: {verify(url, base, 0)}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.write:
        client = "wrk (1 thread)" if use_wrk else "httpx asyncio"
        section = "\n".join(
            [
                "## Intake",
                "",
                f"Machine: {machine()}. Client ({client}) and server share the machine.",
                f"Command: `.venv/bin/python bench/intake.py --seconds {args.seconds} --clients "
                f"{' '.join(map(str, args.clients))} --db {' '.join(args.db)} --write`",
                "",
                "A full create: validated, dispatched by the catalogue, both deadlines computed on the",
                "working-day calendar, committed durably (SQLite WAL with synchronous=FULL; PostgreSQL",
                "default fsync) with its first case-file events and an SMS receipt in the outbox.",
                "Concurrent creates are committed together by one writer thread (group commit).",
                "",
                "Target status: zero failed requests at 16 and 64 clients and p99 ≤ 100 ms at 16 are met;",
                "≥ 50% of the bare ceiling is **not** met. The server is one Python process, so everything",
                "(HTTP parsing, FastAPI, validation, routing, deadlines, the writer) shares one GIL: a bare",
                "POST costs ~0.15 ms of it, a full create ~0.55–0.8 ms (py-spy: about half in FastAPI",
                "and uvicorn, a third in the writer's inserts and commit, the rest in the handler).",
                "Measured steps on the way (same machine, 16 clients, SQLite): ORM bulk insert with",
                "RETURNING 444/s p99 303 ms → Core executemany 873/s → driver executemany, a batch flusher",
                "on the event loop and async auth dependencies ~1,270/s → gc.freeze() after warm-up p99",
                "27 ms. More would take several worker processes (each with its own writer) or moving",
                "validation and hashing out of Python. Since the dispatch model (for texts no keyword",
                "rule catches: 1 in 8 here) and the gazetteer joined the intake path, a create costs",
                "~0.1–0.2 ms more (numbers below).",
                "",
                "| endpoint | clients | requests | per second | p50 ms | p99 ms | failed | of ceiling |",
                "|---|---|---|---|---|---|---|---|",
                *rows,
                "",
            ]
        )
        write_section(ROOT / "bench" / "RESULTS.md", "## Intake", section)


def simulate(n: int, tmp: Path, clients: int = 16) -> dict[str, object]:
    """Two ``serve`` processes on different ports, one PostgreSQL database; ``n`` creates spread over
    both by an asyncio client; then every acknowledged order must exist exactly once and every case
    file verify."""
    from sqlalchemy import create_engine, text

    url = prepare_db("postgresql", tmp)
    seed(url)
    engine = create_engine(url)
    with engine.connect() as conn:  # the demo seed files a few orders of its own
        seeded = set(conn.execute(text("SELECT code FROM orders")).scalars())
    (pa, a), (pb, b) = start_haoban(url, seeded=True), start_haoban(url, seeded=True)
    acknowledged: list[str] = []
    failures = 0
    try:
        token = httpx.post(
            a + "/api/v1/auth/token", data={"username": "operator", "password": "demo"}
        ).json()["access_token"]

        async def go() -> float:
            nonlocal failures
            counter = iter(range(n))
            limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
            async with httpx.AsyncClient(
                limits=limits, timeout=30, headers={"Authorization": f"Bearer {token}"}
            ) as client:

                async def worker(seed_: int) -> None:
                    nonlocal failures
                    rng = random.Random(seed_)
                    for i in counter:
                        base = a if i % 2 == 0 else b
                        try:
                            r = await client.post(base + "/api/v1/orders", json=order_body(rng))
                        except httpx.HTTPError:
                            failures += 1
                            continue
                        if r.status_code == 201:
                            acknowledged.append(r.json()["code"])
                        else:
                            failures += 1

                start = time.perf_counter()
                await asyncio.gather(*(worker(i) for i in range(clients)))
                return time.perf_counter() - start

        elapsed = asyncio.run(go())
    finally:
        for p in (pa, pb):
            p.terminate()
            p.wait()
    with engine.connect() as conn:
        stored = [c for c in conn.execute(text("SELECT code FROM orders")).scalars() if c not in seeded]
    engine.dispose()
    verdict = verify(url, a, 0)
    return {
        "requests": n,
        "acknowledged": len(acknowledged),
        "failed": failures,
        "distinct": len(set(acknowledged)),
        "stored": len(stored),
        "missing": len(set(acknowledged) - set(stored)),
        "unacknowledged_extra": len(set(stored) - set(acknowledged)),
        "rate": n / elapsed,
        "verify": verdict,
    }


def resident(base: str, workers: int) -> list[int]:
    """Resident memory of each server process, from /api/v1/health (whichever process answers)."""
    seen: dict[int, int] = {}
    for _ in range(20 * workers):
        process = httpx.get(base + "/api/v1/health", timeout=10).json()["process"]
        seen[process["pid"]] = process["resident_bytes"]
        if len(seen) == workers:
            break
    return sorted(seen.values())


def scale_out(args: argparse.Namespace) -> None:
    use_wrk = shutil.which("wrk") is not None
    if not use_wrk:
        raise SystemExit("the scale-out run needs wrk (apt-get install wrk): a Python client saturates first")
    tmp = Path(tempfile.mkdtemp(prefix="haboan-scale-"))
    cores = os.cpu_count() or 1
    rows: list[str] = []
    notes: list[str] = []
    load_before = os.getloadavg()
    results: dict[tuple[str, int, int], dict[str, float]] = {}

    def row(label: str, w: int, r: dict[str, float], extra: str) -> None:
        rows.append(
            f"| {label} | {w} | {r['clients']} | {r['n']} | {r['rate']:.0f} | {r['p50_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['failed']} | {extra} |"
        )
        print(rows[-1], flush=True)

    try:
        for w in args.workers:
            bare, bare_base = start_bare(tmp, w)
            try:
                run_wrk(bare_base + "/noop", seconds=5, clients=16, token=None, tmp=tmp)  # warm-up
                for k in args.clients:
                    r = run_wrk(bare_base + "/noop", seconds=args.seconds, clients=k, token=None, tmp=tmp)
                    results[("bare", w, k)] = r
                    row("bare FastAPI POST (ceiling)", w, r, "–")
            finally:
                bare.terminate()
                bare.wait()
        global BASELINE
        variants = [("before", args.baseline), ("after", None)] if args.baseline else [("", None)]
        for db in args.db:
            for w in args.workers:
                for variant, src in variants:  # interleaved: both see the same moment's machine load
                    BASELINE = src
                    label = f"full create, {db}" + (f", {variant}" if variant else "")
                    url = prepare_db(db, tmp)
                    proc, base = start_haoban(url, w)
                    try:
                        token = httpx.post(
                            base + "/api/v1/auth/token", data={"username": "operator", "password": "demo"}
                        ).json()["access_token"]
                        for k in args.clients:
                            r = run_wrk(
                                base + "/api/v1/orders", seconds=args.seconds, clients=k, token=token, tmp=tmp
                            )
                            results[(label, w, k)] = r
                            one = results.get((label, args.workers[0], k))
                            speedup = r["rate"] / one["rate"] if one else 1.0
                            share = r["rate"] / results[("bare", w, k)]["rate"] * 100
                            row(
                                label,
                                w,
                                r,
                                f"{share:.0f}% of ceiling; ×{speedup:.2f} vs {args.workers[0]} worker(s), "
                                f"{speedup / min(w, cores) * 100:.0f}% per core; "
                                f"load {os.getloadavg()[0]:.1f}",
                            )
                        memory = resident(base, w)
                    finally:
                        proc.terminate()
                        proc.wait()
                    sizes = ", ".join(f"{m / 2**20:.0f} MB" for m in memory)
                    notes.append(
                        f"{label} with {w} worker(s): resident memory per server process after the run "
                        f"{sizes}; case files: {verify(url, base, 0)}"
                    )
                    print(notes[-1], flush=True)
                BASELINE = None
        sim = simulate(args.simulate, tmp) if args.simulate else None
        if sim:
            print(f"simulation: {sim}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    if not args.write:
        return
    lines = [
        "## Intake scale-out",
        "",
        f"Machine: {machine()}. Client wrk (1 thread) and servers share the machine. Load average "
        f"before / after the run: {load_before[0]:.1f} / {load_after[0]:.1f} "
        "(other sessions share the 2 cores).",
        f"Command: `.venv/bin/python bench/intake.py --workers {' '.join(map(str, args.workers))} --seconds "
        f"{args.seconds} --clients {' '.join(map(str, args.clients))} --db {' '.join(args.db)}"
        + (f" --simulate {args.simulate}" if args.simulate else "")
        + " --write`",
        "",
        "Each worker count runs the bare FastAPI ceiling (`uvicorn --workers N`) and haoban "
        "(`haoban serve --workers N --no-worker`): the same full create as above (validated, dispatched, "
        "both deadlines, committed durably with its case-file events and the SMS receipt), each process "
        "with its own group-commit writer. Per core: the speed-up over the first worker count divided "
        "by the cores the processes can use.",
        "",
        "| endpoint | workers | clients | requests | per second | p50 ms | p99 ms | failed | notes |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        *[f"- {n}" for n in notes],
    ]
    if sim:
        lines += [
            "",
            f"Two-machine simulation on loopback: two `haoban serve` processes on different ports, one "
            f"PostgreSQL database, {sim['requests']} creates alternating between them from 16 asyncio "
            f"connections ({sim['rate']:.0f}/s, the Python client is the limit here): acknowledged "
            f"{sim['acknowledged']}, failed {sim['failed']}, distinct codes {sim['distinct']}, stored "
            f"{sim['stored']}, acknowledged but missing {sim['missing']}, stored but never acknowledged "
            f"{sim['unacknowledged_extra']}; `haoban audit verify`: {sim['verify']}.",
        ]
    write_section(ROOT / "bench" / "RESULTS.md", "## Intake scale-out", "\n".join(lines) + "\n")


def write_section(path: Path, heading: str, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    start = text.find(heading + "\n")
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text.rstrip() + "\n", encoding="utf-8")


if __name__ == "__main__":
    try:
        main()
    finally:
        for name in CREATED:
            drop_database(PG_ADMIN, name)
