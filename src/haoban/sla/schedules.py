"""Official holiday schedules (放假调休安排) loaded by admins, and the process's current calendar.

A year's schedule overrides the packaged one; reading them is for the roles that read configuration,
changing them for admins. ``CalendarHolder`` rebuilds the working-day calendar from what is stored.
"""

from __future__ import annotations

import json
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.calendar import WorkCalendar, YearSchedule, parse_office_hours
from haoban.calendar.schedule import parse_schedule, schedule_from_dict, schedule_to_dict
from haoban.errors import Invalid, NotFound
from haoban.sla.models import CalendarSchedule


def stored_schedules(session: Session) -> list[YearSchedule]:
    return [schedule_from_dict(json.loads(row.data)) for row in session.scalars(select(CalendarSchedule))]


def list_schedules(session: Session, *, actor: Actor) -> list[YearSchedule]:
    require_role(actor, *READ_CONFIG_ROLES)
    return sorted(stored_schedules(session), key=lambda s: s.year)


def save_schedule(
    session: Session, *, actor: Actor, content: bytes | str, filename: str | None
) -> YearSchedule:
    require_role(actor, *ADMIN_ROLES)
    if not content.strip():
        raise Invalid("the schedule is empty", fields={"file": "empty"})
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
    row.uploaded_by = actor.username
    session.flush()
    return schedule


def delete_schedule(session: Session, *, actor: Actor, year: int) -> None:
    require_role(actor, *ADMIN_ROLES)
    row = session.get(CalendarSchedule, year)
    if row is None:
        raise NotFound(f"no schedule loaded for {year}")
    session.delete(row)
    session.flush()


class CalendarHolder:
    """The current calendar: packaged holidays plus stored schedules; reloaded after an upload."""

    def __init__(self, *, office_hours: str, tz: str) -> None:
        self._office_hours = parse_office_hours(office_hours)
        self._tz = tz
        self._calendar = WorkCalendar(office_hours=self._office_hours, tz=tz)
        self._lock = threading.Lock()

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    def reload(self, session: Session) -> WorkCalendar:
        with self._lock:
            self._calendar = WorkCalendar(
                schedules=stored_schedules(session), office_hours=self._office_hours, tz=self._tz
            )
        return self._calendar
