"""A bundle's process drawn as SVG from its BPMN diagram (BPMN DI), each task coloured by its state in
one application. A file without a diagram is laid out first (``haoban.bundles.layout``).

Who sees an application's states: staff who may see the application, or its applicant with the code
and phone digits. The bare process (no application) is public, as the 办事指南 is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from lxml import etree

from haoban.applications import access, registry
from haoban.applications.workflow import TASK_STATUS_LABELS, TaskStatus
from haoban.bundles.definitions import Definition
from haoban.bundles.layout import BPMN, BPMNDI, DC, DI, add_diagram
from haoban.deps import client_address
from haoban.errors import NotFound
from haoban.ratelimit import check_rate
from haoban.web import staff
from haoban.web.common import PageRoute, current_actor, lang_of, render, runtime

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Fill and stroke per task state (no state: not reached yet).
COLOURS: dict[str | None, tuple[str, str]] = {
    None: ("#ffffff", "#8a94a6"),
    "pending": ("#fff4d6", "#b07d00"),
    "accepted": ("#e3eefe", "#1f5fbf"),
    "correction": ("#fde2cf", "#b5530b"),
    "approved": ("#dff3e4", "#1e7b34"),
    "rejected": ("#fbe0e0", "#b42318"),
    "skipped": ("#eeeeee", "#777777"),
    "cancelled": ("#eeeeee", "#777777"),
}


@dataclass
class Shape:
    id: str
    kind: str  # task, parallel, exclusive, start, end, boundary, event
    name: str
    x: float
    y: float
    w: float
    h: float
    fill: str = "#ffffff"
    stroke: str = "#8a94a6"
    state: str | None = None
    state_text: str = ""
    lines: tuple[str, ...] = ()

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def _kind(tag: str) -> str:
    if tag == "userTask" or tag.endswith("Task"):
        return "task"
    if tag == "parallelGateway":
        return "parallel"
    if tag.endswith("Gateway"):
        return "exclusive"
    if tag == "startEvent":
        return "start"
    if tag == "endEvent":
        return "end"
    if tag == "boundaryEvent":
        return "boundary"
    return "event"


def _wrap(text: str, width: int) -> tuple[str, ...]:
    """Split a label into lines of about ``width`` characters (CJK counts 1, ASCII words kept whole)."""
    if not text:
        return ()
    if text.isascii():
        lines: list[str] = []
        for word in text.split():
            if lines and len(lines[-1]) + 1 + len(word) <= width * 2:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return tuple(lines[:3])
    return tuple(text[i : i + width] for i in range(0, len(text), width))[:3]


def diagram(definition: Definition, lang: str, states: dict[str, str]) -> dict[str, Any]:
    """Shapes, edges (as point lists) and the view box of ``definition``'s process."""
    xml = definition.files["process.bpmn"]
    if b"BPMNShape" not in xml:
        xml = add_diagram(xml)
    root = etree.fromstring(xml)
    process = root.find(f"{{{BPMN}}}process")
    elements: dict[str, tuple[str, str]] = {}
    if process is not None:
        for child in process:
            if isinstance(child.tag, str):
                elements[child.get("id", "")] = (etree.QName(child).localname, child.get("name") or "")
    shapes: list[Shape] = []
    for node in root.iter(f"{{{BPMNDI}}}BPMNShape"):
        ref = node.get("bpmnElement", "")
        bounds = node.find(f"{{{DC}}}Bounds")
        if bounds is None or ref not in elements:
            continue
        tag, name = elements[ref]
        kind = _kind(tag)
        if kind == "task" and ref in definition.tasks:
            td = definition.tasks[ref]
            name = (td.name_en or td.name) if lang == "en" else td.name
        shape = Shape(
            ref,
            kind,
            name,
            float(bounds.get("x", 0)),
            float(bounds.get("y", 0)),
            float(bounds.get("width", 0)),
            float(bounds.get("height", 0)),
        )
        if kind == "task":
            shape.state = states.get(ref)
            shape.fill, shape.stroke = COLOURS.get(shape.state, COLOURS[None])
            if shape.state:
                zh, en = TASK_STATUS_LABELS[TaskStatus(shape.state)]
                shape.state_text = en if lang == "en" else zh
            shape.lines = _wrap(name, max(4, int(shape.w // 15)))
        else:
            shape.lines = _wrap(name, 8)
        shapes.append(shape)
    edges: list[str] = []
    for edge in root.iter(f"{{{BPMNDI}}}BPMNEdge"):
        points = [(float(p.get("x", 0)), float(p.get("y", 0))) for p in edge.findall(f"{{{DI}}}waypoint")]
        if len(points) >= 2:
            edges.append(" ".join(f"{x:g},{y:g}" for x, y in points))
    xs = [s.x for s in shapes] + [s.x + s.w for s in shapes]
    ys = [s.y for s in shapes] + [s.y + s.h for s in shapes]
    box = (
        min(xs, default=0) - 20,
        min(ys, default=0) - 20,
        max(xs, default=100) + 20,
        max(ys, default=100) + 50,
    )
    # Tasks last: drawn above the flows and the boundary timers below them.
    shapes.sort(key=lambda s: {"task": 1, "boundary": 2}.get(s.kind, 0))
    return {
        "shapes": shapes,
        "edges": edges,
        "view_box": f"{box[0]:g} {box[1]:g} {box[2] - box[0]:g} {box[3] - box[1]:g}",
        "width": box[2] - box[0],
    }


@router.get("/bundles/{code}")
def process_page(request: Request, code: str) -> Response:
    rt = runtime(request)
    lang = lang_of(request)
    app_code = (request.query_params.get("app") or "").strip()[:24]
    last4 = (request.query_params.get("p") or "").strip()
    states: dict[str, str] = {}
    app_view: dict[str, Any] | None = None
    actor = current_actor(request)
    with rt.db.read() as session:
        if app_code:
            if actor is None or last4:
                check_rate(
                    rt.db,
                    scope="track",
                    client=client_address(request),
                    limit=rt.settings.track_rate_per_minute,
                )
                app = access.get_for_applicant(session, code=app_code, last4=last4)
            else:
                app = access.get_application(session, code=app_code, actor=actor)
            if app.bundle_code != code:
                raise NotFound(f"application {app_code} is not a {code} application")
            definition = registry.definition_by_id(session, rt, app.definition_id)
            states = {t.task_id: t.status for t in access.tasks_of(session, app)}
            app_view = {"code": app.code, "status": app.status}
        else:
            rows = registry.versions(session, code[:64])
            row = registry.require_latest(session, code[:64])
            wanted = request.query_params.get("version")
            if wanted and wanted.isdigit():
                row = next((r for r in rows if r.version == int(wanted)), row)
            definition = registry.definition_of(rt, row)
    legend = [
        (
            status.value,
            (en if lang == "en" else zh),
            COLOURS[status.value][0],
            COLOURS[status.value][1],
        )
        for status, (zh, en) in TASK_STATUS_LABELS.items()
        if status.value not in ("cancelled",)
    ]
    tasks = [
        {
            "id": t.id,
            "name": (t.name_en or t.name) if lang == "en" else t.name,
            "department": staff.dept_name(rt, t.department, lang),
            "promise": t.promise.label()[1 if lang == "en" else 0],
            "requires": sorted(t.requires),
            "state": states.get(t.id),
        }
        for t in definition.tasks.values()
    ]
    return render(
        request,
        "bundle_process.html",
        {
            "b": definition,
            "b_name": (definition.name_en or definition.name) if lang == "en" else definition.name,
            "b_promise": definition.promise.label()[1 if lang == "en" else 0],
            "d": diagram(definition, lang, states),
            "legend": legend,
            "tasks": tasks,
            "app": app_view,
            "last4": last4,
        },
    )
