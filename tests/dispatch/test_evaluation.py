from __future__ import annotations

from haoban.dispatch.classifier import TextClassifier
from haoban.dispatch.evaluation import evaluate
from haoban.dispatch.training import load_labelled_file

from .conftest import EVAL_SMALL


def test_evaluate_reports_the_promised_keys(small_model: TextClassifier) -> None:
    rows = load_labelled_file(EVAL_SMALL)
    result = evaluate(small_model, rows)
    for key in ("n", "accuracy", "macro_f1", "p50_ms", "p99_ms", "per_class", "confusion", "unknown_labels"):
        assert key in result, key
    assert result["n"] == result["n_scored"] == 56
    assert 0 <= result["macro_f1"] <= 1 and 0 <= result["accuracy"] <= 1
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert set(result["per_class"]) == set(small_model.labels)
    assert set(result["per_class"]["城乡建设"]) == {"precision", "recall", "f1", "support"}
    matrix = result["confusion"]["matrix"]
    assert result["confusion"]["labels"] == small_model.labels
    assert sum(map(sum, matrix)) == 56
    assert sum(matrix[i][i] for i in range(len(matrix))) / 56 == result["accuracy"]


def test_unknown_labels_are_reported_not_scored(small_model: TextClassifier) -> None:
    rows = [
        ("小区路灯坏了", "城乡建设"),
        ("公交车太挤", "交通运输"),
        ("村里选举不公", "政法"),
        ("又一条", "政法"),
    ]
    result = evaluate(small_model, rows)
    assert result["unknown_labels"] == {"政法": 2}
    assert result["n"] == 4 and result["n_scored"] == 2
    assert sum(s["support"] for s in result["per_class"].values()) == 2


def test_evaluate_with_nothing_to_score(small_model: TextClassifier) -> None:
    result = evaluate(small_model, [("x", "未知")])
    assert result["n_scored"] == 0 and result["macro_f1"] is None and result["unknown_labels"] == {"未知": 1}
