"""The background worker: the deadline sweep, the outbox and the small housekeeping jobs, on timers.

``haoban worker`` runs it on its own; ``haoban serve`` runs it in-process on a thread. The sweep runs
every ``Settings.sweep_seconds``, the outbox is drained every ``Settings.outbox_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from haoban import ratelimit
from haoban.notifications.service import drain, get_sender
from haoban.orders.categorise import categorise_uncategorised
from haoban.orders.sweep import SweepResult, sweep
from haoban.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class TickResult:
    sweep: SweepResult = field(default_factory=SweepResult)
    sent: int = 0
    categorised: int = 0
    swept: bool = False


def tick(rt: Runtime, *, sender_name: str = "record", sweep_due: bool = True) -> TickResult:
    """One pass: sweep deadlines (when due), then deliver what is waiting in the outbox."""
    result = TickResult()
    if sweep_due:
        with rt.db.write() as session:
            result.sweep = sweep(session, rt)
            ratelimit.forget_old(session)
        result.swept = True
        if rt.classifier is not None:
            with rt.db.write() as session:
                result.categorised, rt.categorised_upto = categorise_uncategorised(
                    session, classifier=rt.classifier, directory=rt.directory, after_id=rt.categorised_upto
                )
    result.sent = drain(rt.db, sender=get_sender(sender_name))
    return result


class Worker:
    def __init__(self, rt: Runtime, *, interval: float | None = None) -> None:
        self.rt = rt
        self.sweep_every = interval or rt.settings.sweep_seconds
        self.drain_every = interval or rt.settings.outbox_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="haoban-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        next_sweep = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                result = tick(self.rt, sweep_due=now >= next_sweep)
                if result.swept:
                    next_sweep = now + self.sweep_every
                if result.sweep.warnings or result.sweep.overdue or result.sent:
                    log.info("worker: %s, %d messages sent", result.sweep, result.sent)
            except Exception:  # keep the loop alive; the next tick retries
                log.exception("worker tick failed")
            until_sweep = next_sweep - time.monotonic()
            # Wake for whichever is due first; a sweep that failed is retried after the usual pause.
            self._stop.wait(min(self.drain_every, until_sweep) if until_sweep > 0 else self.drain_every)
