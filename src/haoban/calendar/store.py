"""Stored official schedules (admin uploads) and the process's current working-day calendar."""

from __future__ import annotations

import json
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.calendar import WorkCalendar, YearSchedule, parse_office_hours
from haoban.calendar.models import CalendarSchedule
from haoban.calendar.schedule import parse_schedule, schedule_from_dict, schedule_to_dict
from haoban.errors import Invalid, NotFound


def stored_schedules(session: Session) -> list[YearSchedule]:
    return [schedule_from_dict(json.loads(row.data)) for row in session.scalars(select(CalendarSchedule))]


def save_schedule(
    session: Session, *, content: bytes | str, filename: str | None, actor: str
) -> YearSchedule:
    try:
        schedule = parse_schedule(content, filename=filename)
    except ValueError as exc:
        raise Invalid(f"schedule file rejected: {exc}", fields={"file": str(exc)}) from None
    row = session.get(CalendarSchedule, schedule.year)
    if row is None:
        row = CalendarSchedule(year=schedule.year)
        session.add(row)
    row.data = json.dumps(schedule_to_dict(schedule), ensure_ascii=False)
    row.source = filename or "api"
    row.uploaded_by = actor
    session.flush()
    return schedule


def delete_schedule(session: Session, *, year: int) -> None:
    row = session.get(CalendarSchedule, year)
    if row is None:
        raise NotFound(f"no schedule loaded for {year}")
    session.delete(row)
    session.flush()


class CalendarHolder:
    """The current calendar: packaged holidays plus stored schedules; reloaded after an upload."""

    def __init__(self, *, office_hours: str) -> None:
        self._office_hours = parse_office_hours(office_hours)
        self._calendar = WorkCalendar(office_hours=self._office_hours)
        self._lock = threading.Lock()

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    def reload(self, session: Session) -> WorkCalendar:
        with self._lock:
            self._calendar = WorkCalendar(
                schedules=stored_schedules(session), office_hours=self._office_hours
            )
        return self._calendar
