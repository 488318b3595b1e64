from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haoban.calendar import (
    Deadline,
    DurationUnit,
    WorkCalendar,
    deadline_state,
    parse_office_hours,
)

SH = ZoneInfo("Asia/Shanghai")
WD, WH, CH, CD = (
    DurationUnit.WORKING_DAYS,
    DurationUnit.WORKING_HOURS,
    DurationUnit.CALENDAR_HOURS,
    DurationUnit.CALENDAR_DAYS,
)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def end_of(y: int, m: int, d: int) -> datetime:
    return datetime.combine(date(y, m, d), time.max, tzinfo=SH).astimezone(UTC)


# --- working days ------------------------------------------------------------------------------


def test_national_day_2026_three_working_days(cal: WorkCalendar) -> None:
    # Sep 30 (Wed) is day 0; Oct 1-7 off; Oct 8, Oct 9 and make-up Saturday Oct 10 are days 1-3.
    result = cal.add(sh(2026, 9, 30, 10, 0), 3, WD)
    assert result == Deadline(end_of(2026, 10, 10), provisional=False)
    assert result.at.tzinfo is UTC
    assert result.at == datetime(2026, 10, 10, 15, 59, 59, 999999, tzinfo=UTC)


def test_national_day_2026_more(cal: WorkCalendar) -> None:
    start = sh(2026, 9, 30, 10, 0)
    assert cal.add(start, 0, WD).at == end_of(2026, 9, 30)
    assert cal.add(start, 1, WD).at == end_of(2026, 10, 8)
    assert cal.add(start, 4, WD).at == end_of(2026, 10, 12)  # Oct 11 is a normal Sunday
    assert cal.add(start, 13, "working_days").at == end_of(2026, 10, 23)


def test_receipt_on_non_working_day_counts_from_next_working_day(cal: WorkCalendar) -> None:
    # Saturday 2026-06-20: Monday Jun 22 is day 0, so 1 working day ends on Tuesday.
    assert cal.add(sh(2026, 6, 20, 15, 0), 1, WD).at == end_of(2026, 6, 23)
    assert cal.add(sh(2026, 6, 20, 15, 0), 0, WD).at == end_of(2026, 6, 22)
    # On a holiday: Oct 3 -> day 0 is Oct 8.
    assert cal.add(sh(2026, 10, 3, 9, 0), 0, WD).at == end_of(2026, 10, 8)
    # A make-up Saturday is a working day, so it is its own day 0.
    assert cal.add(sh(2026, 10, 10, 9, 0), 0, WD).at == end_of(2026, 10, 10)
    # Late evening counts as that day, not the next.
    assert cal.add(sh(2026, 6, 22, 23, 59), 1, WD).at == end_of(2026, 6, 23)


def test_into_2027_is_provisional(cal: WorkCalendar, package_lacks_2027: None) -> None:
    # Dec 30 (Wed) day 0, Dec 31 day 1, Jan 1 holiday, Jan 2-3 weekend, Jan 4 day 2, Jan 5 day 3.
    result = cal.add(sh(2026, 12, 30, 10, 0), 3, WD)
    assert result == Deadline(end_of(2027, 1, 5), provisional=True)
    # Staying inside 2026 is not provisional.
    assert cal.add(sh(2026, 12, 30, 10, 0), 1, WD).provisional is False


def test_unpublished_year_is_provisional(cal: WorkCalendar, unpublished_year: int) -> None:
    result = cal.add(sh(unpublished_year, 3, 3, 10, 0), 2, WD)
    assert result.provisional
    assert cal.add(sh(unpublished_year, 3, 3, 10, 0), 2, CD).provisional is False


def test_2027_with_loaded_schedule_honours_makeup_day(cal: WorkCalendar, cal_2027: WorkCalendar) -> None:
    start = sh(2027, 2, 19, 10, 0)  # Friday; Sat Feb 20 is a make-up day in the loaded schedule
    assert cal_2027.add(start, 1, WD) == Deadline(end_of(2027, 2, 20), provisional=False)
    without = cal.add(start, 1, WD)
    assert without.at == end_of(2027, 2, 22)
    assert without.provisional is not cal.is_published(2027)
    # Across the schedule's National Day: Sep 30 (Thu) day 0, Oct 1-7 off, Oct 8 day 1, Sat Oct 9 day 2.
    assert cal_2027.add(sh(2027, 9, 30, 10, 0), 2, WD) == Deadline(end_of(2027, 10, 9), False)
    # From 2026 into 2027: both years published now.
    assert cal_2027.add(sh(2026, 12, 30, 10, 0), 3, WD) == Deadline(end_of(2027, 1, 5), False)


# --- calendar units ---------------------------------------------------------------------------


def test_calendar_days_ignore_holidays(cal: WorkCalendar) -> None:
    assert cal.add(sh(2026, 10, 1, 10, 0), 0, CD) == Deadline(end_of(2026, 10, 1), False)
    assert cal.add(sh(2026, 10, 1, 10, 0), 2, CD).at == end_of(2026, 10, 3)
    # The receipt day is the Shanghai day: 2026-09-30 17:00 UTC is Oct 1 01:00 in Shanghai.
    assert cal.add(datetime(2026, 9, 30, 17, 0, tzinfo=UTC), 0, CD).at == end_of(2026, 10, 1)


def test_calendar_hours(cal: WorkCalendar) -> None:
    start = sh(2026, 10, 1, 10, 0)
    assert cal.add(start, 36, CH) == Deadline(sh(2026, 10, 2, 22, 0).astimezone(UTC), False)
    assert cal.add(start, 0.5, CH).at == sh(2026, 10, 1, 10, 30)


# --- working hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (sh(2026, 6, 22, 10, 0), 1, sh(2026, 6, 22, 11, 0)),  # Monday, inside the morning
        (sh(2026, 6, 22, 11, 0), 1, sh(2026, 6, 22, 12, 0)),  # used up exactly at 12:00: stays 12:00
        (sh(2026, 6, 22, 11, 0), 2, sh(2026, 6, 22, 14, 0)),  # across lunch
        (sh(2026, 6, 22, 12, 30), 0.5, sh(2026, 6, 22, 13, 30)),  # received during lunch
        (sh(2026, 6, 22, 16, 30), 1, sh(2026, 6, 23, 9, 30)),  # across the night
        (sh(2026, 6, 22, 20, 0), 1, sh(2026, 6, 23, 10, 0)),  # received after hours
        (sh(2026, 6, 22, 7, 0), 7, sh(2026, 6, 22, 17, 0)),  # a whole office day
        (sh(2026, 6, 22, 7, 0), 7.5, sh(2026, 6, 23, 9, 30)),
        (sh(2026, 6, 26, 16, 0), 2, sh(2026, 6, 29, 10, 0)),  # Friday -> weekend -> Monday
        (sh(2026, 6, 27, 10, 0), 1, sh(2026, 6, 29, 10, 0)),  # received Saturday
        (sh(2026, 6, 18, 16, 0), 2, sh(2026, 6, 22, 10, 0)),  # Thu -> Dragon Boat Fri + weekend
        (sh(2026, 9, 30, 16, 0), 2, sh(2026, 10, 8, 10, 0)),  # across National Day
        (sh(2026, 10, 9, 16, 0), 2, sh(2026, 10, 10, 10, 0)),  # into the make-up Saturday
        (sh(2026, 6, 22, 10, 0), 0, sh(2026, 6, 22, 10, 0)),
        (sh(2026, 6, 20, 10, 0), 0, sh(2026, 6, 20, 10, 0)),  # zero hours: the receipt moment
    ],
)
def test_working_hours(cal: WorkCalendar, start: datetime, hours: float, expected: datetime) -> None:
    result = cal.add(start, hours, WH)
    assert result.at == expected
    assert result.at.tzinfo is UTC
    assert result.provisional is False
    assert cal.working_time_between(start, result.at) == timedelta(hours=hours)


def test_working_hours_custom_office_hours() -> None:
    cal = WorkCalendar(office_hours=parse_office_hours("08:30-17:30"))
    assert cal.add(sh(2026, 6, 22, 17, 0), 1, WH).at == sh(2026, 6, 23, 9, 0)
    assert cal.add(sh(2026, 6, 22, 11, 0), 2, WH).at == sh(2026, 6, 22, 13, 0)  # no lunch break


def test_inputs_naive_and_other_zones(cal: WorkCalendar) -> None:
    naive = datetime(2026, 6, 22, 11, 0)
    utc = datetime(2026, 6, 22, 3, 0, tzinfo=UTC)
    other = datetime(2026, 6, 22, 5, 0, tzinfo=timezone(timedelta(hours=2)))
    results = {cal.add(x, 2, WH) for x in (naive, utc, other)}
    assert results == {Deadline(sh(2026, 6, 22, 14, 0).astimezone(UTC), False)}


def test_working_time_between(cal: WorkCalendar) -> None:
    assert cal.working_time_between(sh(2026, 9, 30, 9, 0), sh(2026, 10, 8, 17, 0)) == timedelta(hours=14)
    assert cal.working_time_between(sh(2026, 10, 8, 17, 0), sh(2026, 9, 30, 9, 0)) == timedelta(0)
    assert cal.working_time_between(sh(2026, 6, 22, 11, 30), sh(2026, 6, 22, 13, 30)) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        (-1, WD, ">= 0"),
        (1.5, WD, "whole number"),
        (2.5, CD, "whole number"),
        (float("nan"), WH, "finite"),
        (float("inf"), CH, "finite"),
    ],
)
def test_bad_amounts(cal: WorkCalendar, amount: float, unit: DurationUnit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        cal.add(sh(2026, 6, 22, 10, 0), amount, unit)


def test_bad_unit(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add(sh(2026, 6, 22, 10, 0), 1, "fortnights")
    with pytest.raises(TypeError):
        cal.add(sh(2026, 6, 22, 10, 0), "1", WD)  # type: ignore[arg-type]


# --- deadline_state ---------------------------------------------------------------------------


def test_deadline_state() -> None:
    start, deadline = sh(2026, 6, 22, 9, 0), sh(2026, 6, 23, 9, 0)  # 24 h span
    assert deadline_state(start=start, deadline=deadline, now=sh(2026, 6, 22, 10, 0)) == "on_time"
    assert deadline_state(start=start, deadline=deadline, now=sh(2026, 6, 23, 4, 0)) == "on_time"  # 79%
    assert deadline_state(start=start, deadline=deadline, now=sh(2026, 6, 23, 4, 12)) == "warning"  # 80%
    assert deadline_state(start=start, deadline=deadline, now=deadline) == "warning"
    assert (
        deadline_state(start=start, deadline=deadline, now=deadline + timedelta(microseconds=1)) == "overdue"
    )
    assert (
        deadline_state(start=start, deadline=deadline, now=sh(2026, 6, 22, 12, 0), warning_ratio=0.1)
        == "warning"
    )
    # Naive = Shanghai; mixing with UTC is fine.
    assert (
        deadline_state(
            start=datetime(2026, 6, 22, 9), deadline=deadline, now=datetime(2026, 6, 23, 1, 1, tzinfo=UTC)
        )
        == "overdue"
    )
    assert deadline_state(start=deadline, deadline=deadline, now=start) == "warning"  # zero span
    with pytest.raises(ValueError):
        deadline_state(start=start, deadline=deadline, now=start, warning_ratio=1.5)


# --- parse_office_hours -----------------------------------------------------------------------


def test_parse_office_hours() -> None:
    assert parse_office_hours("09:00-12:00,13:00-17:00") == ((time(9), time(12)), (time(13), time(17)))
    assert parse_office_hours(" 8:30 - 17:30 ") == ((time(8, 30), time(17, 30)),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("9-12", "not a time"),
        ("09:00", "not an interval"),
        ("12:00-09:00", "must end after it starts"),
        ("09:00-12:00,11:00-17:00", "overlap"),
        ("13:00-17:00,09:00-12:00", "out of order"),
        ("09:00-24:00", "not a valid time"),
        ("09:00-12:00-13:00", "not an interval"),
    ],
)
def test_parse_office_hours_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_office_hours(text)


# --- properties -------------------------------------------------------------------------------

_zones = st.sampled_from([None, UTC, SH, timezone(timedelta(hours=-5))])


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    moment = draw(st.datetimes(min_value=datetime(2004, 1, 1), max_value=datetime(2028, 6, 30)))
    tz = draw(_zones)
    return moment if tz is None else moment.replace(tzinfo=tz)


_prop = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _utc(moment: datetime) -> datetime:
    return (moment.replace(tzinfo=SH) if moment.tzinfo is None else moment).astimezone(UTC)


@_prop
@given(start=starts(), n=st.integers(0, 40), unit=st.sampled_from([WD, CD]))
def test_prop_day_units_end_at_end_of_day(
    cal: WorkCalendar, start: datetime, n: int, unit: DurationUnit
) -> None:
    result = cal.add(start, n, unit)
    assert result.at >= _utc(start)
    local = result.at.astimezone(SH)
    assert local.time() == time.max
    if unit is WD:
        assert cal.is_workday(local.date())
        first = cal.next_workday(_utc(start).astimezone(SH).date())
        counted = sum(
            cal.is_workday(first + timedelta(days=i)) for i in range(1, (local.date() - first).days + 1)
        )
        assert counted == n


@_prop
@given(
    start=starts(),
    a=st.floats(0, 300, allow_nan=False),
    b=st.floats(0, 300, allow_nan=False),
    unit=st.sampled_from(list(DurationUnit)),
)
def test_prop_monotone_and_never_before_start(
    cal: WorkCalendar, start: datetime, a: float, b: float, unit: DurationUnit
) -> None:
    if unit in (WD, CD):
        a, b = float(int(a) % 60), float(int(b) % 60)
    lo, hi = sorted((a, b))
    d_lo, d_hi = cal.add(start, lo, unit), cal.add(start, hi, unit)
    assert _utc(start) <= d_lo.at <= d_hi.at


@_prop
@given(start=starts(), hours=st.floats(0, 200, allow_nan=False))
def test_prop_working_hours_consume_exactly(cal: WorkCalendar, start: datetime, hours: float) -> None:
    result = cal.add(start, hours, WH)
    assert cal.working_time_between(start, result.at) == timedelta(hours=hours)
    if timedelta(hours=hours) > timedelta(0):  # below 1 µs rounds to zero: deadline = start
        local = result.at.astimezone(SH)
        assert cal.is_workday(local.date())
        assert any(open_ < local.time() <= close for open_, close in cal.office_hours)


@_prop
@given(start=starts(), n=st.integers(0, 30))
def test_prop_provisional_iff_unpublished_year_counted(cal: WorkCalendar, start: datetime, n: int) -> None:
    result = cal.add(start, n, WD)
    first, last = _utc(start).astimezone(SH).year, result.at.astimezone(SH).year
    assert result.provisional == (not all(cal.is_published(y) for y in range(first, last + 1)))


@_prop
@given(start=starts(), n=st.integers(0, 30))
def test_prop_working_days_memo_gives_the_computed_deadline(
    cal: WorkCalendar, start: datetime, n: int
) -> None:
    # WorkCalendar.add remembers working-day deadlines per local day: the same answer as computing it,
    # for the first call and for the remembered one, with an int or a float amount.
    from haoban.calendar.clock import add_duration

    expected = add_duration(cal, start, n, WD)
    assert cal.add(start, n, WD) == expected
    assert cal.add(start, float(n), "working_days") == expected
    other = start.replace(hour=(start.hour + 7) % 24)  # another time: the same local day or not
    assert cal.add(other, n, WD) == add_duration(cal, other, n, WD)


def test_working_days_memo_still_refuses_a_bad_amount(cal: WorkCalendar) -> None:
    cal.add(sh(2026, 9, 30, 10, 0), 1, WD)
    with pytest.raises(TypeError):
        cal.add(sh(2026, 9, 30, 10, 0), True, WD)  # True == 1, but not an amount
    with pytest.raises(ValueError):
        cal.add(sh(2026, 9, 30, 10, 0), 1.5, WD)
