"""``haoban cases``: the reform list from the command line, and case-file verification."""

from __future__ import annotations

import csv
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from haoban import cliutil
from haoban.cliutil import console
from haoban.cliutil import fail as _fail

app = typer.Typer(
    help="Difficult-matter cases (办不成事 / 营商环境投诉) and the reform list.", no_args_is_help=True
)


@app.command("reform-list")
def reform_list_cmd(
    by: Annotated[str, typer.Option(help="Group by obstacle, item or department")] = "obstacle",
    months: Annotated[int, typer.Option(help="Calendar months up to --until (1-36)")] = 6,
    until: Annotated[str | None, typer.Option(help="Last month's day, YYYY-MM-DD (default: today)")] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write CSV here ('-' for standard output)")
    ] = None,
) -> None:
    """Closed cases and 12345 orders by obstacle, item or department: counts, trend, examples, proposals."""
    from haoban.auth.actors import SYSTEM_ACTOR
    from haoban.casework import reform
    from haoban.errors import DomainError

    try:
        last = date.fromisoformat(until) if until else None
    except ValueError:
        raise _fail(f"--until {until!r} is not a date: use YYYY-MM-DD") from None
    rt = cliutil.runtime()
    rt.db.upgrade()
    try:
        with rt.db.read() as session:
            report = reform.reform_list(session, rt, actor=SYSTEM_ACTOR, by=by, months=months, until=last)
    except DomainError as exc:
        raise _fail(exc.message, exc.detail.get("fields")) from None
    if csv_out is not None:
        fh = sys.stdout if str(csv_out) == "-" else csv_out.open("w", encoding="utf-8-sig", newline="")
        writer = csv.writer(fh)
        writer.writerow(reform.CSV_COLUMNS)
        writer.writerows(reform.csv_rows(report))
        if fh is not sys.stdout:
            fh.close()
            console.print(f"wrote {len(report['groups'])} groups to {csv_out}")
        return
    console.print(f"reform list by {by}, {report['months'][0]} – {report['months'][-1]}")
    for g in report["groups"]:
        console.print(
            f"{g['label']:<12} cases {g['cases']:>4}  orders {g['orders']:>5}  {g['trend']:<8} "
            + " ".join(str(n) for n in g["by_month"])
        )
        for e in g["examples"]:
            console.print(f"    {e['code']}  {e['subject']}")
        for p in g["proposals"]:
            console.print(f"    → {p['title']} [{p['status_label']}, {p['owner'] or '-'}]")
    if not report["groups"]:
        console.print("no closed cases or 12345 orders naming an obstacle in this period")


@app.command("verify")
def verify_cmd() -> None:
    """Verify every case's hash-chained file; exit 1 naming each break."""
    from haoban.casework.events import verify_case_files

    rt = cliutil.runtime()
    with rt.db.read() as session:
        checked, breaks = verify_case_files(session)
    for b in breaks:
        console.print(f"{b.order_code} #{b.seq}: {b.reason}")
    if breaks:
        raise _fail(f"{len(breaks)} of {checked} case files do not verify", code=1)
    console.print(f"{checked} case files verify")
