"""``haoban tourism``: import places (CSV / YAML), load the demo places, search."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from haoban import cliutil
from haoban.auth.actors import SYSTEM_ACTOR
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

app = typer.Typer(help="AI游衡阳: places, tickets, guides.", no_args_is_help=True)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A .csv (header row) or .yaml (list of places) file")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Create or update places by code. Any bad row: each is named by number and nothing is stored."""
    from haoban.errors import DomainError
    from haoban.tourism import places

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        rows = places.read_rows(file.read_bytes(), filename=file.name)
        with rt.db.write() as session:
            result = places.import_places(session, rt, rows=rows, actor=SYSTEM_ACTOR)
    except OSError as exc:
        raise _fail(f"cannot read {file}: {exc.strerror}") from None
    except DomainError as exc:
        for p in exc.detail.get("problems", []):
            cliutil.err.print(f"row {p['row']}: {p['field']}: {p['message']}")
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(result.model_dump_json())
        return
    console.print(f"created {result.created}, updated {result.updated}")


@app.command("seed")
def seed_cmd() -> None:
    """Load Hengyang's demo places (the project's own words, marked as demo facts); re-runs add nothing."""
    from haoban.tourism.tickets import seed_demo_places

    rt = cliutil.runtime()
    rt.db.upgrade()
    result = seed_demo_places(rt, actor=SYSTEM_ACTOR)
    console.print(f"demo places: created {result.created}, updated {result.updated}")


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="Words, e.g. 南岳大庙 or 寿文化")],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search places (the same search as the pages)."""
    from haoban.tourism.places import list_places

    rt = cliutil.runtime()
    with rt.db.read() as session:
        items = list_places(session, rt, today=datetime.now(rt.settings.tz).date(), q=query, limit=10)
    if json_out:
        typer.echo(
            json.dumps([{k: i[k] for k in ("code", "name", "score")} for i in items], ensure_ascii=False)
        )
        return
    for i in items:
        console.print(f"{i['score']:.2f}  {i['code']}  {i['name']}")


@app.command("guides")
def guides_cmd() -> None:
    """Speak every place's guide not cached yet (espeak-ng), now — the job does it on its timer too."""
    from haoban.jobs.registry import run_once
    from haoban.tourism.guides import espeak_available

    if not espeak_available():
        raise _fail("espeak-ng is not installed: apt-get install espeak-ng")
    rt = cliutil.runtime()
    result = run_once(rt, "tourism.guides")
    console.print(
        f"guides spoken: {result['made']} new, {result['cached']} already cached, {result['failed']} failed"
    )


@app.command("ask")
def ask_cmd(question: Annotated[str, typer.Argument(help="e.g. 南岳大庙几点开门")]) -> None:
    """Ask the question box (retrieval over guides, hours and tickets)."""
    from haoban.tourism.qa import ask

    rt = cliutil.runtime()
    with rt.db.read() as session:
        got = ask(session, rt, question=question, today=datetime.now(rt.settings.tz).date())
    if not got["known"]:
        console.print("不知道 — please call 12345")
        return
    for a in got["answers"]:
        console.print(f"{a['score']:.2f}  {a['place_name']} · {a['kind_label']}: {a['text']}")
