"""Lay out a BPMN process left to right and write its diagram (BPMN DI), so modellers can open it.

A hand-written or generated ``process.bpmn`` has no diagram; bpmn.io, Camunda Modeler and the
SpiffWorkflow modeller need one to show anything. ``add_diagram`` places every flow node on a
column by its longest distance from the start, stacks the nodes of a column, hangs boundary
timers under their task with their branch below, and routes flows with right angles. It replaces
any diagram already in the file and leaves the process itself untouched.

Command line: ``python -m haoban.bundles.layout path/to/process.bpmn`` rewrites the file in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lxml import etree

__all__ = ["add_diagram"]

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"

_SIZE = {"task": (110, 80), "gateway": (50, 50), "event": (36, 36)}
_COLUMN = 190
_ROW = 150
_MARGIN = 60


def _kind(tag: str) -> str:
    if tag.endswith("Task"):
        return "task"
    if tag.endswith("Gateway"):
        return "gateway"
    return "event"


def add_diagram(xml: bytes) -> bytes:
    root = etree.fromstring(xml)
    process = root.find(f"{{{BPMN}}}process")
    if process is None:
        raise ValueError("no bpmn:process")
    for old in root.findall(f"{{{BPMNDI}}}BPMNDiagram"):
        root.remove(old)

    nodes: dict[str, str] = {}
    boundary: dict[str, str] = {}
    flows: list[tuple[str, str, str]] = []
    for child in process:
        if not isinstance(child.tag, str):
            continue
        tag = etree.QName(child).localname
        if tag == "sequenceFlow":
            flows.append((child.get("id"), child.get("sourceRef"), child.get("targetRef")))
        elif tag == "boundaryEvent":
            boundary[child.get("id")] = child.get("attachedToRef")
        elif tag.endswith(("Task", "Gateway", "Event")):
            nodes[child.get("id")] = _kind(tag)

    succ: dict[str, list[str]] = {n: [] for n in [*nodes, *boundary]}
    pred: dict[str, list[str]] = {n: [] for n in [*nodes, *boundary]}
    for _fid, src, tgt in flows:
        succ.setdefault(src, []).append(tgt)
        pred.setdefault(tgt, []).append(src)

    # Boundary branches: everything reachable from a boundary event only.
    side: dict[str, str] = {}
    for bid, task in boundary.items():
        stack = list(succ.get(bid, []))
        while stack:
            cur = stack.pop()
            if cur not in side:
                side[cur] = task
                stack.extend(succ.get(cur, []))

    main = [n for n in nodes if n not in side]
    column: dict[str, int] = {}
    order: list[str] = []
    indeg = {n: len([p for p in pred.get(n, []) if p in main]) for n in main}
    ready = [n for n in main if indeg[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        column.setdefault(n, 0)
        for m in succ.get(n, []):
            if m in indeg:
                column[m] = max(column.get(m, 0), column[n] + 1)
                indeg[m] -= 1
                if indeg[m] == 0:
                    ready.append(m)
    rows: dict[int, list[str]] = {}
    for n in order:
        rows.setdefault(column[n], []).append(n)
    # Keep a branch on one row: a node takes its predecessor's row when it is free.
    row_of: dict[str, int] = {}
    fanned: dict[str, int] = {}
    for col in sorted(rows):
        taken: set[int] = set()
        for n in rows[col]:
            preds = [row_of[p] for p in pred.get(n, []) if p in row_of]
            want = min(preds) if preds else 0
            if len(preds) > 1:
                want = round(sum(preds) / len(preds))
            elif n in fanned:
                want = fanned[n]
            while want in taken:
                want += 1
            taken.add(want)
            row_of[n] = want
        # Fan-out: successors of a split get consecutive rows from the split's row.
        for n in rows[col]:
            outs = [m for m in succ.get(n, []) if m in column]
            if len(outs) > 1:
                base = row_of[n] - (len(outs) - 1) // 2
                for i, m in enumerate(sorted(outs, key=order.index)):
                    fanned.setdefault(m, max(0, base + i) if base >= 0 else i)

    centre: dict[str, tuple[float, float]] = {}
    for n in main:
        centre[n] = (_MARGIN + 60 + column[n] * _COLUMN, _MARGIN + 60 + row_of[n] * _ROW)
    # Boundary events sit on the bottom edge of their task; their short branch (督办) hangs in the
    # gap below and to the right, clear of the next row and column.
    for bid, task in boundary.items():
        tx, ty = centre[task]
        centre[bid] = (tx + 30, ty + _SIZE["task"][1] / 2)
        branch = [n for n, t in side.items() if t == task]
        for j, n in enumerate(branch):
            centre[n] = (tx + 100 + j * 60, ty + _SIZE["task"][1] / 2 + 38)

    diagram = etree.SubElement(root, f"{{{BPMNDI}}}BPMNDiagram", id="diagram")
    plane = etree.SubElement(diagram, f"{{{BPMNDI}}}BPMNPlane", id="plane", bpmnElement=process.get("id"))
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for n, (cx, cy) in centre.items():
        w, h = _SIZE["event"] if n in boundary else _SIZE[nodes.get(n, "event")]
        x, y = cx - w / 2, cy - h / 2
        bounds[n] = (x, y, w, h)
        shape = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNShape", id=f"{n}_di", bpmnElement=n)
        if nodes.get(n) == "gateway":
            shape.set("isMarkerVisible", "true")
        etree.SubElement(shape, f"{{{DC}}}Bounds", x=f"{x:g}", y=f"{y:g}", width=f"{w:g}", height=f"{h:g}")
    for fid, src, tgt in flows:
        sx, sy, sw, sh = bounds[src]
        tx, ty, tw, th = bounds[tgt]
        if src in boundary:
            points = [(sx + sw / 2, sy + sh), (sx + sw / 2, ty + th / 2), (tx, ty + th / 2)]
        else:
            start = (sx + sw, sy + sh / 2)
            end = (tx, ty + th / 2)
            skip = src in column and tgt in column and column[tgt] > column[src] + 1
            if skip and abs(start[1] - end[1]) < 1:
                # A flow that jumps columns on the same row would run through the nodes between:
                # route it above the row.
                above = start[1] - _ROW / 2
                points = [(sx + sw / 2, sy), (sx + sw / 2, above), (tx + tw / 2, above), (tx + tw / 2, ty)]
            elif abs(start[1] - end[1]) < 1:
                points = [start, end]
            elif nodes.get(src) == "gateway":
                points = [(sx + sw / 2, sy + (sh if end[1] > start[1] else 0)), (sx + sw / 2, end[1]), end]
            else:
                points = [start, (tx - 30, start[1]), (tx - 30, end[1]), end]
        edge = etree.SubElement(plane, f"{{{BPMNDI}}}BPMNEdge", id=f"{fid}_di", bpmnElement=fid)
        for px, py in points:
            etree.SubElement(edge, f"{{{DI}}}waypoint", x=f"{px:g}", y=f"{py:g}")
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def main(argv: list[str]) -> int:
    for arg in argv:
        path = Path(arg)
        path.write_bytes(add_diagram(path.read_bytes()))
        print(f"laid out {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
