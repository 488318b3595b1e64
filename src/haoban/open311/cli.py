"""``haoban open311 keys issue | list | revoke``: the client apps that may call Open311 with an api_key."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from haoban import cliutil
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

app = typer.Typer(help="Open311 GeoReport v2: client apps and their api_keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Client apps' api_keys: issue, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

By = Annotated[
    str | None, typer.Option("--by", help="the admin account to record as issuer (default: the system)")
]


def _actor(rt, by: str | None):  # type: ignore[no-untyped-def]
    from haoban.auth.actors import SYSTEM_ACTOR

    return cliutil.acting_user(rt, by) if by else SYSTEM_ACTOR


@keys_app.command("issue")
def issue_cmd(
    name: Annotated[str, typer.Argument(help="the client app, e.g. FixMyStreet")],
    contact: Annotated[str | None, typer.Option("--contact", help="who runs it")] = None,
    rate: Annotated[int, typer.Option("--rate", help="calls a minute")] = 60,
    by: By = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register a client app and print its api_key: shown this once, only its hash is stored."""
    from haoban.errors import DomainError
    from haoban.open311 import keys

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.write() as session:
            issued = keys.issue_key(
                session, actor=_actor(rt, by), name=name, contact=contact, rate_per_minute=rate
            )
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if json_out:
        typer.echo(
            json.dumps({"client": issued.client, "api_key": issued.api_key}, ensure_ascii=False, default=str)
        )
        return
    console.print(
        f"client {issued.client['id']} {issued.client['name']}: api_key (shown once, keep it safe):"
    )
    typer.echo(issued.api_key)


@keys_app.command("list")
def list_cmd(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every client app, its key's first characters, its limit, and whether it is revoked."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.open311 import keys

    rt = cliutil.runtime()
    rt.db.upgrade()
    with rt.db.read() as session:
        rows = keys.list_clients(session, actor=SYSTEM_ACTOR)
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table("id", "name", "key", "rate/min", "issued", "revoked")
    tz = rt.settings.tz  # shown in the city's time
    for r in rows:
        revoked = (
            f"{r['revoked_at'].astimezone(tz):%Y-%m-%d %H:%M} by {r['revoked_by']}"
            if r["revoked_at"]
            else "—"
        )
        table.add_row(
            str(r["id"]),
            r["name"],
            r["key_prefix"] + "…",
            str(r["rate_per_minute"]),
            f"{r['created_at'].astimezone(tz):%Y-%m-%d %H:%M} by {r['created_by']}",
            revoked,
        )
    console.print(table)


@keys_app.command("revoke")
def revoke_cmd(
    client: Annotated[str, typer.Argument(help="the client's id, or its key's first characters")],
    by: By = None,
) -> None:
    """Revoke a client app's key from now on: its calls get 403."""
    from haoban.errors import DomainError
    from haoban.open311 import keys

    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.write() as session:
            row = keys.revoke_key(session, actor=_actor(rt, by), ref=client)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    at = row["revoked_at"].astimezone(rt.settings.tz)  # shown in the city's time
    console.print(f"client {row['id']} {row['name']}: revoked at {at:%Y-%m-%d %H:%M} by {row['revoked_by']}")
