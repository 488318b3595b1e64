"""The running platform's shared pieces: database, settings, the caches the hot paths read, and the
lifecycle hooks through which higher domains react to lower ones.

The app, the CLI and the tests each build one ``Runtime`` through ``haoban.wiring``, which also
registers every domain's hooks. Services receive it as an argument; nothing here holds business rules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from haoban.auth.service import ActorCache
from haoban.caching import Timed
from haoban.calendar import WorkCalendar
from haoban.config import Settings, get_settings
from haoban.db import Database
from haoban.directory.service import CATEGORY_ENGLISH, DirectorySnapshot, category_english, load_snapshot
from haoban.dispatch.catalogue import catalogue_version, rule_specs
from haoban.dispatch.ml import guesser
from haoban.dispatch.routing import CatalogueRouter, CategoryGuess, Dispatcher
from haoban.security.crypto import use_data_key
from haoban.sla.schedules import CalendarHolder
from haoban.sla.service import SlaTable, load_sla_table

T = TypeVar("T")
Hook = Callable[[Any], None]


class Hooks:
    """Lifecycle hooks: a lower domain announces an action, higher domains registered at wiring react.

    A topic names a domain and an action, e.g. ``"orders.reply"``; ``"orders.*"`` hears every action of
    the domain. ``before`` hooks run after the gate's checks and before anything is written: they may
    refuse the action by raising a ``DomainError`` (the knowledge base refuses to cite an expired
    article). ``after`` hooks run once the case-file event is appended, in the same transaction (feedback
    scores a department's reply). Each hook receives the domain's step object (``orders.gate.Step``).

    Hooks are registered while wiring and then sealed: running them on an unsealed registry is a wiring
    mistake (a runtime built without ``haoban.wiring``), and fails loudly rather than skip a reaction.
    """

    def __init__(self) -> None:
        self._before: dict[str, list[Hook]] = {}
        self._after: dict[str, list[Hook]] = {}
        self.sealed = False

    def before(self, topic: str, hook: Hook) -> Hook:
        self._add(self._before, topic, hook)
        return hook

    def after(self, topic: str, hook: Hook) -> Hook:
        self._add(self._after, topic, hook)
        return hook

    def seal(self) -> None:
        self.sealed = True

    def run_before(self, topic: str, step: Any) -> None:
        self._run(self._before, topic, step)

    def run_after(self, topic: str, step: Any) -> None:
        self._run(self._after, topic, step)

    def topics(self) -> dict[str, list[str]]:
        """Registered topics per phase (for tests and the docs)."""
        return {"before": sorted(self._before), "after": sorted(self._after)}

    def _add(self, table: dict[str, list[Hook]], topic: str, hook: Hook) -> None:
        if self.sealed:
            raise RuntimeError(f"hooks are sealed; register {topic!r} while wiring the runtime")
        table.setdefault(topic, []).append(hook)

    def _run(self, table: dict[str, list[Hook]], topic: str, step: Any) -> None:
        if not self.sealed:
            raise RuntimeError("this runtime is not wired: build it with haoban.wiring.runtime()")
        domain = topic.split(".", 1)[0]
        for hook in (*table.get(f"{domain}.*", ()), *table.get(topic, ())):
            hook(step)


class Runtime:
    def __init__(self, db: Database | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.db = db or Database(self.settings.database_url, replica_url=self.settings.read_replica_url)
        # ID numbers are encrypted under this runtime's data key on every engine of its database.
        use_data_key((self.db.engine, self.db.replica), self.settings.data_key)
        self.actors = ActorCache()
        self.hooks = Hooks()
        self._directory = Timed(self._load_directory, ttl=10.0)
        self._calendar_holder = CalendarHolder(
            office_hours=self.settings.office_hours, tz=self.settings.timezone
        )
        self._calendar = Timed(self._load_calendar, ttl=60.0)
        self._sla = Timed(self._load_sla, ttl=10.0)
        self._router = Timed(self._load_router, ttl=10.0)
        self._locals: dict[str, Any] = {}
        self._locals_lock = threading.Lock()
        # Optional text classifier (haoban.dispatch.classifier.TextClassifier) and the router's hook to it.
        self.classifier: Any = None
        self.classify: Callable[[str], tuple[list[CategoryGuess], bool]] | None = None
        self.categorised_upto = 0  # the worker's cursor for categorising keyword-dispatched orders
        self.intake: Any = None  # haoban.orders.intake.IntakeWriter, set by the app while serving
        self.jobs: Any = None  # the process's job runner (haoban.jobs), while one is running

    # --- loaders ---------------------------------------------------------------------------------
    def _load_directory(self) -> DirectorySnapshot:
        with self.db.read() as session:
            english = category_english(self.settings.data_dir / "tipdm2020" / CATEGORY_ENGLISH)
            return load_snapshot(session, english)

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
                tz=self.settings.tz,
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

    def local(self, key: str, build: Callable[[], T]) -> T:
        """A process-local helper of this runtime (a search index, a result cache), built on first use.

        Such helpers hold derived data only: each follows the database on its own (a change feed or a
        signature check), so any number of processes agree.
        """
        with self._locals_lock:
            value = self._locals.get(key)
            if value is None:
                value = self._locals[key] = build()
            return value  # type: ignore[no-any-return]

    def enable_classifier(self, classifier: Any) -> None:
        """Route with ``classifier`` from now on (None turns machine-learning dispatch off)."""
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
