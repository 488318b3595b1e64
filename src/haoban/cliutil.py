"""Shared pieces of the command line: consoles, errors, the runtime, the acting user, progress bars.

Commands call ``cliutil.runtime()`` through the module so that tests can substitute one runtime.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from haoban.auth.actors import Actor
    from haoban.runtime import Runtime

console = Console()
err = Console(stderr=True)


def fail(message: str, fields: dict[str, str] | None = None, code: int = 2) -> typer.Exit:
    """Print an error a person can act on; raise the returned Exit (non-zero)."""
    err.print(f"[red]error:[/red] {message}" + "".join(f"\n  {k}: {v}" for k, v in (fields or {}).items()))
    return typer.Exit(code)


def runtime(database_url: str | None = None) -> Runtime:
    from haoban import wiring
    from haoban.config import get_settings
    from haoban.db import Database

    settings = get_settings()
    db = Database(database_url or settings.database_url, replica_url=settings.read_replica_url)
    return wiring.runtime(db, settings)


def acting_user(rt: Runtime, username: str) -> Actor:
    """The account a bulk command acts as (recorded in case files); the system if there is none."""
    from sqlalchemy import select

    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.auth.models import User
    from haoban.auth.service import actor_for

    with rt.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        return actor_for(user) if user else SYSTEM_ACTOR


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )
