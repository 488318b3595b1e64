from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from haoban.dispatch import classifier as clfmod
from haoban.dispatch import text as textmod
from haoban.dispatch.classifier import (
    IncompatibleModelError,
    ModelLoadError,
    Prediction,
    TextClassifier,
    default_model_path,
)
from haoban.dispatch.training import load_default, train

from .conftest import TRAIN_SMALL

LABELS = ["交通运输", "劳动和社会保障", "卫生计生", "商贸旅游", "城乡建设", "教育文体", "环境保护"]
SAMPLES = [
    "小区物业违规收取停车费，业主多次反映无果",
    "公司拖欠工资半年，社保也没有缴纳",
    "学校乱收补课费，家长负担重",
    "医院收费不合理，看病贵",
    "公交车司机开车太快，线路也不合理",
    "化工厂夜间排放废气，气味刺鼻",
    "超市销售过期食品，价格欺诈",
]


def test_prediction_shape(small_model: TextClassifier) -> None:
    assert small_model.labels == LABELS
    p = small_model.predict(SAMPLES[0])
    assert isinstance(p, Prediction) and p.reason is None
    assert len(p.suggestions) == 3
    probs = [s.probability for s in p.suggestions]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-9
    assert p.confident == (probs[0] >= small_model.threshold)
    assert p.label == p.suggestions[0].label


def test_training_is_deterministic(small_model: TextClassifier) -> None:
    again = train(data_files=[TRAIN_SMALL], seed=0)
    np.testing.assert_array_equal(small_model.probabilities(SAMPLES), again.probabilities(SAMPLES))
    assert small_model.threshold == again.threshold
    assert small_model.metadata["training_data_sha256"] == again.metadata["training_data_sha256"]


def test_predict_many_matches_predict(small_model: TextClassifier) -> None:
    many = small_model.predict_many(SAMPLES)
    one_by_one = [small_model.predict(t) for t in SAMPLES]
    for a, b in zip(many, one_by_one, strict=True):
        assert [s.label for s in a.suggestions] == [s.label for s in b.suggestions]
        # Batched matrix products may round differently in the last bit.
        assert [s.probability for s in a.suggestions] == pytest.approx([s.probability for s in b.suggestions])
    assert small_model.predict_many([]) == []


def test_threshold_moves_predictions_between_confident_and_not(small_model: TextClassifier) -> None:
    preds = small_model.predict_many(SAMPLES)
    tops = sorted(p.probability for p in preds)
    middle = (tops[0] + tops[-1]) / 2
    moved = small_model.with_threshold(middle).predict_many(SAMPLES)
    assert any(p.confident for p in moved) and not all(p.confident for p in moved)
    assert all(p.confident == (p.probability >= middle) for p in moved)
    assert not any(p.confident for p in small_model.with_threshold(1.01).predict_many(SAMPLES))
    assert all(p.confident for p in small_model.with_threshold(0.0).predict_many(SAMPLES))
    # The original is unchanged, the copy records its threshold.
    assert small_model.with_threshold(0.5).metadata["threshold"] == 0.5
    assert small_model.predict_many(SAMPLES) == preds
    with pytest.raises(ValueError):
        small_model.with_threshold(float("nan"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty text"),
        ("   \n\t ", "empty text"),
        ("😀🎉🔥" * 30, "no Chinese content"),
        ("hello world 12345", "no Chinese content"),
        (bytes(range(256)).decode("latin-1") * 20 + "停车", "looks like binary data"),
        ("\x00\x01\x02\ufffd\ufffd" * 100 + "小区", "looks like binary data"),
        ("的了吗呢", "no known words"),
    ],
)
def test_garbage_gives_a_low_confidence_prediction_with_a_reason(
    small_model: TextClassifier, text: str, reason: str
) -> None:
    p = small_model.with_threshold(0.0).predict(text)
    assert p.reason == reason and not p.confident
    assert len(p.suggestions) == 3


def test_very_long_text_is_classified_but_not_confident(small_model: TextClassifier) -> None:
    text = "小区物业违规收取停车费" * 10_000  # 110k characters
    p = small_model.with_threshold(0.0).predict(text)
    assert p.reason is not None and p.reason.startswith("text too long") and not p.confident
    assert p.label == small_model.predict(text[:500]).label


def test_non_string_input_does_not_crash(small_model: TextClassifier) -> None:
    p = small_model.predict_many([None])[0]  # type: ignore[list-item]
    assert p.reason == "empty text"


def test_fast_transform_equals_sklearn(small_model: TextClassifier) -> None:
    prepared = [textmod.prepare(t) for t in [*SAMPLES, "", "abc"]]
    fast = small_model.features.transform(prepared)
    slow = small_model.features._stack([vec.transform(prepared) for vec, _ in small_model.features.blocks])
    assert fast.shape == slow.shape
    assert abs(fast - slow).max() < 1e-6


def test_save_and_load_round_trip(small_model: TextClassifier, tmp_path: Path) -> None:
    path = tmp_path / "m" / "model.joblib"
    small_model.save(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    for key in (
        "training_data_sha256",
        "model_version",
        "created_at",
        "labels",
        "metrics",
        "sklearn_version",
        "threshold",
    ):
        assert key in meta, key
    assert "cv_macro_f1" in meta["metrics"] and "auto_dispatch_share" in meta["metrics"]
    loaded = TextClassifier.load(path)
    assert loaded.labels == small_model.labels and loaded.threshold == small_model.threshold
    np.testing.assert_array_equal(loaded.probabilities(SAMPLES), small_model.probabilities(SAMPLES))


def test_other_sklearn_version_is_refused_clearly(small_model: TextClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    small_model.save(path)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    meta["sklearn_version"] = "0.0.1"
    sidecar.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(IncompatibleModelError, match=r"scikit-learn 0\.0\.1"):
        TextClassifier.load(path)
    # Without the sidecar the version inside the artifact is checked.
    sidecar.unlink()
    small_model.metadata["sklearn_version"], saved = "0.0.1", small_model.metadata["sklearn_version"]
    try:
        small_model.save(path)
    finally:
        small_model.metadata["sklearn_version"] = saved
    sidecar.unlink()
    with pytest.raises(IncompatibleModelError, match="retrain"):
        TextClassifier.load(path)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no dispatch model"):
        TextClassifier.load(tmp_path / "missing.joblib")
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"not a pickle")
    with pytest.raises(ModelLoadError):
        TextClassifier.load(junk)


def test_default_model_path_and_load_default(
    small_model: TextClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(clfmod.MODEL_ENV, raising=False)
    assert default_model_path() == clfmod.PROJECT_ROOT / "data" / "models" / "dispatch-classifier.joblib"
    # The application's configured data directory (Settings.data_dir) is honoured.
    assert default_model_path(tmp_path) == tmp_path / "models" / "dispatch-classifier.joblib"
    monkeypatch.setenv(clfmod.MODEL_ENV, "auto")
    assert default_model_path().name == "dispatch-classifier.joblib"
    path = tmp_path / "default.joblib"
    monkeypatch.setenv(clfmod.MODEL_ENV, str(path))
    assert default_model_path() == path
    with pytest.raises(ModelLoadError):
        load_default(train_if_missing=False)
    # Missing → trained (here: a stub standing in for the full training) and saved.
    import haoban.dispatch.training as training

    monkeypatch.setattr(training, "train", lambda **_: small_model)
    assert load_default() is small_model and path.is_file()
    assert TextClassifier.load(path).labels == small_model.labels
    assert load_default(train_if_missing=False).labels == small_model.labels
