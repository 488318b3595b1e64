"""``haoban knowledge``: seed the knowledge base, search it, report the 即时答复率 (instant-answer rate)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haoban import cliutil
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

app = typer.Typer(help="Knowledge base (知识库) for answers on first contact.", no_args_is_help=True)


@app.command("seed")
def seed(
    file: Annotated[
        Path | None, typer.Option(help="CSV like messages_with_replies.csv (default: the shipped one)")
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish/--draft", help="Publish at once, or load drafts for review")
    ] = True,
    limit: Annotated[int | None, typer.Option(help="Only the first N rows")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Load articles from the government's past replies (idempotent: re-runs add nothing)."""
    from haoban.errors import DomainError
    from haoban.knowledge.service import seed_knowledge

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        report = seed_knowledge(rt, path=file, publish=publish, limit=limit)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    data = {
        "rows": report.rows,
        "created": report.created,
        "already_present": report.already_present,
        "skipped": report.skipped,
        "status": "published" if publish else "draft",
    }
    if json_out:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    console.print(
        f"rows {report.rows}: created {report.created} ({data['status']}), already present "
        f"{report.already_present}, skipped {report.skipped} (no substance in the reply)"
    )


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="The caller's question")],
    limit: Annotated[int, typer.Option(help="How many articles")] = 5,
    department: Annotated[str | None, typer.Option(help="Only this department's articles")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Search the published, valid articles."""
    from haoban.errors import DomainError
    from haoban.knowledge.service import search

    rt = cliutil.runtime()
    try:
        with rt.db.read() as session:
            items = search(session, rt, q=query, department=department, limit=limit)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(json.dumps(items, ensure_ascii=False, default=str, indent=2))
        return
    table = Table(show_lines=True)
    for col in ("id", "score", "question", "snippet"):
        table.add_column(col)
    for item in items:
        table.add_row(str(item["id"]), str(item["score"]), item["question"], item["snippet"])
    console.print(table)


@app.command("stats")
def stats_cmd(json_out: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """即时答复率 (appeals answered at first contact) over the last 30 days, and the knowledge base's size."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.knowledge.service import instant_answer_stats

    rt = cliutil.runtime()
    with rt.db.read() as session:
        data = instant_answer_stats(session, actor=SYSTEM_ACTOR)
    if json_out:
        typer.echo(json.dumps(data, ensure_ascii=False, default=str, indent=2))
        return
    rate = data["instant_answer_rate"]
    console.print(
        f"orders {data['orders']}, answered at first contact {data['answered_instantly']} "
        f"(即时答复率 {'–' if rate is None else f'{rate:.1%}'}), from the knowledge base "
        f"{data['answered_from_knowledge']}; articles {data['articles']}"
    )
