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
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from haoban.dispatch import text as textmod  # noqa: E402
from haoban.dispatch.classifier import TextClassifier, default_model_path  # noqa: E402
from haoban.dispatch.training import (  # noqa: E402
    GROUP_SIMILARITY,
    SHIPPED_DATA_DIR,
    Example,
    components,
    load_labelled_file,
    similar_pairs,
    train,
    train_examples,
)

RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "dispatch"
EXCLUDE_SIMILARITY = 0.3  # stricter than the grouping: drop anything resembling an evaluated row


def load() -> tuple[list[Example], np.ndarray]:
    """All shipped rows and a mask of the raw-text ones."""
    tok = load_labelled_file(SHIPPED_DATA_DIR / "train_tokenised.csv")
    raw = load_labelled_file(SHIPPED_DATA_DIR / "train_raw.csv")
    raw += load_labelled_file(SHIPPED_DATA_DIR / "train_sample_fields.csv")
    examples = [Example(t, lab) for t, lab in tok + raw]
    return examples, np.array([False] * len(tok) + [True] * len(raw))


def cross_validate(folds: int, seed: int) -> dict:
    examples, is_raw = load()
    t0 = time.perf_counter()
    prepared = [textmod.prepare(ex.text) for ex in examples]
    print(f"normalised {len(examples)} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    pairs = similar_pairs(prepared, EXCLUDE_SIMILARITY)
    strong = pairs.data >= GROUP_SIMILARITY
    import scipy.sparse as sp

    groups = components(
        sp.coo_matrix((pairs.data[strong], (pairs.row[strong], pairs.col[strong])), shape=pairs.shape)
    )
    neighbours: list[set[int]] = [set() for _ in examples]
    for i, j in zip(pairs.row, pairs.col, strict=True):
        neighbours[i].add(int(j))
        neighbours[j].add(int(i))
    raw_idx = np.nonzero(is_raw)[0]
    y_all = np.array([ex.label for ex in examples])
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    truth: list[str] = []
    pred: list[str] = []
    confident: list[bool] = []
    fold_f1: list[float] = []
    fold_info: list[str] = []
    for k, (_, te) in enumerate(splitter.split(raw_idx, y_all[raw_idx], groups[raw_idx]), start=1):
        evaluated = raw_idx[te]
        eval_groups = set(groups[evaluated].tolist())
        banned = set(evaluated.tolist())
        for i in evaluated:
            banned |= neighbours[i]
        train_idx = [i for i in range(len(examples)) if i not in banned and groups[i] not in eval_groups]
        t1 = time.perf_counter()
        clf = train_examples(
            [examples[i] for i in train_idx], seed=seed, prepared=[prepared[i] for i in train_idx]
        )
        seconds = time.perf_counter() - t1
        preds = clf.predict_many([examples[i].text for i in evaluated])
        p = [x.label for x in preds]
        t = [examples[i].label for i in evaluated]
        f1 = f1_score(t, p, average="macro")
        fold_f1.append(f1)
        truth += t
        pred += p
        confident += [x.confident for x in preds]
        line = (
            f"fold {k}: {len(evaluated)} evaluated, {len(train_idx)} training rows "
            f"({len(examples) - len(train_idx) - len(evaluated)} excluded as near-duplicates), "
            f"macro-F1 {f1:.4f}, threshold {clf.threshold:.3f}, trained in {seconds:.0f} s"
        )
        fold_info.append(line)
        print(line, flush=True)
    truth_a, pred_a, conf_a = np.array(truth), np.array(pred), np.array(confident)
    labels = sorted(set(truth))
    per_class = f1_score(truth_a, pred_a, average=None, labels=labels)
    return {
        "n": len(truth),
        "macro_f1": float(f1_score(truth_a, pred_a, average="macro")),
        "fold_mean": statistics.mean(fold_f1),
        "fold_sd": statistics.stdev(fold_f1) if len(fold_f1) > 1 else 0.0,
        "accuracy": float(accuracy_score(truth_a, pred_a)),
        "per_class_f1": dict(zip(labels, map(float, per_class), strict=True)),
        "confusion": (labels, confusion_matrix(truth_a, pred_a, labels=labels).tolist()),
        "auto_share": float(conf_a.mean()),
        "auto_precision": float((truth_a[conf_a] == pred_a[conf_a]).mean()) if conf_a.any() else None,
        "folds": fold_info,
    }


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
