"""Evaluating a dispatch classifier on labelled rows (模型评估).

Labels the model does not know (a city's own categories, typos) are counted in `unknown_labels`
and left out of every score rather than failing the evaluation.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from haoban.dispatch.classifier import TextClassifier


def department_accuracy(
    truth: Sequence[str], top: Sequence[Sequence[str]], label_departments: dict[str, str]
) -> dict[str, Any]:
    """Department-level routing accuracy: each label becomes a department through the catalogue.

    ``top`` holds each row's predicted labels, most likely first. top-1: the first label's department is
    the true label's; top-3: the true department is among the first three labels' departments. Rows whose
    true label the catalogue does not route are left out (counted in ``dept_unrouted``).
    """
    hit1 = hit3 = n = 0
    for label, guesses in zip(truth, top, strict=True):
        want = label_departments.get(label)
        if want is None:
            continue
        n += 1
        depts = [label_departments.get(g) for g in guesses]
        hit1 += bool(depts) and depts[0] == want
        hit3 += want in depts[:3]
    return {
        "dept_n": n,
        "dept_unrouted": len(truth) - n,
        "dept_top1": hit1 / n if n else None,
        "dept_top3": hit3 / n if n else None,
    }


def evaluate(
    clf: TextClassifier, rows: Sequence[tuple[str, str]], *, label_departments: dict[str, str] | None = None
) -> dict[str, Any]:
    """Scores of `clf` on (text, label) rows.

    Keys: n (rows given), n_scored (rows with a known label), accuracy, macro_f1, weighted_f1,
    p50_ms / p99_ms (single-message `predict` latency), per_class {label: {precision, recall, f1,
    support}}, confusion {labels, matrix (rows true, columns predicted)}, unknown_labels
    {label: count}, auto_dispatch_share / auto_dispatch_precision (predictions above the
    threshold), threshold, model_version. Scores are None when no row has a known label.
    With ``label_departments`` (label → department through the catalogue) also department accuracy:
    dept_top1, dept_top3, dept_n, dept_unrouted (see ``department_accuracy``).
    """
    known = set(clf.labels)
    unknown = Counter(label for _, label in rows if label not in known)
    scored = [(text, label) for text, label in rows if label in known]
    truth: list[str] = []
    predicted: list[str] = []
    confident: list[bool] = []
    top3: list[list[str]] = []
    latencies: list[float] = []
    if scored:
        clf.predict(scored[0][0])  # warm-up: the segmenter's dictionary loads on first use
    for text, label in scored:
        start = time.perf_counter()
        prediction = clf.predict(text)
        latencies.append((time.perf_counter() - start) * 1000)
        truth.append(label)
        predicted.append(prediction.label)
        top3.append([sg.label for sg in prediction.suggestions[:3]])
        confident.append(prediction.confident)

    result: dict[str, Any] = {
        "n": len(rows),
        "n_scored": len(scored),
        "accuracy": None,
        "macro_f1": None,
        "weighted_f1": None,
        "p50_ms": None,
        "p99_ms": None,
        "per_class": {},
        "confusion": {"labels": list(clf.labels), "matrix": []},
        "unknown_labels": dict(unknown),
        "auto_dispatch_share": None,
        "auto_dispatch_precision": None,
        "threshold": clf.threshold,
        "model_version": clf.metadata.get("model_version"),
    }
    if not scored:
        return result
    t, p, c = np.array(truth), np.array(predicted), np.array(confident)
    prec, rec, f1, support = precision_recall_fscore_support(t, p, labels=clf.labels, zero_division=0)
    result.update(
        accuracy=float((t == p).mean()),
        # Macro over the labels that occur in the truth or the predictions (sklearn's default).
        macro_f1=float(f1_score(t, p, average="macro", zero_division=0)),
        weighted_f1=float(f1_score(t, p, average="weighted", zero_division=0)),
        p50_ms=float(np.percentile(latencies, 50)),
        p99_ms=float(np.percentile(latencies, 99)),
        per_class={
            label: {
                "precision": float(prec[i]),
                "recall": float(rec[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(clf.labels)
        },
        confusion={
            "labels": list(clf.labels),
            "matrix": confusion_matrix(t, p, labels=clf.labels).tolist(),
        },
        auto_dispatch_share=float(c.mean()),
        auto_dispatch_precision=float((t[c] == p[c]).mean()) if c.any() else None,
    )
    if label_departments is not None:
        result.update(department_accuracy(truth, top3, label_departments))
    return result


# -- held out: what a city would see on raw text the model has never seen ---------------------------

EXCLUDE_SIMILARITY = 0.3  # stricter than the grouping: drop anything resembling an evaluated row


@dataclass
class HeldOut:
    """Per evaluated row (raw text only): true label, predicted label, top-3 labels, confident."""

    truth: list[str] = field(default_factory=list)
    predicted: list[str] = field(default_factory=list)
    top3: list[list[str]] = field(default_factory=list)
    confident: list[bool] = field(default_factory=list)
    fold_f1: list[float] = field(default_factory=list)
    folds: list[str] = field(default_factory=list)  # one line per fold


def held_out_predictions(
    *, folds: int = 5, seed: int = 0, data_dir: Path | None = None, progress: Any = None
) -> HeldOut:
    """The shipped data's held-out protocol (the split ``bench/dispatch.py`` reports).

    The raw-text rows (train_raw.csv + train_sample_fields.csv) are split into ``folds`` folds,
    stratified by label and grouped so near-duplicates (char-bigram cosine ≥ ``GROUP_SIMILARITY``)
    share a fold. Each fold trains the whole pipeline (``train_examples``) on the other raw rows and
    every pre-segmented row, minus every row with cosine ≥ ``EXCLUDE_SIMILARITY`` to an evaluated
    row (the pre-segmented file holds a copy of almost every raw message); the evaluated texts go
    through ``predict_many`` as production input does. No evaluated row is ever trained on.
    """
    import scipy.sparse as sp
    from sklearn.model_selection import StratifiedGroupKFold

    from haoban.dispatch import text as textmod
    from haoban.dispatch.training import (
        GROUP_SIMILARITY,
        SHIPPED_DATA_DIR,
        Example,
        components,
        load_labelled_file,
        similar_pairs,
        train_examples,
    )

    say = progress or (lambda _msg: None)
    base = data_dir or SHIPPED_DATA_DIR
    tok = load_labelled_file(base / "train_tokenised.csv")
    raw = load_labelled_file(base / "train_raw.csv") + load_labelled_file(base / "train_sample_fields.csv")
    examples = [Example(t, lab) for t, lab in tok + raw]
    is_raw = np.array([False] * len(tok) + [True] * len(raw))
    prepared = [textmod.prepare(ex.text) for ex in examples]
    pairs = similar_pairs(prepared, EXCLUDE_SIMILARITY)
    strong = pairs.data >= GROUP_SIMILARITY
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
    out = HeldOut()
    for k, (_, te) in enumerate(splitter.split(raw_idx, y_all[raw_idx], groups[raw_idx]), start=1):
        evaluated = raw_idx[te]
        eval_groups = set(groups[evaluated].tolist())
        banned = set(evaluated.tolist())
        for i in evaluated:
            banned |= neighbours[i]
        train_idx = [i for i in range(len(examples)) if i not in banned and groups[i] not in eval_groups]
        say(f"fold {k}/{folds}: training on {len(train_idx)} rows")
        started = time.perf_counter()
        clf = train_examples(
            [examples[i] for i in train_idx], seed=seed, prepared=[prepared[i] for i in train_idx]
        )
        seconds = time.perf_counter() - started
        preds = clf.predict_many([examples[i].text for i in evaluated])
        truth = [examples[i].label for i in evaluated]
        predicted = [p.label for p in preds]
        f1 = float(f1_score(truth, predicted, average="macro"))
        out.truth += truth
        out.predicted += predicted
        out.top3 += [[s.label for s in p.suggestions[:3]] for p in preds]
        out.confident += [p.confident for p in preds]
        out.fold_f1.append(f1)
        out.folds.append(
            f"fold {k}: {len(evaluated)} evaluated, {len(train_idx)} training rows "
            f"({len(examples) - len(train_idx) - len(evaluated)} excluded as near-duplicates), "
            f"macro-F1 {f1:.4f}, threshold {clf.threshold:.3f}, trained in {seconds:.0f} s"
        )
        say(out.folds[-1])
    return out


def held_out_scores(result: HeldOut, *, label_departments: dict[str, str] | None = None) -> dict[str, Any]:
    """Pooled scores of ``held_out_predictions``: n, accuracy, macro_f1, fold_mean / fold_sd,
    per_class_f1, confusion (labels, matrix), auto_share / auto_precision, folds, and with
    ``label_departments`` the department-level dept_top1 / dept_top3 / dept_n / dept_unrouted."""
    t, p, c = np.array(result.truth), np.array(result.predicted), np.array(result.confident)
    labels = sorted(set(result.truth))
    per_class = f1_score(t, p, average=None, labels=labels)
    scores: dict[str, Any] = {
        "n": len(t),
        "accuracy": float((t == p).mean()),
        "macro_f1": float(f1_score(t, p, average="macro")),
        "fold_mean": statistics.mean(result.fold_f1),
        "fold_sd": statistics.stdev(result.fold_f1) if len(result.fold_f1) > 1 else 0.0,
        "top3_accuracy": float(
            np.mean([lab in top for lab, top in zip(result.truth, result.top3, strict=True)])
        ),
        "per_class_f1": dict(zip(labels, map(float, per_class), strict=True)),
        "confusion": {"labels": labels, "matrix": confusion_matrix(t, p, labels=labels).tolist()},
        "auto_share": float(c.mean()),
        "auto_precision": float((t[c] == p[c]).mean()) if c.any() else None,
        "folds": list(result.folds),
    }
    if label_departments is not None:
        scores.update(department_accuracy(result.truth, result.top3, label_departments))
    return scores
