from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haoban.dispatch import cli
from haoban.dispatch.classifier import TextClassifier

from .conftest import EVAL_SMALL, TRAIN_SMALL

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    # The application may have set the hooks (they read a database); these tests set their own.
    monkeypatch.setattr(cli, "explain_router", None)
    monkeypatch.setattr(cli, "extra_examples_provider", None)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory, small_model: TextClassifier) -> Path:
    path = tmp_path_factory.mktemp("model") / "m.joblib"
    small_model.save(path)
    return path


def test_train_on_a_file_then_evaluate_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "extra_examples_provider", lambda: [("龘龘鑫淼严重扰民", "环境保护", 2.0)])
    out = tmp_path / "trained.joblib"
    result = runner.invoke(
        cli.app, ["train", "--data", str(TRAIN_SMALL), "--output", str(out), "--seed", "1"]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert "threshold" in result.output and "macro-F1" in result.output
    assert TextClassifier.load(out).metadata["data"]["extra_examples"] == 1

    result = runner.invoke(cli.app, ["evaluate", "--data", str(EVAL_SMALL), "--model", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("n", "accuracy", "macro_f1", "p50_ms", "p99_ms", "per_class"):
        assert key in data
    assert data["n"] == 56


def test_evaluate_prints_tables(model_file: Path) -> None:
    result = runner.invoke(cli.app, ["evaluate", "--data", str(EVAL_SMALL), "--model", str(model_file)])
    assert result.exit_code == 0, result.output
    for text in ("accuracy", "macro-F1", "p99", "confusion", "城乡建设"):
        assert text in result.output


def test_bad_input_exits_2(tmp_path: Path, model_file: Path) -> None:
    result = runner.invoke(
        cli.app, ["evaluate", "--data", str(tmp_path / "nope.csv"), "--model", str(model_file)]
    )
    assert result.exit_code == 2 and "not found" in result.stderr
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("message,category\nx,y\n", encoding="utf-8")
    result = runner.invoke(cli.app, ["evaluate", "--data", str(wrong), "--model", str(model_file)])
    assert result.exit_code == 2 and "needs columns" in result.stderr
    result = runner.invoke(cli.app, ["train", "--data", str(wrong), "--output", str(tmp_path / "x.joblib")])
    assert result.exit_code == 2 and "needs columns" in result.stderr
    result = runner.invoke(
        cli.app, ["evaluate", "--data", str(EVAL_SMALL), "--model", str(tmp_path / "none.joblib")]
    )
    assert result.exit_code == 2 and "no dispatch model" in result.stderr


def test_explain_without_and_with_the_router(model_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "衡阳县西渡镇某小区物业违规收取停车费"
    result = runner.invoke(cli.app, ["explain", text, "--model", str(model_file)])
    assert result.exit_code == 0, result.output
    assert "1. " in result.output and "3. " in result.output
    assert "district: 衡阳县" in result.output
    assert "routing: (catalogue not configured)" in result.output

    seen = {}

    def router(t: str, prediction: object, district: object) -> dict[str, str]:
        seen.update(text=t, prediction=prediction, district=district)
        return {"rule": "物业收费", "department": "住建局", "why": "category 城乡建设 in 衡阳县"}

    monkeypatch.setattr(cli, "explain_router", router)
    result = runner.invoke(cli.app, ["explain", text, "--model", str(model_file)])
    assert result.exit_code == 0, result.output
    assert "物业收费" in result.output and "住建局" in result.output and "why: category" in result.output
    assert seen["text"] == text and seen["district"].district == "衡阳县"  # type: ignore[attr-defined]


def test_explain_garbage(model_file: Path) -> None:
    result = runner.invoke(cli.app, ["explain", "😀😀", "--model", str(model_file)])
    assert result.exit_code == 0 and "no Chinese content" in result.output


def test_evaluate_needs_data_or_held_out() -> None:
    result = runner.invoke(cli.app, ["evaluate"])
    assert result.exit_code == 2
    assert "--data FILE" in result.output and "--held-out" in result.output


def test_evaluate_held_out_reports_departments(tmp_path: Path) -> None:
    """The held-out protocol on a tiny copy of the data: every raw row is scored by a model that never
    saw it, and the department-level figures come with it."""
    data = tmp_path / "tipdm2020"
    data.mkdir()
    (data / "train_tokenised.csv").write_bytes(TRAIN_SMALL.read_bytes())
    header, *rows = list(csv.reader(EVAL_SMALL.open(encoding="utf-8", newline="")))
    for name, part in (("train_raw.csv", rows[::2]), ("train_sample_fields.csv", rows[1::2])):
        with (data / name).open("w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, *part])
    from haoban.dispatch.evaluation import held_out_predictions, held_out_scores

    result = held_out_predictions(folds=2, seed=0, data_dir=data)
    scores = held_out_scores(result, label_departments=cli._catalogue_departments())
    assert scores["n"] == 56 and len(scores["folds"]) == 2
    assert scores["dept_n"] + scores["dept_unrouted"] == 56
    assert 0.0 <= scores["dept_top1"] <= scores["dept_top3"] <= 1.0
    assert scores["accuracy"] <= scores["top3_accuracy"]
