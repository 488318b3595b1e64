"""Evaluating a dispatch classifier on labelled rows (模型评估).

Labels the model does not know (a city's own categories, typos) are counted in `unknown_labels`
and left out of every score rather than failing the evaluation.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
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
