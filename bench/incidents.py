"""Benchmark incident matching (同一事件): quality on labelled pairs, latency and build at scale.

    .venv/bin/python bench/incidents.py quality            # dev split (the one tuned on)
    .venv/bin/python bench/incidents.py quality --heldout  # the held-out split: never tuned on
    .venv/bin/python bench/incidents.py quality --body     # dev pairs of the body groups only
    .venv/bin/python bench/incidents.py cv                 # grouped cross-validation on dev
    .venv/bin/python bench/incidents.py scale --n 100000   # build time, memory, query p50/p99
    .venv/bin/python bench/incidents.py all --write        # both splits + scale, into RESULTS.md

Quality: ``data/incidents/pairs.csv`` (how it was made: ``data/incidents/README.md``). Each pair is
scored with :func:`haoban.hotspots.incidents.compare`, IDF from an index of every 2019–2020 TipDM
board message; the near-copy signal (3-shingle Jaccard ≥ 0.5, ``hotspots.neardup``) also makes a
pair a candidate, unless both name a place and share none (``incidents.elsewhere``: one template sent
about several estates), as in the service. The main figure counts pairs whose messages lie ≤ 30
days apart (open orders: a complaint is answered within 13 working days); all pairs are reported too.

CV: 5-fold cross-validation on the dev split, folds by component (``data/incidents/components.csv``:
groups sharing a message stay together, as the split does), repeated over 5 shuffles. It estimates
what a threshold (and a learnt combiner) chosen on dev does on reports it was not chosen on: (1) the
shipped score, threshold picked on the training folds; (2) a logistic regression over the signals
the operator is shown (place strength, place in both openings, problem shared in the openings / in
the body / unknown, a problem conflict, word similarity, the gap against the kind's window), its
threshold picked by an inner CV on the training folds. Neither estimates how the hand-written
synonyms and windows generalise: they were written on dev (see the held-out split for that).

Scale: N reports resampled from the real messages (subject + detail, times over 30 days) are added
one by one to an :class:`IncidentIndex` (the way the process builds it), then 1,000 queries with
other messages are timed (features + candidates + scores: the whole check while the operator types).
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from benchutil import machine, write_section  # noqa: E402

from haoban.hotspots.incidents import (  # noqa: E402
    DEFAULT_WINDOW,
    THRESHOLD,
    IncidentIndex,
    compare,
    default_matcher,
    elsewhere,
    place_strength,
)
from haoban.hotspots.neardup import jaccard, shingle_hashes  # noqa: E402

DATA = ROOT / "data"
SECTION = "incidents"
NEAR_COPY = 0.5


def _text(m: dict[str, str]) -> str:
    return f"{m['subject']}。{m['detail']}"


def corpus() -> list[dict[str, str]]:
    from incident_pairs import load_messages

    return [m for m in load_messages().values() if m["time"][:4] in ("2019", "2020")]


def score_pairs(split: str, *, max_gap: float | None, body: bool = False) -> list[tuple[int, float, str]]:
    """(label, score, type) per pair of *split*; score 0 when a signal rules the pair out.

    *body*: only the pairs of the fourth labelling pass (groups by a place name in the body; their
    components are named ``body NAME``), the labels the matcher was least tuned on."""
    return [
        (y, score, kind)
        for y, score, kind, comps, _ in signal_pairs(split, max_gap=max_gap)
        if not body or all(c.startswith("body ") for c in comps)
    ]


def signal_pairs(
    split: str, *, max_gap: float | None
) -> list[tuple[int, float, str, tuple[str, str], list[float] | None]]:
    """Per pair of *split*: label, shipped score, type, the components of its two messages, and the
    signals the operator sees as numbers (None when the pair is a near copy or has no shared place)."""
    msgs = {r["id"]: r for r in csv.DictReader((DATA / "incidents" / "messages.csv").open(encoding="utf-8"))}
    pairs = [
        p
        for p in csv.DictReader((DATA / "incidents" / "pairs.csv").open(encoding="utf-8"))
        if p["split"] == split
    ]
    if max_gap is not None:
        pairs = [p for p in pairs if float(p["gap_days"]) <= max_gap]
    index = IncidentIndex()
    for m in corpus():
        index.add(m["id"], _text(m), at=datetime.fromisoformat(m["time"]))
    matcher = default_matcher()
    feats = {k: matcher.features(_text(m)) for k, m in msgs.items()}
    comp = {
        r["id"]: r["component"]
        for r in csv.DictReader((DATA / "incidents" / "components.csv").open(encoding="utf-8"))
    }
    out = []
    for p in pairs:
        a, b = feats[p["a"]], feats[p["b"]]
        gap = datetime.fromisoformat(msgs[p["a"]]["time"]) - datetime.fromisoformat(msgs[p["b"]]["time"])
        words = index.words(a.grams, b.grams)
        m = compare(a, b, gap=gap, matcher=matcher, words=words)
        score = m.score if m else 0.0
        jac = jaccard(shingle_hashes(_text(msgs[p["a"]])), shingle_hashes(_text(msgs[p["b"]])))
        place, _ = place_strength(a.places, b.places)
        signals = None
        if jac >= NEAR_COPY and not elsewhere(a, b):
            score = max(score, 1.0)
        elif place > 0:
            linked = matcher.linked(a.kinds, b.kinds)
            head_linked = matcher.linked(a.head_kinds, b.head_kinds)
            window = matcher.window(linked)
            if a.lasting or b.lasting:
                window = max(window, DEFAULT_WINDOW)
            signals = [
                place,
                float(not set(a.head_keys).isdisjoint(b.head_keys)),
                float(bool(a.head_kinds & b.head_kinds)),
                float(bool(linked)),
                float(not (a.kinds and b.kinds)),
                float(
                    bool(a.kinds and b.kinds and not linked)
                    or bool(a.head_kinds and b.head_kinds and not head_linked)
                ),
                min(1.0, words / 0.4),
                min(3.0, abs(gap) / window),
                float(abs(gap) > window),
                float(bool(a.districts and b.districts and a.districts.isdisjoint(b.districts))),
            ]
        out.append((int(p["label"]), score, p["type"], (comp[p["a"]], comp[p["b"]]), signals))
    return out


def _pick_threshold(ys: list[int], scores: list[float]) -> float:
    """The threshold with the best min(precision, recall): the target asks for both."""
    best, best_t = -1.0, THRESHOLD
    for t in [x / 100 for x in range(5, 96)]:
        p, r, *_ = pr([(y, s, "") for y, s in zip(ys, scores, strict=True)], t)
        if min(p, r) > best + 1e-12:
            best, best_t = min(p, r), t
    return best_t


def _folds(comps: set[str], k: int, seed: int) -> dict[str, int]:
    order = sorted(comps)
    random.Random(seed).shuffle(order)
    return {c: i % k for i, c in enumerate(order)}


def _learnt(train: list, test: list, seed: int, k: int) -> list[float]:
    """Logistic regression over the signals (fitted on *train*), threshold by an inner grouped CV;
    returns 1/0 decisions for *test*."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    def fit(rows: list) -> LogisticRegression | None:
        rows = [r for r in rows if r[4] is not None]
        ys = [r[0] for r in rows]
        if len(set(ys)) < 2:
            return None
        return LogisticRegression(C=1.0, max_iter=2000).fit(np.array([r[4] for r in rows]), np.array(ys))

    def predict(model: LogisticRegression | None, rows: list) -> list[float]:
        known = [r[4] for r in rows if r[4] is not None]
        probs = iter(model.predict_proba(np.array(known))[:, 1] if model is not None and known else [])
        return [
            1.0 if r[1] >= 1.0 and r[4] is None else (float(next(probs)) if r[4] is not None else 0.0)
            for r in rows
        ]

    folds = _folds({c for r in train for c in r[3]}, k, seed + 100)
    iy: list[int] = []
    isc: list[float] = []
    for j in range(k):
        itest = [r for r in train if folds[r[3][0]] == j]
        itrain = [r for r in train if folds[r[3][0]] != j and folds[r[3][1]] != j]
        iy += [r[0] for r in itest]
        isc += predict(fit(itrain), itest)
    t = _pick_threshold(iy, isc)
    return [1.0 if s >= t else 0.0 for s in predict(fit(train), test)]


def cross_validate(k: int = 5, seeds: int = 5) -> str:
    rows = signal_pairs("dev", max_gap=30.0)
    comps = {c for r in rows for c in r[3]}
    results: dict[str, list[tuple[float, float]]] = {"shipped score": [], "learnt combiner": []}
    thresholds = []
    for seed in range(seeds):
        folds = _folds(comps, k, seed)
        decided: dict[str, tuple[list[int], list[float]]] = {n: ([], []) for n in results}
        for i in range(k):
            # a pair is tested in the fold of its first message; training never sees a tested component
            test = [r for r in rows if folds[r[3][0]] == i]
            train = [r for r in rows if folds[r[3][0]] != i and folds[r[3][1]] != i]
            t = _pick_threshold([r[0] for r in train], [r[1] for r in train])
            thresholds.append(t)
            decided["shipped score"][0].extend(r[0] for r in test)
            decided["shipped score"][1].extend(1.0 if r[1] >= t else 0.0 for r in test)
            decided["learnt combiner"][0].extend(r[0] for r in test)
            decided["learnt combiner"][1].extend(_learnt(train, test, seed, k))
        for name, (ys, ds) in decided.items():
            p, rcl, *_ = pr([(y, d, "") for y, d in zip(ys, ds, strict=True)], 0.5)
            results[name].append((p, rcl))
    pos = sum(r[0] for r in rows)
    lines = [
        f"### dev split, {k}-fold cross-validation by component ({seeds} shuffles; pairs ≤ 30 days: "
        f"{pos} positive, {len(rows) - pos} negative)",
        "",
    ]
    for name, res in results.items():
        ps, rs = [x[0] for x in res], [x[1] for x in res]
        lines.append(
            f"- {name}: **precision {statistics.mean(ps):.3f}, recall {statistics.mean(rs):.3f}** "
            f"(per shuffle {', '.join(f'{a:.3f}/{b:.3f}' for a, b in res)})"
        )
    lines.append(
        "- thresholds the training folds picked for the shipped score: "
        f"{min(thresholds):.2f}–{max(thresholds):.2f} "
        f"(median {statistics.median(thresholds):.2f}; shipped {THRESHOLD})"
    )
    return "\n".join(lines) + "\n"


def pr(scored: list[tuple[int, float, str]], t: float) -> tuple[float, float, int, int, int]:
    tp = sum(1 for y, s, _ in scored if y and s >= t)
    fp = sum(1 for y, s, _ in scored if not y and s >= t)
    pos = sum(1 for y, _, _ in scored if y)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / pos if pos else 0.0
    return precision, recall, tp, fp, pos


def quality(split: str, *, body: bool = False) -> str:
    lines = [f"### {split} split" + (", body-group pairs only (fourth pass)" if body else ""), ""]
    for label, gap in (("pairs ≤ 30 days apart (main)", 30.0), ("all pairs", None)):
        scored = score_pairs(split, max_gap=gap, body=body)
        neg = {t: sum(1 for y, _, tt in scored if not y and tt == t) for t in ("same_place", "same_problem")}
        p, r, tp, fp, pos = pr(scored, THRESHOLD)
        fps = {t: sum(1 for y, s, tt in scored if not y and tt == t and s >= THRESHOLD) for t in neg}
        lines.append(
            f"- {label}: {pos} positive, {neg['same_place']} same-place and {neg['same_problem']} "
            f"same-problem negatives. At the shipped threshold {THRESHOLD}: "
            f"**precision {p:.3f}, recall {r:.3f}** "
            f"(TP {tp}, FP {fp}: {fps['same_place']} same-place, {fps['same_problem']} same-problem)"
        )
        if gap is not None:
            lines.append("")
            lines.append("  | threshold | precision | recall |")
            lines.append("  |---|---|---|")
            for t in (0.4, 0.45, 0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
                pp, rr, *_ = pr(scored, t)
                lines.append(f"  | {t:.2f} | {pp:.3f} | {rr:.3f} |")
            lines.append("")
    return "\n".join(lines)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def scale(n: int, queries: int = 1000, seed: int = 0, trace: bool = False) -> str:
    rnd = random.Random(seed)
    msgs = corpus()
    base = datetime(2026, 11, 1, 8, 0)
    texts = [_text(m) for m in msgs]
    matcher = default_matcher()
    matcher.features("预热 jieba-free 路径")  # build the term regex before timing
    gc.collect()
    rss0 = current_rss_mb()
    if trace:
        tracemalloc.start()  # slows the build ~3×: only with --trace
    index = IncidentIndex(matcher)
    c0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(n):
        index.add(f"o{i}", texts[i % len(texts)], at=base + timedelta(minutes=rnd.randrange(30 * 24 * 60)))
    build = time.perf_counter() - t0
    build_cpu = time.process_time() - c0
    traced = tracemalloc.get_traced_memory()[0] / 1024 / 1024 if trace else float("nan")
    if trace:
        tracemalloc.stop()
    gc.collect()
    rss1 = current_rss_mb()
    lat = []
    cpu = []
    hits = 0
    for _ in range(queries):
        text = rnd.choice(texts)
        at = base + timedelta(minutes=rnd.randrange(30 * 24 * 60))
        t1, c1 = time.perf_counter(), time.process_time()
        f = index.features(text)
        found = index.query(f, at=at, limit=5)
        lat.append((time.perf_counter() - t1) * 1000)
        cpu.append((time.process_time() - c1) * 1000)
        hits += bool(found)
    lat.sort()
    cpu.sort()
    p50 = statistics.median(lat)
    p99 = lat[int(0.99 * len(lat)) - 1]
    cpu99 = cpu[int(0.99 * len(cpu)) - 1]
    load = Path("/proc/loadavg").read_text().split()[0]
    return (
        f"### scale: {n:,} open reports\n\n"
        f"- build (one add at a time): {build:.1f} s wall, {build_cpu:.1f} s CPU "
        f"({build / n * 1e6:.0f} µs a report); load average {load} on 2 cores at the end\n"
        f"- memory: +{rss1 - rss0:.0f} MB RSS after build "
        f"(tracemalloc: {traced:.0f} MB allocated by the index)\n"
        f"- check while typing (features + candidates + scores), {queries} queries: "
        f"**p50 {p50:.1f} ms, p99 {p99:.1f} ms** (CPU time p99 {cpu99:.1f} ms), max {lat[-1]:.1f} ms; "
        f"{hits} of {queries} found candidates\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["quality", "cv", "scale", "all"])
    ap.add_argument("--heldout", action="store_true")
    ap.add_argument("--body", action="store_true", help="quality: only the body-group pairs (dev)")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--trace", action="store_true", help="also count the index's allocations (slow)")
    args = ap.parse_args()
    parts = [f"Machine: {machine()}", ""]
    if args.what in ("quality", "all"):
        splits = ["dev", "heldout"] if args.what == "all" else ["heldout" if args.heldout else "dev"]
        for s in splits:
            parts.append(quality(s, body=args.body))
    if args.what in ("cv", "all"):
        parts.append(cross_validate())
    if args.what in ("scale", "all"):
        parts.append(scale(args.n, trace=args.trace))
    body = "\n".join(parts)
    print(body)
    if args.write:
        write_section(SECTION, "## Incident matching (bench/incidents.py)\n\n" + body)


if __name__ == "__main__":
    main()
