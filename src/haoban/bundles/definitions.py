"""Bundle definitions: load four files, refuse anything a running application could trip over.

A bundle ("一件事") is a directory (or an upload) of four files:

``process.bpmn``
    BPMN 2.0, drawn in any modeller. Each user task names its catalogue item and department as
    extension properties (``spiffworkflow:property`` or ``camunda:property``, both read)::

        <bpmn:userTask id="birth_certificate" name="出生医学证明">
          <bpmn:extensionElements>
            <spiffworkflow:properties>
              <spiffworkflow:property name="item" value="wjw-birth-medical-certificate"/>
              <spiffworkflow:property name="department" value="wjw"/>
              <spiffworkflow:property name="promise" value="1 working_days"/>
              <spiffworkflow:property name="name_en" value="Birth medical certificate"/>
            </spiffworkflow:properties>
          </bpmn:extensionElements>
        </bpmn:userTask>

    A task another region handles (多地联办) also names that region (``region``, its 6-digit
    行政区划代码): the task's department here follows it while the partner's department decides, and
    the partner's result completes it (``haoban.federation.joint``); an agreement with the partner
    must cover the item in mode ``joint``::

        <bpmn:userTask id="move_out" name="户口迁出">
          <bpmn:extensionElements>
            <spiffworkflow:properties>
              ...
              <spiffworkflow:property name="region" value="451300"/>
            </spiffworkflow:properties>
          </bpmn:extensionElements>
        </bpmn:userTask>

    Allowed: one none start event; user tasks; parallel and exclusive gateways (an exclusive split
    needs a default flow, every other outgoing flow a condition); non-interrupting boundary timers
    on user tasks and intermediate timer catch events (``timeDate`` with ``promise()``,
    ``working_days(n)``, ``working_hours(n)``, ``calendar_days(n)`` or ``calendar_hours(n)``);
    escalation events with code ``duban`` (督办, surfaced to the caller); message events whose
    message is named ``delivery`` (统一出件, surfaced to the caller); none end events. Anything else
    (scripts, service tasks, sub-processes, inclusive or event-based gateways, loops) is refused
    with the reason. The bundle-wide promise lives in ``bundle.yaml`` and is watched by the engine.

``form.schema.json``
    The one shared applicant form, JSON Schema 2020-12 (see ``haoban.bundles.forms``).

``mapping.yaml``
    Per user task: ``inputs`` (name → ``form.<path>``, ``materials.<key>`` or
    ``results.<task>.<key>``), ``materials`` (keys the item needs), ``result_schema`` (JSON Schema of
    what the department returns on approval), optionally ``holder`` (``id`` and ``name`` of whoever
    holds the licence the item yields when it is not the applicant: a newborn, a new company — each
    ``form.<path>``, ``result.<key>`` or ``results.<task>.<key>``). Optionally ``delivery``
    (``method``, ``address``, ``recipient``, ``phone`` → ``form.<path>``).

``bundle.yaml``
    ``code``, ``name``/``name_en``, ``description``/``description_en``, ``promise`` (e.g.
    ``7 working_days``), ``materials`` (key, name, name_en, required, ``licence_kind`` and its
    ``holder`` — ``form.<path>`` — when the licence standing in is not the applicant's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from haoban.calendar import DurationUnit
from haoban.errors import Invalid

__all__ = [
    "DEFINITIONS_DIR",
    "FILES",
    "Definition",
    "DefinitionError",
    "Material",
    "Problem",
    "Promise",
    "Source",
    "TaskDef",
    "shipped_example",
    "shipped_items",
]

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
FILES = ("process.bpmn", "form.schema.json", "mapping.yaml", "bundle.yaml")

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PROPERTY_NS = ("http://spiffworkflow.org/bpmn/schema/1.0/core", "http://camunda.org/schema/1.0/bpmn")
NS = {"bpmn": BPMN_NS}
ESCALATION_CODE = "duban"
DELIVERY_MESSAGE = "delivery"

_UNIT_WORDS = {u.value: u for u in DurationUnit}


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Promise:
    """A promised time: ``amount`` of ``unit`` (working days, working hours, calendar days/hours)."""

    amount: float
    unit: DurationUnit

    @classmethod
    def parse(cls, text: Any) -> Promise:
        """``"7 working_days"``, ``"3.5 working_hours"``, ``{amount: 7, unit: working_days}``."""
        if isinstance(text, Mapping):
            amount, unit = text.get("amount"), text.get("unit")
        else:
            parts = str(text).split()
            if len(parts) != 2:
                raise ValueError(f"{text!r} is not '<amount> <unit>'")
            amount, unit = parts
        try:
            value = float(amount)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"{amount!r} is not a number") from None
        if unit not in _UNIT_WORDS:
            raise ValueError(f"unknown unit {unit!r} (use {', '.join(_UNIT_WORDS)})")
        if value < 0 or value != value or value > 3660:
            raise ValueError(f"{amount!r} is out of range")
        duration = _UNIT_WORDS[str(unit)]
        if duration in (DurationUnit.WORKING_DAYS, DurationUnit.CALENDAR_DAYS) and not value.is_integer():
            # Half a working day depends on the city's office hours: say it in working hours.
            raise ValueError(f"{unit} must be whole; give part of a day in working_hours")
        return cls(value, duration)

    def text(self) -> str:
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        return f"{amount} {self.unit.value}"

    def label(self) -> tuple[str, str]:
        zh = {
            DurationUnit.WORKING_DAYS: "个工作日",
            DurationUnit.WORKING_HOURS: "个工作小时",
            DurationUnit.CALENDAR_DAYS: "个自然日",
            DurationUnit.CALENDAR_HOURS: "小时",
        }[self.unit]
        amount = int(self.amount) if float(self.amount).is_integer() else self.amount
        if self.unit is DurationUnit.WORKING_DAYS and amount == 0:
            return "当日办结", "same working day"
        return f"{amount} {zh}", f"{amount} {self.unit.value.replace('_', ' ')}"


@dataclass(frozen=True)
class Problem:
    """One reason a definition is refused: which file, which element or field, why (zh and en)."""

    file: str
    element: str
    zh: str
    en: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "element": self.element, "zh": self.zh, "en": self.en, "line": self.line}


class DefinitionError(Invalid):
    """A definition that cannot be run; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        first = problems[0]
        where = f"{first.file} {first.element}".strip()
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"{where}: {first.en}{more}",
            fields={f"{p.file}:{p.element}": p.en for p in problems},
            message_zh=f"{where}：{first.zh}"
            + (f"（另有 {len(problems) - 1} 处）" if len(problems) > 1 else ""),
            problems=[p.to_dict() for p in problems],
        )


@dataclass(frozen=True)
class Material:
    key: str
    name: str
    name_en: str
    required: bool
    # The catalogue item whose electronic licence stands for this material (材料复用): when the
    # applicant already holds a valid one, they are not asked for the material again.
    licence_kind: str | None = None
    # Whose licence stands for it (``form.<path>`` giving an ID number or credit code); None: the
    # applicant's. E.g. a parent applying for a child reuses the child's licences.
    holder: Source | None = None


@dataclass(frozen=True)
class Source:
    """Where an input comes from: ``form``/``materials``/``results`` and a path under it."""

    root: str
    path: tuple[str, ...]

    @classmethod
    def parse(cls, text: Any) -> Source:
        parts = str(text).split(".") if isinstance(text, str) else []
        if len(parts) < 2 or parts[0] not in ("form", "materials", "results") or not all(parts):
            raise ValueError(f"{text!r} is not form.<field>, materials.<key> or results.<task>.<key>")
        return cls(parts[0], tuple(parts[1:]))

    def text(self) -> str:
        return ".".join((self.root, *self.path))


@dataclass(frozen=True)
class TaskDef:
    """A user task: the catalogue item one department handles inside the bundle."""

    id: str
    name: str
    name_en: str
    item: str
    department: str
    promise: Promise
    inputs: Mapping[str, Source]
    materials: tuple[str, ...]
    result_schema: Mapping[str, Any]
    upstream: frozenset[str]  # user tasks before it on some path
    requires: frozenset[str]  # user tasks certain to have finished before it starts
    timers: tuple[str, ...]  # ids of boundary timers attached to it
    result_validator: Draft202012Validator = field(repr=False, compare=False)
    # 多地联办: the partner region (行政区划代码) whose department handles this task; None: this city.
    region: str | None = None
    # Who holds the licence the item yields (``id`` and ``name``: ``form.<path>``, ``result.<key>`` of
    # this task, or ``results.<task>.<key>`` of a task certain to be done); None: the applicant.
    holder: Mapping[str, Source] | None = None


@dataclass(frozen=True, eq=False)
class Definition:
    """A validated bundle, pinned by ``code``, ``version`` and the ``digest`` of its files."""

    code: str
    version: int
    digest: str
    name: str
    name_en: str
    description: str
    description_en: str
    promise: Promise
    materials: Mapping[str, Material]
    tasks: Mapping[str, TaskDef]  # in a topological order of the process
    form_schema: Mapping[str, Any]
    delivery: Mapping[str, Source]
    files: Mapping[str, bytes]
    process_id: str
    nodes: Mapping[str, str]  # element id → kind, for drawing and reports
    flows: tuple[tuple[str, str, str], ...]  # (flow id, source, target)
    boundary_of: Mapping[str, str]  # boundary event id → task id
    form_validator: Draft202012Validator = field(repr=False)
    spec: Any = field(repr=False)
    subprocess_specs: Any = field(repr=False)

    @property
    def key(self) -> tuple[str, int]:
        return (self.code, self.version)

    def departments(self) -> list[str]:
        return sorted({t.department for t in self.tasks.values()})


# ---------------------------------------------------------------------------------------------
# Shipped definitions and the items they reference
# ---------------------------------------------------------------------------------------------


def shipped_items() -> list[dict[str, Any]]:
    """The catalogue items the shipped bundles reference (``definitions/ITEMS.yaml``)."""
    data = yaml.safe_load((DEFINITIONS_DIR / "ITEMS.yaml").read_text(encoding="utf-8"))
    return list(data["items"])


def shipped_example(code: str) -> dict[str, Any]:
    """The worked example beside a shipped bundle: ``form``, ``materials`` and ``results`` by task."""
    return yaml.safe_load((DEFINITIONS_DIR / code / "example.yaml").read_text(encoding="utf-8"))
