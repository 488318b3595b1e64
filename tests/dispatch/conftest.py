"""Fixtures for the dispatch classifier tests.

fixtures/train_small.csv: per label, the first 15 rows of data/tipdm2020/train_raw.csv and the
first 14 of train_tokenised.csv (texts cut at 1,200 characters), 203 rows. fixtures/eval_small.csv:
per label, the last 8 rows of train_sample_fields.csv (subject, detail, label). TipDM 2020
challenge, problem C.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from haoban.dispatch.classifier import TextClassifier
from haoban.dispatch.training import train

FIXTURES = Path(__file__).parent / "fixtures"
TRAIN_SMALL = FIXTURES / "train_small.csv"
EVAL_SMALL = FIXTURES / "eval_small.csv"


@pytest.fixture(scope="session")
def small_model() -> TextClassifier:
    """A model trained on the 203-row fixture (about a second)."""
    return train(data_files=[TRAIN_SMALL], seed=0)
