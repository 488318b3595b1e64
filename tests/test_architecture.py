"""The shape every domain copies: imports run one way, and an order's status changes in one place.

``scripts/importgraph.py`` reads every import in ``src/haoban`` (top level, in functions, under
``TYPE_CHECKING``) and checks them against the declared floors.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "haoban"


def _importgraph() -> ModuleType:
    spec = importlib.util.spec_from_file_location("importgraph", ROOT / "scripts" / "importgraph.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("importgraph", module)
    spec.loader.exec_module(module)
    return module


def _sources() -> list[tuple[Path, ast.Module]]:
    return [
        (p, ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(SRC.rglob("*.py"))
        if "versions" not in p.parts
    ]


def test_no_import_circles_and_no_arrow_runs_up() -> None:
    ig = _importgraph()
    graph = ig.build()
    assert ig.undeclared(graph) == [], "declare the floor of every package in scripts/importgraph.py"
    assert ig.circles(graph) == []
    assert [f"{a.source} -> {a.target}" for a in ig.arrows_up(graph)] == []


def test_the_checker_sees_circles_and_arrows_up(tmp_path: Path) -> None:
    """The check can fail: a small package with a circle and an upward import is caught."""
    ig = _importgraph()
    pkg = tmp_path / "haoban"
    for rel, text in {
        "__init__.py": "",
        "db.py": "from haoban.orders import models\n",  # db (floor 1) imports orders: up
        "orders/__init__.py": "",
        "orders/models.py": "from haoban.db import Base\n",
        "orders/service.py": "def f():\n    from haoban.orders import api\n",  # a domain importing a router
        "orders/api.py": "from haoban.orders import service\n",
    }.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    graph = ig.build(pkg)
    assert ig.circles(graph) == [
        ["haoban.db", "haoban.orders.models"],
        ["haoban.orders.api", "haoban.orders.service"],
    ]
    assert {f"{a.source} -> {a.target}" for a in ig.arrows_up(graph)} == {
        "haoban.db -> haoban.orders.models",
        "haoban.orders.service -> haoban.orders.api",
    }


def _assignments_to(attribute: str) -> list[tuple[str, int, str]]:
    out = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            targets: list[Any] = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                targets = [node.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and t.attr == attribute:
                    out.append((str(path.relative_to(SRC)), node.lineno, ast.unparse(t.value)))
    return out


def test_only_the_gate_changes_an_orders_status() -> None:
    """Orders change status in orders/gate.py, benefit grants in benefits/gate.py; nowhere else."""
    # Other records with a status of their own: rectifications, outbox messages, knowledge articles,
    # an application's deliveries (prepared → posted / handed over).
    # A difficult-matter case has a state table of its own, and its own gate.
    others = {"rect", "msg", "article", "delivery", "proposal"}
    found = [(f, who) for f, _line, who in _assignments_to("status") if who not in others]
    assert sorted(found) == [
        ("applications/gate.py", "app"),
        ("applications/gate.py", "task"),
        ("applications/help_requests.py", "req"),
        ("benefits/gate.py", "grant"),
        ("casework/gate.py", "case"),
        ("orders/gate.py", "order"),
        ("tourism/gate.py", "order"),
    ]


def _calls(name: str) -> list[str]:
    out = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == name
            ):
                out.append(str(path.relative_to(SRC)))
    return out


def test_an_application_case_file_is_written_by_its_gate_only() -> None:
    """Application and task statuses move in applications/gate.py, which alone appends their events."""
    assert _calls("ApplicationEvent") == []  # built by the shared chain writer (orders/events.py)
    appenders = [
        str(p.relative_to(SRC))
        for p, tree in _sources()
        if "applications" in p.parts
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "events"
    ]
    assert sorted(set(appenders)) == ["applications/gate.py"]


def test_only_the_tourism_gate_changes_a_tickets_or_ticket_orders_status() -> None:
    """Tickets and ticket orders follow tourism/workflow.py, applied in tourism/gate.py only: no status is
    assigned, nor set by an UPDATE's ``.values(status=…)``, anywhere else in the domain."""
    assigned = sorted({f for f, _line, _who in _assignments_to("status") if f.startswith("tourism/")})
    assert assigned == ["tourism/gate.py"]
    updates = []
    for path, tree in _sources():
        rel = str(path.relative_to(SRC))
        if not rel.startswith("tourism/"):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "values"
                and any(k.arg == "status" for k in node.keywords)
            ):
                updates.append(rel)
    assert sorted(set(updates)) == ["tourism/gate.py"]


def test_event_records_are_built_in_one_place() -> None:
    builders = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "EventRecord"
            ):
                builders.append(str(path.relative_to(SRC)))
    assert builders == ["orders/events.py"]


def test_cases_write_their_file_through_the_shared_chain() -> None:
    """Difficult-matter cases keep their files with the orders' chain writer (``append_chained``): no
    second copy of the chain to drift apart, and one module of casework appends."""
    calls: dict[str, list[str]] = {"chain_hash": [], "append_chained": []}
    for path, tree in _sources():
        if "casework" not in path.parts:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                if name in calls:
                    calls[name].append(str(path.relative_to(SRC)))
    assert calls == {"chain_hash": [], "append_chained": ["casework/events.py"]}


def test_the_time_zone_is_named_in_settings_only() -> None:
    named = [
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "Asia/Shanghai" in p.read_text(encoding="utf-8")
    ]
    assert named == ["config.py"]


def test_a_wired_runtime_has_every_domains_hooks(rt: Any) -> None:
    assert rt.hooks.sealed
    assert rt.hooks.topics() == {
        "before": ["orders.answer", "orders.transfer_region"],
        "after": [
            "applications.*",
            "applications.birth_registered",
            "orders.*",
            "orders.reply",
            "orders.transfer_region",
        ],
    }
