"""Working-day calendar and SLA clock for China (statutory holidays, 调休, admin schedules).

Pure: depends only on the standard library, ``holidays``, ``pyyaml`` and the configured time zone
(``haoban.config``); no database, no other domain.
Deadline semantics are documented in ``haoban.calendar.clock``; where the day data comes from in
``haoban.calendar.workdays``; the admin schedule formats in ``haoban.calendar.schedule``.
"""

from haoban.calendar.clock import (
    DEFAULT_OFFICE_HOURS,
    Deadline,
    DeadlineState,
    DurationUnit,
    deadline_state,
    parse_office_hours,
)
from haoban.calendar.schedule import parse_schedule, schedule_from_dict, schedule_to_dict
from haoban.calendar.workdays import (
    DayInfo,
    DayKind,
    ScheduleError,
    WorkCalendar,
    YearSchedule,
    package_known_years,
    package_schedule,
)

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "DayInfo",
    "DayKind",
    "Deadline",
    "DeadlineState",
    "DurationUnit",
    "ScheduleError",
    "WorkCalendar",
    "YearSchedule",
    "deadline_state",
    "package_known_years",
    "package_schedule",
    "parse_office_hours",
    "parse_schedule",
    "schedule_from_dict",
    "schedule_to_dict",
]
