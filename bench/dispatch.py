"""Benchmark the dispatch classifier (run by hand, not a test).

    .venv/bin/python bench/dispatch.py                  # grouped 5-fold CV on raw text + speed
    .venv/bin/python bench/dispatch.py --write          # also (re)write its section of RESULTS.md
    .venv/bin/python bench/dispatch.py --save-model     # also save the full model to data/models/
    .venv/bin/python bench/dispatch.py --stopwords      # re-derive text.STOPWORDS from the data

Data: TipDM 2020 challenge, problem C (data/tipdm2020/, see its README).

Cross-validation is what a city would see: the evaluated rows are the raw-text rows only
(train_raw.csv + train_sample_fields.csv, 2,278 rows), in 5 folds stratified by label and grouped
so near-duplicates (char-bigram cosine ≥ 0.5 after normalisation) share a fold. Each fold trains
the full pipeline (`training.train_examples`: de-duplication, inner grouped CV, calibration,
threshold) on the other raw rows plus every pre-segmented row, minus every row with cosine ≥ 0.3
to any evaluated row — the pre-segmented file holds a copy of almost every raw message. The
evaluated texts go through `TextClassifier.predict_many` exactly as production input would.

Speed: training time of the full model (shipped data, one process); single-message latency of
`predict` pinned to one core with BLAS/OpenMP limited to one thread; batch throughput of
`predict_many` in batches of 256, also on one core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from benchutil import machine, write_section  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from haoban.dispatch.classifier import TextClassifier, default_model_path  # noqa: E402
from haoban.dispatch.evaluation import EXCLUDE_SIMILARITY  # noqa: E402
from haoban.dispatch.training import (  # noqa: E402
    SHIPPED_DATA_DIR,
    Example,
    load_labelled_file,
    train,
)

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "dispatch"


def load() -> tuple[list[Example], np.ndarray]:
    """All shipped rows and a mask of the raw-text ones."""
    tok = load_labelled_file(SHIPPED_DATA_DIR / "train_tokenised.csv")
    raw = load_labelled_file(SHIPPED_DATA_DIR / "train_raw.csv")
    raw += load_labelled_file(SHIPPED_DATA_DIR / "train_sample_fields.csv")
    examples = [Example(t, lab) for t, lab in tok + raw]
    return examples, np.array([False] * len(tok) + [True] * len(raw))


def cross_validate(folds: int, seed: int) -> dict:
    """The held-out protocol of ``haoban dispatch evaluate --held-out`` (one implementation:
    ``haoban.dispatch.evaluation.held_out_predictions``), with department-level routing accuracy."""
    from haoban.dispatch.cli import _catalogue_departments
    from haoban.dispatch.evaluation import held_out_predictions, held_out_scores

    result = held_out_predictions(folds=folds, seed=seed, progress=lambda m: print(m, flush=True))
    scores = held_out_scores(result, label_departments=_catalogue_departments())
    scores["confusion"] = (scores["confusion"]["labels"], scores["confusion"]["matrix"])
    return scores


def pin_one_core() -> str:
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"cpu {cpu}"


_WORKER_CLF: TextClassifier | None = None


def _batch_worker(args: tuple[int, list[str]]) -> int:
    cpu, texts = args
    os.sched_setaffinity(0, {cpu})
    assert _WORKER_CLF is not None
    with threadpool_limits(limits=1):
        for start in range(0, len(texts), 256):
            _WORKER_CLF.predict_many(texts[start : start + 256])
    return len(texts)


def parallel_throughput(clf: TextClassifier, texts: list[str], cpus: list[int]) -> float:
    """Messages per second with one forked worker process per core, each pinned to its core."""
    import multiprocessing

    global _WORKER_CLF
    _WORKER_CLF = clf
    ctx = multiprocessing.get_context("fork")
    shares = [texts[i :: len(cpus)] for i in range(len(cpus))]
    with ctx.Pool(len(cpus)) as pool:
        pool.map(_batch_worker, [(c, s[:20]) for c, s in zip(cpus, shares, strict=True)])  # warm-up
        t0 = time.perf_counter()
        n = sum(pool.map(_batch_worker, list(zip(cpus, shares, strict=True))))
        return n / (time.perf_counter() - t0)


def speed(clf: TextClassifier) -> dict:
    examples, is_raw = load()
    texts = [ex.text for ex, r in zip(examples, is_raw, strict=True) if r]
    cpus = sorted(os.sched_getaffinity(0))
    parallel = parallel_throughput(clf, texts * 2, cpus) if len(cpus) > 1 else None
    where = pin_one_core()
    with threadpool_limits(limits=1):
        clf.predict_many(texts[:50])  # warm-up (jieba dictionary, caches)
        times = []
        for t in texts:
            t0 = time.perf_counter()
            clf.predict(t)
            times.append((time.perf_counter() - t0) * 1000)
        q = np.percentile(times, [50, 99])
        t0 = time.perf_counter()
        for start in range(0, len(texts), 256):
            clf.predict_many(texts[start : start + 256])
        batch = len(texts) / (time.perf_counter() - t0)
        garbage = ["", "😀" * 50, "衡阳" * 50_000, bytes(range(256)).decode("latin-1") * 40]
        t0 = time.perf_counter()
        for g in garbage:
            clf.predict(g)
        garbage_ms = (time.perf_counter() - t0) * 1000 / len(garbage)
    return {
        "pinned": where,
        "n": len(texts),
        "p50_ms": float(q[0]),
        "p99_ms": float(q[1]),
        "max_ms": float(max(times)),
        "mean_len": statistics.mean(len(t) for t in texts),
        "batch_per_s": batch,
        "garbage_ms": garbage_ms,
        "parallel_per_s": parallel,
        "parallel_cores": len(cpus),
    }


def derive_stopwords() -> None:
    """Print the stop-words of the competitor's pre-segmented copy, recovered from the data.

    Pairs each raw message with its pre-segmented copy (cosine ≥ 0.6 on CJK character bigrams)
    and lists the jieba words of the raw message that the copy drops in ≥ 95 % of the pairs that
    contain them (seen in ≥ 2 pairs, CJK only). text.STOPWORDS is this list minus 保险.
    """
    import re

    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer

    examples, is_raw = load()
    cjk = re.compile(r"[\u4e00-\u9fff]+")
    keys = ["".join(cjk.findall(ex.text)) for ex in examples]
    x = TfidfVectorizer(analyzer="char", ngram_range=(2, 2), sublinear_tf=True).fit_transform(keys)
    raw_i, tok_i = np.nonzero(is_raw)[0], np.nonzero(~is_raw)[0]
    sims = (x[raw_i] @ x[tok_i].T).tocsr()
    seen: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    for row, i in enumerate(raw_i):
        r = sims.getrow(row)
        if r.nnz == 0 or r.data.max() < 0.6:
            continue
        copy = set(examples[tok_i[r.indices[r.data.argmax()]]].text.split())
        for w in {w for w in jieba.lcut(examples[i].text) if w.strip()}:
            seen[w] += 1
            kept[w] += w in copy
    words = sorted(w for w, c in seen.items() if c >= 2 and kept[w] / c <= 0.05 and cjk.search(w))
    print(len(words), "stop-words")
    print(" ".join(words))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", action="store_true", help="(re)write the section in bench/RESULTS.md")
    ap.add_argument("--save-model", action="store_true", help="save the full model to the default path")
    ap.add_argument("--skip-cv", action="store_true")
    ap.add_argument("--stopwords", action="store_true", help="re-derive the stop-word list and exit")
    args = ap.parse_args()
    if args.stopwords:
        derive_stopwords()
        return

    cv = None if args.skip_cv else cross_validate(args.folds, args.seed)
    if cv:
        print(
            f"\nraw-text CV: macro-F1 {cv['macro_f1']:.4f} "
            f"(folds {cv['fold_mean']:.4f} ± {cv['fold_sd']:.4f}), "
            f"accuracy {cv['accuracy']:.4f}; auto-dispatched {cv['auto_share']:.1%} "
            f"at precision {cv['auto_precision']:.4f}",
            flush=True,
        )

    t0 = time.perf_counter()
    clf = train(seed=args.seed)
    train_s = time.perf_counter() - t0
    m = clf.metadata["metrics"]
    print(
        f"full model: trained in {train_s:.1f} s; in-training CV macro-F1 {m['cv_macro_f1']:.4f}, "
        f"raw rows {m.get('cv_raw_macro_f1', float('nan')):.4f}; threshold {clf.threshold:.3f} "
        f"auto-dispatches {m['auto_dispatch_share']:.1%} (precision {m['auto_dispatch_precision']:.4f})",
        flush=True,
    )
    if args.save_model:
        path = default_model_path()
        clf.save(path)
        print(f"saved {path} ({path.stat().st_size / 1e6:.1f} MB)")
    sp = speed(clf)
    print(
        f"latency ({sp['pinned']}, 1 thread, {sp['n']} raw messages, mean {sp['mean_len']:.0f} chars): "
        f"p50 {sp['p50_ms']:.2f} ms, p99 {sp['p99_ms']:.2f} ms, max {sp['max_ms']:.1f} ms; "
        f"batch {sp['batch_per_s']:.0f} msgs/s on one core"
        + (
            f", {sp['parallel_per_s']:.0f} msgs/s on {sp['parallel_cores']} cores"
            if sp["parallel_per_s"]
            else ""
        )
        + f"; garbage inputs {sp['garbage_ms']:.1f} ms each",
        flush=True,
    )
    if args.write:
        write_section(SECTION, report(args, cv, clf, train_s, sp))
        print(f"\nwrote section '{SECTION}' of {RESULTS}")


def report(args: argparse.Namespace, cv: dict | None, clf: TextClassifier, train_s: float, sp: dict) -> str:
    m = clf.metadata["metrics"]
    d = clf.metadata["data"]
    cmd = "python bench/dispatch.py --write" + (" --save-model" if args.save_model else "")
    lines = [
        "## Dispatch classifier (`bench/dispatch.py`)",
        "",
        f"Machine: {machine()}. Command: `.venv/bin/{cmd}`. "
        f"Run on {datetime.now(UTC):%Y-%m-%d}. Model {clf.metadata['model_version']}.",
        "",
        "Data: TipDM 2020 challenge, problem C. Target: macro-F1 ≥ 0.93 on raw text never seen.",
        "",
    ]
    if cv:
        lines += [
            f"### Grouped {args.folds}-fold CV on the raw-text rows ({cv['n']} rows)",
            "",
            "Each fold trains the whole pipeline on the other raw rows + the pre-segmented rows, minus "
            f"anything with cosine ≥ {EXCLUDE_SIMILARITY} to an evaluated row; evaluated texts are "
            "classified from raw text by `predict_many`.",
            "",
            "| metric | value |",
            "|---|---|",
            f"| macro-F1 (pooled) | **{cv['macro_f1']:.4f}** |",
            f"| macro-F1 per fold | {cv['fold_mean']:.4f} ± {cv['fold_sd']:.4f} |",
            f"| accuracy | {cv['accuracy']:.4f} |",
            f"| department top-1 / top-3 (category → department through the catalogue, "
            f"{cv['dept_n']} rows) | **{cv['dept_top1']:.4f} / {cv['dept_top3']:.4f}** |",
            f"| auto-dispatched at each fold's threshold | {cv['auto_share']:.1%} "
            f"(precision {cv['auto_precision']:.4f}) |",
            "",
            "| label | F1 |",
            "|---|---|",
            *[f"| {k} | {v:.3f} |" for k, v in cv["per_class_f1"].items()],
            "",
            "Confusion (rows true, columns predicted): " + ", ".join(cv["confusion"][0]),
            "",
            "```",
            *[" ".join(f"{v:4d}" for v in row) for row in cv["confusion"][1]],
            "```",
            "",
            *[f"- {line}" for line in cv["folds"]],
            "",
        ]
    lines += [
        "### Full model (all shipped rows)",
        "",
        "| metric | value |",
        "|---|---|",
        f"| training time (2 cores, n_jobs=1) | {train_s:.1f} s |",
        f"| rows read / distinct after de-duplication | {d['rows_read']} / {d['examples']} |",
        f"| in-training grouped CV macro-F1 (all rows / raw rows) | {m['cv_macro_f1']:.4f} / "
        f"{m.get('cv_raw_macro_f1', float('nan')):.4f} |",
        f"| confidence threshold (precision ≥ {m['target_precision']:.0%} out of fold) "
        f"| {clf.threshold:.3f} |",
        f"| auto-dispatch share at the threshold (all / raw rows) | {m['auto_dispatch_share']:.1%} / "
        f"{m.get('raw_auto_dispatch_share', float('nan')):.1%} |",
        f"| latency p50 / p99 / max, one core ({sp['pinned']}), 1 thread | {sp['p50_ms']:.2f} / "
        f"{sp['p99_ms']:.2f} / {sp['max_ms']:.1f} ms |",
        f"| batch throughput (predict_many, 256 per batch, one core) | {sp['batch_per_s']:.0f} msgs/s |",
        *(
            [
                f"| batch throughput, one process per core ({sp['parallel_cores']} cores) "
                f"| {sp['parallel_per_s']:.0f} msgs/s |"
            ]
            if sp["parallel_per_s"]
            else []
        ),
        f"| garbage input (empty, emoji, 100k chars, binary) | {sp['garbage_ms']:.1f} ms each |",
        f"| artifact size | {_artifact_size()} |",
        "",
    ]
    return "\n".join(lines)


def _artifact_size() -> str:
    path = default_model_path()
    return f"{path.stat().st_size / 1e6:.1f} MB ({path.name})" if path.exists() else "(not saved)"


if __name__ == "__main__":
    main()
