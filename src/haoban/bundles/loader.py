"""Load a bundle: validate its four files and build its ``Definition`` (format: ``definitions``).

Checks run file by file and collect every problem they can before stopping, so an analyst fixes a
definition in one round. The order: the small files (bundle.yaml, form.schema.json, mapping.yaml
syntax), the BPMN XML against the BPMN 2.0 schema, the elements a bundle may use, the graph
(reachability, flows per element, loops, joins), the user tasks (item, department, promise), the
mapping (sources exist and are certain to be there), the expressions (conditions, timers), and
last SpiffWorkflow's own parser.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from haoban.bundles import expressions, forms
from haoban.bundles.definitions import (
    DEFINITIONS_DIR,
    FILES,
    Definition,
    DefinitionError,
    Material,
    Problem,
    Promise,
    Source,
    TaskDef,
    shipped_items,
)
from haoban.bundles.graph import FlowGraph
from haoban.bundles.messages import say
from haoban.bundles.spiff import BundleParser

__all__ = ["digest", "load_definition", "load_definition_dir", "load_shipped"]

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
PROPERTY_NS = ("http://spiffworkflow.org/bpmn/schema/1.0/core", "http://camunda.org/schema/1.0/bpmn")
NS = {"bpmn": BPMN_NS}
ESCALATION_CODE = "duban"
DELIVERY_MESSAGE = "delivery"
BPMN = "process.bpmn"
MAPPING = "mapping.yaml"

_IGNORED = {
    "laneSet", "dataObject", "dataObjectReference", "dataStoreReference", "textAnnotation", "association",
    "documentation", "extensionElements", "ioSpecification", "property", "group", "category",
}  # fmt: skip
_REFUSED = {
    "scriptTask": ("脚本任务", "script tasks"),
    "serviceTask": ("服务任务", "service tasks"),
    "sendTask": ("发送任务", "send tasks"),
    "receiveTask": ("接收任务", "receive tasks"),
    "manualTask": ("手工任务", "manual tasks"),
    "businessRuleTask": ("业务规则任务", "business rule tasks"),
    "task": ("未指定类型的任务（请用用户任务）", "untyped tasks (use a user task)"),
    "callActivity": ("调用活动", "call activities"),
    "subProcess": (
        "子流程（一件事的总时限写在 bundle.yaml 的 promise）",
        "sub-processes (the bundle's own promise goes in bundle.yaml)",
    ),
    "transaction": ("事务子流程", "transactions"),
    "adHocSubProcess": ("自由子流程", "ad-hoc sub-processes"),
    "inclusiveGateway": (
        "包容网关（请用并行网关加排他网关）",
        "inclusive gateways (use parallel plus exclusive)",
    ),
    "eventBasedGateway": ("事件网关", "event-based gateways"),
    "complexGateway": ("复杂网关", "complex gateways"),
}


def digest(files: Mapping[str, bytes]) -> str:
    """sha256 over the four files (name, length, bytes), the identity a running instance pins."""
    h = hashlib.sha256()
    for name in FILES:
        data = files[name]
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def load_definition(
    *,
    files: Mapping[str, bytes | str],
    version: int,
    known_items: Mapping[str, str],
    known_departments: Collection[str] | None = None,
) -> Definition:
    """Validate the four files and build a runnable definition, or raise ``DefinitionError``.

    ``known_items`` maps each catalogue item code to its department code; a task naming another
    item, or another department than the item's, is refused. ``known_departments`` (optional) is the
    directory's department codes. ``version`` is the registry's number for this upload.
    """
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("version must be a positive integer")
    problems = [Problem(name, "", *say("file_missing")) for name in FILES if name not in files]
    problems += [
        Problem(name, "", *say("file_unknown", files=", ".join(FILES))) for name in files if name not in FILES
    ]
    if problems:
        raise DefinitionError(problems)
    raw = {
        name: files[name].encode("utf-8") if isinstance(files[name], str) else bytes(files[name])
        for name in FILES
    }
    return _Validator(raw, version, known_items, known_departments).run()


def load_definition_dir(
    path: Path | str,
    *,
    version: int = 1,
    known_items: Mapping[str, str],
    known_departments: Collection[str] | None = None,
) -> Definition:
    """Load a definition from a directory holding the four files (other files are ignored)."""
    directory = Path(path)
    files = {name: (directory / name).read_bytes() for name in FILES if (directory / name).is_file()}
    return load_definition(
        files=files, version=version, known_items=known_items, known_departments=known_departments
    )


def load_shipped(
    *, known_items: Mapping[str, str] | None = None, known_departments: Collection[str] | None = None
) -> dict[str, Definition]:
    """Every shipped bundle (as version 1), by code; items default to ``definitions/ITEMS.yaml``."""
    items = known_items if known_items is not None else {i["code"]: i["department"] for i in shipped_items()}
    result: dict[str, Definition] = {}
    for directory in sorted(p for p in DEFINITIONS_DIR.iterdir() if (p / "bundle.yaml").is_file()):
        definition = load_definition_dir(directory, known_items=items, known_departments=known_departments)
        result[definition.code] = definition
    return result


@dataclass
class _Node:
    id: str
    tag: str
    kind: str
    element: Any
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)

    @property
    def line(self) -> int | None:
        return self.element.sourceline


@dataclass
class _Process:
    element: Any
    nodes: dict[str, _Node]
    flows: list[tuple[str, str, str, Any]]  # (id, source, target, element)


class _Validator:
    def __init__(
        self,
        files: dict[str, bytes],
        version: int,
        known_items: Mapping[str, str],
        known_departments: Collection[str] | None,
    ) -> None:
        self.files = files
        self.version = version
        self.known_items = known_items
        self.known_departments = set(known_departments) if known_departments is not None else None
        self.problems: list[Problem] = []

    def problem(
        self, file: str, element: str, message: str, /, *, line: int | None = None, **params: Any
    ) -> None:
        zh, en = say(message, **params)
        self.problems.append(Problem(file, element, zh, en, line))

    def raw(self, file: str, element: str, zh: str, en: str, line: int | None = None) -> None:
        self.problems.append(Problem(file, element, zh, en, line))

    def stop(self) -> None:
        if self.problems:
            raise DefinitionError(self.problems)

    # -- the small files ------------------------------------------------------------------------

    def yaml_file(self, name: str) -> Any:
        try:
            data = yaml.safe_load(self.files[name].decode("utf-8"))
        except UnicodeDecodeError:
            self.problem(name, "", "not_utf8")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.problem(name, "", "bad_yaml", line=mark.line + 1 if mark is not None else None, error=exc)
            return None
        if not isinstance(data, Mapping):
            self.problem(name, "", "not_mapping")
            return None
        return data

    def bundle_meta(self) -> dict[str, Any]:
        data = self.yaml_file("bundle.yaml")
        if data is None:
            return {}
        meta: dict[str, Any] = {}
        code = data.get("code")
        if (
            not isinstance(code, str)
            or not code.isascii()
            or not code.replace("_", "").replace("-", "").isalnum()
        ):
            self.problem("bundle.yaml", "code", "bad_code")
        meta["code"] = code
        for key in ("name", "name_en", "description", "description_en"):
            value = data.get(key)
            if key.startswith("name") and (not isinstance(value, str) or not value.strip()):
                self.problem("bundle.yaml", key, "required")
            meta[key] = str(value or "").strip()
        try:
            meta["promise"] = Promise.parse(data.get("promise"))
        except ValueError as exc:
            self.problem("bundle.yaml", "promise", "bad_promise", error=exc)
        materials: dict[str, Material] = {}
        for idx, m in enumerate(data.get("materials") or []):
            where = f"materials[{idx}]"
            if not isinstance(m, Mapping) or not isinstance(m.get("key"), str) or not m.get("name"):
                self.problem("bundle.yaml", where, "bad_material")
                continue
            if m["key"] in materials:
                self.problem("bundle.yaml", where, "duplicate_material", key=m["key"])
            name = str(m["name"])
            kind = m.get("licence_kind")
            if kind is not None and not isinstance(kind, str):
                self.problem("bundle.yaml", f"{where}.licence_kind", "item_unknown", item=kind)
            holder = None
            if m.get("holder") is not None:
                try:
                    holder = Source.parse(m.get("holder"))
                except ValueError as exc:
                    self.problem("bundle.yaml", f"materials.{m['key']}.holder", "bad_source", error=exc)
                else:
                    if holder.root != "form" or not kind:
                        self.problem("bundle.yaml", f"materials.{m['key']}.holder", "material_holder")
                        holder = None
            materials[m["key"]] = Material(
                m["key"],
                name,
                str(m.get("name_en") or name),
                bool(m.get("required", True)),
                str(kind) if kind else None,
                holder,
            )
        meta["materials"] = materials
        return meta

    def form_schema(self) -> dict[str, Any] | None:
        try:
            schema = json.loads(self.files["form.schema.json"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.problem("form.schema.json", "", "bad_json", line=getattr(exc, "lineno", None), error=exc)
            return None
        found = forms.check_schema(schema)
        for p in found:
            self.raw("form.schema.json", p.field, p.zh, p.en)
        return None if found else schema

    # -- BPMN: the file and its elements ----------------------------------------------------------

    def parse_xml(self) -> Any:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            root = etree.fromstring(self.files[BPMN], parser)
        except etree.XMLSyntaxError as exc:
            self.problem(BPMN, "", "bad_xml", line=getattr(exc, "lineno", None), error=exc.msg)
            return None
        if root.tag != f"{{{BPMN_NS}}}definitions":
            self.problem(BPMN, str(root.tag), "not_definitions")
            return None
        try:
            VALIDATOR.validate(root, BPMN)
        except ValidationException as exc:
            element = ""
            error = VALIDATOR.validator.error_log.last_error
            if error is not None and error.path:
                try:
                    found = root.getroottree().xpath(error.path)
                    if found and hasattr(found[0], "get"):
                        element = found[0].get("id") or etree.QName(found[0]).localname
                except etree.XPathError:
                    element = ""
            self.problem(
                BPMN, element, "not_bpmn", line=exc.line_number or None, error=str(exc).split(". ")[0]
            )
            return None
        return root

    @staticmethod
    def properties(element: Any) -> dict[str, str]:
        props: dict[str, str] = {}
        for ns in PROPERTY_NS:
            for prop in element.iterfind(
                f"{{{BPMN_NS}}}extensionElements/{{{ns}}}properties/{{{ns}}}property"
            ):
                name, value = prop.get("name"), prop.get("value")
                if name is not None and value is not None:
                    props[name] = value
        return props

    def process(self, root: Any) -> _Process | None:
        executable = [
            p for p in root.findall("bpmn:process", NS) if p.get("isExecutable", "true").lower() == "true"
        ]
        if len(executable) != 1:
            self.problem(BPMN, "", "process_count", count=len(executable))
            return None
        process = executable[0]
        escalations = {e.get("id"): e.get("escalationCode") for e in root.findall("bpmn:escalation", NS)}
        messages = {m.get("id"): m.get("name") for m in root.findall("bpmn:message", NS)}
        nodes: dict[str, _Node] = {}
        flows: list[tuple[str, str, str, Any]] = []
        for child in process:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN_NS:
                continue
            tag, eid = etree.QName(child).localname, child.get("id") or ""
            if tag in _IGNORED:
                continue
            if tag in _REFUSED:
                zh, en = _REFUSED[tag]
                self.problem(BPMN, eid, "unsupported", line=child.sourceline, what_zh=zh, what_en=en)
            elif tag == "sequenceFlow":
                flows.append((eid, child.get("sourceRef") or "", child.get("targetRef") or "", child))
            elif (kind := self.classify(child, tag, eid, escalations, messages)) is not None:
                nodes[eid] = _Node(eid, tag, kind, child)
        for fid, src, tgt, _el in flows:
            if src not in nodes or tgt not in nodes:
                self.problem(BPMN, fid, "flow_dangling", node=src if src not in nodes else tgt)
                continue
            nodes[src].outgoing.append(fid)
            nodes[tgt].incoming.append(fid)
        return _Process(process, nodes, flows)

    def classify(self, el: Any, tag: str, eid: str, escalations: dict, messages: dict) -> str | None:
        line = el.sourceline
        defs = [
            etree.QName(c).localname
            for c in el
            if isinstance(c.tag, str) and etree.QName(c).localname.endswith("EventDefinition")
        ]
        if tag == "userTask":
            return "task"
        if tag in ("parallelGateway", "exclusiveGateway"):
            return tag.removesuffix("Gateway")
        if tag == "startEvent":
            if defs:
                self.problem(BPMN, eid, "start_typed", line=line)
                return None
            return "start"
        if tag in ("endEvent", "intermediateThrowEvent"):
            if len(defs) > 1 or (
                defs and defs[0] not in ("escalationEventDefinition", "messageEventDefinition")
            ):
                self.problem(BPMN, eid, "throw_kind", line=line)
                return None
            if defs == ["escalationEventDefinition"]:
                ref = el.find("bpmn:escalationEventDefinition", NS).get("escalationRef")
                if escalations.get(ref) != ESCALATION_CODE:
                    self.problem(BPMN, eid, "escalation_code", line=line, code=ESCALATION_CODE)
                    return None
                return "escalation"
            if defs == ["messageEventDefinition"]:
                ref = el.find("bpmn:messageEventDefinition", NS).get("messageRef")
                if messages.get(ref) != DELIVERY_MESSAGE:
                    self.problem(BPMN, eid, "message_name", line=line, name=DELIVERY_MESSAGE)
                    return None
                return "delivery"
            return "end" if tag == "endEvent" else "throw"
        if tag in ("boundaryEvent", "intermediateCatchEvent"):
            if defs != ["timerEventDefinition"]:
                self.problem(BPMN, eid, "timer_only", line=line)
                return None
            if tag == "boundaryEvent" and el.get("cancelActivity", "true").lower() != "false":
                self.problem(BPMN, eid, "timer_interrupting", line=line)
                return None
            return "boundary" if tag == "boundaryEvent" else "wait"
        self.problem(BPMN, eid, "unsupported_tag", line=line, tag=tag)
        return None

    # -- BPMN: the graph --------------------------------------------------------------------------

    def structure(self, proc: _Process) -> tuple[FlowGraph, dict[str, str]]:
        nodes = proc.nodes
        flow_ends = {fid: (src, tgt) for fid, src, tgt, _ in proc.flows}
        starts = [n for n in nodes.values() if n.kind == "start"]
        if len(starts) != 1:
            self.problem(BPMN, "", "start_count", count=len(starts))
        boundary_of: dict[str, str] = {}
        for n in nodes.values():
            if n.kind == "boundary":
                attached = n.element.get("attachedToRef")
                if attached not in nodes or nodes[attached].kind != "task":
                    self.problem(BPMN, n.id, "boundary_not_on_task", line=n.line)
                else:
                    boundary_of[n.id] = attached
        self.stop()

        # The main graph leaves out boundary branches: they are side tokens that never join.
        side: set[str] = set()
        queue = list(boundary_of)
        while queue:
            cur = queue.pop()
            if cur not in side:
                side.add(cur)
                queue.extend(flow_ends[fid][1] for fid in nodes[cur].outgoing)
        main = FlowGraph()
        for n in nodes.values():
            if n.id not in side:
                main.add_node(n.id, n.kind)
        for fid, (src, tgt) in flow_ends.items():
            if (src in side) != (tgt in side):
                self.problem(BPMN, fid, "timer_branch_joins")
            elif src not in side:
                main.add_edge(src, tgt)
        self.stop()

        # Unreachable elements first: that is the real reason, whatever their flows look like.
        reachable = main.reachable_from([starts[0].id])
        for node in main.kinds:
            if node not in reachable:
                key = "unreachable_end" if nodes[node].tag == "endEvent" else "unreachable"
                self.problem(BPMN, node, key, line=nodes[node].line)
        for n in nodes.values():
            if n.id not in reachable and n.id not in side:
                continue
            n_in, n_out = len(n.incoming), len(n.outgoing)
            if n.kind == "boundary":
                ok, key = n_out == 1, "boundary_flows"
            elif n.kind == "start":
                ok, key = n_in == 0 and n_out == 1, "flows_start"
            elif n.tag == "endEvent":
                ok, key = n_in >= 1 and n_out == 0, "flows_end"
            elif n.kind in ("parallel", "exclusive"):
                ok, key = (n_in == 1 and n_out >= 2) or (n_in >= 2 and n_out == 1), "flows_gateway"
            else:
                ok, key = n_in == 1 and n_out == 1, "flows_node"
            if not ok:
                self.problem(BPMN, n.id, key, line=n.line)
            if n.id in side and n.kind not in ("boundary", "escalation", "end", "throw"):
                self.problem(BPMN, n.id, "timer_branch_content", line=n.line)
        self.stop()

        cycle = main.find_cycle()
        if cycle:
            self.problem(BPMN, cycle[0], "loop", path=" → ".join(cycle))
            self.stop()
        ends = [n for n in main.kinds if nodes[n].tag == "endEvent"]
        to_end = main.reaching(ends)
        for node in main.kinds:
            if node not in to_end:
                self.problem(BPMN, node, "no_end", line=nodes[node].line)
        self.stop()

        idom = main.immediate_dominators(starts[0].id)
        ipdom = main.immediate_post_dominators(ends)
        for node, kind in main.kinds.items():
            if kind != "parallel":
                continue
            if len(main.succ[node]) > 1:
                join = ipdom.get(node)
                if join is None or main.kinds.get(join) != "parallel" or len(main.pred[join]) < 2:
                    self.problem(BPMN, node, "split_never_joins", line=nodes[node].line)
            else:
                split = idom.get(node)
                if split is None or main.kinds.get(split) != "parallel" or len(main.succ[split]) < 2:
                    self.problem(BPMN, node, "join_waits_forever", line=nodes[node].line)
        self.stop()
        return main, boundary_of

    # -- user tasks ---------------------------------------------------------------------------------

    def user_tasks(self, proc: _Process, task_ids: list[str]) -> dict[str, dict[str, str]]:
        props_by_task: dict[str, dict[str, str]] = {}
        for tid in task_ids:
            el = proc.nodes[tid].element
            props = props_by_task[tid] = self.properties(el)
            line = el.sourceline
            item, dept = props.get("item"), props.get("department")
            if not item:
                self.problem(BPMN, tid, "task_no_item", line=line)
            elif item not in self.known_items:
                self.problem(BPMN, tid, "item_unknown", line=line, item=item)
            owner = self.known_items.get(item or "")
            if not dept:
                self.problem(BPMN, tid, "task_no_department", line=line)
            elif owner and owner != dept:
                self.problem(
                    BPMN, tid, "department_mismatch", line=line, item=item, owner=owner, department=dept
                )
            elif self.known_departments is not None and dept not in self.known_departments:
                self.problem(BPMN, tid, "department_unknown", line=line, department=dept)
            region = props.get("region")
            if region is not None and not (region.isdigit() and 6 <= len(region) <= 12):
                self.problem(BPMN, tid, "task_region", line=line, region=region)
            try:
                Promise.parse(props.get("promise"))
            except ValueError as exc:
                self.problem(BPMN, tid, "task_promise", line=line, error=exc)
            if not (el.get("name") or "").strip():
                self.problem(BPMN, tid, "task_no_name", line=line)
        if not task_ids:
            self.problem(BPMN, "", "no_tasks")
        self.stop()
        return props_by_task

    # -- mapping --------------------------------------------------------------------------------------

    def result_schemas(self, tasks_map: Any, task_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not isinstance(tasks_map, Mapping):
            self.problem(MAPPING, "tasks", "mapping_tasks")
            self.stop()
        for key in tasks_map:
            if key not in task_ids:
                self.problem(MAPPING, f"tasks.{key}", "mapping_no_task", task=key)
        schemas: dict[str, dict[str, Any]] = {}
        for tid in task_ids:
            entry = tasks_map.get(tid)
            if not isinstance(entry, Mapping):
                self.problem(MAPPING, f"tasks.{tid}", "mapping_missing")
                continue
            schema = entry.get("result_schema", {"type": "object"})
            found = forms.check_schema(schema)
            for p in found:
                self.raw(MAPPING, f"tasks.{tid}.result_schema.{p.field}".rstrip("."), p.zh, p.en)
            if not found:
                schemas[tid] = schema
        self.stop()
        return schemas

    def source(
        self,
        where: str,
        text: Any,
        before: set[str],
        ctx: _Context,
    ) -> Source | None:
        try:
            source = Source.parse(text)
        except ValueError as exc:
            self.problem(MAPPING, where, "bad_source", error=exc)
            return None
        dotted = ".".join(source.path)
        if source.root == "form":
            if source.path not in ctx.form_paths:
                self.problem(MAPPING, where, "source_form", field=dotted)
        elif source.root == "materials":
            if len(source.path) != 1 or source.path[0] not in ctx.materials:
                self.problem(MAPPING, where, "source_material", key=dotted)
        elif len(source.path) != 2:
            self.problem(MAPPING, where, "source_result_shape")
        else:
            task, key = source.path
            if task not in ctx.result_schemas:
                self.problem(MAPPING, where, "mapping_no_task", task=task)
            elif task not in before:
                self.problem(MAPPING, where, "source_not_before", task=task)
            elif key not in (ctx.result_schemas[task].get("properties") or {}):
                self.problem(MAPPING, where, "no_result_field", task=task, key=key)
        return source

    def holder(
        self, where: str, raw: Any, before: set[str], ctx: _Context, own: Mapping[str, Any]
    ) -> dict[str, Source] | None:
        """A task's licence holder: ``id`` and ``name``, each from the form, this task's own result
        (``result.<key>``) or the result of a task certain to be done before it."""
        if raw is None:
            return None
        if not isinstance(raw, Mapping) or set(raw) != {"id", "name"}:
            self.problem(MAPPING, where, "holder_shape")
            return None
        out: dict[str, Source] = {}
        for part in ("id", "name"):
            text = raw[part]
            if isinstance(text, str) and text.startswith("result."):
                key = text.removeprefix("result.")
                if key not in (own.get("properties") or {}):
                    self.problem(MAPPING, f"{where}.{part}", "holder_result", key=key)
                else:
                    out[part] = Source("result", (key,))
                continue
            source = self.source(f"{where}.{part}", text, before, ctx)
            if source is not None and source.root == "materials":
                self.problem(MAPPING, f"{where}.{part}", "holder_source")
            elif source is not None:
                out[part] = source
        return out if len(out) == 2 else None

    # -- expressions ------------------------------------------------------------------------------

    def condition(self, element: str, text: str | None, before: set[str], ctx: _Context) -> None:
        _tree, refs, problem = expressions.check_expression(text, functions=expressions.CONDITION_FUNCTIONS)
        if problem is not None:
            self.problem(BPMN, element, "bad_condition", zh=problem.zh, en=problem.en)
            return
        for ref in refs:
            if ref.root == "form" and ref.path not in ctx.form_paths:
                self.problem(BPMN, element, "condition_form", field=".".join(ref.path))
            elif ref.root == "materials" and (len(ref.path) != 1 or ref.path[0] not in ctx.materials):
                self.problem(BPMN, element, "condition_material", key=".".join(ref.path))
            elif ref.root == "results":
                task = ref.path[0]
                if task not in ctx.result_schemas:
                    self.problem(BPMN, element, "condition_task", task=task)
                elif task not in before:
                    self.problem(BPMN, element, "condition_not_before", task=task)
                elif len(ref.path) > 1 and ref.path[1] not in (
                    ctx.result_schemas[task].get("properties") or {}
                ):
                    self.problem(BPMN, element, "no_result_field", task=task, key=ref.path[1])

    def timer(self, node: _Node) -> None:
        date = node.element.find("bpmn:timerEventDefinition/bpmn:timeDate", NS)
        if date is None:
            self.problem(BPMN, node.id, "timer_not_date", line=node.line)
            return
        tree, _refs, problem = expressions.check_expression(date.text, functions=expressions.TIMER_FUNCTIONS)
        body = tree.body if tree is not None else None
        ok = problem is None and isinstance(body, ast.Call) and isinstance(body.func, ast.Name)
        if ok and body.func.id == "promise":
            ok = not body.args and node.kind == "boundary"
        elif ok:
            arg = body.args[0] if len(body.args) == 1 else None
            ok = (
                isinstance(arg, ast.Constant)
                and isinstance(arg.value, int | float)
                and not isinstance(arg.value, bool)
                and 0 <= arg.value <= 3660
            )
        if not ok:
            self.problem(BPMN, node.id, "timer_value", line=node.line)

    # -- the whole run ----------------------------------------------------------------------------

    def run(self) -> Definition:
        meta = self.bundle_meta()
        schema = self.form_schema()
        mapping = self.yaml_file(MAPPING)
        root = self.parse_xml()
        self.stop()
        proc = self.process(root)
        self.stop()
        assert proc is not None and schema is not None and mapping is not None
        graph, boundary_of = self.structure(proc)
        nodes = proc.nodes

        certain = graph.certain_before()
        task_ids = [n for n in graph.topological() if graph.kinds[n] == "task"]
        props = self.user_tasks(proc, task_ids)
        tasks_map = mapping.get("tasks")
        ctx = _Context(
            form_paths={tuple(p) for p in forms.schema_paths(schema)},
            materials=meta["materials"],
            result_schemas=self.result_schemas(tasks_map, task_ids),
        )
        user_tasks = set(task_ids)
        for m in ctx.materials.values():
            if m.holder is not None and m.holder.path not in ctx.form_paths:
                self.problem("bundle.yaml", f"materials.{m.key}.holder", "source_form", field=m.holder.text())

        task_defs: dict[str, TaskDef] = {}
        for tid in task_ids:
            entry = tasks_map[tid]
            inputs: dict[str, Source] = {}
            for name, text in (entry.get("inputs") or {}).items():
                source = self.source(f"tasks.{tid}.inputs.{name}", text, certain[tid], ctx)
                if source is not None:
                    inputs[str(name)] = source
            mats = tuple(entry.get("materials") or ())
            for m in mats:
                if m not in ctx.materials:
                    self.problem(MAPPING, f"tasks.{tid}.materials", "source_material", key=m)
            el = nodes[tid].element
            name = (el.get("name") or tid).strip()
            schema_of = ctx.result_schemas.get(tid, {"type": "object"})
            holder = self.holder(f"tasks.{tid}.holder", entry.get("holder"), certain[tid], ctx, schema_of)
            task_defs[tid] = TaskDef(
                id=tid,
                name=name,
                name_en=props[tid].get("name_en", name),
                item=props[tid]["item"],
                department=props[tid]["department"],
                promise=Promise.parse(props[tid]["promise"]),
                inputs=inputs,
                materials=mats,
                result_schema=schema_of,
                upstream=frozenset(graph.ancestors(tid) & user_tasks),
                requires=frozenset(certain[tid] & user_tasks),
                timers=tuple(b for b, t in boundary_of.items() if t == tid),
                result_validator=forms.compile_schema(schema_of),
                region=props[tid].get("region") or None,
                holder=holder,
            )
        delivery: dict[str, Source] = {}
        for key, text in (mapping.get("delivery") or {}).items():
            where = f"delivery.{key}"
            if key not in ("method", "address", "recipient", "phone"):
                self.problem(MAPPING, where, "delivery_key")
            elif (source := self.source(where, text, set(), ctx)) is not None:
                if source.root != "form":
                    self.problem(MAPPING, where, "delivery_source")
                else:
                    delivery[key] = source
        self.stop()

        for fid, src, _tgt, el in proc.flows:
            cond = el.find("bpmn:conditionExpression", NS)
            node = nodes[src]
            if node.kind == "exclusive" and len(node.outgoing) > 1:
                if fid == node.element.get("default"):
                    continue
                if cond is None:
                    self.problem(BPMN, fid, "no_condition")
                else:
                    self.condition(fid, cond.text, certain[src], ctx)
            elif cond is not None:
                self.problem(BPMN, fid, "stray_condition")
        for n in nodes.values():
            if n.kind == "exclusive" and len(n.outgoing) > 1 and n.element.get("default") not in n.outgoing:
                self.problem(BPMN, n.id, "no_default", line=n.line)
            if n.kind in ("boundary", "wait"):
                self.timer(n)
        self.stop()

        # Finally SpiffWorkflow parses it; anything it still refuses is reported the same way.
        process_id = proc.element.get("id")
        try:
            parser = BundleParser()
            parser.add_bpmn_xml(etree.fromstring(self.files[BPMN]), filename=BPMN)
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except ValidationException as exc:
            self.problem(BPMN, exc.id or "", "engine_refused", line=exc.line_number or None, error=exc)
            self.stop()
        except SpiffWorkflowException as exc:
            self.problem(BPMN, "", "engine_refused", error=exc)
            self.stop()

        return Definition(
            code=meta["code"],
            version=self.version,
            digest=digest(self.files),
            name=meta["name"],
            name_en=meta["name_en"],
            description=meta["description"],
            description_en=meta["description_en"],
            promise=meta["promise"],
            materials=ctx.materials,
            tasks=task_defs,
            form_schema=schema,
            delivery=delivery,
            files=dict(self.files),
            process_id=process_id,
            nodes={n.id: n.kind for n in nodes.values()},
            flows=tuple((fid, src, tgt) for fid, src, tgt, _ in proc.flows),
            boundary_of=boundary_of,
            form_validator=forms.compile_schema(schema),
            spec=spec,
            subprocess_specs=subprocess_specs,
        )


@dataclass(frozen=True)
class _Context:
    form_paths: set[tuple[str, ...]]
    materials: Mapping[str, Material]
    result_schemas: Mapping[str, Mapping[str, Any]]
