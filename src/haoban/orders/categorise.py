"""Categorise orders that keyword rules dispatched without a category, so the dashboards' category mix
is complete. Batch work for the worker, with the dispatch classifier."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from haoban.directory.service import DirectorySnapshot
from haoban.orders.models import Order, mark_days


def categorise_uncategorised(
    session: Session, *, classifier: Any, directory: DirectorySnapshot, after_id: int = 0, limit: int = 500
) -> tuple[int, int]:
    """Give a category to orders dispatched without one (keyword rules); batch work for the worker.

    Returns (orders categorised, last order id looked at): the worker resumes after it, so a message
    the classifier cannot place is not retried forever.
    """
    rows = session.execute(
        select(Order.id, Order.subject, Order.content, Order.received_at)
        .where(Order.category_id.is_(None), Order.id > after_id)
        .order_by(Order.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0, after_id
    predictions = classifier.predict_many([f"{r.subject}\n{r.content}" for r in rows])
    done = 0
    for row, prediction in zip(rows, predictions, strict=True):
        if not prediction.suggestions:
            continue
        ref = directory.category(prediction.suggestions[0].label)
        if ref is None:
            continue
        # Only fill the gap: never overwrite a category someone set meanwhile.
        session.execute(
            update(Order)
            .where(Order.id == row.id, Order.category_id.is_(None))
            .values(category_id=ref.id)
            .execution_options(synchronize_session=False)
        )
        mark_days(session, [row.received_at])
        done += 1
    return done, rows[-1].id
