"""``haoban jobs``: the registered jobs, deferring one, and the failures kept with their errors."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from haoban import cliutil
from haoban.cliutil import console, fail

app = typer.Typer(
    help="Background jobs (procrastinate on PostgreSQL, in-process on SQLite).", no_args_is_help=True
)


@app.command("list")
def list_jobs() -> None:
    """Every registered job with its schedule, lock and attempts."""
    from haoban.jobs import REGISTRY, uses_procrastinate

    rt = cliutil.runtime()
    table = Table(title=f"jobs ({'procrastinate' if uses_procrastinate(rt) else 'in-process'})")
    for column in ("job", "schedule", "lock", "attempts", "back-off"):
        table.add_column(column)
    for spec in sorted(REGISTRY.values(), key=lambda j: j.name):
        seconds = spec.interval(rt.settings)
        schedule = f"every {seconds:g} s" if seconds is not None else (spec.cron or "when deferred")
        table.add_row(spec.name, schedule, spec.lock or "", str(spec.max_attempts), f"{spec.backoff}^n s")
    console.print(table)


@app.command("defer")
def defer_job(
    name: Annotated[str, typer.Argument(help="Registered job name, e.g. dispatch.retrain")],
    args: Annotated[str, typer.Option("--args", help="JSON object of keyword arguments")] = "{}",
) -> None:
    """Queue a job (PostgreSQL: any worker picks it up; SQLite: it runs now, in this command)."""
    from haoban.jobs import defer, get

    try:
        kwargs = json.loads(args)
        if not isinstance(kwargs, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise fail(f"--args must be a JSON object: {exc}") from None
    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        get(name)
    except KeyError as exc:
        raise fail(str(exc.args[0])) from None
    with rt.db.write() as session:
        defer(session, rt, name, **kwargs)
    console.print(f"deferred {name}")


@app.command("failures")
def failures(
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Failed job runs with their errors (``final``: no retry followed, the job failed)."""
    from sqlalchemy import select

    from haoban.jobs.models import JobFailure

    rt = cliutil.runtime()
    with rt.db.read() as session:
        rows = session.scalars(select(JobFailure).order_by(JobFailure.id.desc()).limit(limit)).all()
    items = [
        {
            "at": r.at.isoformat(),
            "task": r.task,
            "job_id": r.job_id,
            "attempt": r.attempt,
            "final": r.final,
            "error": r.error,
        }
        for r in rows
    ]
    if json_out:
        console.print_json(json.dumps(items, ensure_ascii=False))
        return
    table = Table(title="job failures")
    for column in ("at", "job", "id", "attempt", "final", "error"):
        table.add_column(column)
    for item in items:
        table.add_row(
            item["at"][:19],
            item["task"],
            str(item["job_id"] or ""),
            str(item["attempt"]),
            "yes" if item["final"] else "",
            item["error"][:80],
        )
    console.print(table)
