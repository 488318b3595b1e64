"""The small, safe expression language of bundle definitions (gateway conditions, timers).

BPMN leaves the expression language to the engine; SpiffWorkflow's default is unrestricted Python
``eval``, which an uploaded definition must never reach. Bundles use a Python *subset*, checked on
its syntax tree when a definition is loaded and evaluated without builtins:

- literals (strings, numbers, True/False/None, tuples, lists, sets), ``and``/``or``/``not``,
  comparisons (``==``, ``<``, ``in``, ``is`` …), ``+ - * / // %``, ``x if c else y``;
- the names ``form`` (the applicant's form), ``results`` (results of finished tasks by task id)
  and ``materials`` (material key → stored reference), read with constant subscripts, e.g.
  ``form["cargo"]["class"] in ("I", "II")`` or ``results["accept"]["cargo_class"] == "III"``;
- the functions ``len min max abs``, ``field("a.b")`` (a form value or None when absent),
  ``result("task", "key")`` (a result value or None), and in timers ``promise()`` (the due time
  of the task the timer is attached to), ``working_days(n)``, ``working_hours(n)``,
  ``calendar_days(n)``, ``calendar_hours(n)`` (a due time counted from now on the city calendar).

No attribute access, comprehensions, lambdas or ``**``: nothing reaches Python internals, and an
expression cannot run for long.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CONDITION_FUNCTIONS",
    "DATA_NAMES",
    "TIMER_FUNCTIONS",
    "ExpressionProblem",
    "Reference",
    "check_expression",
    "evaluate",
]

DATA_NAMES = frozenset({"form", "results", "materials"})
CONDITION_FUNCTIONS = frozenset({"len", "min", "max", "abs", "field", "result"})
TIMER_FUNCTIONS = frozenset({"promise", "working_days", "working_hours", "calendar_days", "calendar_hours"})

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Is,
    ast.IsNot,
    ast.IfExp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Subscript,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Call,
)


@dataclass(frozen=True)
class ExpressionProblem:
    zh: str
    en: str


@dataclass(frozen=True)
class Reference:
    """A constant path read from ``form``/``results``/``materials`` (for static checks)."""

    root: str
    path: tuple[str, ...]


def _subscript_chain(node: ast.AST) -> tuple[str, tuple[str, ...]] | None:
    keys: list[str] = []
    while isinstance(node, ast.Subscript):
        if not (isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            return None
        keys.append(node.slice.value)
        node = node.value
    if isinstance(node, ast.Name):
        return node.id, tuple(reversed(keys))
    return None


def check_expression(
    text: str | None, *, functions: frozenset[str]
) -> tuple[ast.Expression | None, list[Reference], ExpressionProblem | None]:
    """Parse and vet an expression; returns the tree, the data it reads, or the problem."""
    if text is None or not text.strip():
        return None, [], ExpressionProblem("表达式为空", "the expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        return None, [], ExpressionProblem(f"表达式语法错误：{exc.msg}", f"syntax error: {exc.msg}")
    refs: list[Reference] = []
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            kind = type(node).__name__
            return (
                None,
                [],
                ExpressionProblem(f"表达式中不允许使用 {kind}", f"{kind} is not allowed in an expression"),
            )
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in functions or node.keywords:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                allowed = ", ".join(sorted(functions))
                return (
                    None,
                    [],
                    ExpressionProblem(
                        f"不允许调用 {name}（可用：{allowed}）",
                        f"calling {name} is not allowed (allowed: {allowed})",
                    ),
                )
        elif isinstance(node, ast.Name) and node.id not in DATA_NAMES and node.id not in functions:
            names = ", ".join(sorted(DATA_NAMES))
            return (
                None,
                [],
                ExpressionProblem(
                    f"未知的名称 {node.id}（可用：{names}）", f"unknown name {node.id} (available: {names})"
                ),
            )
        elif isinstance(node, ast.Subscript):
            chain = _subscript_chain(node)
            if chain and chain[0] in DATA_NAMES:
                refs.append(Reference(chain[0], chain[1]))
    # Keep only the longest chains (form["a"]["b"] also walks form["a"]).
    longest = [
        r
        for r in refs
        if not any(
            o.root == r.root and len(o.path) > len(r.path) and o.path[: len(r.path)] == r.path for o in refs
        )
    ]
    # field("a.b") and result("t", "k") are references too.
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if node.func.id == "field" and len(args) == 1 == len(node.args):
                longest.append(Reference("form", tuple(args[0].split("."))))
            elif node.func.id == "result" and len(args) == 2 == len(node.args):
                longest.append(Reference("results", (args[0], args[1])))
            elif node.func.id in ("field", "result"):
                return (
                    None,
                    [],
                    ExpressionProblem(
                        f"{node.func.id}() 的参数必须是字符串常量",
                        f"the arguments of {node.func.id}() must be string constants",
                    ),
                )
    return tree, longest, None


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def evaluate(
    tree: ast.Expression,
    *,
    form: Mapping[str, Any],
    results: Mapping[str, Any],
    materials: Mapping[str, Any],
    timer_functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Evaluate a tree that ``check_expression`` accepted."""
    namespace: dict[str, Any] = {
        "form": form,
        "results": results,
        "materials": materials,
        "len": len,
        "min": min,
        "max": max,
        "abs": abs,
        "field": lambda path: _dig(form, tuple(path.split("."))),
        "result": lambda task, key: _dig(results, (task, key)),
    }
    if timer_functions:
        namespace.update(timer_functions)
    code = compile(tree, "<bundle expression>", "eval")
    return eval(code, {"__builtins__": {}}, namespace)
