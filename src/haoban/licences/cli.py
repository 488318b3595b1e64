"""``haoban licences``: verify a licence by its code or a presented copy; the store's figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from haoban import cliutil
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

app = typer.Typer(help="Electronic licences (电子证照): verify, figures.", no_args_is_help=True)


@app.command("verify")
def verify_cmd(
    code: Annotated[str | None, typer.Argument(help="The verification code on the licence")] = None,
    document: Annotated[
        Path | None, typer.Option("--document", help="A downloaded copy (JSON) to check against the register")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Valid / expired / revoked / tampered / unknown, with the hash. Exit status 1 unless valid (and,
    for a copy, unless it matches the register exactly)."""
    from haoban.errors import DomainError
    from haoban.licences import service

    if not code and not document:
        raise _fail("give a code or --document FILE")
    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.read() as session:
            if document:
                try:
                    doc = json.loads(document.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise _fail(f"cannot read {document}: {exc}") from None
                result = service.verify_document(session, doc=doc if isinstance(doc, dict) else {})
            else:
                result = service.verify(session, code=code or "")
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
    else:
        console.print(f"{result['code']}: [bold]{result['status']}[/bold]", highlight=False)
        if result["status"] != "unknown":
            console.print(
                f"{result['name']} {result['number']} · {result['department_name']} · "
                f"{result['issued_on']} → {result['valid_until'] or '—'} · {result['holder']}",
                highlight=False,
            )
            console.print(f"sha256 {result['sha256']}", highlight=False)
        if "matches" in result:
            console.print("the copy matches the register" if result["matches"] else "the copy was altered")
    ok = result["status"] == "valid" and result.get("matches", True)
    if not ok:
        raise typer.Exit(1)


@app.command("metrics")
def metrics_cmd() -> None:
    """Licences issued, valid, revoked, expired; materials reused instead of asked for."""
    from haoban.licences import service

    rt = cliutil.runtime()
    rt.db.upgrade()
    with rt.db.read() as session:
        typer.echo(json.dumps(service.metrics(session), ensure_ascii=False))
