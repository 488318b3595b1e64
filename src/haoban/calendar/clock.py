"""The clock: durations, deadlines and the on-time / warning / overdue state of a running deadline.

All arithmetic is done on timezone-aware datetimes. Storage is UTC, but the calendar reasons
in the calendar's zone (the city's, ``Settings.timezone``): a *day* is a local calendar day and office
hours are local wall-clock times. A naive input datetime is interpreted in the calendar's zone.
Every returned datetime is aware and in UTC.

Duration units and their semantics (``WorkCalendar.add(start, amount, unit)``):

``working_days`` (N, a whole number >= 0)
    The *effective receipt day* is the local receipt day if it is a working day, otherwise the
    next working day (a message received on a non-working day starts counting on the next working
    day). The deadline is the END (23:59:59.999999 local) of the N-th working day after the
    effective receipt day; N=0 is the end of the effective receipt day. Example: received
    Wednesday 2026-09-30 10:00, 3 working days -> Oct 1-7 are the National Day holiday, so the
    working days are Oct 8, Oct 9 and Saturday Oct 10 (调休 make-up day): end of 2026-10-10.
    Received Saturday, 1 working day -> Monday is day 0, deadline end of Tuesday.

``calendar_days`` (N, a whole number >= 0)
    The END of the N-th calendar day after the local receipt day; N=0 is the end of the receipt
    day ("urgent: same day"). Holidays are ignored on purpose: emergencies do not wait.

``working_hours`` (H >= 0, fractional allowed)
    H hours of office time counted from the receipt moment, or from the next office opening if
    received outside office hours, on working days only (default office hours 09:00-12:00 and
    13:00-17:00). The deadline is the earliest instant at which H office hours have elapsed, so
    a count that is used up exactly at closing time ends at closing time (17:00), not at the next
    opening; H=0 is the receipt moment itself.

``calendar_hours`` (H >= 0)
    Receipt moment + H hours of absolute (UTC) time.

A deadline is ``provisional`` when the days it was counted over include a year whose official
schedule is not published (neither loaded by an admin nor fully known to the ``holidays``
package): the count then used weekends and the package's known or estimated holidays, and the
State Council's make-up working days (调休) for that year are unknown. Calendar-day and
calendar-hour deadlines do not depend on the schedule and are never provisional.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from itertools import pairwise
from typing import Literal, Protocol

from haoban.config import city_tz

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "Deadline",
    "DeadlineState",
    "DurationUnit",
    "OfficeHours",
    "add_duration",
    "deadline_state",
    "parse_office_hours",
    "validate_office_hours",
    "working_time_between",
]

OfficeHours = tuple[tuple[time, time], ...]

DEFAULT_OFFICE_HOURS: OfficeHours = ((time(9, 0), time(12, 0)), (time(13, 0), time(17, 0)))

DeadlineState = Literal["on_time", "warning", "overdue"]

_MAX_DAYS = 36_600  # about a century
_MAX_HOURS = 24 * _MAX_DAYS

# Local end of a day: the last representable microsecond, so "end of day N" < "start of day N+1".
_END_OF_DAY = time.max


class DurationUnit(StrEnum):
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_HOURS = "calendar_hours"
    CALENDAR_DAYS = "calendar_days"


@dataclass(frozen=True)
class Deadline:
    at: datetime  # aware, UTC
    provisional: bool


class _DayOracle(Protocol):
    """What the clock needs from a calendar (kept as a protocol so this module imports nothing)."""

    @property
    def tzinfo(self) -> tzinfo: ...

    @property
    def office_hours(self) -> OfficeHours: ...

    def is_workday(self, day: date) -> bool: ...

    def is_published(self, year: int) -> bool: ...


# ---------------------------------------------------------------------------------------------
# Office hours
# ---------------------------------------------------------------------------------------------

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _parse_hhmm(text: str, where: str) -> time:
    m = _HHMM.match(text)
    if not m:
        raise ValueError(f"office hours: {where} {text.strip()!r} is not a time like 09:00")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"office hours: {where} {text.strip()!r} is not a valid time of day (00:00-23:59)")
    return time(hour, minute)


def validate_office_hours(intervals: Sequence[tuple[time, time]]) -> OfficeHours:
    """Check intervals are non-empty, each start < end, sorted and non-overlapping; return a tuple."""
    result = tuple((start, end) for start, end in intervals)
    if not result:
        raise ValueError("office hours: at least one interval is required, e.g. 09:00-12:00,13:00-17:00")
    for start, end in result:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("office hours: times must be naive wall-clock times in the calendar's zone")
        if not start < end:
            raise ValueError(
                f"office hours: interval {start:%H:%M}-{end:%H:%M} must end after it starts "
                "(intervals cannot cross midnight)"
            )
    for (s1, e1), (s2, e2) in pairwise(result):
        if s2 < e1:
            raise ValueError(
                f"office hours: intervals {s1:%H:%M}-{e1:%H:%M} and {s2:%H:%M}-{e2:%H:%M} "
                "overlap or are out of order; list them in time order"
            )
    return result


def parse_office_hours(text: str) -> OfficeHours:
    """Parse ``"09:00-12:00,13:00-17:00"`` into ((09:00, 12:00), (13:00, 17:00)).

    Raises ValueError naming the offending part.
    """
    parts = [p for p in (text or "").split(",") if p.strip()]
    if not parts:
        raise ValueError("office hours: empty; expected something like 09:00-12:00,13:00-17:00")
    intervals: list[tuple[time, time]] = []
    for part in parts:
        pieces = part.split("-")
        if len(pieces) != 2:
            raise ValueError(f"office hours: {part.strip()!r} is not an interval like 09:00-12:00")
        intervals.append(
            (
                _parse_hhmm(pieces[0], f"start of {part.strip()!r}"),
                _parse_hhmm(pieces[1], f"end of {part.strip()!r}"),
            )
        )
    return validate_office_hours(intervals)


# ---------------------------------------------------------------------------------------------
# Clock arithmetic
# ---------------------------------------------------------------------------------------------


def to_local(moment: datetime, tz: tzinfo) -> datetime:
    """Aware local datetime; a naive input is taken to be local wall-clock time already."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def _end_of_day_utc(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, _END_OF_DAY, tzinfo=tz).astimezone(UTC)


def _check_amount(amount: float, unit: DurationUnit) -> float:
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise TypeError(f"amount must be a number, not {type(amount).__name__}")
    if not math.isfinite(amount) or amount < 0:
        raise ValueError(f"{unit.value}: amount must be a finite number >= 0, got {amount!r}")
    # Bound the day-by-day loops so a typo (or hostile input) cannot pin a worker.
    limit = _MAX_HOURS if unit in (DurationUnit.WORKING_HOURS, DurationUnit.CALENDAR_HOURS) else _MAX_DAYS
    if amount > limit:
        raise ValueError(f"{unit.value}: amount {amount!r} is too large (at most {limit})")
    if unit in (DurationUnit.WORKING_DAYS, DurationUnit.CALENDAR_DAYS) and amount != int(amount):
        raise ValueError(f"{unit.value}: amount must be a whole number of days, got {amount!r}")
    return float(amount)


def _years_published(cal: _DayOracle, first: date, last: date) -> bool:
    return all(cal.is_published(year) for year in range(first.year, last.year + 1))


def _add_working_days(cal: _DayOracle, local_start: datetime, n: int) -> Deadline:
    receipt_day = local_start.date()
    day = receipt_day
    is_workday = cal.is_workday
    while not is_workday(day):  # effective receipt day
        day += timedelta(days=1)
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return Deadline(_end_of_day_utc(day, cal.tzinfo), not _years_published(cal, receipt_day, day))


def _office_intervals_utc(cal: _DayOracle, day: date) -> list[tuple[datetime, datetime]]:
    # Converted per day (not cached as offsets) so zones with DST would still be right.
    tz = cal.tzinfo
    return [
        (
            datetime.combine(day, start, tzinfo=tz).astimezone(UTC),
            datetime.combine(day, end, tzinfo=tz).astimezone(UTC),
        )
        for start, end in cal.office_hours
    ]


def _add_working_hours(cal: _DayOracle, local_start: datetime, hours: float) -> Deadline:
    start_utc = local_start.astimezone(UTC)
    remaining = timedelta(hours=hours)
    receipt_day = local_start.date()
    if remaining <= timedelta(0):
        return Deadline(start_utc, not cal.is_published(receipt_day.year))
    day = receipt_day
    while True:
        if cal.is_workday(day):
            for open_at, close_at in _office_intervals_utc(cal, day):
                begin = max(open_at, start_utc)
                if begin >= close_at:
                    continue
                available = close_at - begin
                if available >= remaining:
                    end = begin + remaining
                    return Deadline(end, not _years_published(cal, receipt_day, day))
                remaining -= available
        day += timedelta(days=1)


def add_duration(cal: _DayOracle, start: datetime, amount: float, unit: DurationUnit | str) -> Deadline:
    """Deadline for ``amount`` of ``unit`` from ``start``; see the module docstring for semantics."""
    unit = DurationUnit(unit)
    value = _check_amount(amount, unit)
    local_start = to_local(start, cal.tzinfo)
    if unit is DurationUnit.WORKING_DAYS:
        return _add_working_days(cal, local_start, int(value))
    if unit is DurationUnit.CALENDAR_DAYS:
        day = local_start.date() + timedelta(days=int(value))
        return Deadline(_end_of_day_utc(day, cal.tzinfo), False)
    if unit is DurationUnit.WORKING_HOURS:
        return _add_working_hours(cal, local_start, value)
    return Deadline(local_start.astimezone(UTC) + timedelta(hours=value), False)


def working_time_between(cal: _DayOracle, start: datetime, end: datetime) -> timedelta:
    """Office time on working days inside [start, end]; zero when end <= start."""
    start_utc = to_local(start, cal.tzinfo).astimezone(UTC)
    end_utc = to_local(end, cal.tzinfo).astimezone(UTC)
    total = timedelta(0)
    if end_utc <= start_utc:
        return total
    day = start_utc.astimezone(cal.tzinfo).date()
    last = end_utc.astimezone(cal.tzinfo).date()
    while day <= last:
        if cal.is_workday(day):
            for open_at, close_at in _office_intervals_utc(cal, day):
                begin, finish = max(open_at, start_utc), min(close_at, end_utc)
                if finish > begin:
                    total += finish - begin
        day += timedelta(days=1)
    return total


# ---------------------------------------------------------------------------------------------
# SLA state
# ---------------------------------------------------------------------------------------------


def _aware(moment: datetime, default_tz: tzinfo) -> datetime:
    return to_local(moment, default_tz).astimezone(UTC)


def deadline_state(
    *, start: datetime, deadline: datetime, now: datetime, warning_ratio: float = 0.8
) -> DeadlineState:
    """Traffic light for a running clock.

    ``overdue`` when now > deadline; ``warning`` when the elapsed share of the wall-clock span
    (deadline - start) is >= ``warning_ratio`` (0..1); ``on_time`` otherwise. A span of zero or
    less (deadline at or before start) counts as fully elapsed, so it warns until it is overdue.
    Naive datetimes are taken in the city's time zone, like everywhere else in this package.
    """
    if not 0.0 <= warning_ratio <= 1.0:  # also rejects NaN
        raise ValueError(f"warning_ratio must be between 0 and 1, got {warning_ratio!r}")
    tz = city_tz()
    s, d, n = _aware(start, tz), _aware(deadline, tz), _aware(now, tz)
    if n > d:
        return "overdue"
    span = d - s
    if span <= timedelta(0):
        return "warning"
    return "warning" if (n - s) / span >= warning_ratio else "on_time"
