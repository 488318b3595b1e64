from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import holidays
import pytest

from haoban.calendar import (
    DayInfo,
    ScheduleError,
    WorkCalendar,
    YearSchedule,
    package_known_years,
    package_schedule,
)


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", range(2004, 2027))
def test_every_day_matches_chinesecalendar(cal: WorkCalendar, year: int) -> None:
    mismatches = [
        (d.isoformat(), cal.day_info(d).kind)
        for d in _days(year)
        if cal.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert mismatches == []


def test_2005_12_31_correction_follows_chinesecalendar(cal: WorkCalendar) -> None:
    # The package reads the 2006 New Year notice as making Sat 2005-12-31 a make-up day;
    # chinesecalendar does not. We ship a correction so the two agree (see workdays.py).
    day = date(2005, 12, 31)
    assert chinese_calendar.is_workday(day) is False
    assert cal.day_info(day) == DayInfo(day, False, "weekend", None, False)
    assert cal.day_info(date(2006, 1, 3)).kind == "holiday"


def test_package_raw_data_still_needs_the_correction() -> None:
    # If this starts failing the package changed its reading of 2006: drop _NOT_MAKEUP_WORKDAYS.
    assert holidays.country_holidays("CN", years=2006).is_working_day(date(2005, 12, 31))


def test_published_years(cal: WorkCalendar, unpublished_year: int) -> None:
    assert all(cal.is_published(y) for y in range(2004, 2027))
    assert not cal.is_published(unpublished_year)
    assert not cal.is_published(1999)
    assert set(range(2001, 2027)) <= package_known_years()


def test_2027_is_provisional_without_schedule(cal: WorkCalendar, package_lacks_2027: None) -> None:
    assert not cal.is_published(2027)
    info = cal.day_info(date(2027, 10, 1))
    assert info.provisional and info.kind == "holiday" and info.name == "国庆节"
    assert cal.day_info(date(2027, 3, 3)) == DayInfo(date(2027, 3, 3), True, "workday", None, True)


def test_2027_schedule_overrides_package(cal_2027: WorkCalendar, schedule_2027: YearSchedule) -> None:
    assert cal_2027.is_published(2027)
    assert cal_2027.day_info(date(2027, 2, 20)) == DayInfo(
        date(2027, 2, 20), True, "makeup_workday", "调休上班", False
    )
    # The package guessed Feb 9-10 as observed days; the admin's Feb 5-12 block replaces it.
    assert cal_2027.day_info(date(2027, 2, 12)).name == "春节"
    assert not cal_2027.is_workday(date(2027, 10, 7))
    assert cal_2027.is_workday(date(2027, 10, 9))
    # Other years are untouched.
    assert cal_2027.day_info(date(2026, 10, 10)).kind == "makeup_workday"
    assert cal_2027.schedules == {2027: schedule_2027}


def test_national_day_2026_from_package(cal: WorkCalendar) -> None:
    # Verified against the package and chinesecalendar: Oct 1-7 off, Sun Sep 20 and Sat Oct 10 worked.
    off = [date(2026, 10, d) for d in range(1, 8)]
    assert [cal.is_workday(d) for d in off] == [False] * 7
    assert cal.day_info(date(2026, 9, 20)).kind == "makeup_workday"
    assert cal.day_info(date(2026, 10, 10)).kind == "makeup_workday"
    assert cal.day_info(date(2026, 10, 10)).name == "国庆节调休上班"
    assert cal.day_info(date(2026, 10, 6)).name == "国庆节（调休）"
    assert cal.day_info(date(2026, 10, 4)).kind == "weekend"
    assert cal.day_info(date(2026, 10, 1)).name == "国庆节"


def test_next_workday(cal: WorkCalendar) -> None:
    assert cal.next_workday(date(2026, 9, 30)) == date(2026, 9, 30)
    assert cal.next_workday(date(2026, 10, 1)) == date(2026, 10, 8)
    assert cal.next_workday(date(2026, 9, 12)) == date(2026, 9, 14)  # Sat -> Mon
    assert cal.next_workday(date(2026, 9, 19)) == date(2026, 9, 20)  # Sat -> make-up Sunday
    assert cal.next_workday(date(2026, 9, 20)) == date(2026, 9, 20)  # make-up Sunday


def test_datetime_arguments_use_local_day(cal: WorkCalendar) -> None:
    # 2026-09-30 20:00 UTC is already Oct 1 in Shanghai: a holiday.
    moment = datetime(2026, 9, 30, 20, 0, tzinfo=UTC)
    assert not cal.is_workday(moment)
    assert cal.day_info(moment).day == date(2026, 10, 1)
    with pytest.raises(TypeError):
        cal.is_workday("2026-10-01")  # type: ignore[arg-type]


def test_provisional_year_without_package_data(cal: WorkCalendar) -> None:
    # Far outside the package's range: weekends only, flagged, never an exception.
    info = cal.day_info(date(2300, 1, 1))
    assert info.provisional
    assert cal.is_workday(date(2300, 1, 2)) is (date(2300, 1, 2).weekday() < 5)


@pytest.mark.parametrize("year", range(2004, 2028))
def test_package_schedule_is_a_valid_schedule(cal: WorkCalendar, year: int) -> None:
    s = package_schedule(year)
    assert s.year == year and s.source == "holidays-package"
    assert all(d.weekday() >= 5 for d in s.makeup_workdays)
    assert cal.effective_schedule(year) == s


def test_with_schedules_replaces_same_year(cal_2027: WorkCalendar) -> None:
    other = YearSchedule(year=2027, holidays={date(2027, 1, 1): "元旦"}, makeup_workdays=frozenset())
    replaced = cal_2027.with_schedules([other])
    assert replaced.schedules[2027] is other
    assert replaced.is_workday(date(2027, 2, 8))  # no Spring Festival in the replacement
    assert not cal_2027.is_workday(date(2027, 2, 8))  # the original is unchanged


def test_year_schedule_validates() -> None:
    with pytest.raises(ScheduleError) as err:
        YearSchedule(
            year=2027,
            holidays={date(2026, 12, 31): "x", date(2027, 1, 1): "元旦"},
            makeup_workdays=frozenset({date(2027, 1, 4), date(2027, 1, 1)}),
        )
    text = str(err.value)
    assert "2026-12-31" in text and "not in 2027" in text
    assert "2027-01-04" in text and "weekday" in text
    assert "both as a holiday" in text
    assert len(err.value.errors) == 4  # Jan 1 is also a weekday make-up day


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        WorkCalendar(tz="Mars/Olympus_Mons")
    with pytest.raises(TypeError):
        WorkCalendar(schedules=[{"year": 2027}])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="overlap"):
        from datetime import time

        WorkCalendar(office_hours=[(time(9), time(12)), (time(11), time(17))])


def test_thread_safe_lazy_tables(schedule_2027: YearSchedule) -> None:
    fresh = WorkCalendar(schedules=[schedule_2027])
    expected = {
        d: WorkCalendar(schedules=[schedule_2027]).is_workday(d) for y in range(2020, 2029) for d in _days(y)
    }
    results: list[dict[date, bool]] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        barrier.wait()
        results.append({d: fresh.is_workday(d) for d in expected})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r == expected for r in results)
