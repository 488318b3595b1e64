"""Retraining the dispatch model in the background: ``haoban jobs defer dispatch.retrain``."""

from __future__ import annotations

import logging
from typing import Any

from haoban.dispatch.classifier import default_model_path
from haoban.dispatch.ml import correction_examples
from haoban.dispatch.training import train
from haoban.jobs import JobContext, job

log = logging.getLogger(__name__)


@job("dispatch.retrain", lock="dispatch.retrain", max_attempts=2, backoff=60)
def retrain(ctx: JobContext) -> dict[str, Any]:
    """Train on the shipped data plus the operators' stored corrections, save the model over the
    configured one and route with it in this process (others load it when they restart)."""
    rt = ctx.rt
    with rt.db.read() as session:
        extra = correction_examples(session, rt.directory)
    classifier = train(extra_examples=extra, data_dir=rt.settings.data_dir)
    target = default_model_path(rt.settings.data_dir)
    classifier.save(target)
    rt.enable_classifier(classifier)
    log.info("dispatch model retrained with %d corrections, saved to %s", len(extra), target)
    return {"corrections": len(extra), "path": str(target)}
