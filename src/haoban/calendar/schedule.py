"""Reading an admin's official holiday schedule (the State Council's notice for one year).

Accepted formats (chosen by file extension, else by content):

YAML or JSON::

    year: 2027
    source: 国办发明电〔2026〕N号       # optional, defaults to "admin"
    holidays:
      - name: 元旦
        days: [2027-01-01]
      - name: 国庆节
        from: 2027-10-01
        to: 2027-10-07
    makeup_workdays: [2027-09-26, 2027-10-09]

CSV with a header ``date,kind,name`` or ``日期,类型,名称`` (any column order; UTF-8, UTF-8 with BOM
or GB18030 as saved by Excel);
``kind`` is ``holiday`` (also 休/假/off) or ``makeup_workday`` (also 班/上班/workday); lines starting
with ``#`` are ignored. The year is taken from the dates.

Every problem found is reported at once in one ``ScheduleError`` naming the line or entry, the
date and what to change. ``schedule_to_dict``/``schedule_from_dict`` give a JSON-safe form (the
same shape as the YAML above) for database storage.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import yaml

from haoban.calendar.workdays import ScheduleError, YearSchedule

__all__ = ["ScheduleError", "parse_schedule", "schedule_from_dict", "schedule_to_dict"]

_HOLIDAY_KINDS = {"holiday", "off", "rest", "休", "假", "休息", "放假", "假日"}
_MAKEUP_KINDS = {"makeup_workday", "makeup", "workday", "work", "班", "上班", "调休上班", "补班"}
# A CSV header's column names, English or Chinese.
_HEADER_NAMES = {
    "date": "date",
    "日期": "date",
    "kind": "kind",
    "type": "kind",
    "类型": "kind",
    "类别": "kind",
    "name": "name",
    "名称": "name",
    "节日": "name",
    "节日名称": "name",
}
_MAX_ERRORS = 30  # enough to fix a file in one go without flooding the admin UI


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GB18030
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ScheduleError("the file is neither UTF-8 nor GB18030 text; save it as UTF-8")


def _parse_day(value: Any, where: str, errors: list[str]) -> date | None:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{where}: {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-10-01")
        return None


def _detect_format(text: str, filename: str | None) -> str:
    suffix = (filename or "").lower().rsplit(".", 1)[-1] if filename and "." in filename else ""
    if suffix in ("csv", "txt"):
        return "csv"
    if suffix == "json":
        return "json"
    if suffix in ("yaml", "yml"):
        return "yaml"
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return "json"
    first = next((ln.strip() for ln in stripped.splitlines() if ln.strip() and not ln.startswith("#")), "")
    if first.replace(" ", "").lower().startswith("date,") or (first[:4].isdigit() and "," in first):
        return "csv"
    return "yaml"


class _Builder:
    """Accumulates days with where they came from, so conflicts can name both places."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.holidays: dict[date, tuple[str, str]] = {}  # day -> (name, where)
        self.makeup: dict[date, str] = {}  # day -> where

    def add_holiday(self, day: date, name: str, where: str) -> None:
        if day in self.holidays and self.holidays[day][0] != name:
            first_name, first_where = self.holidays[day]
            self.errors.append(
                f"{where}: {day.isoformat()} is already a holiday named {first_name!r} ({first_where}); "
                "a day can belong to one holiday only"
            )
            return
        self.holidays.setdefault(day, (name, where))

    def add_makeup(self, day: date, where: str) -> None:
        self.makeup.setdefault(day, where)

    def build(self, year: int | None, source: str) -> YearSchedule:
        errors = self.errors
        if year is None:
            years = sorted({d.year for d in (*self.holidays, *self.makeup)})
            if len(years) > 1:
                errors.append(
                    f"dates from several years ({', '.join(map(str, years))}); one file holds one year"
                )
            year = years[0] if years else None
        if year is None:
            errors.append("the schedule lists no days at all")
            raise ScheduleError(errors[:_MAX_ERRORS])
        for day, (name, where) in sorted(self.holidays.items()):
            if day.year != year:
                errors.append(f"{where}: holiday {day.isoformat()} ({name}) is not in {year}")
        for day, where in sorted(self.makeup.items()):
            if day.year != year:
                errors.append(
                    f"{where}: make-up working day {day.isoformat()} is not in {year}; "
                    f"put it in the {day.year} schedule"
                )
            if day.weekday() < 5:
                errors.append(
                    f"{where}: make-up working day {day.isoformat()} is a {day.strftime('%A')}; only a "
                    "Saturday or Sunday can be a make-up working day (weekdays are working days anyway)"
                )
            if day in self.holidays:
                name, h_where = self.holidays[day]
                errors.append(
                    f"{where}: {day.isoformat()} is both a make-up working day and a holiday "
                    f"({name}, {h_where}); keep only one"
                )
        if not self.holidays:
            errors.append(f"no holidays listed for {year}; is this the right file?")
        if errors:
            if len(errors) > _MAX_ERRORS:
                errors = [*errors[:_MAX_ERRORS], f"... and {len(errors) - _MAX_ERRORS} more problems"]
            raise ScheduleError(errors)
        return YearSchedule(
            year=year,
            holidays={d: name for d, (name, _) in self.holidays.items()},
            makeup_workdays=frozenset(self.makeup),
            source=source,
        )


def _parse_csv(text: str) -> YearSchedule:
    b = _Builder()
    rows = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    rows = [(n, line) for n, line in rows if not line.lstrip().startswith("#")]
    order = (0, 1, 2)  # the columns of date, kind, name
    if rows:
        header = [_HEADER_NAMES.get(h.strip().lower()) for h in next(csv.reader(io.StringIO(rows[0][1])))]
        if "date" in header:  # a header, in English or Chinese, in any column order
            if not {"date", "kind"} <= set(header):
                b.errors.append(f"line {rows[0][0]}: the header needs date and kind columns (日期, 类型)")
            else:
                name_col = header.index("name") if "name" in header else 99
                order = (header.index("date"), header.index("kind"), name_col)
            rows = rows[1:]
    for lineno, line in rows:
        where = f"line {lineno}"
        raw = [f.strip() for f in next(csv.reader(io.StringIO(line)))]
        fields = [raw[i] if i < len(raw) else "" for i in order]
        if len(fields) < 2 or not fields[1]:
            b.errors.append(f"{where}: expected date,kind,name but got {line.strip()!r}")
            continue
        day = _parse_day(fields[0], where, b.errors)
        kind = fields[1].lower()
        name = fields[2] if len(fields) > 2 else ""
        if day is None:
            continue
        if kind in _HOLIDAY_KINDS:
            if not name:
                b.errors.append(f"{where}: holiday {day.isoformat()} needs a name in the third column")
                continue
            b.add_holiday(day, name, where)
        elif kind in _MAKEUP_KINDS:
            b.add_makeup(day, where)
        else:
            b.errors.append(
                f"{where}: kind {fields[1]!r} is not 'holiday' or 'makeup_workday' (also 休 / 班)"
            )
    return b.build(None, "admin")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _parse_mapping(data: Any) -> YearSchedule:
    if not isinstance(data, Mapping):
        raise ScheduleError(
            "expected a mapping with keys year, holidays and makeup_workdays at the top of the file"
        )
    b = _Builder()
    unknown = set(data) - {"year", "holidays", "makeup_workdays", "source"}
    if unknown:
        b.errors.append(
            f"unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
            "allowed: year, source, holidays, makeup_workdays"
        )
    raw_year = data.get("year")
    year: int | None = None
    if isinstance(raw_year, int) and not isinstance(raw_year, bool) and 1 <= raw_year <= 9999:
        year = raw_year
    elif isinstance(raw_year, str) and raw_year.strip().isdigit():
        year = int(raw_year.strip())
    else:
        b.errors.append(f"year: expected a year like 2027, got {raw_year!r}")
    source = str(data.get("source") or "admin")

    raw_holidays = data.get("holidays")
    if isinstance(raw_holidays, Mapping):  # also accept {"2027-01-01": "元旦", ...}
        raw_holidays = [{"name": name, "days": [day]} for day, name in raw_holidays.items()]
    for i, entry in enumerate(_as_list(raw_holidays)):
        where = f"holidays[{i}]"
        if not isinstance(entry, Mapping):
            b.errors.append(f"{where}: expected {{name: ..., days: [...]}} or {{name, from, to}}")
            continue
        name = str(entry.get("name") or "").strip()
        if not name:
            b.errors.append(f"{where}: needs a name, e.g. 国庆节")
            continue
        where = f"holidays[{i}] ({name})"
        days: list[date] = []
        for j, value in enumerate(_as_list(entry.get("days"))):
            if (day := _parse_day(value, f"{where} days[{j}]", b.errors)) is not None:
                days.append(day)
        if "from" in entry or "to" in entry:
            first = _parse_day(entry.get("from"), f"{where} from", b.errors)
            last = _parse_day(entry.get("to"), f"{where} to", b.errors)
            if first and last:
                if last < first:
                    b.errors.append(f"{where}: 'to' {last.isoformat()} is before 'from' {first.isoformat()}")
                elif (last - first).days > 366:
                    b.errors.append(
                        f"{where}: {first.isoformat()} to {last.isoformat()} is longer than a year"
                    )
                else:
                    days.extend(first + timedelta(days=k) for k in range((last - first).days + 1))
        if not days and not any(e.startswith(where) for e in b.errors):
            b.errors.append(f"{where}: lists no days; give 'days: [YYYY-MM-DD, ...]' or 'from'/'to'")
        for day in days:
            b.add_holiday(day, name, where)

    for j, value in enumerate(_as_list(data.get("makeup_workdays"))):
        if (day := _parse_day(value, f"makeup_workdays[{j}]", b.errors)) is not None:
            b.add_makeup(day, f"makeup_workdays[{j}]")
    if year is None:
        raise ScheduleError(b.errors[:_MAX_ERRORS])
    return b.build(year, source)


def parse_schedule(data: bytes | str, *, filename: str | None = None) -> YearSchedule:
    """Parse and validate an official schedule file; raises ``ScheduleError`` (a ValueError)."""
    text = _decode(data)
    if not text.strip():
        raise ScheduleError("the schedule file is empty")
    fmt = _detect_format(text, filename)
    if fmt == "csv":
        return _parse_csv(text)
    try:
        # YAML also reads JSON; json is used for .json so its error messages match the format.
        loaded = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ScheduleError(f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScheduleError(f"not valid YAML: {where}{problem}") from exc
    return _parse_mapping(loaded)


def _group_by_name(holidays: Mapping[date, str]) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = {}
    for day, name in sorted(holidays.items()):
        groups.setdefault(name, []).append(day.isoformat())
    return [{"name": name, "days": days} for name, days in groups.items()]


def schedule_to_dict(s: YearSchedule) -> dict[str, Any]:
    """JSON-safe form (strings and ints only), readable by ``schedule_from_dict``/``parse_schedule``."""
    return {
        "year": s.year,
        "source": s.source,
        "holidays": _group_by_name(s.holidays),
        "makeup_workdays": [d.isoformat() for d in sorted(s.makeup_workdays)],
    }


def schedule_from_dict(d: Mapping[str, Any]) -> YearSchedule:
    """Inverse of ``schedule_to_dict``; validates like ``parse_schedule``."""
    return _parse_mapping(d)
