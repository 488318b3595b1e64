"""``haoban catalog``: import, export, list and show service items (事项目录)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haoban import cliutil
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

app = typer.Typer(
    help="Service catalogue (事项目录): items, their guides and materials.", no_args_is_help=True
)


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A .csv or .yaml catalogue")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Any bad row: import nothing")] = False,
) -> None:
    """Import items (idempotent: an equal item is left unchanged). Bad rows are listed by number and the
    command exits with status 1; good rows are kept (with --strict, nothing is)."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.catalog import bulk, service
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        rows = bulk.read_file(file)
        with rt.db.write() as session:
            report = service.import_rows(
                session, rows=rows, directory=rt.directory, actor=SYSTEM_ACTOR, strict=strict
            )
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        console.print(
            f"rows {report.total}: created {report.created}, updated {report.updated}, "
            f"unchanged {report.unchanged}, errors {len(report.errors)}"
        )
        for row, code, message in report.errors:
            console.print(f"[red]row {row}[/red] {code or ''}: {message}", markup=True, highlight=False)
    if report.errors:
        raise typer.Exit(1)


@app.command("export")
def export_cmd(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="csv or yaml (default: from the file name, else csv)")
    ] = "",
) -> None:
    """Write the active catalogue as CSV or YAML (importing it back changes nothing)."""
    from haoban.catalog import bulk, service
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        chosen = fmt or (bulk.format_of(output) if output else "csv")
        with rt.db.read() as session:
            text = service.export_text(session, fmt=chosen)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if output:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")
    else:
        typer.echo(text, nl=False)


@app.command("list")
def list_cmd(
    department: Annotated[str | None, typer.Option(help="Department code")] = None,
    life_event: Annotated[str | None, typer.Option(help="Life event, e.g. 出生")] = None,
    search: Annotated[str | None, typer.Option("--search", "-q", help="Search words (Chinese)")] = None,
    limit: Annotated[int, typer.Option(help="How many")] = 50,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List items (or search them)."""
    from haoban.catalog import service
    from haoban.catalog.search import CatalogIndex
    from haoban.catalog.search import search as search_items
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.read() as session:
            if search:
                hits = search_items(
                    session, index=CatalogIndex(), q=search, department=department, limit=limit
                )
                rows = [service.item_summary(i) for i, _score, _snip in hits]
                total = len(rows)
            else:
                found, total = service.list_items(
                    session, department=department, life_event=life_event, page_size=limit
                )
                rows = [service.item_summary(i) for i in found]
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(json.dumps({"items": rows, "total": total}, ensure_ascii=False))
        return
    table = Table(title=f"事项 items ({len(rows)} of {total})")
    for col in ("code", "name", "department", "kind", "days", "online"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["code"],
            r["name"],
            r["department"],
            r["kind_label"],
            f"{r['promised_days']}/{r['statutory_days']}",
            r["online_label"],
        )
    console.print(table)


@app.command("show")
def show_cmd(
    code: Annotated[str, typer.Argument(help="Item code")],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """An item's guide (办事指南): time limits, materials, fees, basis, where and when."""
    from haoban.catalog import service
    from haoban.errors import DomainError

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.read() as session:
            view = service.item_view(service.get_item(session, code=code))
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(json.dumps(view, ensure_ascii=False, default=str))
        return
    console.print(f"[bold]{view['name']}[/bold]  {view['code']}  ({view['department_name']})")
    console.print(
        f"{view['kind_label']} · 法定 {view['statutory_days']} 个工作日 · "
        f"承诺 {view['promised_days']} 个工作日 · "
        f"{view['online_label']} · 收费 {view['fee_fen'] / 100:.2f} 元"
    )
    for m in view["materials"]:
        flags = [m["form_label"], f"{m['count']} 份"]
        if m["tolerance"]:
            flags.append("容缺")
        if m["held_by_government"]:
            flags.append(f"免提交（电子证照 {m['licence_kind']}）")
        console.print(f"  · {m['name']}（{'，'.join(flags)}）", highlight=False)
    for label, key in (("设定依据", "legal_basis"), ("办理地点", "location"), ("办理时间", "hours")):
        if view[key]:
            console.print(f"{label}: {view[key]}", highlight=False)
