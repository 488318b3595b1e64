"""The change feed: each server process keeps its in-memory indexes in step with the database.

The near-duplicate index of open orders already catches up before every look-up (the case-file events
after the last id it saw); this follower does the same in the background, so a look-up never pays for
a long catch-up and an order filed on any process is a candidate on this one within a second. Once a
look-up has built the index, the follower reads new case-file events every ``MIN_GAP`` seconds: one
indexed range query, where a ``NOTIFY`` per write would have serialised every writer's commit (see
migration 0045). Account and article changes are rare and must reach every process at once (a revoked
token is refused everywhere): on PostgreSQL a statement trigger on ``knowledge_articles`` and ``users``
sends ``NOTIFY haoban_changes`` and the follower, ``LISTEN``-ing, wakes at once; on SQLite it looks
every ``interval`` seconds. Memory stays bounded: the index holds open orders inside the duplicate
window only, and the follower keeps a cursor, not rows.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from haoban.metrics import RESIDENT_BYTES, resident_bytes

log = logging.getLogger(__name__)
CHANNEL = "haoban_changes"
MIN_GAP = 0.2  # seconds between two reads of new case-file events once the index is built


class ChangeFeed:
    def __init__(self, rt: Any, *, interval: float = 1.0) -> None:
        self.rt = rt
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="haoban-change-feed", daemon=True)
        self.synced_at = 0.0
        self.wakeups = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def stats(self) -> dict[str, Any]:
        from haoban.hotspots.service import open_order_index

        ix = open_order_index(self.rt)
        return {
            "alive": self._thread.is_alive(),
            "last_event_id": ix.last_event_id,
            "open_orders_indexed": len(ix.tracked),
            "seconds_since_sync": round(time.monotonic() - self.synced_at, 3) if self.synced_at else None,
            "notifications": self.wakeups,
        }

    def sync(self, *, knowledge: bool = False, accounts: bool = False) -> None:
        """Apply what changed since the last call. The index is built by the first look-up that needs
        it (a process that never answers one never pays for it); from then on it is followed here."""
        from haoban.hotspots.service import open_order_index
        from haoban.knowledge.service import knowledge_cache

        ix = open_order_index(self.rt)
        if ix.built:
            with self.rt.db.read() as session:
                ix.sync(session)
        if knowledge:
            knowledge_cache(self.rt).mark_stale()
        if accounts:  # a token revoked, an account disabled or its role changed on any process
            self.rt.actors.clear()
        self.synced_at = time.monotonic()
        RESIDENT_BYTES.labels(str(os.getpid())).set(resident_bytes())

    def _index_built(self) -> bool:
        from haoban.hotspots.service import open_order_index

        return bool(open_order_index(self.rt).built)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                if self.rt.db.is_sqlite:
                    self._poll()
                else:
                    self._listen()
            except Exception:  # a lost connection: say so, wait, start again
                log.exception("change feed interrupted; retrying")
                self._stop.wait(self.interval)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.sync()

    def _listen(self) -> None:
        import psycopg

        from haoban.jobs.pg import conninfo

        with psycopg.connect(conninfo(self.rt.db.url), autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            while not self._stop.is_set():
                # Wake at an account or article change, else after MIN_GAP (the index is followed)
                # or interval (nothing to follow yet but the caches' clocks).
                timeout = MIN_GAP if self._index_built() else self.interval
                tables = {n.payload for n in conn.notifies(timeout=timeout, stop_after=1)}
                tables |= {n.payload for n in conn.notifies(timeout=0.0)}
                self.wakeups += bool(tables)
                self.sync(knowledge="knowledge_articles" in tables, accounts="users" in tables)
