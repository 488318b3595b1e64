"""``haoban benefits``: policies, data-source imports, the matching job, payouts, the synthetic city."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haoban import cliutil
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

app = typer.Typer(
    help="免申即享: benefits pushed to those who qualify, without an application.", no_args_is_help=True
)


def _today(value: str | None) -> date:
    if value is None:
        from haoban.db import utcnow

        return utcnow().astimezone(cliutil.runtime().settings.tz).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--date {value!r} is not a date (YYYY-MM-DD)") from None


@app.command("install")
def install(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Install the shipped policies (DMN tables) that are not stored yet."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.benefits import store

    rt = cliutil.runtime()
    rt.db.upgrade()
    with rt.db.write() as session:
        installed = store.install_shipped(session, actor=SYSTEM_ACTOR)
    if json_out:
        typer.echo(json.dumps({"installed": installed}))
        return
    console.print(f"installed: {', '.join(installed) or '(all present)'}")


@app.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A DMN 1.3 decision table")],
    as_user: Annotated[str, typer.Option("--as", help="the admin account recorded as uploader")] = "admin",
) -> None:
    """Store a DMN table as the next version of its policy (refused with the row and the reason)."""
    from haoban.benefits import store
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    actor = cliutil.acting_user(rt, as_user)
    try:
        with rt.db.write() as session:
            row, created = store.upload(session, xml=file.read_bytes(), actor=actor)
            code, version = row.code, row.version
    except DomainError as exc:
        for p in exc.detail.get("problems", [])[1:]:
            cliutil.err.print(
                f"  row {p['row']}, {p['column']}: {p['reason']}" if p["row"] else f"  {p['reason']}"
            )
        raise _fail(exc.message) from None
    console.print(f"{code} version {version}" + ("" if created else " (already in force, unchanged)"))


@app.command("import")
def import_(
    source: Annotated[str, typer.Argument(help="residents, births, insurance, companies, tax or employment")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Import a CSV data source; bad rows are listed by line and nothing is stored."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.benefits import sources
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    try:
        with rt.db.write() as session:
            r = sources.import_csv(
                session, source_name=source, data=file.read_bytes(), filename=file.name, actor=SYSTEM_ACTOR
            )
    except DomainError as exc:
        for p in exc.detail.get("problems", [])[1:]:
            cliutil.err.print(f"  line {p['line']}, {p['column'] or '-'}: {p['reason']}")
        raise _fail(exc.message) from None
    data = {
        "import": r.import_id,
        "rows": r.rows,
        "inserted": r.inserted,
        "updated": r.updated,
        "unchanged": r.unchanged,
    }
    if json_out:
        typer.echo(json.dumps(data))
        return
    console.print(", ".join(f"{k} {v}" for k, v in data.items()))


@app.command("match")
def match(
    full: Annotated[
        bool, typer.Option("--full", help="Re-read every subject, not only what changed")
    ] = False,
    on: Annotated[str | None, typer.Option("--date", help="Match as of this day (default: today)")] = None,
    policy: Annotated[list[str] | None, typer.Option(help="Only these policy codes")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find everyone eligible, push new grants (notified), flag grants that later data contradicts."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.benefits import matching

    rt = cliutil.runtime()
    day = _today(on)
    tasks: dict[str, int] = {}
    with cliutil.progress() as bar:

        def progress(code: str, done: int, total: int) -> None:
            if code not in tasks:
                tasks[code] = bar.add_task(code, total=max(total, 1))
            bar.update(tasks[code], completed=done, total=max(total, 1))

        with rt.db.write() as session:
            reports = matching.match(
                session, today=day, full=full, actor=SYSTEM_ACTOR, codes=policy, progress=progress
            )
    rows = [r.__dict__ for r in reports]
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table()
    for col in ("policy", "period", "mode", "evaluated", "eligible", "granted", "flagged", "seconds"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            *(
                str(r[c])
                for c in (
                    "policy",
                    "period",
                    "mode",
                    "evaluated",
                    "eligible",
                    "granted",
                    "flagged",
                    "seconds",
                )
            )
        )
    console.print(table)


@app.command("list")
def list_grants(
    policy: Annotated[str | None, typer.Option(help="Only this policy code")] = None,
    period: Annotated[str | None, typer.Option(help="Only this period (2026-11, 2026, once)")] = None,
    flagged: Annotated[
        bool | None, typer.Option("--flagged/--not-flagged", help="Only flagged, or unflagged")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="CSV file (default: standard output)")
    ] = None,
) -> None:
    """The eligible, as CSV: each grant's rule row, the facts that made it, amount (fen), status."""
    import csv
    import sys

    from haoban.benefits import service

    rt = cliutil.runtime()
    out = output.open("w", newline="", encoding="utf-8-sig") if output else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=service.EXPORT_COLUMNS)
        writer.writeheader()
        n = 0
        with rt.db.read() as session:
            for row in service.export_rows(session, policy=policy, period=period, flagged=flagged):
                writer.writerow(row)
                n += 1
    finally:
        if output:
            out.close()
    if output:
        console.print(f"{n} grants written to {output}")


@app.command("demo")
def demo_city(
    residents: Annotated[int, typer.Option(help="How many synthetic residents")] = 20_000,
    companies: Annotated[int, typer.Option(help="How many synthetic companies")] = 2_000,
) -> None:
    """Fill empty data-source tables with a synthetic city and install the shipped policies."""
    from sqlalchemy import func, select

    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.benefits import demo, store
    from haoban.benefits.models import Resident

    rt = cliutil.runtime()
    rt.db.upgrade()
    with rt.db.write() as session:
        if session.scalar(select(func.count()).select_from(Resident)):
            raise _fail("the residents table is not empty; the synthetic city goes into an empty one")
        store.install_shipped(session, actor=SYSTEM_ACTOR)
        g = demo.generate(
            session, residents_n=residents, companies_n=companies, today=_today(None), actor=SYSTEM_ACTOR
        )
    console.print(f"{g.residents} residents and {g.companies} companies (import {g.import_id})")


@app.command("verify")
def verify() -> None:
    """Verify every grant's hash-chained case file."""
    from haoban.benefits import events

    rt = cliutil.runtime()
    with rt.db.read() as session:
        checked, breaks = events.verify(session)
    for b in breaks:
        cliutil.err.print(f"[red]{b.order_code}[/red] event #{b.seq}: {b.reason}")
    console.print(f"{checked} grants checked, {len(breaks)} broken")
    if breaks:
        raise typer.Exit(1)
