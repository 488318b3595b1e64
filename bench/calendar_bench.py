"""Micro-benchmark of the calendar's hot path (order intake): ``python bench/calendar_bench.py``."""

from __future__ import annotations

import timeit
from datetime import UTC, date, datetime

from haoban.calendar import DurationUnit, WorkCalendar


def main() -> None:
    cal = WorkCalendar()
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    cal.add(start, 1, DurationUnit.WORKING_DAYS)  # warm the per-year tables
    cases = {
        "is_workday": lambda: cal.is_workday(date(2026, 10, 10)),
        "add 3 working days": lambda: cal.add(start, 3, DurationUnit.WORKING_DAYS),
        "add 13 working days": lambda: cal.add(start, 13, DurationUnit.WORKING_DAYS),
        "add 16 working hours": lambda: cal.add(start, 16, DurationUnit.WORKING_HOURS),
        "add 0 calendar days": lambda: cal.add(start, 0, DurationUnit.CALENDAR_DAYS),
    }
    for name, fn in cases.items():
        runs = 20_000
        seconds = min(timeit.repeat(fn, number=runs, repeat=3))
        print(f"{name:24s} {seconds / runs * 1e6:8.2f} µs/call  {runs / seconds:12,.0f} calls/s")


if __name__ == "__main__":
    main()
