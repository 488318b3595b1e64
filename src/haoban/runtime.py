"""The running platform's shared pieces: database, settings and the caches the hot paths read.

The app, the CLI and the tests each build one ``Runtime``. Services receive it (or parts of it) as a
keyword argument; nothing here holds business rules.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from haoban.auth.service import ActorCache
from haoban.calendar import WorkCalendar
from haoban.calendar.store import CalendarHolder
from haoban.config import Settings, get_settings
from haoban.db import Database
from haoban.directory.service import DirectorySnapshot, SnapshotCache, load_snapshot
from haoban.dispatch.catalogue import catalogue_version, rule_specs
from haoban.dispatch.routing import CatalogueRouter, CategoryGuess, Dispatcher
from haoban.orders.deadlines import SlaTable, load_sla_table

T = TypeVar("T")


class _Timed:
    """A value rebuilt at most every ``ttl`` seconds, or at once after ``invalidate``."""

    def __init__(self, build: Callable[[], T], ttl: float) -> None:
        self._build = build
        self._ttl = ttl
        self._value: T | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._value is not None and time.monotonic() - self._at < self._ttl:
            return self._value
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= self._ttl:
                self._value = self._build()
                self._at = time.monotonic()
            return self._value

    def enable_classifier(self, classifier: Any) -> None:
        """Route with ``classifier`` from now on (None turns machine-learning dispatch off)."""
        from haoban.dispatch.ml import guesser

        self.classifier = classifier
        self.classify = guesser(classifier, lambda: self.directory) if classifier is not None else None
        self._router.invalidate()

    def invalidate(self) -> None:
        with self._lock:
            self._value = None


class Runtime:
    def __init__(self, db: Database | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.db = db or Database(self.settings.database_url)
        self.actors = ActorCache()
        self._directory = SnapshotCache(self._load_directory, ttl=10.0)
        self._calendar_holder = CalendarHolder(office_hours=self.settings.office_hours)
        self._calendar = _Timed(self._load_calendar, ttl=60.0)
        self._sla = _Timed(self._load_sla, ttl=10.0)
        self._router = _Timed(self._load_router, ttl=10.0)
        # Optional text classifier (haoban.dispatch.classifier.TextClassifier) and the router's hook to it.
        self.classifier: Any = None
        self.classify: Callable[[str], tuple[list[CategoryGuess], bool]] | None = None
        self.categorised_upto = 0  # the worker's cursor for categorising keyword-dispatched orders
        self.intake = None  # IntakeWriter, set by the app while serving

    # --- loaders ---------------------------------------------------------------------------------
    def _load_directory(self) -> DirectorySnapshot:
        with self.db.read() as session:
            return load_snapshot(session)

    def _load_calendar(self) -> WorkCalendar:
        with self.db.read() as session:
            return self._calendar_holder.reload(session)

    def _load_sla(self) -> SlaTable:
        with self.db.read() as session:
            return load_sla_table(session)

    def _load_router(self) -> CatalogueRouter:
        directory = self.directory
        chains = {code: ref.ancestors for code, ref in directory.categories.items()}
        with self.db.read() as session:
            return CatalogueRouter(
                rules=rule_specs(session),
                category_chains=chains,
                classify=self.classify,
                version=catalogue_version(session),
            )

    # --- accessors -------------------------------------------------------------------------------
    @property
    def directory(self) -> DirectorySnapshot:
        return self._directory.get()

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar.get()

    @property
    def sla(self) -> SlaTable:
        return self._sla.get()

    @property
    def dispatcher(self) -> Dispatcher:
        return self._router.get()

    @property
    def router(self) -> CatalogueRouter:
        return self._router.get()

    def enable_classifier(self, classifier: Any) -> None:
        """Route with ``classifier`` from now on (None turns machine-learning dispatch off)."""
        from haoban.dispatch.ml import guesser

        self.classifier = classifier
        self.classify = guesser(classifier, lambda: self.directory) if classifier is not None else None
        self._router.invalidate()

    def invalidate(self) -> None:
        """Drop every cache: call after an admin change (directory, rules, SLA, calendar)."""
        self._directory.invalidate()
        self._calendar.invalidate()
        self._sla.invalidate()
        self._router.invalidate()
        self.actors.clear()
