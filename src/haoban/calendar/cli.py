"""``haoban calendar``: deadlines, working-day checks and a year's holiday table from the shell.

Bad input (an unparsable date, two duration units, a negative amount, a broken schedule file)
prints one clear message on stderr and exits with code 2, like a usage error.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from haoban.calendar.clock import DEFAULT_OFFICE_HOURS, DurationUnit, parse_office_hours
from haoban.calendar.schedule import parse_schedule
from haoban.calendar.workdays import ScheduleError, WorkCalendar, YearSchedule

app = typer.Typer(
    help="Working-day calendar (statutory holidays, 调休 make-up days) and SLA deadlines.",
    no_args_is_help=True,
)

ScheduleOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--schedule",
        help="Official schedule file (YAML/JSON/CSV) overriding the built-in data for its year; repeatable.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]

_KIND_ZH = {"workday": "工作日", "weekend": "周末", "holiday": "节假日", "makeup_workday": "调休上班"}
_PROVISIONAL_NOTE = (
    "provisional: the official schedule for {years} is not published (or not loaded), so 调休 make-up "
    "working days are unknown; computed from weekends and known holidays"
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=2)


def _load_schedules(paths: list[Path] | None) -> list[YearSchedule]:
    schedules: list[YearSchedule] = []
    for path in paths or []:
        try:
            data = path.read_bytes()
        except OSError as exc:
            _fail(f"cannot read schedule file {path}: {exc.strerror or exc}")
        try:
            schedules.append(parse_schedule(data, filename=path.name))
        except ScheduleError as exc:
            _fail(f"schedule file {path}:\n  " + "\n  ".join(exc.errors))
    return schedules


def _calendar(paths: list[Path] | None, office_hours: str | None = None) -> WorkCalendar:
    hours = DEFAULT_OFFICE_HOURS
    if office_hours is not None:
        try:
            hours = parse_office_hours(office_hours)
        except ValueError as exc:
            _fail(str(exc))
    return WorkCalendar(schedules=_load_schedules(paths), office_hours=hours)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        _fail(f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2026-10-08")


def _unpublished_years(cal: WorkCalendar, first: date, last: date) -> list[int]:
    return [y for y in range(first.year, last.year + 1) if not cal.is_published(y)]


@app.command()
def deadline(
    start: Annotated[
        str | None,
        typer.Option(
            help="Receipt time, ISO 8601 (e.g. 2026-09-30T10:00); no offset = the city's time zone "
            "(HAOBAN_TIMEZONE). Default: now."
        ),
    ] = None,
    working_days: Annotated[
        float | None, typer.Option(help="N working days (end of the N-th working day).")
    ] = None,
    working_hours: Annotated[
        float | None, typer.Option(help="H hours of office time on working days.")
    ] = None,
    calendar_hours: Annotated[float | None, typer.Option(help="H hours of clock time.")] = None,
    calendar_days: Annotated[
        float | None, typer.Option(help="N calendar days (end of day; holidays ignored).")
    ] = None,
    schedule: ScheduleOpt = None,
    office_hours: Annotated[
        str | None, typer.Option(help="Office hours for --working-hours, e.g. 09:00-12:00,13:00-17:00.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compute a deadline from a receipt time and exactly one duration."""
    given = {
        unit: value
        for unit, value in (
            (DurationUnit.WORKING_DAYS, working_days),
            (DurationUnit.WORKING_HOURS, working_hours),
            (DurationUnit.CALENDAR_HOURS, calendar_hours),
            (DurationUnit.CALENDAR_DAYS, calendar_days),
        )
        if value is not None
    }
    if len(given) != 1:
        _fail(
            "give exactly one of --working-days, --working-hours, --calendar-hours, --calendar-days"
            + (f" (got {len(given)})" if given else "")
        )
    ((unit, amount),) = given.items()
    option = "--" + unit.value.replace("_", "-")
    if amount < 0:
        _fail(f"{option} must not be negative (got {amount:g})")
    if unit in (DurationUnit.WORKING_DAYS, DurationUnit.CALENDAR_DAYS) and amount != int(amount):
        _fail(f"{option} must be a whole number of days (got {amount:g})")
    cal = _calendar(schedule, office_hours)
    if start is None:
        start_at = datetime.now(cal.tzinfo)
    else:
        try:
            start_at = datetime.fromisoformat(start.strip())
        except ValueError:
            _fail(
                f"--start {start!r} is not a date-time; use ISO 8601, "
                "e.g. 2026-09-30T10:00 or 2026-09-30T10:00+08:00"
            )
    try:
        result = cal.add(start_at, amount, unit)
    except (ValueError, OverflowError) as exc:
        _fail(str(exc))
    local = result.at.astimezone(cal.tzinfo)
    shown_amount: int | float = int(amount) if amount == int(amount) else amount
    if as_json:
        payload: dict[str, Any] = {
            "deadline": local.isoformat(),
            "provisional": result.provisional,
            "unit": unit.value,
            "amount": shown_amount,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    start_local = start_at.astimezone(cal.tzinfo) if start_at.tzinfo else start_at.replace(tzinfo=cal.tzinfo)
    typer.echo(
        f"{shown_amount} {unit.value.replace('_', ' ')} from {start_local:%Y-%m-%d %H:%M %z}: "
        f"deadline {local:%Y-%m-%d %H:%M:%S %z} ({cal.tz}, {local:%a})"
    )
    if result.provisional:
        years = _unpublished_years(cal, start_local.date(), local.date())
        typer.echo("Note: " + _PROVISIONAL_NOTE.format(years=", ".join(map(str, years))))


@app.command("is-workday")
def is_workday(
    day: Annotated[str, typer.Argument(metavar="DATE", help="The day, YYYY-MM-DD.")],
    schedule: ScheduleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Say whether DATE is a working day, and why. Exit code 0 either way."""
    the_day = _parse_date(day)
    cal = _calendar(schedule)
    info = cal.day_info(the_day)
    if as_json:
        payload = {
            "date": info.day.isoformat(),
            "workday": info.workday,
            "kind": info.kind,
            "name": info.name,
            "provisional": info.provisional,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    reason = {
        "workday": "ordinary working day",
        "weekend": "weekend",
        "holiday": f"holiday: {info.name}",
        "makeup_workday": f"make-up working day (调休): {info.name}",
    }[info.kind]
    verdict, is_not = ("yes", "") if info.workday else ("no", "not ")
    typer.echo(f"{verdict}: {info.day.isoformat()} ({info.day:%A}) is {is_not}a working day — {reason}")
    if info.provisional:
        typer.echo("Note: " + _PROVISIONAL_NOTE.format(years=info.day.year))


@app.command()
def show(
    year: Annotated[int, typer.Argument(help="The year, e.g. 2026.")],
    schedule: ScheduleOpt = None,
) -> None:
    """List a year's holidays and make-up working days."""
    if not 1 <= year <= 9998:
        _fail(f"year {year} is out of range")
    cal = _calendar(schedule)
    effective = cal.effective_schedule(year)
    published = cal.is_published(year)
    source = "admin schedule" if year in cal.schedules else "holidays package"
    status = "published" if published else "PROVISIONAL (make-up working days unknown)"
    table = Table(title=f"{year}: {source}, {status}")
    table.add_column("date")
    table.add_column("weekday")
    table.add_column("kind")
    table.add_column("name")
    listed = {*effective.holidays, *effective.makeup_workdays}
    for day in _days_of(year):
        info = cal.day_info(day)
        if day not in listed and not (info.kind == "weekend" and _inside_holiday(day, effective)):
            continue
        style = "green" if info.workday else None
        table.add_row(day.isoformat(), f"{day:%a}", _KIND_ZH[info.kind], info.name or "", style=style)
    console = Console()
    console.print(table)
    workdays = sum(1 for d in _days_of(year) if cal.is_workday(d))
    console.print(f"{workdays} working days in {year}.")


def _inside_holiday(day: date, schedule: YearSchedule) -> bool:
    """A weekend day with holiday days on both sides (the package lists only the days it moves)."""
    near = [day.toordinal() + k for k in (-2, -1, 1, 2)]
    before = any(date.fromordinal(o) in schedule.holidays for o in near[:2])
    after = any(date.fromordinal(o) in schedule.holidays for o in near[2:])
    return before and after


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [
        date.fromordinal(first.toordinal() + i)
        for i in range(date(year + 1, 1, 1).toordinal() - first.toordinal())
    ]
