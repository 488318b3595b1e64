"""The appeal text classifier (诉求分类): text → first-level category with calibrated probabilities.

Model: three TF-IDF blocks over the normalised text (`text.prepare`) — word uni+bigrams, character
uni+bigrams, and character uni+bigrams of the first 20 characters (the subject line comes first and
is the densest signal) — scored by a one-vs-rest NB-SVM collapsed into one linear map (a weight
column per label). A small multinomial logistic calibrator, fitted on grouped out-of-fold scores,
turns the scores into probabilities, so a confidence threshold can be chosen from them.

`predict` never raises: empty, emoji-only, binary or over-long input yields a low-confidence
`Prediction` whose `reason` says why (no `UnclassifiableText` is raised). Such predictions still
carry the three most likely labels (close to the prior) so a human dispatcher has a starting point.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import os
import platform
import tempfile
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.feature_extraction.text import TfidfVectorizer

from haoban.dispatch import text as textmod

PROJECT_ROOT = Path(__file__).resolve().parents[3]  # src/haoban/dispatch → the project
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"  # the application passes its configured ``data_dir``
MODEL_ENV = "HAOBAN_DISPATCH_MODEL"
ARTIFACT_FORMAT = 1
MODEL_FAMILY = "tfidf-nbsvm-v1"
TOP_K = 3
# Longer input is not a message (real ones stay under ~3,000 characters): classified on its first
# text.MAX_CHARS characters but never confident.
TOO_LONG_CHARS = 20_000

log = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    """The model artifact is missing, unreadable or not a dispatch model."""


class IncompatibleModelError(ModelLoadError):
    """The artifact was made by another scikit-learn (or format) version: retrain it."""


@dataclass(frozen=True)
class Suggestion:
    label: str
    probability: float


@dataclass(frozen=True)
class Prediction:
    suggestions: list[Suggestion]  # top-3, most likely first
    confident: bool  # top probability ≥ the classifier's threshold and no `reason`
    reason: str | None = None  # why the text could not be classified well, e.g. "empty text"

    @property
    def label(self) -> str:
        return self.suggestions[0].label

    @property
    def probability(self) -> float:
        return self.suggestions[0].probability


# Analyzers are module-level functions so the fitted vectorisers pickle.
HEAD_CHARS = 20


def word_ngrams(prepared: str) -> list[str]:
    toks = prepared.split()
    return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]


def without_spaces(prepared: str) -> str:
    return prepared.replace(" ", "")


def head(prepared: str) -> str:
    return prepared.replace(" ", "")[:HEAD_CHARS]


@dataclass(frozen=True)
class FeatureConfig:
    min_df: int = 2
    word_weight: float = 1.0
    char_weight: float = 1.0
    head_weight: float = 0.7


class Features:
    """The three TF-IDF blocks, weighted and stacked."""

    def __init__(self, config: FeatureConfig = FeatureConfig()) -> None:
        self.config = config
        common: dict[str, Any] = {"sublinear_tf": True, "min_df": config.min_df, "dtype": np.float32}
        self.blocks: list[tuple[TfidfVectorizer, float]] = [
            (TfidfVectorizer(analyzer=word_ngrams, **common), config.word_weight),
            (
                TfidfVectorizer(analyzer="char", preprocessor=without_spaces, ngram_range=(1, 2), **common),
                config.char_weight,
            ),
            (
                TfidfVectorizer(analyzer="char", preprocessor=head, ngram_range=(1, 2), **common),
                config.head_weight,
            ),
        ]
        self._analyzers: list[Callable[[str], list[str]]] | None = None
        self._offsets = np.zeros(1, dtype=np.int64)

    def fit_transform(self, prepared: Sequence[str]) -> sp.csr_matrix:
        self._analyzers = None
        return self._stack([vec.fit_transform(prepared) for vec, _ in self.blocks])

    def transform(self, prepared: Sequence[str]) -> sp.csr_matrix:
        """Same values as the vectorisers' own `transform` (a test checks), ~3.5× faster on one
        message: sklearn's per-call validation costs more than the arithmetic."""
        if self._analyzers is None:
            self._analyzers = [vec.build_analyzer() for vec, _ in self.blocks]
            self._offsets = np.cumsum([0] + [len(vec.vocabulary_) for vec, _ in self.blocks])
        indices: list[np.ndarray] = []
        values: list[np.ndarray] = []
        indptr = [0]
        for doc in prepared:
            for b, ((vec, weight), analyze) in enumerate(zip(self.blocks, self._analyzers, strict=True)):
                get = vec.vocabulary_.get
                found = [(j, c) for t, c in Counter(analyze(doc)).items() if (j := get(t)) is not None]
                if not found:
                    continue
                idx = np.fromiter((j for j, _ in found), dtype=np.int64, count=len(found))
                tf = np.fromiter((c for _, c in found), dtype=np.float64, count=len(found))
                val = (np.log(tf) + 1.0) * vec.idf_[idx]
                val *= weight / np.sqrt(np.dot(val, val))
                indices.append(idx + self._offsets[b])
                values.append(val)
            indptr.append(sum(len(i) for i in indices))
        n = int(self._offsets[-1])
        if not indices:
            return sp.csr_matrix((len(prepared), n), dtype=np.float32)
        return sp.csr_matrix(
            (np.concatenate(values).astype(np.float32), np.concatenate(indices), np.asarray(indptr)),
            shape=(len(prepared), n),
        )

    def _stack(self, mats: list[sp.spmatrix]) -> sp.csr_matrix:
        weighted = [m * w for m, (_, w) in zip(mats, self.blocks, strict=True)]
        return sp.hstack(weighted, format="csr", dtype=np.float32)

    def __getstate__(self) -> dict[str, Any]:
        # Analyzers are rebuilt on first use rather than pickled.
        return {k: v for k, v in self.__dict__.items() if k not in ("_analyzers", "_offsets")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._analyzers = None

    @property
    def n_features(self) -> int:
        return sum(len(vec.vocabulary_) for vec, _ in self.blocks)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class LinearScorer:
    """scores = X @ coef + intercept, one column per label (float32 keeps the artifact small)."""

    coef: np.ndarray  # (n_features, n_labels)
    intercept: np.ndarray  # (n_labels,)

    def scores(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.coef, dtype=np.float64) + self.intercept


@dataclass
class Calibrator:
    """Multinomial logistic map from raw scores to probabilities (fitted on out-of-fold scores)."""

    weight: np.ndarray  # (n_labels, n_labels)
    bias: np.ndarray  # (n_labels,)

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        return softmax(scores @ self.weight.T + self.bias)


def _garbage_reason(raw: str) -> str | None:
    """Why `raw` is not a classifiable message, before looking at the model."""
    if not raw or not raw.strip():
        return "empty text"
    sample = raw[: textmod.MAX_CHARS]  # what the model reads
    # Bytes decoded as text show up as control, private-use, unassigned or replacement characters.
    odd = sum(
        1
        for ch in sample
        if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs") and ch not in "\r\n\t")
    )
    if odd > 0.2 * len(sample):
        return "looks like binary data"
    if not textmod.has_chinese(sample):
        return "no Chinese content"
    if len(raw) > TOO_LONG_CHARS:
        return f"text too long ({len(raw)} characters); only the first {textmod.MAX_CHARS} were read"
    return None


class TextClassifier:
    """A trained dispatch classifier. Build with `training.train` or `TextClassifier.load`."""

    def __init__(
        self,
        *,
        labels: Sequence[str],
        features: Features,
        scorer: LinearScorer,
        calibrator: Calibrator,
        threshold: float,
        metadata: dict[str, Any],
    ) -> None:
        self.labels: list[str] = list(labels)
        self.features = features
        self.scorer = scorer
        self.calibrator = calibrator
        self.threshold = float(threshold)
        self.metadata: dict[str, Any] = metadata

    # -- prediction ---------------------------------------------------------------------------
    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), len(labels)), columns in `labels` order."""
        prepared = [textmod.prepare(t) for t in texts]
        return self._probabilities_prepared(prepared)[0]

    def _probabilities_prepared(self, prepared: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        x = self.features.transform(prepared)
        probs = self.calibrator.probabilities(self.scorer.scores(x))
        return probs, np.diff(x.indptr)

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        texts = [t if isinstance(t, str) else "" for t in texts]
        reasons = [_garbage_reason(t) for t in texts]
        # Garbage is not segmented (its features would be noise); over-long text is, truncated.
        prepared = [
            textmod.prepare(t) if r is None or r.startswith("text too long") else ""
            for t, r in zip(texts, reasons, strict=True)
        ]
        probs, nnz = self._probabilities_prepared(prepared)
        out: list[Prediction] = []
        for row, reason, n in zip(probs, reasons, nnz, strict=True):
            if reason is None and n == 0:
                reason = "no known words"
            order = np.argsort(-row, kind="stable")[:TOP_K]
            suggestions = [Suggestion(self.labels[i], float(row[i])) for i in order]
            confident = reason is None and suggestions[0].probability >= self.threshold
            out.append(Prediction(suggestions=suggestions, confident=confident, reason=reason))
        return out

    def with_threshold(self, threshold: float) -> TextClassifier:
        """The same model with another confidence threshold (0–1; above 1 nothing is confident)."""
        if not (isinstance(threshold, int | float) and math.isfinite(threshold) and threshold >= 0):
            raise ValueError(f"threshold must be a finite number ≥ 0, got {threshold!r}")
        metadata = {**self.metadata, "threshold": float(threshold)}
        return TextClassifier(
            labels=self.labels,
            features=self.features,
            scorer=self.scorer,
            calibrator=self.calibrator,
            threshold=float(threshold),
            metadata=metadata,
        )

    # -- artifact -----------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write `path` (joblib) and `path` with suffix .json (the metadata), atomically each."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {**self.metadata, "threshold": self.threshold, "labels": self.labels}
        payload = {
            "format": ARTIFACT_FORMAT,
            "metadata": metadata,
            "features": self.features,
            "scorer": self.scorer,
            "calibrator": self.calibrator,
        }
        _atomic_write(path, lambda f: joblib.dump(payload, f, compress=("zlib", 6)))
        text = json.dumps(metadata, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        _atomic_write(metadata_path(path), lambda f: f.write(text.encode("utf-8")))

    @classmethod
    def load(cls, path: Path) -> TextClassifier:
        """Load an artifact; `IncompatibleModelError` if another scikit-learn version made it."""
        path = Path(path)
        if not path.is_file():
            raise ModelLoadError(f"no dispatch model at {path}")
        sidecar = metadata_path(path)
        if sidecar.is_file():
            # Check before unpickling: objects from another sklearn may not even unpickle.
            with contextlib.suppress(json.JSONDecodeError):
                _check_compatible(json.loads(sidecar.read_text(encoding="utf-8")), path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", InconsistentVersionWarning)
                payload = joblib.load(path)
        except InconsistentVersionWarning as exc:
            raise IncompatibleModelError(f"{path}: {exc}; retrain with `haoban dispatch train`") from exc
        except Exception as exc:
            raise ModelLoadError(f"cannot read dispatch model {path}: {exc}") from exc
        if not isinstance(payload, dict) or "metadata" not in payload:
            raise ModelLoadError(f"{path} is not a dispatch model artifact")
        metadata = payload["metadata"]
        _check_compatible(metadata, path)
        if payload.get("format") != ARTIFACT_FORMAT:
            raise IncompatibleModelError(
                f"{path} has artifact format {payload.get('format')}, "
                f"this code reads {ARTIFACT_FORMAT}; retrain it"
            )
        return cls(
            labels=metadata["labels"],
            features=payload["features"],
            scorer=payload["scorer"],
            calibrator=payload["calibrator"],
            threshold=metadata["threshold"],
            metadata=metadata,
        )


def metadata_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def _check_compatible(metadata: dict[str, Any], path: Path) -> None:
    made_with = metadata.get("sklearn_version")
    if made_with != sklearn.__version__:
        raise IncompatibleModelError(
            f"{path} was trained with scikit-learn {made_with}, this is {sklearn.__version__}; "
            "retrain it with `haoban dispatch train` (or training.load_default() retrains automatically)"
        )


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the artifact is shipped and shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def environment() -> dict[str, str]:
    """Versions recorded in the artifact's metadata."""
    return {
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
    }


# -- the default model ------------------------------------------------------------------------


def default_model_path(data_dir: Path | None = None) -> Path:
    """models/dispatch-classifier.joblib under the data directory, or the path in $HAOBAN_DISPATCH_MODEL.

    The variable's other values ("auto", "off": the application's switch) mean the default path.
    """
    env = os.environ.get(MODEL_ENV, "").strip()
    if env and env.lower() not in ("auto", "off"):
        return Path(env)
    return (data_dir or DEFAULT_DATA_DIR) / "models" / "dispatch-classifier.joblib"
