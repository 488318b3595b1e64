"""Wiring: build a ``Runtime`` and let every domain register its hooks on it.

Lower domains announce their actions through ``Runtime.hooks``; the higher domains that react to them
are listed here, once. The app, the command line, the tests and the benchmarks all build their runtime
with ``runtime()`` (or ``wire`` one they made), so a reaction is never silently missing.
"""

from __future__ import annotations

from haoban.config import Settings
from haoban.db import Database
from haoban.feedback import hooks as feedback_hooks
from haoban.knowledge import hooks as knowledge_hooks
from haoban.runtime import Runtime

REGISTRARS = (feedback_hooks.register, knowledge_hooks.register)


def wire(rt: Runtime) -> Runtime:
    """Register every domain's hooks on ``rt`` and seal them (a second call changes nothing)."""
    if not rt.hooks.sealed:
        for register in REGISTRARS:
            register(rt.hooks)
        rt.hooks.seal()
    return rt


def runtime(db: Database | None = None, settings: Settings | None = None) -> Runtime:
    return wire(Runtime(db, settings))
