"""``haoban federation``: this instance's key pair, partners, agreements and the outbox."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from haoban import cliutil
from haoban.cliutil import console, fail

app = typer.Typer(help="Federation with partner instances (跨省通办, 12345 transfers).", no_args_is_help=True)
partners_app = typer.Typer(help="Partner instances.", no_args_is_help=True)
agreements_app = typer.Typer(help="Agreements with partners.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages to partners.", no_args_is_help=True)
app.add_typer(partners_app, name="partners")
app.add_typer(agreements_app, name="agreements")
app.add_typer(outbox_app, name="outbox")


def _admin():  # type: ignore[no-untyped-def]
    from haoban.auth.actors import SYSTEM_ACTOR

    return SYSTEM_ACTOR


def _run(fn):  # type: ignore[no-untyped-def]
    from haoban.errors import DomainError

    try:
        return fn()
    except DomainError as exc:
        raise fail(exc.message, exc.detail.get("fields")) from None


@app.command("keygen")
def keygen(force: Annotated[bool, typer.Option("--force", help="Replace an existing key")] = False) -> None:
    """Create this instance's Ed25519 key pair; prints the public key to give to partners."""
    from haoban.federation import messages, service

    rt = cliutil.runtime()
    path = service.key_path(rt.settings)
    try:
        key = messages.generate_key(path, force=force)
    except FileExistsError as exc:
        raise fail(str(exc)) from None
    console.print(f"key written to {path} (mode 0600)")
    console.print(f"region {rt.settings.federation_region}  public key {messages.public_b64(key)}")


@app.command("identity")
def identity() -> None:
    """This instance's region and public key (never the private key)."""
    from haoban.federation import service

    console.print_json(json.dumps(service.identity(cliutil.runtime().settings), ensure_ascii=False))


@partners_app.command("list")
def partners_list(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    from haoban.federation import service

    rt = cliutil.runtime()
    with rt.db.read() as session:
        rows = service.list_partners(session, actor=_admin())
    if json_out:
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table(title="federation partners")
    for column in ("region", "name", "endpoint", "active", "agreements"):
        table.add_column(column)
    for p in rows:
        table.add_row(
            p["region"], p["name"], p["endpoint"], "yes" if p["active"] else "no", str(len(p["agreements"]))
        )
    console.print(table)


@partners_app.command("add")
def partners_add(
    region: Annotated[str, typer.Argument(help="行政区划代码, e.g. 451300")],
    name: Annotated[str, typer.Option(help="e.g. 来宾市")],
    endpoint: Annotated[str, typer.Option(help="base URL of the partner instance")],
    public_key: Annotated[str, typer.Option("--public-key", help="the partner's public key (base64)")],
    inactive: Annotated[bool, typer.Option("--inactive")] = False,
) -> None:
    """Register a partner (or update the one with this region)."""
    from haoban.federation import service

    rt = cliutil.runtime()
    rt.db.upgrade()
    with rt.db.write() as session:
        p = _run(
            lambda: service.save_partner(
                session,
                actor=_admin(),
                region=region,
                name=name,
                endpoint=endpoint,
                public_key=public_key,
                active=not inactive,
                own_region=rt.settings.federation_region,
            )
        )
    console.print(f"partner {p['region']} {p['name']} at {p['endpoint']}")


@agreements_app.command("list")
def agreements_list(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    from haoban.federation import service

    rt = cliutil.runtime()
    with rt.db.read() as session:
        rows = service.list_agreements(session, actor=_admin())
    if json_out:
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table(title="federation agreements")
    for column in ("id", "partner", "items", "modes", "from", "to", "in force"):
        table.add_column(column)
    for a in rows:
        table.add_row(
            str(a["id"]),
            a["partner"],
            ", ".join(a["items"]),
            ", ".join(a["modes"]),
            str(a["valid_from"]),
            str(a["valid_to"] or ""),
            "yes" if a["in_force"] else "no",
        )
    console.print(table)


@agreements_app.command("add")
def agreements_add(
    partner: Annotated[str, typer.Argument(help="the partner's region code")],
    items: Annotated[str, typer.Option(help="comma-separated item / bundle codes; 'hotline' for 12345")],
    modes: Annotated[str, typer.Option(help="comma-separated: online, proxy, joint, transfer")],
    valid_from: Annotated[str, typer.Option("--from", help="YYYY-MM-DD (default today)")] = "",
    valid_to: Annotated[str, typer.Option("--to", help="YYYY-MM-DD (default open-ended)")] = "",
    note: Annotated[str, typer.Option()] = "",
) -> None:
    from haoban.federation import service

    try:
        start = date.fromisoformat(valid_from) if valid_from else date.today()
        end = date.fromisoformat(valid_to) if valid_to else None
    except ValueError as exc:
        raise fail(f"dates are YYYY-MM-DD: {exc}") from None
    rt = cliutil.runtime()
    rt.db.upgrade()
    with rt.db.write() as session:
        a = _run(
            lambda: service.add_agreement(
                session,
                actor=_admin(),
                partner=partner,
                items=items.split(","),
                modes=[m.strip() for m in modes.split(",") if m.strip()],
                valid_from=start,
                valid_to=end,
                note=note,
            )
        )
    console.print(
        f"agreement {a['id']} with {a['partner']}: {', '.join(a['items'])} ({', '.join(a['modes'])})"
    )


@agreements_app.command("end")
def agreements_end(
    agreement_id: Annotated[int, typer.Argument()],
    on: Annotated[str, typer.Option("--on", help="last day it holds, YYYY-MM-DD")],
) -> None:
    from haoban.federation import service

    try:
        day = date.fromisoformat(on)
    except ValueError as exc:
        raise fail(f"--on is YYYY-MM-DD: {exc}") from None
    rt = cliutil.runtime()
    with rt.db.write() as session:
        a = _run(lambda: service.end_agreement(session, actor=_admin(), agreement_id=agreement_id, on=day))
    console.print(f"agreement {a['id']} ends on {a['valid_to']}")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str, typer.Option(help="pending / delivered / refused")] = "",
    limit: Annotated[int, typer.Option()] = 50,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    from haoban.federation import service

    rt = cliutil.runtime()
    with rt.db.read() as session:
        rows = service.list_outbox(session, actor=_admin(), status=status or None, limit=limit)
    if json_out:
        console.print_json(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table(title="federation outbox")
    for column in ("id", "partner", "case", "seq", "kind", "status", "attempts", "next attempt", "error"):
        table.add_column(column)
    for e in rows:
        table.add_row(
            str(e["id"]),
            e["partner"],
            e["case"],
            str(e["seq"]),
            e["kind"],
            e["status"],
            str(e["attempts"]),
            e["next_attempt_at"].isoformat()[:19],
            (e["last_error"] or "")[:60],
        )
    console.print(table)


@outbox_app.command("deliver")
def outbox_deliver() -> None:
    """Deliver due messages now, here."""
    from haoban.federation import flows, protocol

    assert flows
    rt = cliutil.runtime()
    try:
        counts = protocol.deliver(rt)
    except (FileNotFoundError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(", ".join(f"{k} {v}" for k, v in counts.items()))


@outbox_app.command("retry")
def outbox_retry(entry_id: Annotated[int, typer.Argument()]) -> None:
    """Send a refused message again at the next delivery."""
    from haoban.federation import service

    rt = cliutil.runtime()
    with rt.db.write() as session:
        e = _run(lambda: service.retry_outbox(session, actor=_admin(), entry_id=entry_id))
    console.print(f"message {e['id']} will be sent again")
