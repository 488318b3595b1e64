"""The import graph of ``src/haoban``: import circles and arrows running back up the floors.

Every import anywhere in a module counts (top level, inside functions, under ``TYPE_CHECKING``):
an import hidden in a function is still an arrow. Modules are grouped by *unit* (the package right
under ``haoban``, or the top-level module) and the units stand on *floors*, lowest first (``FLOORS``).

- An **import circle** is a set of modules that reach each other (a strongly connected component of
  more than one module).
- An **arrow up** is an import from a domain module into a unit on a higher floor, or into an entry
  module. Entry modules are routers, command lines and pages (``*/api.py``, ``*/admin_api.py``,
  ``*/cli.py``, ``web/``) and the wiring (``app``, ``cli``, ``deps``, ``worker`` …): they sit on top
  and may import any domain module; no domain module may import them.

Run ``python scripts/importgraph.py`` for a report (``--json`` for numbers); ``tests/test_architecture.py``
fails on any circle, any arrow up, and any unit without a declared floor.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "src" / "haoban"

# Lowest first. A domain module may import units on its own floor or below; nothing above.
FLOORS: tuple[tuple[str, ...], ...] = (
    # foundations: no domain knowledge (textsearch: the BM25 index the knowledge base and the catalogue share)
    ("config", "errors", "textutil", "textsearch", "wordlists", "caching", "responses", "metrics"),
    # engine, sessions, migrations; rate-limit counters; the edge guard; configuration history
    ("db", "ratelimit", "security", "revisions"),
    ("calendar",),  # pure working-day calendar
    ("auth",),  # roles, actors, accounts, passwords, tokens (a user's department is only an id)
    ("directory",),  # departments, districts, categories, the appeal vocabulary; staff administration
    ("sla", "notifications", "jobs"),  # time limits and schedules; the outbox; background jobs
    ("dispatch", "catalog"),  # routing (classifier, catalogue); service items (事项目录)
    ("licences",),  # electronic licences (电子证照): results of catalogue items, verifiable by code
    ("runtime",),  # the process's shared caches and lifecycle hooks
    ("orders", "bundles", "applications"),  # work orders; the bundle engine; "one thing, once" applications
    ("hotspots", "knowledge", "feedback", "analytics", "casework", "benefits", "tourism"),
    ("open311", "federation"),  # adapters over the domains below
)
# Wiring and interfaces: may import anything; no domain module may import them.
ENTRY_UNITS = frozenset(
    {"app", "cli", "cliutil", "deps", "worker", "wiring", "web", "demo", "models", "migrations", "ops"}
)
ENTRY_MODULES = frozenset({"api", "admin_api", "cli"})


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    line: int


@dataclass
class Graph:
    modules: dict[str, Path]
    arrows: list[Arrow]
    sizes: dict[str, int] = field(default_factory=dict)

    def edges(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {m: set() for m in self.modules}
        for a in self.arrows:
            if a.source != a.target:
                out[a.source].add(a.target)
        return out


def module_name(path: Path, package_dir: Path = PACKAGE_DIR) -> str:
    rel = path.relative_to(package_dir.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The haoban module an import of ``name`` loads (the longest existing prefix)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[str, int]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            for alias in node.names:
                # ``from pkg import sub`` loads pkg.sub when that is a module, else pkg itself.
                yield f"{prefix}.{alias.name}", node.lineno
                yield prefix, node.lineno


def build(package_dir: Path = PACKAGE_DIR) -> Graph:
    modules = {
        module_name(p, package_dir): p for p in sorted(package_dir.rglob("*.py")) if "versions" not in p.parts
    }
    arrows: set[Arrow] = set()
    sizes: dict[str, int] = {}
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        sizes[name] = text.count("\n")
        tree = ast.parse(text, filename=str(path))
        found: dict[str, int] = {}
        for imported, line in _imports(tree, name, path.name == "__init__.py"):
            if not imported.startswith("haoban"):
                continue
            target = _resolve(imported, modules)
            if target is None or target == name:
                continue
            # ``from pkg import sub`` yields both pkg.sub and pkg: keep the most specific.
            found.setdefault(target, line)
        for target, line in found.items():
            if any(t != target and t.startswith(target + ".") and found[t] == line for t in found):
                continue
            arrows.add(Arrow(name, target, line))
    return Graph(modules, sorted(arrows, key=lambda a: (a.source, a.target)), sizes)


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def is_entry(module: str) -> bool:
    parts = module.split(".")
    return unit_of(module) in ENTRY_UNITS or (len(parts) > 2 and parts[-1] in ENTRY_MODULES)


def floor_of(unit: str) -> int | None:
    for level, units in enumerate(FLOORS):
        if unit in units:
            return level
    return None


def undeclared(graph: Graph) -> list[str]:
    units = {unit_of(m) for m in graph.modules if m != "haoban"}
    return sorted(u for u in units if u not in ENTRY_UNITS and floor_of(u) is None)


def arrows_up(graph: Graph) -> list[Arrow]:
    out = []
    for a in graph.arrows:
        if a.source == "haoban" or is_entry(a.source) or a.target == "haoban":
            continue
        if is_entry(a.target):
            out.append(a)
            continue
        src, dst = floor_of(unit_of(a.source)), floor_of(unit_of(a.target))
        if src is not None and dst is not None and dst > src:
            out.append(a)
    return out


def circles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = graph.edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return sorted(out)


def report(graph: Graph, *, top: int = 5) -> dict[str, object]:
    largest = sorted(graph.sizes.items(), key=lambda kv: -kv[1])[:top]
    return {
        "modules": len(graph.modules),
        "arrows": len(graph.arrows),
        "circles": circles(graph),
        "arrows_up": [f"{a.source} -> {a.target} (line {a.line})" for a in arrows_up(graph)],
        "undeclared_units": undeclared(graph),
        "largest_files": [{"file": str(graph.modules[m].relative_to(ROOT)), "lines": n} for m, n in largest],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--src", type=Path, default=PACKAGE_DIR, help="the haoban package directory")
    args = parser.parse_args(argv)
    data = report(build(args.src))
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(f"{data['modules']} modules, {data['arrows']} import arrows")
        print(f"import circles: {len(data['circles'])}")  # type: ignore[arg-type]
        for c in data["circles"]:  # type: ignore[attr-defined]
            print("  " + " <-> ".join(c))
        print(f"arrows up: {len(data['arrows_up'])}")  # type: ignore[arg-type]
        for a in data["arrows_up"]:  # type: ignore[attr-defined]
            print("  " + a)
        if data["undeclared_units"]:
            print(f"units without a floor: {', '.join(data['undeclared_units'])}")  # type: ignore[arg-type]
        print("largest files:")
        for f in data["largest_files"]:  # type: ignore[attr-defined]
            print(f"  {f['lines']:5d}  {f['file']}")
    bad = data["circles"] or data["arrows_up"] or data["undeclared_units"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
