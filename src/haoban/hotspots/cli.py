"""``haoban hotspots``: rank hotspots (热点) over the orders in the database; import board votes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from haoban import cliutil
from haoban.cliutil import console, err
from haoban.cliutil import fail as _fail

app = typer.Typer(
    help="Hotspots (热点): clusters of similar appeals, ranked by writers, size, votes and growth.",
    invoke_without_command=True,
)


@app.callback()
def show(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="From this date or time (default: until − 30 days)")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Through this date, or up to this time (default: now)")
    ] = None,
    district: Annotated[str | None, typer.Option(help="Only this district (code or name)")] = None,
    top: Annotated[int, typer.Option(help="How many hotspots")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the key-phrase background sample")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Rank the hotspots among orders received in the window (run without a sub-command)."""
    if ctx.invoked_subcommand is not None:
        return
    from haoban.errors import DomainError
    from haoban.hotspots.service import hotspots, parse_bound

    try:
        start = parse_bound(since, name="since", end=False)
        end = parse_bound(until, name="until", end=True)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.read() as session:
            result = hotspots(session, rt, since=start, until=end, district=district, top=top, seed=seed)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    console.print(
        f"{result['orders']} orders received from {result['since'][:16].replace('T', ' ')} "
        f"until (not including) {result['until'][:16].replace('T', ' ')}"
        + (f" in {result['district']}" if result["district"] else "")
    )
    for h in result["hotspots"]:
        console.print(f"\n[bold]{h['rank']}. {h['label']}[/bold]  (score {h['score']})", highlight=False)
        console.print(
            f"   {h['place'] or '–'} · {h['start'][:10]} → {h['end'][:10]} · {h['size']} appeals, "
            f"{h['spread']} writers, {h['votes']} votes, growth {h['growth']}",
            highlight=False,
        )
        for sample in h["sample_orders"][:3]:
            console.print(f"   {sample['code']}  {sample['subject']}", highlight=False, soft_wrap=True)
    if not result["hotspots"]:
        console.print("no hotspots in this window")


@app.command("import-votes")
def import_votes_cmd(
    file: Annotated[
        Path, typer.Argument(help="CSV with 留言编号, 点赞数, 反对数 (e.g. messages_with_votes.csv)")
    ],
    source: Annotated[str | None, typer.Option(help="Source system name (default: the file name)")] = None,
    as_user: Annotated[str, typer.Option("--as", help="Account recorded as the registering actor")] = "admin",
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Import board messages as orders (idempotent), then store their support votes."""
    from haoban.errors import DomainError
    from haoban.hotspots.service import import_votes

    if not file.exists():
        raise _fail(f"no such file: {file}")
    rt = cliutil.runtime()
    rt.db.upgrade()
    actor = cliutil.acting_user(rt, as_user)
    try:
        report = import_votes(rt, path=file, actor=actor, source=source)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    except (UnicodeDecodeError, OSError) as exc:
        raise _fail(f"cannot read {file}: {exc}") from None
    data = {
        "total": report.rows,
        "created": report.created,
        "already_present": report.already_present,
        "votes_stored": report.votes_stored,
        "errors": [{"row": r, "reason": m} for r, m in report.errors],
    }
    if json_out:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(
        f"rows {report.rows}: created {report.created}, already present {report.already_present}, "
        f"votes stored {report.votes_stored}, errors {len(report.errors)}"
    )
    for row, reason in report.errors[:20]:
        err.print(f"  row {row}: {reason}")
