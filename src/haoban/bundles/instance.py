"""What the bundle engine hands back: instances, events, transitions, ready tasks, errors, hooks.

Kept apart from ``engine`` so the database layer can type against these without the engine's
SpiffWorkflow plumbing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState

from haoban.bundles.definitions import Definition, Promise
from haoban.bundles.forms import FieldProblem
from haoban.bundles.messages import say
from haoban.calendar import WorkCalendar
from haoban.errors import Conflict, Invalid

__all__ = [
    "OPEN_STATUSES",
    "STATUSES",
    "EngineError",
    "EngineHooks",
    "Event",
    "FormError",
    "Instance",
    "ReadyTask",
    "Transition",
    "calendar_hooks",
    "field_problem",
]

#: running ⇄ awaiting_correction → completed | partially_completed | rejected; an open one → withdrawn
STATUSES = ("running", "awaiting_correction", "completed", "partially_completed", "rejected", "withdrawn")
OPEN_STATUSES = frozenset({"running", "awaiting_correction"})


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse_dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# ---------------------------------------------------------------------------------------------
# Hooks, errors, results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineHooks:
    """What the engine asks the caller: due times on the city calendar, and the clock."""

    deadline: Callable[[datetime, Promise], datetime]
    now: Callable[[], datetime] = utcnow


def calendar_hooks(
    calendar: WorkCalendar | None = None, *, now: Callable[[], datetime] = utcnow
) -> EngineHooks:
    """Hooks over ``haoban.calendar`` (pass the runtime's calendar so admin schedules apply)."""
    cal = calendar or WorkCalendar()

    def deadline(start: datetime, promise: Promise) -> datetime:
        return cal.add(start, promise.amount, promise.unit).at

    return EngineHooks(deadline=deadline, now=now)


class EngineError(Conflict):
    """The action does not fit the instance's state (HTTP 409); ``rule`` names the rule it broke."""

    def __init__(self, rule: str, /, *, element: str | None = None, **params: Any) -> None:
        zh, en = say(rule, **params)
        super().__init__(en, rule=rule, message_zh=zh, element=element)
        self.rule, self.zh, self.en, self.element = rule, zh, en, element


def field_problem(field: str, message: str, /, **params: Any) -> FieldProblem:
    """A problem with one field, its text from ``messages``."""
    return FieldProblem(field, *say(message, **params))


class FormError(Invalid):
    """Form data, materials or a result that do not validate; every problem names its field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(
            first.en if len(self.problems) == 1 else f"{first.en} (+{len(self.problems) - 1} more)",
            fields={p.field: p.en for p in self.problems},
            message_zh=first.zh,
            problems=[{"field": p.field, "zh": p.zh, "en": p.en} for p in self.problems],
        )


@dataclass(frozen=True)
class Event:
    """Something the caller must record or act on.

    ``kind``: ``task_ready`` (create/resume the department task; ``due_at``), ``task_approved``,
    ``task_rejected``, ``task_skipped`` (an upstream item was rejected), ``correction_requested``,
    ``resubmitted``, ``duban`` (a task or the bundle passed its promise; ``detail["scope"]``),
    ``delivery`` (统一出件: what to deliver, how, where), ``bundle_ended`` (``detail["status"]``).
    """

    kind: str
    task_id: str | None = None
    item: str | None = None
    department: str | None = None
    at: datetime | None = None
    due_at: datetime | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    events: tuple[Event, ...]
    status: str
    engine_seconds: float  # time spent in the engine for this call (excludes dumps/loads)
    engine_cpu_seconds: float = 0.0  # the CPU time of the same (what waiting for a core does not stretch)


@dataclass(frozen=True)
class ReadyTask:
    """A department's task as the inbox shows it."""

    task_id: str
    name: str
    name_en: str
    item: str
    department: str
    state: str  # "ready" or "correction" (waiting for the applicant's 补正)
    ready_at: datetime
    due_at: datetime
    inputs: Mapping[str, Any]
    materials: Mapping[str, Any]
    correction: Mapping[str, Any] | None


# ---------------------------------------------------------------------------------------------
# Instance
# ---------------------------------------------------------------------------------------------


class Instance:
    """One application's run of a bundle (a SpiffWorkflow workflow plus haoban's bookkeeping)."""

    def __init__(self, definition: Definition, workflow: Any) -> None:
        self.definition = definition
        self.workflow = workflow

    @property
    def state(self) -> dict[str, Any]:
        return self.workflow.data["haoban"]

    @property
    def status(self) -> str:
        return self.state["status"]

    @property
    def form(self) -> Mapping[str, Any]:
        return self.state["form"]

    @property
    def materials(self) -> Mapping[str, Any]:
        return self.state["materials"]

    @property
    def started_at(self) -> datetime:
        return datetime.fromisoformat(self.state["started_at"])

    @property
    def due_at(self) -> datetime:
        return datetime.fromisoformat(self.state["due_at"])

    @property
    def ended_at(self) -> datetime | None:
        return parse_dt(self.state.get("ended_at"))

    @property
    def correction_rounds(self) -> list[Mapping[str, Any]]:
        return list(self.state["rounds"])

    def outcomes(self) -> dict[str, Mapping[str, Any]]:
        """Per task that finished: outcome (approved/rejected/skipped), result or reason, time."""
        return {
            tid: {k: rec.get(k) for k in ("outcome", "result", "reason", "finished_at")}
            for tid, rec in self.state["tasks"].items()
            if rec.get("outcome")
        }

    def results(self) -> dict[str, Mapping[str, Any]]:
        """Results of approved tasks, by task id."""
        return {
            tid: rec["result"] for tid, rec in self.state["tasks"].items() if rec.get("outcome") == "approved"
        }

    def next_due(self) -> datetime | None:
        """When ``tick`` should next run: the earliest pending timer or the bundle deadline."""
        if self.status not in OPEN_STATUSES:
            return None
        flagged = set(self.state["open_corrections"])
        candidates: list[datetime] = []
        if not self.state.get("bundle_escalated"):
            candidates.append(self.due_at)
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            value = task._get_internal_data("event_value")
            attached = self.definition.boundary_of.get(task.task_spec.name)
            if isinstance(value, str) and attached not in flagged:
                candidates.append(datetime.fromisoformat(value))
        return min(candidates) if candidates else None


def dig(value: Any, path: Sequence[str]) -> Any:
    """The value at a dotted path of nested mappings, or None where the path stops."""
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def set_path(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set (or, with None, remove) the value at a dotted path, creating mappings on the way."""
    node = data
    for key in path[:-1]:
        nxt = node.get(key)
        if not isinstance(nxt, dict):
            nxt = node[key] = {}
        node = nxt
    if value is None:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
