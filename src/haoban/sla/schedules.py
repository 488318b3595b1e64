"""Official holiday schedules (放假调休安排) loaded by admins, and the process's current calendar.

A year's schedule overrides the packaged one; reading them is for the roles that read configuration,
changing them for admins. ``CalendarHolder`` rebuilds the working-day calendar from what is stored.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from haoban.auth.actors import Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import ADMIN_ROLES, READ_CONFIG_ROLES
from haoban.calendar import WorkCalendar, YearSchedule, parse_office_hours
from haoban.calendar.schedule import parse_schedule, schedule_from_dict, schedule_to_dict
from haoban.errors import Invalid, NotFound
from haoban.sla.models import CalendarSchedule, CalendarScheduleRevision


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
    else:
        _revision(session, row, "replace", actor)  # the year as it was, restorable
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
    _revision(session, row, "delete", actor)
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


# --- history and preview (issue 13): a year is never replaced without a trace --------------------


def _revision(session: Session, row: CalendarSchedule, change: str, actor: Actor) -> None:
    session.add(
        CalendarScheduleRevision(
            year=row.year, change=change, data=row.data, source=row.source, actor=actor.username
        )
    )


def _days_by_name(s: YearSchedule | None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for day, name in (s.holidays if s else {}).items():
        out.setdefault(name, set()).add(day.isoformat())
    return out


def schedule_changes(before: YearSchedule | None, after: YearSchedule) -> dict[str, Any]:
    """What loading ``after`` changes against ``before`` (the schedule in force for that year).

    ``dropped`` names holidays that disappear altogether (e.g. a file without 春节): the admin must
    see them before confirming.
    """
    old, new = _days_by_name(before), _days_by_name(after)
    holidays = []
    for name in sorted(set(old) | set(new), key=lambda n: min(old.get(n, set()) | new.get(n, set()))):
        added, removed = (
            sorted(new.get(name, set()) - old.get(name, set())),
            sorted(old.get(name, set()) - new.get(name, set())),
        )
        holidays.append(
            {
                "name": name,
                "days": sorted(new.get(name, set())),
                "added": added,
                "removed": removed,
                "dropped": name in old and name not in new,
                "new": name in new and name not in old,
            }
        )
    old_makeup = {d.isoformat() for d in (before.makeup_workdays if before else ())}
    new_makeup = {d.isoformat() for d in after.makeup_workdays}
    return {
        "year": after.year,
        "holidays": holidays,
        "dropped": [h["name"] for h in holidays if h["dropped"]],
        "makeup_added": sorted(new_makeup - old_makeup),
        "makeup_removed": sorted(old_makeup - new_makeup),
        "changed": any(h["added"] or h["removed"] for h in holidays) or old_makeup != new_makeup,
    }


def preview_schedule(
    session: Session, *, actor: Actor, content: bytes | str, filename: str | None, in_force: WorkCalendar
) -> dict[str, Any]:
    """Parse an upload without saving it; say what it would change and whether it replaces a stored year."""
    require_role(actor, *ADMIN_ROLES)
    if not content.strip():
        raise Invalid("the schedule is empty", fields={"file": "empty"})
    try:
        schedule = parse_schedule(content, filename=filename)
    except ValueError as exc:
        raise Invalid(f"schedule file rejected: {exc}", fields={"file": str(exc)}) from None
    row = session.get(CalendarSchedule, schedule.year)
    before = schedule_from_dict(json.loads(row.data)) if row else in_force.effective_schedule(schedule.year)
    out = schedule_changes(before, schedule)
    out["replaces"] = row is not None  # a stored year is replaced (the package's data is only overridden)
    out["before_source"] = row.source if row else before.source
    return out


def schedule_history(session: Session, *, actor: Actor) -> list[CalendarScheduleRevision]:
    require_role(actor, *READ_CONFIG_ROLES)
    stmt = select(CalendarScheduleRevision).order_by(CalendarScheduleRevision.id.desc()).limit(50)
    return list(session.scalars(stmt))


def restore_schedule(session: Session, *, actor: Actor, revision_id: int) -> YearSchedule:
    """Put a year's earlier schedule back (what is stored now goes into the history first)."""
    require_role(actor, *ADMIN_ROLES)
    rev = session.get(CalendarScheduleRevision, revision_id)
    if rev is None:
        raise NotFound(f"no schedule revision #{revision_id}")
    schedule = schedule_from_dict(json.loads(rev.data))
    row = session.get(CalendarSchedule, rev.year)
    if row is None:
        row = CalendarSchedule(year=rev.year)
        session.add(row)
    else:
        _revision(session, row, "restore", actor)
    row.data = rev.data
    row.source = rev.source
    row.uploaded_by = actor.username
    session.flush()
    return schedule
