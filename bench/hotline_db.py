"""Benchmark hotline intelligence through the database path (run by hand, not a test).

    .venv/bin/python bench/hotline_db.py                      # temp SQLite database
    .venv/bin/python bench/hotline_db.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/hotline_db.py --scale 100000       # also hotspots over 100k stored orders
    .venv/bin/python bench/hotline_db.py --write              # (re)write the section in bench/RESULTS.md

What the product does, end to end, on a fresh database with the demo directory:

1. ``haoban hotspots import-votes`` of messages_with_votes.csv (TipDM 2020 challenge, problem C): the
   rows become orders through the bulk importer, the votes go to ``order_votes``.
2. Hotspots over those orders (window 2019-01-01 → 2020-01-31), cold and cached, compared with the pure
   algorithm run straight on the CSV (bench/hotspots.py): same clusters?
3. Near-duplicates: the first lookup builds the index of open orders; then 500 look-ups while typing.
4. Knowledge base: 10,000 published articles (bench/knowledge.py's set) stored in the database; the
   first search builds the index; 1,000 searches through the HTTP API (TestClient, bearer token).
5. ``--scale N``: N synthetic appeals (bench/hotspots.py's generator) written as orders, then hotspots
   over all of them through the database.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchutil import create_database, drop_database  # noqa: E402
from sqlalchemy import select  # noqa: E402

from haoban.auth.actors import SYSTEM_ACTOR  # noqa: E402
from haoban.config import Settings  # noqa: E402
from haoban.db import Database  # noqa: E402
from haoban.hotspots import service as hs  # noqa: E402
from haoban.hotspots.clustering import find_hotspots  # noqa: E402
from haoban.knowledge import service as ks  # noqa: E402
from haoban.knowledge.models import KnowledgeArticle  # noqa: E402
from haoban.orders.models import Order  # noqa: E402
from haoban.runtime import Runtime  # noqa: E402
from haoban.wiring import runtime as wired_runtime  # noqa: E402
from hotspots import load_votes, machine, synthesize, write_section  # noqa: E402
from knowledge import build_articles, read  # noqa: E402

DATA = ROOT / "data" / "tipdm2020"
SECTION = "hotline_db"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[max(0, round(p * len(values)) - 1)]


def fresh_runtime(url: str | None) -> tuple[Runtime, Any]:
    """A migrated database with the demo directory, rules and accounts; returns (runtime, cleanup)."""
    from haoban.demo.seed import seed_accounts, seed_directory, seed_rules

    cleanup = None
    if url is None:
        tmp = tempfile.mkdtemp(prefix="haoban-bench-")
        url = f"sqlite:///{tmp}/bench.db"
    elif url.startswith("postgresql"):
        admin_url, name = url, f"haoban_bench_{uuid.uuid4().hex[:8]}"
        url = create_database(admin_url, name)

        def cleanup() -> None:
            drop_database(admin_url, name)

    settings = Settings(database_url=url, secret_key="bench-secret-key-0123456789-0123456789-abc")
    rt = wired_runtime(Database(url), settings)
    rt.db.upgrade()
    seed_directory(rt)
    seed_rules(rt)
    seed_accounts(rt)
    return rt, cleanup


def describe(h: dict[str, Any]) -> list[str]:
    lines = [
        f"{h['rank']}. **{h['label']}** — place {h['place'] or '–'}, {h['start'][:10]} → {h['end'][:10]}, "
        f"size {h['size']}, writers {h['spread']}, votes {h['votes']}, growth {h['growth']}, "
        f"score {h['score']}"
    ]
    lines += [f"   - {s['code']} {s['subject']}" for s in h["sample_orders"][:3]]
    return lines


def run_hotspots(rt: Runtime) -> dict[str, Any]:
    path = DATA / "messages_with_votes.csv"
    t = time.perf_counter()
    report = hs.import_votes(rt, path=path, actor=SYSTEM_ACTOR, source="tipdm2020-votes")
    import_s = time.perf_counter() - t
    since, until = date(2019, 1, 1), date(2020, 1, 31)
    with rt.db.read() as session:
        t = time.perf_counter()
        result = hs.hotspots(session, rt, since=since, until=until, top=10)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        hs.hotspots(session, rt, since=since, until=until, top=10)
        cached = time.perf_counter() - t
        refs = dict(session.execute(select(Order.code, Order.external_ref)).all())
    # The pure algorithm straight on the CSV (bench/hotspots.py), same window (through 2020-01-31).
    pure = find_hotspots(load_votes(), since=datetime(2019, 1, 1), until=datetime(2020, 2, 1), top=10)
    db_sets = [sorted(refs[c].split(":", 1)[1] for c in h["members"]) for h in result["hotspots"]]
    pure_sets = [sorted(h.members) for h in pure]
    same = sum(1 for a, b in zip(db_sets, pure_sets, strict=False) if a == b)
    return {
        "rows": report.rows,
        "created": report.created,
        "errors": len(report.errors),
        "error_sample": report.errors[:3],
        "votes": report.votes_stored,
        "import_s": round(import_s, 1),
        "orders": result["orders"],
        "cold_s": round(cold, 2),
        "cached_ms": round(cached * 1000, 1),
        "same_as_pure": f"{same}/{len(pure_sets)}",
        "lines": [line for h in result["hotspots"] for line in describe(h)],
    }


def run_duplicates(rt: Runtime, queries: int = 500) -> dict[str, Any]:
    with rt.db.read() as session:
        t = time.perf_counter()
        hs.open_order_index(rt).sync(session)
        build = time.perf_counter() - t
        n_open = len(hs.open_order_index(rt).index)
        rows = session.execute(
            select(Order.subject, Order.content, Order.received_at).order_by(Order.id)
        ).all()
    rng = random.Random(5)
    sample = [rows[rng.randrange(len(rows))] for _ in range(queries)]
    lat, found = [], 0
    with rt.db.read() as session:
        for subject, content, at in sample:
            t = time.perf_counter()
            got = hs.check_duplicates(session, rt, text=f"{subject}。{content}", at=at)
            lat.append((time.perf_counter() - t) * 1000)
            found += len(got["candidates"]) > 1  # the order itself is always found
    return {
        "open": n_open,
        "build_s": round(build, 2),
        "p50": round(statistics.median(lat), 2),
        "p95": round(pct(lat, 0.95), 2),
        "with_other": f"{found}/{queries}",
    }


def run_knowledge(rt: Runtime, n: int, queries: int = 1000) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from haoban.app import create_app

    articles, _, _ = build_articles(n)
    now = datetime.now(UTC)
    with rt.db.write() as session:
        session.add_all(
            KnowledgeArticle(
                question=a.question[:300],
                answer=a.answer,
                valid_from=a.valid_from,
                tags=json.dumps(list(a.tags), ensure_ascii=False),
                source="bench",
                status="published",
                author="bench",
                reviewer="bench",
                reviewed_at=now,
                published_at=now,
                created_at=now,
                updated_at=now,
            )
            for a in articles
        )
    ks.knowledge_cache(rt).mark_stale()
    q_rows = read("messages_with_votes.csv") + read("messages_unlabelled.csv")
    rng = random.Random(9)
    qs = [q_rows[rng.randrange(len(q_rows))]["留言主题"] for _ in range(queries)]
    app = create_app(rt, run_worker=False, upgrade=False)
    with TestClient(app) as client:
        token = client.post("/api/v1/auth/token", data={"username": "operator", "password": "demo"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        t = time.perf_counter()
        client.get("/api/v1/knowledge/search", params={"q": "公积金贷款"}, headers=headers)
        first = time.perf_counter() - t
        http, svc, empty = [], [], 0
        for q in qs:
            t = time.perf_counter()
            r = client.get("/api/v1/knowledge/search", params={"q": q}, headers=headers)
            http.append((time.perf_counter() - t) * 1000)
            svc.append(r.json()["took_ms"])
            empty += not r.json()["items"]
        # One article proposed and published over the API, then the next search.
        a = client.post(
            "/api/v1/knowledge/articles",
            json={
                "question": "无人机夜间灯光表演需要报备吗",
                "answer": "举办无人机灯光表演须提前向公安机关和空管部门报备飞行计划，并购买第三者责任险。",
            },
            headers=headers,
        ).json()
        sv = client.post("/api/v1/auth/token", data={"username": "supervisor", "password": "demo"}).json()
        client.post(
            f"/api/v1/knowledge/articles/{a['id']}/review",
            json={"decision": "publish"},
            headers={"Authorization": f"Bearer {sv['access_token']}"},
        )
        t = time.perf_counter()
        r = client.get(
            "/api/v1/knowledge/search", params={"q": "晚上搞无人机表演要不要报备"}, headers=headers
        )
        after_publish = time.perf_counter() - t
        top_after = r.json()["items"][0]["id"] == a["id"]
    return {
        "articles": n,
        "first_s": round(first, 1),
        "http_p50": round(statistics.median(http), 2),
        "http_p95": round(pct(http, 0.95), 2),
        "http_p99": round(pct(http, 0.99), 2),
        "svc_p95": round(pct(svc, 0.95), 2),
        "empty": empty,
        "after_publish_ms": round(after_publish * 1000),
        "new_article_first": top_after,
    }


def run_scale(rt: Runtime, n: int) -> dict[str, Any]:
    """N synthetic appeals written straight through the intake writer, then hotspots via the DB."""
    from haoban.orders.intake import prepare_order, write_prepared
    from haoban.orders.schemas import OrderCreate

    appeals = synthesize(n)
    tz = hs.LOCAL_TZ
    t = time.perf_counter()
    batch = []
    for a in appeals:
        data = OrderCreate(
            channel="web",
            subject=a.subject[:200] or None,
            content=a.text[:10_000] or a.subject,
            received_at=a.at.replace(tzinfo=tz),
            external_ref=f"scale:{a.key}",
        )
        batch.append(prepare_order(rt, data=data, actor=SYSTEM_ACTOR))
        if len(batch) == 2000:
            with rt.db.write() as session:
                write_prepared(session, batch)
            batch = []
    if batch:
        with rt.db.write() as session:
            write_prepared(session, batch)
    # Votes and writers as the generator made them (bench/hotspots.py's scale test uses both).
    rows = [
        {"留言编号": a.key, "点赞数": str(a.votes), "反对数": str(a.against), "留言用户": a.user}
        for a in appeals
    ]
    with rt.db.write() as session:
        hs.store_votes(session, source="scale", rows=rows)
    write_s = time.perf_counter() - t
    since = min(a.at for a in appeals).date()
    until = max(a.at for a in appeals).date()
    with rt.db.read() as session:
        t = time.perf_counter()
        result = hs.hotspots(session, rt, since=since, until=until, top=10)
        cold = time.perf_counter() - t
    return {
        "n": n,
        "write_s": round(write_s, 1),
        "orders": result["orders"],
        "cold_s": round(cold, 1),
        "top": "; ".join(f"{h['label']} ({h['size']})" for h in result["hotspots"][:5]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", help="SQLAlchemy URL (PostgreSQL: a server URL; a fresh database is made)")
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--scale", type=int, default=0, help="also hotspots over N synthetic stored orders")
    ap.add_argument("--write", action="store_true", help="write the section in bench/RESULTS.md")
    args = ap.parse_args()

    info = machine()
    print(info)
    rt, cleanup = fresh_runtime(args.db)
    backend = rt.db.engine.dialect.name
    try:
        hot = run_hotspots(rt)
        print(json.dumps({k: v for k, v in hot.items() if k != "lines"}, ensure_ascii=False))
        print("\n".join(hot["lines"]))
        dup = run_duplicates(rt)
        print("duplicates:", dup)
        kn = run_knowledge(rt, args.articles)
        print("knowledge:", kn)
        scale = None
        if args.scale:
            scale_rt, scale_cleanup = fresh_runtime(args.db)
            try:
                scale = run_scale(scale_rt, args.scale)
            finally:
                scale_rt.db.dispose()
                if scale_cleanup:
                    scale_cleanup()
            print("scale:", scale)
    finally:
        rt.db.dispose()
        if cleanup:
            cleanup()

    if args.write:
        cmd = "python bench/hotline_db.py --write" + (f" --scale {args.scale}" if args.scale else "")
        body = [
            "## Hotline intelligence through the database (`bench/hotline_db.py`)",
            "",
            f"Machine: {info}. Database: {backend}. Command: `.venv/bin/{cmd}`. "
            f"Run on {datetime.now():%Y-%m-%d}.",
            "",
            "### Hotspots: messages_with_votes.csv imported as orders, ranked through the database",
            "",
            f"- `haoban hotspots import-votes`: {hot['rows']:,} rows → {hot['created']:,} orders "
            f"({hot['errors']} rows refused by the importer), votes stored for {hot['votes']:,}; "
            f"{hot['import_s']} s",
            f"- ranking {hot['orders']:,} orders (2019-01-01 → 2020-01-31): **{hot['cold_s']} s** cold "
            f"(loading, clustering, labels; jieba already loaded), {hot['cached_ms']} ms cached",
            f"- same member sets as the pure algorithm on the CSV, rank by rank: {hot['same_as_pure']}",
            "",
            *hot["lines"],
            "",
            "### Near-duplicates (`POST /api/v1/duplicates/check`, service level)",
            "",
            f"- index of {dup['open']:,} open orders built on first use in {dup['build_s']} s",
            f"- look-up while typing: p50 {dup['p50']} ms, p95 {dup['p95']} ms (catch-up with the case "
            f"file included); {dup['with_other']} sampled orders have another open order ≥ 0.5",
            "",
            f"### Knowledge search, {kn['articles']:,} published articles (`GET /api/v1/knowledge/search`)",
            "",
            f"- first search builds the index: {kn['first_s']} s (jieba tokenising every article)",
            f"- 1,000 searches over HTTP (TestClient, token auth): **p50 {kn['http_p50']} ms, "
            f"p95 {kn['http_p95']} ms**, p99 {kn['http_p99']} ms; inside the handler p95 "
            f"{kn['svc_p95']} ms (target p95 ≤ 50 ms); {kn['empty']} without a hit",
            "- after an article is published over the API, the next search takes "
            f"{kn['after_publish_ms']} ms "
            f"(one article tokenised, matrix rebuilt) and ranks it first: {kn['new_article_first']}",
        ]
        if scale:
            body += [
                "",
                f"### Scale: {scale['n']:,} synthetic appeals stored as orders",
                "",
                f"- written through the intake writer (with votes and writers) in {scale['write_s']} s",
                f"- hotspots over {scale['orders']:,} orders through the database: **{scale['cold_s']} s** "
                "(target ≤ 60 s on 2 cores)",
                f"- top 5: {scale['top']}",
            ]
        write_section(SECTION, "\n".join(body))
        print(f"\nwrote section '{SECTION}' of bench/RESULTS.md")


if __name__ == "__main__":
    main()
