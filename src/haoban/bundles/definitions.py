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
    what the department returns on approval). Optionally ``delivery`` (``method``, ``address``,
    ``recipient``, ``phone`` → ``form.<path>``).

``bundle.yaml``
    ``code``, ``name``/``name_en``, ``description``/``description_en``, ``promise`` (e.g.
    ``7 working_days``), ``materials`` (key, name, name_en, required).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from haoban.bundles import expressions, forms
from haoban.bundles.graph import FlowGraph
from haoban.bundles.spiff import BundleParser
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
    "load_definition",
    "load_definition_dir",
    "load_shipped",
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
# Loading
# ---------------------------------------------------------------------------------------------


def _digest(files: Mapping[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in FILES:
        data = files[name]
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def load_definition_dir(
    path: Path | str,
    *,
    version: int = 1,
    known_items: Mapping[str, str],
    known_departments: Collection[str] | None = None,
) -> Definition:
    """Load a definition from a directory holding the four files."""
    directory = Path(path)
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    for name in FILES:
        try:
            files[name] = (directory / name).read_bytes()
        except OSError:
            problems.append(Problem(name, "", "缺少此文件", "this file is missing"))
    if problems:
        raise DefinitionError(problems)
    return load_definition(
        files=files, version=version, known_items=known_items, known_departments=known_departments
    )


def load_definition(
    *,
    files: Mapping[str, bytes | str],
    version: int,
    known_items: Mapping[str, str],
    known_departments: Collection[str] | None = None,
) -> Definition:
    """Validate the four files and build a runnable definition, or raise ``DefinitionError``.

    ``known_items`` maps each catalogue item code to its department code; a task naming another
    item, or another department than the item's, is refused. ``known_departments`` (optional)
    is the directory's department codes.
    """
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError("version must be a positive integer")
    missing = [Problem(name, "", "缺少此文件", "this file is missing") for name in FILES if name not in files]
    extra = [
        Problem(name, "", "不认识的文件（只接受四个文件）", f"unknown file (only {', '.join(FILES)})")
        for name in files
        if name not in FILES
    ]
    if missing or extra:
        raise DefinitionError(missing + extra)
    raw = {name: _as_bytes(files[name]) for name in FILES}
    return _Loader(raw, version, known_items, known_departments).load()


@dataclass
class _Node:
    id: str
    tag: str
    kind: str
    element: Any
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)


class _Loader:
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

    # -- helpers --------------------------------------------------------------------------------

    def problem(self, file: str, element: str, zh: str, en: str, line: int | None = None) -> None:
        self.problems.append(Problem(file, element, zh, en, line))

    def stop(self) -> None:
        if self.problems:
            raise DefinitionError(self.problems)

    # -- the small files ------------------------------------------------------------------------

    def _yaml(self, name: str) -> Any:
        try:
            data = yaml.safe_load(self.files[name].decode("utf-8"))
        except UnicodeDecodeError:
            self.problem(name, "", "文件不是 UTF-8 编码", "the file is not UTF-8")
            return None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            self.problem(name, "", f"YAML 格式错误：{exc}", f"invalid YAML: {exc}", line)
            return None
        if not isinstance(data, Mapping):
            self.problem(
                name, "", "文件内容必须是一个映射（键: 值）", "the file must hold a mapping (key: value)"
            )
            return None
        return data

    def _bundle_meta(self) -> dict[str, Any]:
        data = self._yaml("bundle.yaml")
        if data is None:
            return {}
        meta: dict[str, Any] = {}
        code = data.get("code")
        if (
            not isinstance(code, str)
            or not code.replace("_", "").replace("-", "").isalnum()
            or not code.isascii()
        ):
            self.problem(
                "bundle.yaml", "code", "code 必须是字母、数字、- 或 _", "code must be letters, digits, - or _"
            )
        meta["code"] = code
        for key in ("name", "name_en", "description", "description_en"):
            value = data.get(key)
            if key.startswith("name") and (not isinstance(value, str) or not value.strip()):
                self.problem("bundle.yaml", key, "必须填写", "is required")
            meta[key] = str(value or "").strip()
        try:
            meta["promise"] = Promise.parse(data.get("promise"))
        except ValueError as exc:
            self.problem("bundle.yaml", "promise", f"承诺时限无效：{exc}", f"invalid promise: {exc}")
        materials: dict[str, Material] = {}
        for idx, m in enumerate(data.get("materials") or []):
            where = f"materials[{idx}]"
            if not isinstance(m, Mapping) or not isinstance(m.get("key"), str) or not m.get("name"):
                self.problem("bundle.yaml", where, "材料需要 key 和 name", "a material needs key and name")
                continue
            if m["key"] in materials:
                self.problem(
                    "bundle.yaml", where, f"材料 {m['key']} 重复", f"material {m['key']} is listed twice"
                )
            materials[m["key"]] = Material(
                m["key"], str(m["name"]), str(m.get("name_en") or m["name"]), bool(m.get("required", True))
            )
        meta["materials"] = materials
        return meta

    def _form(self) -> tuple[dict[str, Any] | None, Draft202012Validator | None]:
        try:
            schema = json.loads(self.files["form.schema.json"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            self.problem("form.schema.json", "", f"不是有效的 JSON：{exc}", f"not valid JSON: {exc}", line)
            return None, None
        found = forms.check_schema(schema)
        for p in found:
            self.problem("form.schema.json", p.field, p.zh, p.en)
        if found:
            return None, None
        return schema, forms.compile_schema(schema)

    # -- BPMN -------------------------------------------------------------------------------------

    def _parse_xml(self) -> Any:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            root = etree.fromstring(self.files["process.bpmn"], parser)
        except etree.XMLSyntaxError as exc:
            line = exc.lineno if hasattr(exc, "lineno") else None
            self.problem("process.bpmn", "", f"XML 格式错误：{exc.msg}", f"malformed XML: {exc.msg}", line)
            return None
        if root.tag != f"{{{BPMN_NS}}}definitions":
            self.problem(
                "process.bpmn", root.tag, "根元素必须是 bpmn:definitions", "the root must be bpmn:definitions"
            )
            return None
        try:
            VALIDATOR.validate(root, "process.bpmn")
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
            msg = str(exc).split(". ")[0]
            line = exc.line_number or None
            self.problem(
                "process.bpmn", element, f"不符合 BPMN 2.0 规范：{msg}", f"not valid BPMN 2.0: {msg}", line
            )
            return None
        return root

    @staticmethod
    def _properties(element: Any) -> dict[str, str]:
        props: dict[str, str] = {}
        for ns in PROPERTY_NS:
            for prop in element.iterfind(
                f"{{{BPMN_NS}}}extensionElements/{{{ns}}}properties/{{{ns}}}property"
            ):
                name, value = prop.get("name"), prop.get("value")
                if name is not None and value is not None:
                    props[name] = value
        return props

    def _bpmn(self, root: Any) -> dict[str, Any] | None:
        f = "process.bpmn"
        processes = root.findall("bpmn:process", NS)
        executable = [p for p in processes if p.get("isExecutable", "true").lower() == "true"]
        if len(executable) != 1:
            self.problem(
                f,
                "",
                f"需要恰好一个可执行流程，找到 {len(executable)} 个",
                f"needs exactly one executable process, found {len(executable)}",
            )
            return None
        process = executable[0]
        escalations = {e.get("id"): e.get("escalationCode") for e in root.findall("bpmn:escalation", NS)}
        messages = {m.get("id"): m.get("name") for m in root.findall("bpmn:message", NS)}

        nodes: dict[str, _Node] = {}
        flows: list[tuple[str, str, str, Any]] = []
        ignored = {
            "laneSet",
            "dataObject",
            "dataObjectReference",
            "dataStoreReference",
            "textAnnotation",
            "association",
            "documentation",
            "extensionElements",
            "ioSpecification",
            "property",
            "group",
            "category",
        }
        refused = {
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
        for child in process:
            if not isinstance(child.tag, str):
                continue
            qn = etree.QName(child)
            if qn.namespace != BPMN_NS:
                continue
            tag, eid = qn.localname, child.get("id") or ""
            line = child.sourceline
            if tag in ignored:
                continue
            if tag in refused:
                zh, en = refused[tag]
                self.problem(f, eid, f"一件事流程不支持{zh}", f"{en} are not supported in a bundle", line)
                continue
            if tag == "sequenceFlow":
                flows.append((eid, child.get("sourceRef") or "", child.get("targetRef") or "", child))
                continue
            kind = self._classify(child, tag, eid, escalations, messages)
            if kind is None:
                continue
            nodes[eid] = _Node(eid, tag, kind, child)

        for fid, src, tgt, _el in flows:
            if src not in nodes or tgt not in nodes:
                missing = src if src not in nodes else tgt
                self.problem(
                    f,
                    fid,
                    f"顺序流连接了不存在或不支持的元素 {missing}",
                    f"the sequence flow connects {missing}, which is missing or not supported",
                )
                continue
            nodes[src].outgoing.append(fid)
            nodes[tgt].incoming.append(fid)
        return {"process": process, "nodes": nodes, "flows": flows}

    def _classify(self, el: Any, tag: str, eid: str, escalations: dict, messages: dict) -> str | None:
        f, line = "process.bpmn", el.sourceline
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
                self.problem(
                    f,
                    eid,
                    "开始事件不能带触发条件（申请提交即开始）",
                    "the start event must be a none start event (submission starts the bundle)",
                    line,
                )
                return None
            return "start"
        if tag in ("endEvent", "intermediateThrowEvent"):
            if len(defs) > 1 or (
                defs and defs[0] not in ("escalationEventDefinition", "messageEventDefinition")
            ):
                self.problem(
                    f,
                    eid,
                    "只支持无类型、督办（升级）或统一出件（消息）事件",
                    "only none, escalation (督办) or message (delivery) events are supported",
                    line,
                )
                return None
            if defs == ["escalationEventDefinition"]:
                ref = el.find("bpmn:escalationEventDefinition", NS).get("escalationRef")
                if escalations.get(ref) != ESCALATION_CODE:
                    self.problem(
                        f,
                        eid,
                        f"升级事件必须引用 escalationCode 为 {ESCALATION_CODE} 的 bpmn:escalation",
                        f"an escalation event must refer to a bpmn:escalation with escalationCode "
                        f"{ESCALATION_CODE}",
                        line,
                    )
                    return None
                return "escalation"
            if defs == ["messageEventDefinition"]:
                ref = el.find("bpmn:messageEventDefinition", NS).get("messageRef")
                if messages.get(ref) != DELIVERY_MESSAGE:
                    self.problem(
                        f,
                        eid,
                        f"消息事件必须引用名为 {DELIVERY_MESSAGE} 的 bpmn:message（统一出件）",
                        f"a message event must refer to a bpmn:message named {DELIVERY_MESSAGE}",
                        line,
                    )
                    return None
                return "delivery"
            return "end" if tag == "endEvent" else "throw"
        if tag in ("boundaryEvent", "intermediateCatchEvent"):
            if defs != ["timerEventDefinition"]:
                self.problem(f, eid, "只支持定时器事件", "only timer events are supported here", line)
                return None
            if tag == "boundaryEvent" and el.get("cancelActivity", "true").lower() != "false":
                self.problem(
                    f,
                    eid,
                    '边界定时器必须是非中断的（cancelActivity="false"），超时只督办、不撤销部门任务',
                    'a boundary timer must be non-interrupting (cancelActivity="false"): a late task is '
                    "supervised (督办), not cancelled",
                    line,
                )
                return None
            return "boundary" if tag == "boundaryEvent" else "wait"
        self.problem(f, eid, f"一件事流程不支持 {tag}", f"{tag} is not supported in a bundle", line)
        return None

    # -- structure ------------------------------------------------------------------------------

    def _structure(self, bpmn: dict[str, Any]) -> tuple[FlowGraph, dict[str, str], str | None]:
        f = "process.bpmn"
        nodes: dict[str, _Node] = bpmn["nodes"]
        flow_ends = {fid: (src, tgt) for fid, src, tgt, _ in bpmn["flows"]}
        main = FlowGraph()
        boundary_of: dict[str, str] = {}
        starts = [n for n in nodes.values() if n.kind == "start"]
        if len(starts) != 1:
            self.problem(
                f,
                "",
                f"需要恰好一个开始事件，找到 {len(starts)} 个",
                f"needs exactly one start event, found {len(starts)}",
            )
        for n in nodes.values():
            if n.kind != "boundary":
                continue
            attached = n.element.get("attachedToRef")
            if attached not in nodes or nodes[attached].kind != "task":
                self.problem(
                    f,
                    n.id,
                    "边界定时器必须附着在用户任务上",
                    "a boundary timer must be attached to a user task",
                    n.element.sourceline,
                )
            else:
                boundary_of[n.id] = attached
        self.stop()

        # The main graph leaves out boundary branches: they are side tokens that never join.
        boundary_nodes: set[str] = set()
        for bid in boundary_of:
            queue = [bid]
            while queue:
                cur = queue.pop()
                if cur in boundary_nodes:
                    continue
                boundary_nodes.add(cur)
                for fid in nodes[cur].outgoing:
                    queue.append(flow_ends[fid][1])
        for n in nodes.values():
            if n.id not in boundary_nodes:
                main.add_node(n.id, n.kind)
        for fid, (src, tgt) in flow_ends.items():
            if src in boundary_nodes or tgt in boundary_nodes:
                if (src in boundary_nodes) != (tgt in boundary_nodes):
                    self.problem(
                        f,
                        fid,
                        "定时器分支不能汇入主流程",
                        "a timer branch must not flow back into the main process",
                    )
                continue
            main.add_edge(src, tgt)
        self.stop()

        # Unreachable elements first: that is the real reason, whatever their flows look like.
        start = starts[0].id
        reachable = main.reachable_from([start])
        for node in main.kinds:
            if node not in reachable:
                if nodes[node].tag == "endEvent":
                    zh, en = (
                        "从开始事件无法到达此结束事件",
                        "this end event cannot be reached from the start event",
                    )
                else:
                    zh, en = (
                        "从开始事件无法到达此元素（永远不会执行）",
                        "this element cannot be reached from the start event (it would never run)",
                    )
                self.problem(f, node, zh, en, nodes[node].element.sourceline)
        for bid, task in boundary_of.items():
            if task not in reachable:
                continue
            if len(nodes[bid].outgoing) != 1:
                self.problem(
                    f,
                    bid,
                    "边界定时器需要恰好一条出向顺序流",
                    "a boundary timer needs exactly one outgoing flow",
                    nodes[bid].element.sourceline,
                )
        for n in nodes.values():
            if n.kind == "boundary" or (n.id not in reachable and n.id not in boundary_nodes):
                continue
            line = n.element.sourceline
            n_in, n_out = len(n.incoming), len(n.outgoing)
            if n.kind == "start":
                ok = n_in == 0 and n_out == 1
                need = ("不能有入向顺序流、只能有一条出向顺序流", "no incoming and exactly one outgoing flow")
            elif n.tag == "endEvent":
                ok = n_in >= 1 and n_out == 0
                need = (
                    "需要至少一条入向顺序流、不能有出向顺序流",
                    "at least one incoming and no outgoing flow",
                )
            elif n.kind in ("parallel", "exclusive"):
                ok = (n_in == 1 and n_out >= 2) or (n_in >= 2 and n_out == 1)
                need = (
                    "要么一进多出（分支），要么多进一出（汇聚）；既汇聚又分支请画两个网关",
                    "one in and several out (split) or several in and one out (join); draw two gateways to do both",
                )
            else:
                ok = n_in == 1 and n_out == 1
                need = (
                    "需要恰好一条入向和一条出向顺序流（分支与汇聚请用网关）",
                    "exactly one incoming and one outgoing flow (use gateways to split or join)",
                )
            if not ok:
                self.problem(
                    f, n.id, f"顺序流数目不对：{need[0]}", f"wrong number of sequence flows: {need[1]}", line
                )
        for bnode in boundary_nodes - set(boundary_of):
            if nodes[bnode].kind not in ("escalation", "end", "throw"):
                self.problem(
                    f,
                    bnode,
                    "定时器分支上只能有督办（升级）事件和结束事件",
                    "a timer branch may only hold escalation (督办) and end events",
                )
        self.stop()

        cycle = main.find_cycle()
        if cycle:
            self.problem(
                f,
                cycle[0],
                "流程中有回路：" + " → ".join(cycle) + "（补正由引擎统一处理，不需要画回路）",
                "the process loops: " + " → ".join(cycle) + " (corrections are built in; draw no loops)",
            )
            self.stop()
        ends = [n for n, k in main.kinds.items() if nodes[n].tag == "endEvent"]
        to_end = main.reaching(ends)
        for node in main.kinds:
            if node not in to_end:
                self.problem(
                    f, node, "从此元素无法到达任何结束事件", "no end event can be reached from this element"
                )
        if not any(e in reachable for e in ends):
            self.problem(
                f, "", "从开始事件无法到达任何结束事件", "no end event can be reached from the start event"
            )
        self.stop()

        idom = main.immediate_dominators(start)
        ipdom = main.immediate_post_dominators(ends)
        for node, kind in main.kinds.items():
            if kind != "parallel":
                continue
            if len(main.succ[node]) > 1:
                join = ipdom.get(node)
                if join is None or main.kinds.get(join) != "parallel" or len(main.pred[join]) < 2:
                    self.problem(
                        f,
                        node,
                        "并行网关分出的分支没有在一个并行网关汇聚（各分支须先汇合再结束）",
                        "the parallel gateway splits into branches that never join at a parallel gateway",
                    )
            else:
                split = idom.get(node)
                if split is None or main.kinds.get(split) != "parallel" or len(main.succ[split]) < 2:
                    self.problem(
                        f,
                        node,
                        "并行汇聚网关等待的分支不是由并行网关分出的（会永远等待）",
                        "the parallel join waits for branches that no parallel split started "
                        "(it would wait forever)",
                    )
        self.stop()
        return main, boundary_of, start

    # -- the whole load -------------------------------------------------------------------------

    def load(self) -> Definition:
        meta = self._bundle_meta()
        schema, form_validator = self._form()
        mapping = self._yaml("mapping.yaml")
        root = self._parse_xml()
        self.stop()
        bpmn = self._bpmn(root)
        self.stop()
        assert bpmn is not None and schema is not None and form_validator is not None and mapping is not None
        graph, boundary_of, _start = self._structure(bpmn)
        nodes: dict[str, _Node] = bpmn["nodes"]
        f = "process.bpmn"

        # User tasks: item, department, promise.
        order = graph.topological()
        certain = graph.certain_before()
        task_ids = [n for n in order if graph.kinds[n] == "task"]
        task_props: dict[str, dict[str, str]] = {}
        for tid in task_ids:
            el = nodes[tid].element
            props = self._properties(el)
            task_props[tid] = props
            line = el.sourceline
            item, dept = props.get("item"), props.get("department")
            if not item:
                self.problem(
                    f,
                    tid,
                    "用户任务必须用扩展属性 item 指明事项编码",
                    "a user task must name its item (property item)",
                    line,
                )
            elif item not in self.known_items:
                self.problem(
                    f, tid, f"事项 {item} 不在事项目录中", f"item {item} is not in the catalogue", line
                )
            if not dept:
                self.problem(
                    f,
                    tid,
                    "用户任务必须用扩展属性 department 指明部门",
                    "a user task must name its department (property department)",
                    line,
                )
            elif item in self.known_items and self.known_items[item] and self.known_items[item] != dept:
                self.problem(
                    f,
                    tid,
                    f"事项 {item} 属于部门 {self.known_items[item]}，不是 {dept}",
                    f"item {item} belongs to department {self.known_items[item]}, not {dept}",
                    line,
                )
            elif self.known_departments is not None and dept not in self.known_departments:
                self.problem(f, tid, f"部门 {dept} 不存在", f"department {dept} does not exist", line)
            try:
                Promise.parse(props.get("promise"))
            except ValueError as exc:
                self.problem(
                    f,
                    tid,
                    f'扩展属性 promise（承诺时限，如 "1 working_days"）无效：{exc}',
                    f'property promise (e.g. "1 working_days") is invalid: {exc}',
                    line,
                )
            if not (el.get("name") or "").strip():
                self.problem(f, tid, "用户任务需要名称", "a user task needs a name", line)
        if not task_ids:
            self.problem(f, "", "流程中没有用户任务", "the process has no user task")
        self.stop()

        # Mapping.
        tasks_map = mapping.get("tasks")
        if not isinstance(tasks_map, Mapping):
            self.problem(
                "mapping.yaml",
                "tasks",
                "需要 tasks: 映射（每个用户任务一项）",
                "needs tasks: (one entry per user task)",
            )
            self.stop()
        for key in tasks_map:
            if key not in task_ids:
                self.problem(
                    "mapping.yaml",
                    f"tasks.{key}",
                    f"流程中没有用户任务 {key}",
                    f"the process has no user task {key}",
                )
        result_schemas: dict[str, dict[str, Any]] = {}
        for tid in task_ids:
            entry = tasks_map.get(tid)
            if not isinstance(entry, Mapping):
                self.problem(
                    "mapping.yaml",
                    f"tasks.{tid}",
                    "缺少此任务的映射（部门将收不到任何申请信息）",
                    "this task has no mapping (the department would receive nothing)",
                )
                continue
            rs = entry.get("result_schema", {"type": "object"})
            found = forms.check_schema(rs)
            for p in found:
                self.problem("mapping.yaml", f"tasks.{tid}.result_schema.{p.field}".rstrip("."), p.zh, p.en)
            if not found:
                result_schemas[tid] = rs
        self.stop()

        materials: Mapping[str, Material] = meta["materials"]
        form_paths = {tuple(p) for p in forms.schema_paths(schema)}
        user_tasks = {tid for tid in task_ids}

        def check_source(where: str, source: Source, before: set[str]) -> None:
            if source.root == "form":
                if source.path not in form_paths:
                    self.problem(
                        "mapping.yaml",
                        where,
                        f"表单中没有字段 {'.'.join(source.path)}",
                        f"the form has no field {'.'.join(source.path)}",
                    )
            elif source.root == "materials":
                if len(source.path) != 1 or source.path[0] not in materials:
                    self.problem(
                        "mapping.yaml",
                        where,
                        f"bundle.yaml 中没有材料 {'.'.join(source.path)}",
                        f"bundle.yaml lists no material {'.'.join(source.path)}",
                    )
            else:
                if len(source.path) != 2:
                    self.problem(
                        "mapping.yaml",
                        where,
                        "结果引用须为 results.<任务>.<字段>",
                        "use results.<task>.<key>",
                    )
                    return
                src_task, key = source.path
                if src_task not in user_tasks:
                    self.problem(
                        "mapping.yaml",
                        where,
                        f"流程中没有用户任务 {src_task}",
                        f"the process has no user task {src_task}",
                    )
                elif src_task not in before:
                    self.problem(
                        "mapping.yaml",
                        where,
                        f"任务 {src_task} 不一定在此之前办结，不能使用它的结果",
                        f"task {src_task} does not always finish before this point, so its result "
                        "cannot be used here",
                    )
                elif key not in (result_schemas.get(src_task, {}).get("properties") or {}):
                    self.problem(
                        "mapping.yaml",
                        where,
                        f"任务 {src_task} 的 result_schema 没有字段 {key}",
                        f"the result_schema of task {src_task} has no field {key}",
                    )

        task_defs: dict[str, TaskDef] = {}
        for tid in task_ids:
            entry = tasks_map[tid]
            before = certain[tid]
            inputs: dict[str, Source] = {}
            for name, text in (entry.get("inputs") or {}).items():
                where = f"tasks.{tid}.inputs.{name}"
                try:
                    source = Source.parse(text)
                except ValueError as exc:
                    self.problem("mapping.yaml", where, f"来源无效：{exc}", f"invalid source: {exc}")
                    continue
                check_source(where, source, before)
                inputs[str(name)] = source
            mats = entry.get("materials") or []
            for m in mats:
                if m not in materials:
                    self.problem(
                        "mapping.yaml",
                        f"tasks.{tid}.materials",
                        f"bundle.yaml 中没有材料 {m}",
                        f"bundle.yaml lists no material {m}",
                    )
            props = task_props[tid]
            el = nodes[tid].element
            rs = result_schemas.get(tid, {"type": "object"})
            task_defs[tid] = TaskDef(
                id=tid,
                name=(el.get("name") or tid).strip(),
                name_en=props.get("name_en", (el.get("name") or tid).strip()),
                item=props["item"],
                department=props["department"],
                promise=Promise.parse(props["promise"]),
                inputs=inputs,
                materials=tuple(mats),
                result_schema=rs,
                upstream=frozenset(graph.ancestors(tid) & user_tasks),
                requires=frozenset(before & user_tasks),
                timers=tuple(b for b, t in boundary_of.items() if t == tid),
                result_validator=forms.compile_schema(rs),
            )
        delivery: dict[str, Source] = {}
        for key, text in (mapping.get("delivery") or {}).items():
            where = f"delivery.{key}"
            if key not in ("method", "address", "recipient", "phone"):
                self.problem(
                    "mapping.yaml",
                    where,
                    "只能是 method、address、recipient、phone",
                    "must be one of method, address, recipient, phone",
                )
                continue
            try:
                source = Source.parse(text)
            except ValueError as exc:
                self.problem("mapping.yaml", where, f"来源无效：{exc}", f"invalid source: {exc}")
                continue
            if source.root != "form":
                self.problem(
                    "mapping.yaml",
                    where,
                    "出件信息只能取自表单",
                    "delivery details can only come from the form",
                )
                continue
            check_source(where, source, set())
            delivery[key] = source
        self.stop()

        # Expressions: gateway conditions and timers.
        flows = bpmn["flows"]
        for fid, src, _tgt, el in flows:
            cond = el.find("bpmn:conditionExpression", NS)
            node = nodes.get(src)
            if node is None:
                continue
            if node.kind == "exclusive" and len(node.outgoing) > 1:
                default = node.element.get("default")
                if fid == default:
                    continue
                if cond is None:
                    self.problem(
                        f,
                        fid,
                        "排他网关的出向顺序流（默认流除外）必须有条件",
                        "every flow out of an exclusive gateway except the default needs a condition",
                    )
                    continue
                self._check_expression(
                    fid,
                    cond.text,
                    expressions.CONDITION_FUNCTIONS,
                    certain[src],
                    form_paths,
                    materials,
                    result_schemas,
                    user_tasks,
                )
            elif cond is not None:
                self.problem(
                    f,
                    fid,
                    "只有排他网关的出向顺序流可以带条件",
                    "only flows out of an exclusive gateway may carry a condition",
                )
        for n in nodes.values():
            if n.kind == "exclusive" and len(n.outgoing) > 1:
                default = n.element.get("default")
                if not default or default not in n.outgoing:
                    self.problem(
                        f,
                        n.id,
                        "排他网关必须指定默认流（条件都不满足时走默认流，申请不会卡住）",
                        "an exclusive gateway needs a default flow (so no application gets stuck when no "
                        "condition holds)",
                    )
            if n.kind in ("boundary", "wait"):
                timer = n.element.find("bpmn:timerEventDefinition", NS)
                date = timer.find("bpmn:timeDate", NS)
                if date is None:
                    self.problem(
                        f,
                        n.id,
                        "定时器须用 timeDate，值如 promise() 或 working_days(3)",
                        "a timer must use timeDate, e.g. promise() or working_days(3)",
                    )
                    continue
                self._check_timer(n.id, date.text, is_boundary=n.kind == "boundary")
        self.stop()

        # Finally SpiffWorkflow itself parses it; anything it refuses is reported the same way.
        parser = BundleParser()
        process_id = bpmn["process"].get("id")
        try:
            parser.add_bpmn_xml(etree.fromstring(self.files["process.bpmn"]), filename="process.bpmn")
            spec = parser.get_spec(process_id)
            subprocess_specs = parser.get_subprocess_specs(process_id)
        except ValidationException as exc:
            self.problem(
                f,
                exc.id or "",
                f"流程引擎无法解析：{exc}",
                f"the workflow engine cannot parse it: {exc}",
                exc.line_number or None,
            )
            self.stop()
        except SpiffWorkflowException as exc:
            self.problem(f, "", f"流程引擎无法解析：{exc}", f"the workflow engine cannot parse it: {exc}")
            self.stop()

        ordered = {tid: task_defs[tid] for tid in task_ids}
        return Definition(
            code=meta["code"],
            version=self.version,
            digest=_digest(self.files),
            name=meta["name"],
            name_en=meta["name_en"],
            description=meta["description"],
            description_en=meta["description_en"],
            promise=meta["promise"],
            materials=materials,
            tasks=ordered,
            form_schema=schema,
            delivery=delivery,
            files=dict(self.files),
            process_id=process_id,
            nodes={n.id: n.kind for n in nodes.values()},
            flows=tuple((fid, src, tgt) for fid, src, tgt, _ in flows),
            boundary_of=boundary_of,
            form_validator=form_validator,
            spec=spec,
            subprocess_specs=subprocess_specs,
        )

    def _check_expression(
        self,
        element: str,
        text: str | None,
        functions: frozenset[str],
        before: set[str],
        form_paths: set[tuple[str, ...]],
        materials: Mapping[str, Material],
        result_schemas: Mapping[str, Mapping[str, Any]],
        user_tasks: set[str],
    ) -> None:
        f = "process.bpmn"
        _tree, refs, problem = expressions.check_expression(text, functions=functions)
        if problem is not None:
            self.problem(f, element, f"条件表达式无效：{problem.zh}", f"invalid condition: {problem.en}")
            return
        for ref in refs:
            dotted = ".".join(ref.path)
            if ref.root == "form" and ref.path not in form_paths:
                self.problem(
                    f,
                    element,
                    f"条件读取的表单字段 {dotted} 不存在",
                    f"the condition reads form field {dotted}, which the form does not have",
                )
            elif ref.root == "materials" and (len(ref.path) != 1 or ref.path[0] not in materials):
                self.problem(
                    f,
                    element,
                    f"条件读取的材料 {dotted} 不存在",
                    f"the condition reads material {dotted}, which bundle.yaml does not list",
                )
            elif ref.root == "results":
                task = ref.path[0]
                if task not in user_tasks:
                    self.problem(
                        f,
                        element,
                        f"条件读取的任务 {task} 不存在",
                        f"the condition reads task {task}, which does not exist",
                    )
                elif task not in before:
                    self.problem(
                        f,
                        element,
                        f"条件读取的任务 {task} 不一定在此之前办结",
                        f"the condition reads task {task}, which does not always finish before it",
                    )
                elif len(ref.path) > 1 and ref.path[1] not in (
                    result_schemas.get(task, {}).get("properties") or {}
                ):
                    self.problem(
                        f,
                        element,
                        f"任务 {task} 的 result_schema 没有字段 {ref.path[1]}",
                        f"the result_schema of task {task} has no field {ref.path[1]}",
                    )

    def _check_timer(self, element: str, text: str | None, *, is_boundary: bool) -> None:
        f = "process.bpmn"
        tree, _refs, problem = expressions.check_expression(text, functions=expressions.TIMER_FUNCTIONS)
        body = tree.body if tree is not None else None
        import ast

        ok = (
            problem is None
            and isinstance(body, ast.Call)
            and isinstance(body.func, ast.Name)
            and (
                (body.func.id == "promise" and not body.args and is_boundary)
                or (
                    body.func.id != "promise"
                    and len(body.args) == 1
                    and isinstance(body.args[0], ast.Constant)
                    and isinstance(body.args[0].value, int | float)
                    and not isinstance(body.args[0].value, bool)
                    and 0 <= body.args[0].value <= 3660
                )
            )
        )
        if not ok:
            extra = (
                "（promise() 只能用于附着在任务上的边界定时器）"
                if text and "promise" in text and not is_boundary
                else ""
            )
            self.problem(
                f,
                element,
                f"定时器的值须为 promise()、working_days(n)、working_hours(n)、calendar_days(n) 或 calendar_hours(n){extra}",
                "a timer's value must be promise(), working_days(n), working_hours(n), calendar_days(n) or "
                "calendar_hours(n)" + (" (promise() only on a boundary timer of a task)" if extra else ""),
            )


# ---------------------------------------------------------------------------------------------
# Shipped definitions and the items they reference
# ---------------------------------------------------------------------------------------------


def shipped_items() -> list[dict[str, Any]]:
    """The catalogue items the shipped bundles reference (``definitions/ITEMS.yaml``)."""
    data = yaml.safe_load((DEFINITIONS_DIR / "ITEMS.yaml").read_text(encoding="utf-8"))
    return list(data["items"])


def load_shipped(
    *, known_items: Mapping[str, str] | None = None, known_departments: Collection[str] | None = None
) -> dict[str, Definition]:
    """Every shipped bundle (version 1), by code; items default to ``ITEMS.yaml``."""
    items = known_items if known_items is not None else {i["code"]: i["department"] for i in shipped_items()}
    result: dict[str, Definition] = {}
    for directory in sorted(p for p in DEFINITIONS_DIR.iterdir() if (p / "bundle.yaml").exists()):
        definition = load_definition_dir(directory, known_items=items, known_departments=known_departments)
        result[definition.code] = definition
    return result


def shipped_example(code: str) -> dict[str, Any]:
    """The worked example beside a shipped bundle: ``form``, ``materials`` and ``results`` by task."""
    return yaml.safe_load((DEFINITIONS_DIR / code / "example.yaml").read_text(encoding="utf-8"))
