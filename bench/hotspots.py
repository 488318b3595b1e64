"""Benchmark hotspots and near-duplicates (run by hand, not a test).

    .venv/bin/python bench/hotspots.py                 # real data top 10 + 100k scale + near-dup
    .venv/bin/python bench/hotspots.py --n 20000       # smaller scale run
    .venv/bin/python bench/hotspots.py --write         # also (re)write the section in bench/RESULTS.md

Data: TipDM 2020 challenge, problem C (data/tipdm2020/, see its README). The scale test resamples
every message file with subject/detail/time (~10k real messages) up to N, perturbing each copy:
sentences dropped (30 %) and swapped, the subject sometimes replaced by the first sentence, the
time shifted by up to ±120 days, a new writer, a share of the votes. Copies of one message are
therefore near-duplicates of one another — a harder case than real traffic for pair counts.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import resource
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from benchutil import machine, write_section  # noqa: E402

from haoban.hotspots.clustering import Appeal, Hotspot, find_hotspots  # noqa: E402
from haoban.hotspots.neardup import DocRef, NearDuplicateIndex  # noqa: E402
from haoban.textutil import extract_districts  # noqa: E402

DATA = ROOT / "data" / "tipdm2020"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "hotspots"
_SENT = re.compile(r"[^。！？!?；;]+[。！？!?；;]?")


def parse_time(value: str) -> datetime:
    """The data mixes "2019/2/28 11:25:05" and "2019-08-23 12:22:00"."""
    value = value.strip()
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise ValueError(f"unknown date format: {value!r}")


def district_of(subject: str, detail: str) -> str | None:
    found = extract_districts(subject) or extract_districts(detail[:300])
    return found[0] if found else None


def load_votes() -> list[Appeal]:
    with (DATA / "messages_with_votes.csv").open(encoding="utf-8-sig") as f:
        return [
            Appeal(
                key=r["留言编号"],
                subject=r["留言主题"],
                text=r["留言详情"],
                at=parse_time(r["留言时间"]),
                district=district_of(r["留言主题"], r["留言详情"]),
                votes=int(r["点赞数"] or 0),
                against=int(r["反对数"] or 0),
                user=r["留言用户"],
            )
            for r in csv.DictReader(f)
        ]


def _base_messages() -> list[tuple[str, str, datetime, int]]:
    files = [
        ("messages_with_votes.csv", ("留言主题", "留言详情", "留言时间")),
        ("messages_with_replies.csv", ("留言主题", "留言详情", "留言时间")),
        ("messages_unlabelled.csv", ("留言主题", "留言详情", "留言时间")),
        ("train_sample_fields.csv", ("subject", "detail", "time")),
    ]
    out = []
    for name, (s, d, t) in files:
        with (DATA / name).open(encoding="utf-8-sig") as f:
            for r in csv.DictReader(f):
                try:
                    at = parse_time(r[t])
                except ValueError:
                    continue
                out.append((r[s], r[d], at, int(r.get("点赞数") or 0)))
    return out


def synthesize(n: int, seed: int = 7) -> list[Appeal]:
    """n appeals: every real message once, then perturbed resamples (see module docstring)."""
    rng = random.Random(seed)
    base = _base_messages()
    out: list[Appeal] = []
    for i in range(n):
        if i < len(base):
            subject, detail, at, votes = base[i]
        else:
            subject, detail, at, votes = base[rng.randrange(len(base))]
            sentences = _SENT.findall(detail) or [detail]
            kept = [s for s in sentences if rng.random() > 0.3] or sentences[:1]
            if len(kept) > 2 and rng.random() < 0.5:
                a, b = rng.randrange(len(kept)), rng.randrange(len(kept))
                kept[a], kept[b] = kept[b], kept[a]
            detail = "".join(kept)
            if rng.random() < 0.3:
                subject = sentences[0][:30]
            at = at + timedelta(days=rng.uniform(-120, 120))
            votes = int(votes * rng.random())
        out.append(
            Appeal(
                key=f"S{i}",
                subject=subject,
                text=detail,
                at=at,
                district=district_of(subject, detail),
                votes=votes,
                user=f"U{rng.randrange(n)}",
            )
        )
    return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def describe(h: Hotspot, samples: int = 5) -> list[str]:
    lines = [
        f"{h.rank}. **{h.label}** — place {h.place or '–'}, {h.start:%Y-%m-%d} → {h.end:%Y-%m-%d}, "
        f"size {h.size}, writers {h.spread}, votes {h.votes}, growth {h.growth}, score {h.score}"
    ]
    lines += [f"   - {s}" for s in h.samples[:samples]]
    return lines


def run_real(top: int) -> tuple[list[str], float]:
    appeals = load_votes()
    t = time.perf_counter()
    hs = find_hotspots(appeals, since=datetime(2019, 1, 1), until=datetime(2020, 1, 31), top=top)
    dt = time.perf_counter() - t
    lines = []
    for h in hs:
        lines += describe(h)
    return lines, dt


def run_scale(n: int, repeat_check: bool) -> dict[str, float | str]:
    appeals = synthesize(n)
    before = current_rss_mb()
    t = time.perf_counter()
    hs = find_hotspots(appeals, top=10)
    dt = time.perf_counter() - t
    out: dict[str, float | str] = {
        "n": n,
        "seconds": round(dt, 2),
        "rss_before_mb": round(before, 0),
        "peak_rss_mb": round(rss_mb(), 0),
        "top": "; ".join(f"{h.label} ({h.size})" for h in hs[:5]),
    }
    if repeat_check:
        again = find_hotspots(list(reversed(appeals)), top=10)
        out["deterministic"] = "yes" if again == hs else "NO"
    return out


def run_neardup(n: int, queries: int = 1000) -> dict[str, float | int | str]:
    appeals = synthesize(n, seed=11)
    docs = [DocRef(a.key, f"{a.subject}。{a.text}", a.at, a.district) for a in appeals]
    ix = NearDuplicateIndex()
    before = current_rss_mb()
    t = time.perf_counter()
    for d in docs:
        ix.add(d)
    build = time.perf_counter() - t
    after = current_rss_mb()
    rng = random.Random(5)
    sample = [docs[rng.randrange(len(docs))] for _ in range(queries)]
    lat = []
    found = 0
    for d in sample:
        t = time.perf_counter()
        got = ix.query(d)
        lat.append((time.perf_counter() - t) * 1000)
        found += bool(got)
    lat.sort()
    # Real data: how many messages have a near-duplicate among the others (same district, 30 days)?
    real = load_votes()
    rix = NearDuplicateIndex()
    for a in real:
        rix.add(DocRef(a.key, f"{a.subject}。{a.text}", a.at, a.district))
    pairs = []
    with_dup = 0
    for a in real:
        got = rix.query(DocRef(a.key, f"{a.subject}。{a.text}", a.at, a.district))
        if got:
            with_dup += 1
            if len(pairs) < 4 and a.key < got[0].key:
                other = next(x for x in real if x.key == got[0].key)
                pairs.append(f"{got[0].similarity:.2f}: 「{a.subject}」 ~ 「{other.subject}」")
    return {
        "docs": n,
        "build_s": round(build, 1),
        "rss_added_mb": round(after - before, 0),
        "query_p50_ms": round(statistics.median(lat), 2),
        "query_p95_ms": round(lat[int(0.95 * len(lat)) - 1], 2),
        "queries_with_match": f"{found}/{queries}",
        "real_with_dup": f"{with_dup}/{len(real)}",
        "real_pairs": " | ".join(pairs),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000, help="appeals in the scale test")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-neardup", action="store_true")
    ap.add_argument("--write", action="store_true", help="write the section in bench/RESULTS.md")
    args = ap.parse_args()

    info = machine()
    print(info)
    lines, real_s = run_real(args.top)
    print(f"\nReal data (messages_with_votes.csv, 4,326 messages): {real_s:.1f} s")
    print("\n".join(lines))
    scale = None if args.skip_scale else run_scale(args.n, repeat_check=True)
    if scale:
        print("\nScale:", scale)
    nd = None if args.skip_neardup else run_neardup(args.n)
    if nd:
        print("\nNear-duplicates:", nd)

    if args.write:
        cmd = "python bench/hotspots.py --write" + (f" --n {args.n}" if args.n != 100_000 else "")
        body = [
            "## Hotspots and near-duplicates (`bench/hotspots.py`)",
            "",
            f"Machine: {info}. Command: `.venv/bin/{cmd}`. Run on {datetime.now():%Y-%m-%d}.",
            "",
            f"### Top {args.top} hotspots, TipDM 2020 messages_with_votes.csv (4,326 messages, window "
            f"2019-01-01 → 2020-01-31), {real_s:.1f} s including jieba start-up",
            "",
            *lines,
        ]
        if scale:
            body += [
                "",
                f"### Scale: {scale['n']:,} synthetic appeals (resampled and perturbed real messages)",
                "",
                f"- find_hotspots: **{scale['seconds']} s** on one core (target ≤ 60 s); "
                f"peak RSS {scale['peak_rss_mb']:.0f} MB (data alone {scale['rss_before_mb']:.0f} MB)",
                f"- same result with the input reversed: {scale.get('deterministic', '?')}",
                f"- top 5: {scale['top']}",
            ]
        if nd:
            body += [
                "",
                f"### Near-duplicate index: {nd['docs']:,} synthetic orders (threshold 0.5, 128 perms)",
                "",
                f"- add all: {nd['build_s']} s; RSS added {nd['rss_added_mb']:.0f} MB",
                f"- query: p50 {nd['query_p50_ms']} ms, p95 {nd['query_p95_ms']} ms; "
                f"queries with a match {nd['queries_with_match']} "
                "(copies of one message are near-duplicates)",
                f"- real data (same district, 30-day window): {nd['real_with_dup']} messages have a "
                f"near-duplicate; e.g. {nd['real_pairs']}",
            ]
        write_section(SECTION, "\n".join(body))
        print(f"\nwrote section '{SECTION}' of {RESULTS}")


if __name__ == "__main__":
    main()
