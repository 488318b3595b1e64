"""Where haoban meets SpiffWorkflow: parser, timers, expression engine, serializer.

SpiffWorkflow runs the BPMN; this module only adapts it so that

- timers never read the wall clock: a timer's due time is computed by the caller's calendar (working
  days, holidays and 调休) and it fires when the *engine's* clock passes it, so the database
  sweep, tests and benchmarks all decide "now" themselves;
- expressions go through ``haoban.bundles.expressions`` (a vetted subset), never Python ``eval`` of
  uploaded text;
- the serialized state holds the instance only (tasks, data), not the process definition: the
  definition is pinned by bundle code, version and digest and supplied again on load, which keeps
  the JSON small and lets a running instance keep the version it started with.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, IntermediateCatchEvent, StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from haoban.bundles import expressions


class _Context(Protocol):
    """What the engine's per-call context (``engine._Context``) offers SpiffWorkflow's hooks here.

    A protocol rather than an import: the engine imports this module, so this one must not import it.
    """

    now: datetime

    @property
    def form(self) -> Mapping[str, Any]: ...

    @property
    def materials(self) -> Mapping[str, Any]: ...

    def timer_paused(self, spec_name: str) -> bool: ...

    def has_rejection(self) -> bool: ...

    def timer_functions(self, task: Any) -> dict[str, Callable[..., Any]]: ...

    def expression_failed(self, task: Any, expression: str, exc: Exception) -> Exception: ...


__all__ = [
    "BundleParser",
    "BundleWorkflow",
    "ClockTimer",
    "SafeScriptEngine",
    "make_serializer",
    "new_workflow",
]


def _context(task: Any) -> _Context:
    ctx = getattr(task.workflow.top_workflow, "haoban_ctx", None)
    if ctx is None:  # a workflow not driven by BundleEngine: refuse rather than guess
        raise RuntimeError("bundle workflow used outside BundleEngine")
    return ctx


class ClockTimer(TimeDateEventDefinition):
    """A timeDate timer that fires against the engine's clock, and waits while its task is in 补正."""

    def has_fired(self, my_task: Any) -> bool:
        ctx = _context(my_task)
        if my_task._get_internal_data("event_fired", False):
            return True
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=value)
        if ctx.timer_paused(my_task.task_spec.name):
            return False
        if datetime.fromisoformat(value) <= ctx.now:
            my_task._set_internal_data(event_fired=True)
            return True
        return False


class _ClockTimerParsing:
    def parse_timer_event(self, event: Any) -> Any:
        parsed = super().parse_timer_event(event)  # type: ignore[misc]
        # Durations and cycles are refused by the loader before this point; keep only timeDate.
        return ClockTimer(parsed.name, parsed.expression, description=parsed.description)


class _StartParser(_ClockTimerParsing, SpiffStartEventParser):
    pass


class _BoundaryParser(_ClockTimerParsing, SpiffBoundaryEventParser):
    pass


class _CatchParser(_ClockTimerParsing, SpiffIntermediateCatchEventParser):
    pass


class BundleParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, Any]] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("startEvent"): (_StartParser, StartEvent),
        full_tag("boundaryEvent"): (_BoundaryParser, BoundaryEvent),
        full_tag("intermediateCatchEvent"): (_CatchParser, IntermediateCatchEvent),
    }


class SafeScriptEngine(PythonScriptEngine):
    """Evaluates bundle expressions with the vetted subset; never executes scripts."""

    def __init__(self) -> None:
        super().__init__()
        self._trees: dict[str, ast.Expression] = {}

    def _tree(self, expression: str) -> ast.Expression:
        tree = self._trees.get(expression)
        if tree is None:
            functions = expressions.CONDITION_FUNCTIONS | expressions.TIMER_FUNCTIONS
            tree, _refs, problem = expressions.check_expression(expression, functions=functions)
            if problem is not None or tree is None:  # the loader refuses these; defence in depth
                raise ValueError(f"expression refused: {problem.en if problem else expression}")
            self._trees[expression] = tree
        return tree

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        ctx = _context(task)
        tree = self._tree(expression)
        timers: dict[str, Callable[..., Any]] = ctx.timer_functions(task)
        try:
            return expressions.evaluate(
                tree,
                form=ctx.form,
                results=task.data.get("results", {}),
                materials=ctx.materials,
                timer_functions=timers,
            )
        except (KeyError, TypeError, IndexError) as exc:
            # After a rejection, a condition downstream may read a result that never came; the
            # tasks on every branch there are skipped anyway, so take the default flow.
            if ctx.has_rejection():
                return False
            raise ctx.expression_failed(task, expression, exc) from exc

    def execute(self, task: Any, script: str, external_context: Any = None) -> Any:
        raise RuntimeError("scripts are not allowed in bundles")


_PRIMITIVES = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> bool:
    """Is ``value`` JSON as it stands (dicts with string keys, lists, primitives; no subclasses)?

    SpiffWorkflow's registry converts every value of the workflow's and the tasks' data recursively,
    cleaning and copying each dict twice on the way, to find values it must encode (datetimes, UUIDs
    …); for a plain value its result is an equal copy. Bundles keep their state plain, so checking is
    much cheaper than converting (an application's state is dumped 7 times).
    """
    kind = type(value)
    if kind in _PRIMITIVES:
        return True
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if kind is list:
        return all(_plain(v) for v in value)
    return False


def _task_dict(registry: Any, task: Any, names: dict[Any, str]) -> dict[str, Any]:
    """``task`` as SpiffWorkflow's ``TaskConverter.to_dict`` writes it, plain internal data taken as it
    is; ``names``: task ids already written as text (each id is written up to three times: its own,
    as a parent, as a child)."""

    def name(task_id: Any) -> str:
        text = names.get(task_id)
        if text is None:
            text = names[task_id] = str(task_id)
        return text

    parent = task.workflow.tasks.get(task._parent) if task._parent is not None else None
    internal = task.internal_data
    if parent is None:
        data, delta = task.data, {}
    else:
        data, own, above = {}, task.data, parent.data
        delta = {
            "updates": {k: v for k, v in own.items() if k not in above or v != above[k]},
            "deletions": [k for k in above if k not in own],
        }
    return {
        "id": name(task.id),
        "parent": name(task._parent) if parent is not None else None,
        "children": [name(child) for child in task._children],
        "last_state_change": task.last_state_change,
        "state": task.state,
        "task_spec": task.task_spec.name,
        "triggered": task.triggered,
        "internal_data": dict(internal) if _plain(internal) else registry.convert(internal),
        "data": data,
        "delta": delta,
    }


class _TaskConverter(TaskConverter):
    """SpiffWorkflow's task converter, same output, faster (``_task_dict``)."""

    def to_dict(self, task: Any) -> dict[str, Any]:
        return _task_dict(self.registry, task, {})


class _InstanceConverter(BpmnWorkflowConverter):
    """Serialize the instance without its spec; restore it onto the pinned definition's spec.

    Same dictionary as SpiffWorkflow's converter without the spec (``tests/bundles`` compares them);
    plain workflow data is not run through the registry (``_plain``) and is not copied: the result
    is for encoding at once (``BundleEngine.dumps``). Tasks go straight to ``_TaskConverter``.
    """

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        data = workflow.data
        return {
            "data": data if _plain(data) else self.registry.convert(self.registry.clean(data)),
            "correlations": workflow.correlations,
            "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": self._tasks(workflow.tasks),
            "root": str(workflow.task_tree.id),
            "subprocesses": self.mapping_to_dict(workflow.subprocesses),
            "bpmn_events": self.registry.convert(workflow.bpmn_events),
        }

    def _tasks(self, tasks: dict[Any, Any]) -> dict[str, Any]:
        registry = self.registry
        typename = registry.typenames[Task]
        names: dict[Any, str] = {}
        out = {}
        for task_id, task in tasks.items():
            if type(task) is Task:
                dct = _task_dict(registry, task, names)
                dct["typename"] = typename  # as the registry adds it
            else:
                dct = registry.convert(task)
            out[names.get(task_id) or str(task_id)] = dct
        return out

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> Any:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_SIMPLE_QUERY = frozenset({"state", "manual", "spec_name"})


class BundleWorkflow(BpmnWorkflow):
    """A BpmnWorkflow whose plain task queries walk the tree directly.

    SpiffWorkflow's general iterator (depth tracking, ``pop(0)``, per-task subprocess look-ups) made
    up nearly half the engine's time per transition. Bundles have no sub-processes (the loader
    refuses them), so a query by state, ``manual`` or spec name is a plain pre-order walk with the
    iterator's own pruning rule; same tasks, same order (``tests/bundles`` compares the two).
    Anything else goes to SpiffWorkflow's iterator.
    """

    def get_tasks(self, first_task: Any = None, **kwargs: Any) -> list[Any]:
        if first_task is not None or self.subprocesses or not _SIMPLE_QUERY.issuperset(kwargs):
            return super().get_tasks(first_task, **kwargs)
        state = kwargs.get("state", TaskState.ANY_MASK)
        manual = kwargs.get("manual")
        spec_name = kwargs.get("spec_name")
        if state & TaskState.PREDICTED_MASK:
            min_state = TaskState.MAYBE
        elif state & TaskState.DEFINITE_MASK:
            min_state = TaskState.FUTURE
        else:
            min_state = TaskState.COMPLETED
        tasks = self.tasks
        found: list[Any] = []
        stack = [self.task_tree]
        while stack:
            task = stack.pop()
            spec = task.task_spec
            if (
                task.state & state
                and (manual is None or spec.manual == manual)
                and (spec_name is None or spec.name == spec_name)
            ):
                found.append(task)
            if task._children and task.state >= min_state:
                stack.extend(tasks[child] for child in reversed(task._children))
        return found

    def update_waiting_tasks(self) -> None:
        # SpiffWorkflow walks the tree lazily here, updating each WAITING task as it meets it and
        # expanding a task's children before updating it; this does the same without the iterator.
        if self.subprocesses:
            return super().update_waiting_tasks()
        tasks = self.tasks
        stack = [self.task_tree]
        while stack:
            task = stack.pop()
            if task._children and task.state >= TaskState.FUTURE:
                stack.extend(tasks[child] for child in reversed(task._children))
            if task.state == TaskState.WAITING:
                task.task_spec._update(task)
        return None


def make_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config.pop(BpmnWorkflow, None)
    config[BundleWorkflow] = _InstanceConverter
    config[Task] = _TaskConverter
    config[ClockTimer] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


def new_workflow(spec: Any, subprocess_specs: Any, script_engine: SafeScriptEngine) -> BundleWorkflow:
    return BundleWorkflow(spec, subprocess_specs, script_engine=script_engine)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()
