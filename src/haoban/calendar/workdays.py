"""China's working-day calendar: statutory holidays, 调休 make-up working days, admin overrides.

Sources, per calendar year:

1. An admin-loaded ``YearSchedule`` (the State Council's notice for that year) replaces everything
   else for that year.
2. Otherwise the ``holidays`` package (``holidays.China``). It lists statutory holidays for any
   year (computing lunar dates and moving weekend holidays to the next working day), but the
   substituted days off and their make-up working days (its ``special_public_holidays`` table,
   exposed on an instance as ``weekend_workdays``) only for years whose notice it ships. Those
   years form ``package_known_years()``; any other year is *provisional*: weekends and the
   package's holidays are used, but make-up working days are unknown.

The package is queried once per year and turned into plain sets and dicts; ``is_workday`` is a
dict lookup plus a set membership test. A ``WorkCalendar`` never changes after construction (per
year tables are filled lazily under a lock, with identical results whoever fills them), so one
instance can be shared by all threads. See ``haoban.calendar.clock`` for deadline semantics.

Known limitation: a notice can make a weekend day at the end of December a make-up working day
for the next year's New Year holiday (it happened for 2002, 2007 and 2012). Until that next year
is published, such a day counts as a weekend day and is not flagged provisional (its own year is
published). A ``YearSchedule`` holds days of its own year only, so such a day is loaded by
overriding the earlier year (``package_schedule(year)`` gives a starting point).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_pkg

from haoban.calendar.clock import (
    DEFAULT_OFFICE_HOURS,
    Deadline,
    DurationUnit,
    OfficeHours,
    add_duration,
    to_local,
    validate_office_hours,
)
from haoban.calendar.clock import working_time_between as _working_time_between
from haoban.config import city_tz

__all__ = [
    "MAKEUP_WORKDAY_NAME",
    "PACKAGE_SOURCE",
    "DayInfo",
    "DayKind",
    "ScheduleError",
    "WorkCalendar",
    "YearSchedule",
    "package_known_years",
    "package_schedule",
]

DayKind = Literal["workday", "weekend", "holiday", "makeup_workday"]

PACKAGE_SOURCE = "holidays-package"
MAKEUP_WORKDAY_NAME = "调休上班"

# Where the ``holidays`` package disagrees with chinesecalendar, the reference the design checks
# against. Only one day in 2004-2026: the package reads the 2006 New Year notice as swapping
# Saturday 2005-12-31 (worked) with Tuesday 2006-01-03 (off); chinesecalendar keeps Dec 31 a
# normal weekend day and has no make-up day for that holiday. We follow chinesecalendar.
_NOT_MAKEUP_WORKDAYS: frozenset[date] = frozenset({date(2005, 12, 31)})

_WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class ScheduleError(ValueError):
    """An official schedule that cannot be used; ``errors`` lists every problem found."""

    def __init__(self, errors: str | Sequence[str]) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


def _describe(day: date) -> str:
    return f"{day.isoformat()} ({day.strftime('%a')} {_WEEKDAY_ZH[day.weekday()]})"


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule. Validated on construction (raises ``ScheduleError``).

    ``holidays`` lists every day off with its name, including weekend days inside a holiday;
    ``makeup_workdays`` the weekend days that are working days (调休).
    """

    year: int
    holidays: Mapping[date, str]
    makeup_workdays: frozenset[date] = field(default_factory=frozenset)
    source: str = "admin"

    def __post_init__(self) -> None:
        # Normalise to an owned, sorted dict and a frozenset so callers cannot mutate it later.
        object.__setattr__(self, "holidays", dict(sorted(dict(self.holidays).items())))
        object.__setattr__(self, "makeup_workdays", frozenset(self.makeup_workdays))
        errors: list[str] = []
        if isinstance(self.year, bool) or not isinstance(self.year, int) or not 1 <= self.year <= 9999:
            raise ScheduleError(f"year must be an integer like 2027, got {self.year!r}")
        for day, name in self.holidays.items():
            if type(day) is not date:
                errors.append(f"holiday {day!r} is not a date")
            elif day.year != self.year:
                errors.append(f"holiday {_describe(day)} ({name}) is not in {self.year}")
            if not isinstance(name, str) or not name.strip():
                errors.append(f"holiday {day!r} needs a name")
        for day in sorted(self.makeup_workdays, key=str):
            if type(day) is not date:
                errors.append(f"make-up working day {day!r} is not a date")
                continue
            if day.year != self.year:
                errors.append(f"make-up working day {_describe(day)} is not in {self.year}")
            if day.weekday() < 5:
                errors.append(
                    f"make-up working day {_describe(day)} is a weekday; only a Saturday or Sunday "
                    "can be made a working day"
                )
            if day in self.holidays:
                errors.append(
                    f"{_describe(day)} is listed both as a holiday ({self.holidays[day]}) and as a "
                    "make-up working day; keep only one"
                )
        if errors:
            raise ScheduleError(errors)


@dataclass(frozen=True)
class DayInfo:
    day: date
    workday: bool
    kind: DayKind
    name: str | None
    provisional: bool


# ---------------------------------------------------------------------------------------------
# What the holidays package knows (process-wide cache: the package data never changes at run time)
# ---------------------------------------------------------------------------------------------


def _special_entries(table: Mapping[int, Any], year: int) -> list[tuple[int, ...]]:
    entries = table.get(year, ())
    if entries and isinstance(entries[0], int):  # a single entry is stored unwrapped
        entries = (entries,)
    return [tuple(entry) for entry in entries]


@lru_cache(maxsize=1)
def package_known_years() -> frozenset[int]:
    """Years whose official schedule (days off and make-up working days) the package ships."""
    try:
        table = holidays_pkg.country_holidays("CN").special_public_holidays
    except Exception:  # an incompatible package version must degrade to "provisional", not crash
        return frozenset()
    years = [year for year in table if _special_entries(table, year)]
    # Contiguous span: a published year with no swaps inside the span would still be "known".
    return frozenset(range(min(years), max(years) + 1)) if years else frozenset()


_SUFFIX = re.compile(r"（[^（）]*）$")


def _festival_of(day: date, named: Mapping[date, str], swapped: set[date]) -> str | None:
    """Name of the festival a swapped day belongs to: the nearest real holiday within a week."""
    for distance in range(1, 8):
        for candidate in (day - timedelta(days=distance), day + timedelta(days=distance)):
            if candidate in named and candidate not in swapped:
                return _SUFFIX.sub("", named[candidate]) or None
    return None


@dataclass(frozen=True)
class _PackageYear:
    holidays: Mapping[date, str]
    makeup: Mapping[date, str]


_package_lock = threading.Lock()
_package_years: dict[int, _PackageYear] = {}


def _build_package_year(year: int) -> _PackageYear:
    try:
        # Next year too: its notice can swap a late-December weekend day of this year.
        cn = holidays_pkg.country_holidays("CN", years=(year, year + 1), language="zh_CN")
        named: dict[date, str] = dict(cn.items())
        table = getattr(cn, "special_public_holidays", {})
        weekend_workdays: set[date] = set(getattr(cn, "weekend_workdays", set()))
    except Exception:  # years outside the package's range: weekends only, flagged provisional
        return _PackageYear({}, {})

    pairs: dict[date, date] = {}  # make-up working day -> the day off it pays for
    for entry_year in (year, year + 1):
        for entry in _special_entries(table, entry_year):
            if len(entry) >= 4:
                from_year = entry[4] if len(entry) == 5 else entry_year
                pairs[date(from_year, entry[2], entry[3])] = date(entry_year, entry[0], entry[1])
    swapped = set(pairs.values())

    out_holidays: dict[date, str] = {}
    for day, name in named.items():
        if day.year != year:
            continue
        if day in swapped and (festival := _festival_of(day, named, swapped)):
            name = f"{festival}（调休）"  # the package's label names only the swapped date
        out_holidays[day] = name
    out_makeup: dict[date, str] = {}
    for day in weekend_workdays:
        if day.year != year or day in _NOT_MAKEUP_WORKDAYS or day.weekday() < 5:
            continue
        festival = _festival_of(pairs[day], named, swapped) if day in pairs else None
        out_makeup[day] = f"{festival}{MAKEUP_WORKDAY_NAME}" if festival else MAKEUP_WORKDAY_NAME
    return _PackageYear(dict(sorted(out_holidays.items())), dict(sorted(out_makeup.items())))


def _package_year(year: int) -> _PackageYear:
    data = _package_years.get(year)
    if data is None:
        with _package_lock:
            data = _package_years.get(year)
            if data is None:
                data = _build_package_year(year)
                _package_years[year] = data
    return data


def package_schedule(year: int) -> YearSchedule:
    """The package's view of ``year`` as a schedule (e.g. a starting point for an admin's file)."""
    data = _package_year(year)
    return YearSchedule(
        year=year, holidays=data.holidays, makeup_workdays=frozenset(data.makeup), source=PACKAGE_SOURCE
    )


# ---------------------------------------------------------------------------------------------
# The calendar
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _YearTable:
    workdays: frozenset[date]
    info: Mapping[date, DayInfo]
    published: bool


class WorkCalendar:
    """Working-day calendar plus SLA clock. Immutable; safe to share between threads."""

    def __init__(
        self,
        *,
        schedules: Iterable[YearSchedule] = (),
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
        tz: str | None = None,
    ) -> None:
        by_year: dict[int, YearSchedule] = {}
        for schedule in schedules:
            if not isinstance(schedule, YearSchedule):
                raise TypeError(f"schedules must be YearSchedule objects, got {type(schedule).__name__}")
            by_year[schedule.year] = schedule  # a later schedule for the same year wins
        tz = tz or city_tz().key
        try:
            self._tzinfo: tzinfo = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        self._tz = tz
        self._office_hours: OfficeHours = validate_office_hours(office_hours)
        self._schedules: Mapping[int, YearSchedule] = MappingProxyType(by_year)
        self._tables: dict[int, _YearTable] = {}
        self._day_deadlines: dict[tuple[date, float], Deadline] = {}  # see ``add``
        self._lock = threading.Lock()

    # -- configuration ------------------------------------------------------------------------

    @property
    def tz(self) -> str:
        return self._tz

    @property
    def tzinfo(self) -> tzinfo:
        return self._tzinfo

    @property
    def office_hours(self) -> OfficeHours:
        return self._office_hours

    @property
    def schedules(self) -> Mapping[int, YearSchedule]:
        """Admin-loaded schedules by year (read-only)."""
        return self._schedules

    def with_schedules(self, schedules: Iterable[YearSchedule]) -> WorkCalendar:
        """A new calendar with these schedules added; each replaces any earlier one for its year."""
        new = WorkCalendar(
            schedules=[*self._schedules.values(), *schedules], office_hours=self._office_hours, tz=self._tz
        )
        # Reuse already-built tables of years the new schedules do not touch.
        with self._lock:
            for year, table in self._tables.items():
                if new._schedules.get(year) is self._schedules.get(year):
                    new._tables[year] = table
        return new

    def __repr__(self) -> str:
        years = ",".join(str(y) for y in sorted(self._schedules)) or "none"
        return f"WorkCalendar(tz={self._tz!r}, admin_years={years})"

    # -- days ---------------------------------------------------------------------------------

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            with self._lock:
                table = self._tables.get(year)
                if table is None:
                    table = self._build_table(year)
                    self._tables[year] = table
        return table

    def _build_table(self, year: int) -> _YearTable:
        schedule = self._schedules.get(year)
        if schedule is not None:
            off: Mapping[date, str] = schedule.holidays
            makeup: Mapping[date, str] = dict.fromkeys(schedule.makeup_workdays, MAKEUP_WORKDAY_NAME)
            published = True
        else:
            data = _package_year(year)
            off, makeup = data.holidays, data.makeup
            published = year in package_known_years()
        provisional = not published
        info: dict[date, DayInfo] = {}
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            if day in makeup:
                info[day] = DayInfo(day, True, "makeup_workday", makeup[day], provisional)
            elif day in off:
                info[day] = DayInfo(day, False, "holiday", off[day], provisional)
            elif day.weekday() >= 5:
                info[day] = DayInfo(day, False, "weekend", None, provisional)
            else:
                info[day] = DayInfo(day, True, "workday", None, provisional)
            if day == date.max:
                break
            day += one
        workdays = frozenset(d for d, i in info.items() if i.workday)
        return _YearTable(workdays, MappingProxyType(info), published)

    def _as_date(self, day: date | datetime) -> date:
        if isinstance(day, datetime):  # a moment: its local calendar day
            return to_local(day, self._tzinfo).date()
        if isinstance(day, date):
            return day
        raise TypeError(f"expected a date, got {type(day).__name__}")

    def is_workday(self, day: date) -> bool:
        if type(day) is not date:
            day = self._as_date(day)
        table = self._tables.get(day.year) or self._table(day.year)
        return day in table.workdays

    def day_info(self, day: date) -> DayInfo:
        if type(day) is not date:
            day = self._as_date(day)
        table = self._tables.get(day.year) or self._table(day.year)
        return table.info[day]

    def is_published(self, year: int) -> bool:
        """True when the year's schedule is admin-loaded or fully known to the package."""
        return year in self._schedules or year in package_known_years()

    def next_workday(self, day: date) -> date:
        """The first working day on or after ``day``."""
        day = self._as_date(day)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def effective_schedule(self, year: int) -> YearSchedule:
        """The schedule in force for ``year``: the admin's if loaded, else the package's."""
        return self._schedules.get(year) or package_schedule(year)

    # -- clock --------------------------------------------------------------------------------

    def add(self, start: datetime, amount: float, unit: DurationUnit | str) -> Deadline:
        """Deadline ``amount`` ``unit`` after ``start`` (semantics: ``haoban.calendar.clock``)."""
        if unit != DurationUnit.WORKING_DAYS or type(amount) not in (int, float):
            return add_duration(self, start, amount, unit)
        # Working days end at the end of a day: the answer depends on the local day of ``start`` only,
        # and every order of a day asks the same question (intake asks it for each one).
        key = (to_local(start, self._tzinfo).date(), amount)
        found = self._day_deadlines.get(key)
        if found is None:
            found = add_duration(self, start, amount, unit)
            if len(self._day_deadlines) > 4096:  # a long-lived calendar: keep the memo small
                self._day_deadlines.clear()
            self._day_deadlines[key] = found
        return found

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time on working days inside [start, end]; zero if end <= start."""
        return _working_time_between(self, start, end)
