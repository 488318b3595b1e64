"""Benchmark knowledge-base search (run by hand, not a test).

    .venv/bin/python bench/knowledge.py            # 10,000 articles, 1,000 queries
    .venv/bin/python bench/knowledge.py --write    # also (re)write the section in bench/RESULTS.md

Articles: the candidates ``articles_from_replies`` builds from messages_with_replies.csv (TipDM 2020
challenge, problem C), topped up to N with perturbed copies (answer sentences dropped and shuffled,
the question's first words cut), so the index has the size and vocabulary of a real one.
Queries: subjects of other citizens' messages (messages_with_votes.csv and messages_unlabelled.csv),
i.e. what an operator would type while listening. Latency is wall time of ``search`` per query,
after one warm-up query that builds the matrix.

Recall check: for each real article, the first sentence of the citizen's *detail* (not the subject
the article was made from) is used as the query; we count how often the article is in the top 5.
A perturbed copy of the article counts as finding it (same answer). This is a paraphrase test on
real data, with the caveat that the detail often repeats words of the subject.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from haoban.knowledge.search import Article, KnowledgeIndex, articles_from_replies  # noqa: E402
from hotspots import machine, write_section  # noqa: E402

DATA = ROOT / "data" / "tipdm2020"
_SENT = re.compile(r"[^。！？!?；;]+[。！？!?；;]?")


def read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def build_articles(n: int, seed: int = 3) -> tuple[list[Article], list[dict[str, str]], dict[int, int]]:
    """Articles, the source rows, and copy id → id of the real article it was made from."""
    rows = read("messages_with_replies.csv")
    base = articles_from_replies(rows)
    rng = random.Random(seed)
    out = list(base)
    origin = {a.id: a.id for a in base}
    next_id = 10_000_000
    while len(out) < n:
        a = base[rng.randrange(len(base))]
        sentences = _SENT.findall(a.answer) or [a.answer]
        kept = [s for s in sentences if rng.random() > 0.3] or sentences[:1]
        rng.shuffle(kept)
        cut = rng.randrange(0, min(4, max(1, len(a.question) - 4)))
        out.append(Article(next_id, a.question[cut:], "".join(kept), a.department, a.tags, a.valid_from))
        origin[next_id] = a.id
        next_id += 1
    return out[:n], rows, origin


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    info = machine()
    print(info)

    articles, rows, origin = build_articles(args.n)
    t = time.perf_counter()
    ix = KnowledgeIndex(articles)
    tokenise_s = time.perf_counter() - t
    t = time.perf_counter()
    ix.rebuild()
    matrix_s = time.perf_counter() - t
    print(f"{len(articles)} articles: tokenise {tokenise_s:.1f} s, matrix {matrix_s:.2f} s")

    rng = random.Random(9)
    subjects = [r["留言主题"] for r in read("messages_with_votes.csv") + read("messages_unlabelled.csv")]
    queries = rng.sample(subjects, min(args.queries, len(subjects)))
    today = date(2020, 6, 1)
    ix.search(queries[0], today=today)
    lat = []
    empty = 0
    for q in queries:
        t = time.perf_counter()
        hits = ix.search(q, today=today, limit=10)
        lat.append((time.perf_counter() - t) * 1000)
        empty += not hits
    lat.sort()
    p50, p95, p99 = statistics.median(lat), lat[int(0.95 * len(lat)) - 1], lat[int(0.99 * len(lat)) - 1]
    print(f"latency ms: p50 {p50:.2f}  p95 {p95:.2f}  p99 {p99:.2f}  max {lat[-1]:.2f}; no hit {empty}")

    # Incremental add: one article, then the next search pays the rebuild.
    extra = Article(99_999_999, "测试新增条目 公积金", "新增条目的答案。")
    t = time.perf_counter()
    ix.add(extra)
    ix.search("公积金", today=today)
    add_s = time.perf_counter() - t
    ix.remove(extra.id)

    # Paraphrase recall on real articles: detail's first sentence as the query.
    by_id = {int(r["留言编号"]): r for r in rows}
    real = [a for a in articles if a.id in by_id]
    sample = rng.sample(real, min(500, len(real)))
    at1 = at5 = 0
    examples = []
    for a in sample:
        detail = by_id[a.id]["留言详情"]
        first = next((s for s in _SENT.findall(detail) if len(s) >= 8), detail[:60])[:80]
        # A perturbed copy of the article carries the same answer: finding it counts.
        ids = [origin.get(h.article_id) for h in ix.search(first, today=today, limit=5)]
        at1 += bool(ids) and ids[0] == a.id
        at5 += a.id in ids
        if len(examples) < 3 and ids and ids[0] == a.id and first[:10] not in a.question:
            examples.append(f"「{first}」 → 「{a.question}」")
    print(f"recall@1 {at1}/{len(sample)}, recall@5 {at5}/{len(sample)}")
    print("examples:", examples)

    # Expired articles must never come back.
    expired = Article(88_888_888, "公积金贷款需要什么材料", "过期答案。", valid_to=date(2020, 1, 1))
    ix.add(expired)
    leaked = any(h.article_id == expired.id for h in ix.search("公积金贷款材料", today=today, limit=50))
    print("expired article returned:", leaked)

    if args.write:
        body = [
            "## Knowledge-base search (`bench/knowledge.py`)",
            "",
            f"Machine: {info}. Command: `.venv/bin/python bench/knowledge.py --write`. "
            f"Run on {datetime.now():%Y-%m-%d}.",
            "",
            f"- {len(articles):,} articles ({len(real):,} built from messages_with_replies.csv, the rest "
            "perturbed copies)",
            f"- build: tokenisation {tokenise_s:.1f} s (jieba, at `add`), BM25 matrix {matrix_s:.2f} s "
            f"(rebuild); one `add` + next search {add_s * 1000:.0f} ms",
            f"- {len(queries):,} queries (subjects of other messages): "
            f"**p50 {p50:.2f} ms, p95 {p95:.2f} ms**, "
            f"p99 {p99:.2f} ms, max {lat[-1]:.2f} ms (target p95 ≤ 50 ms); {empty} queries without a hit",
            f"- paraphrase recall (first sentence of the citizen's detail as query, {len(sample)} real "
            f"articles): recall@1 {at1 / len(sample):.0%}, recall@5 {at5 / len(sample):.0%}",
            f"- e.g. {'; '.join(examples)}",
            f"- expired article returned: {'YES — bug' if leaked else 'never'}",
        ]
        write_section("knowledge", "\n".join(body))
        print("wrote section 'knowledge'")


if __name__ == "__main__":
    main()
