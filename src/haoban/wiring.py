"""Wiring: build a ``Runtime`` and let every domain register its hooks on it.

Lower domains announce their actions through ``Runtime.hooks``; the higher domains that react to them
are listed here, once. The app, the command line, the tests and the benchmarks all build their runtime
with ``runtime()`` (or ``wire`` one they made), so a reaction is never silently missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import haoban
from haoban.benefits import hooks as benefits_hooks
from haoban.config import Settings
from haoban.db import Database
from haoban.federation import hooks as federation_hooks
from haoban.feedback import hooks as feedback_hooks
from haoban.knowledge import hooks as knowledge_hooks
from haoban.runtime import Runtime
from haoban.security.privacy import install_log_masking

REGISTRARS = (
    feedback_hooks.register,
    knowledge_hooks.register,
    benefits_hooks.register,
    federation_hooks.register,
)


def register_jobs(extra: str = "") -> None:
    """Import every domain's ``jobs.py`` (their ``@job`` functions register themselves) and the
    modules named in ``extra`` (comma-separated: ``HAOBAN_JOB_MODULES``, for a city's own jobs)."""
    for info in pkgutil.iter_modules(haoban.__path__):
        if info.ispkg and importlib.util.find_spec(f"haoban.{info.name}.jobs") is not None:
            importlib.import_module(f"haoban.{info.name}.jobs")
    for name in filter(None, (m.strip() for m in extra.split(","))):
        importlib.import_module(name)


def wire(rt: Runtime) -> Runtime:
    """Register every domain's hooks on ``rt`` and seal them (a second call changes nothing)."""
    install_log_masking()  # every process that builds a runtime logs no phone or ID number
    register_jobs(rt.settings.job_modules)
    if not rt.hooks.sealed:
        for register in REGISTRARS:
            register(rt.hooks)
        rt.hooks.seal()
    return rt


def runtime(db: Database | None = None, settings: Settings | None = None) -> Runtime:
    return wire(Runtime(db, settings))
