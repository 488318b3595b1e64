"""The machine-learning dispatcher behind the ``Dispatcher`` interface.

The text classifier (``haoban.dispatch.classifier``) predicts a first-level category with calibrated
probabilities; this module turns its predictions into category guesses for the catalogue router,
and feeds operators' corrections back into training. (Orders that keyword rules dispatched without a
category are categorised by ``haoban.orders.categorise``.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.directory.service import DirectorySnapshot
from haoban.dispatch.models import DispatchCorrection
from haoban.dispatch.routing import CategoryGuess

log = logging.getLogger(__name__)
# Corrections weigh more than the public training rows: they are this city's own judgement.
CORRECTION_WEIGHT = 2.0


def guesser(
    classifier: Any, directory_of: Callable[[], DirectorySnapshot]
) -> Callable[[str], tuple[list[CategoryGuess], bool]]:
    """Adapt a TextClassifier to the router's ``classify`` hook (labels → category codes)."""

    def classify(text: str) -> tuple[list[CategoryGuess], bool]:
        prediction = classifier.predict(text)
        directory = directory_of()
        guesses = []
        for s in prediction.suggestions:
            ref = directory.category(s.label)
            if ref is not None:
                guesses.append(CategoryGuess(ref.code, float(s.probability), s.label))
        return guesses, bool(prediction.confident) and bool(guesses)

    return classify


def level1_label(directory: DirectorySnapshot, code: str | None) -> str | None:
    """The first-level category name of a category code: the classifier's label space."""
    if not code:
        return None
    ref = directory.category(code)
    if ref is None:
        return None
    root = directory.category(ref.ancestors[0])
    return root.name if root else None


def correction_examples(session: Session, directory: DirectorySnapshot) -> list[tuple[str, str, float]]:
    """Stored corrections as weighted training examples (text, label, weight)."""
    out: list[tuple[str, str, float]] = []
    for c in session.scalars(select(DispatchCorrection).order_by(DispatchCorrection.id)):
        label = level1_label(directory, c.chosen_category)
        if label:
            out.append((c.text, label, CORRECTION_WEIGHT))
    return out
