"""The background worker: the deadline sweep and the outbox, on timers.

``haoban worker`` runs it on its own; ``haoban serve`` runs it in-process on a thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from haoban.notifications.service import drain, get_sender
from haoban.orders.sweep import SweepResult, sweep
from haoban.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class TickResult:
    sweep: SweepResult
    sent: int
    categorised: int = 0


def tick(rt: Runtime, *, sender_name: str = "record") -> TickResult:
    """One pass: sweep deadlines, then deliver what is waiting in the outbox."""
    with rt.db.write() as session:
        result = sweep(session, rt)
    sent = drain(rt.db, sender=get_sender(sender_name))
    categorised = 0
    if rt.classifier is not None:
        from haoban.dispatch.ml import categorise_uncategorised

        with rt.db.write() as session:
            categorised, rt.categorised_upto = categorise_uncategorised(
                session, classifier=rt.classifier, directory=rt.directory, after_id=rt.categorised_upto
            )
    return TickResult(result, sent, categorised)


class Worker:
    def __init__(self, rt: Runtime, *, interval: float | None = None) -> None:
        self.rt = rt
        self.interval = interval or min(rt.settings.sweep_seconds, rt.settings.outbox_seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="haoban-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                result = tick(self.rt)
                if result.sweep.warnings or result.sweep.overdue or result.sent:
                    log.info("worker: %s, %d messages sent", result.sweep, result.sent)
            except Exception:  # keep the loop alive; the next tick retries
                log.exception("worker tick failed")
            self._stop.wait(self.interval)
