"""Structural analysis of a bundle's sequence-flow graph (pure; no BPMN library).

The loader reduces a BPMN process to nodes (id → kind) and directed edges, then asks this module
the questions a modeller does not: can every element be reached from the start, can every element
reach an end, does every parallel split join again (and only with a parallel join), which tasks
are certain to have finished before a given task starts. The graphs are small (tens of nodes), so
the plain iterative algorithms below are fast enough and easy to check.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["FlowGraph", "NodeKind"]

NodeKind = str  # "start", "end", "task", "parallel", "exclusive", "throw", "catch"

_EXIT = "\x00exit"  # virtual node after every end, so post-dominators exist for any shape


@dataclass
class FlowGraph:
    """Nodes and sequence flows of the main path (boundary branches are kept apart)."""

    kinds: dict[str, NodeKind] = field(default_factory=dict)
    succ: dict[str, list[str]] = field(default_factory=dict)
    pred: dict[str, list[str]] = field(default_factory=dict)

    def add_node(self, node: str, kind: NodeKind) -> None:
        self.kinds[node] = kind
        self.succ.setdefault(node, [])
        self.pred.setdefault(node, [])

    def add_edge(self, source: str, target: str) -> None:
        self.succ.setdefault(source, []).append(target)
        self.pred.setdefault(target, []).append(source)

    # -- reachability -----------------------------------------------------------------------

    def reachable_from(self, roots: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        queue = deque(roots)
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            queue.extend(self.succ.get(node, ()))
        return seen

    def reaching(self, targets: Iterable[str]) -> set[str]:
        seen: set[str] = set()
        queue = deque(targets)
        while queue:
            node = queue.popleft()
            if node in seen:
                continue
            seen.add(node)
            queue.extend(self.pred.get(node, ()))
        return seen

    def find_cycle(self) -> list[str] | None:
        """One cycle as a list of node ids, or None when the graph is acyclic."""
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(self.kinds, white)
        stack: list[str] = []

        def visit(node: str) -> list[str] | None:
            colour[node] = grey
            stack.append(node)
            for nxt in self.succ.get(node, ()):
                if colour.get(nxt) == grey:
                    return [*stack[stack.index(nxt) :], nxt]
                if colour.get(nxt) == white:
                    found = visit(nxt)
                    if found:
                        return found
            stack.pop()
            colour[node] = black
            return None

        for node in self.kinds:
            if colour[node] == white:
                found = visit(node)
                if found:
                    return found
        return None

    def topological(self) -> list[str]:
        indegree = {n: len(self.pred.get(n, ())) for n in self.kinds}
        queue = deque(n for n, d in indegree.items() if d == 0)
        order: list[str] = []
        while queue:
            node = queue.popleft()
            order.append(node)
            for nxt in self.succ.get(node, ()):
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    queue.append(nxt)
        return order

    # -- dominators ---------------------------------------------------------------------------

    @staticmethod
    def _dominators(nodes: list[str], root: str, preds: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
        """Classic iterative data-flow dominators over ``nodes`` (all reachable from ``root``)."""
        universe = set(nodes)
        dom = {n: set(universe) for n in nodes}
        dom[root] = {root}
        changed = True
        while changed:
            changed = False
            for node in nodes:
                if node == root:
                    continue
                ps = [dom[p] for p in preds.get(node, ()) if p in dom]
                new = set.intersection(*ps) if ps else set()
                new = new | {node}
                if new != dom[node]:
                    dom[node] = new
                    changed = True
        return dom

    @staticmethod
    def _immediate(dom: Mapping[str, set[str]], node: str) -> str | None:
        strict = dom[node] - {node}
        # The immediate dominator is the strict dominator dominated by all the others.
        for cand in strict:
            if all(other in dom[cand] for other in strict):
                return cand
        return None

    def immediate_dominators(self, start: str) -> dict[str, str | None]:
        nodes = [n for n in self.topological() if n in self.reachable_from([start])]
        dom = self._dominators(nodes, start, self.pred)
        return {n: self._immediate(dom, n) for n in nodes}

    def immediate_post_dominators(self, ends: Iterable[str]) -> dict[str, str | None]:
        """Post-dominators towards a virtual exit that follows every end (``None`` = only the exit)."""
        ends = list(ends)
        rpred: dict[str, list[str]] = {n: list(self.succ.get(n, ())) for n in self.kinds}
        for end in ends:
            rpred[end] = [*rpred[end], _EXIT]
        reaching = self.reaching(ends)
        order = [n for n in reversed(self.topological()) if n in reaching]
        nodes = [_EXIT, *order]
        dom = self._dominators(nodes, _EXIT, rpred)
        result: dict[str, str | None] = {}
        for n in order:
            ipdom = self._immediate(dom, n)
            result[n] = None if ipdom == _EXIT else ipdom
        return result

    # -- what is certain to have run ------------------------------------------------------------

    def certain_before(self) -> dict[str, set[str]]:
        """For each node, the nodes that have certainly completed whenever it is reached.

        A node after a parallel join inherits from *all* branches (every branch ran); after an
        exclusive merge only what *every* branch shares. Assumes an acyclic, validated graph.
        """
        before: dict[str, set[str]] = {}
        for node in self.topological():
            preds = self.pred.get(node, ())
            if not preds:
                before[node] = set()
                continue
            sets = [before.get(p, set()) | {p} for p in preds]
            if self.kinds.get(node) == "parallel":
                before[node] = set().union(*sets)
            else:
                before[node] = set.intersection(*sets)
        return before

    def ancestors(self, node: str) -> set[str]:
        return self.reaching([node]) - {node}
