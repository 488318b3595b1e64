"""Catalogue files: read CSV / YAML into numbered rows for :func:`haoban.catalog.service.import_rows`,
and write the catalogue back out in the same formats (an export re-imports as "unchanged").

CSV: one item a row; headers are the field names or the usual Chinese ones (事项编码, 事项名称 …).
The ``materials`` cell lists materials separated by ``;`` (or a line break), each as
``name|form|count|容缺|licence_kind|note`` with trailing parts optional, e.g.
``居民身份证|原件|1||gaj-resident-id-card; 申请表|原件``. ``life_events`` is separated by ``;``.

YAML: a list of items (or ``{items: [...]}``) with materials as a list of mappings. A YAML item's
"row" in error reports is the line it starts on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from haoban.catalog.models import FORM_LABELS
from haoban.errors import Invalid

FIELDS = (
    "code",
    "name",
    "name_en",
    "department",
    "group_name",
    "task_type",
    "audience",
    "kind",
    "statutory_days",
    "promised_days",
    "online",
    "fee_fen",
    "fee_note",
    "legal_basis",
    "conditions",
    "form_name",
    "location",
    "hours",
    "result_name",
    "life_events",
    "keywords",
    "materials",
    "source",
)
HEADER_ALIASES: dict[str, str] = {
    "事项编码": "code",
    "编码": "code",
    "事项名称": "name",
    "名称": "name",
    "英文名称": "name_en",
    "实施部门": "department",
    "实施主体": "department",
    "部门": "department",
    "主项": "group_name",
    "事项类型": "task_type",
    "服务对象": "audience",
    "办件类型": "kind",
    "法定时限": "statutory_days",
    "法定办结时限": "statutory_days",
    "承诺时限": "promised_days",
    "承诺办结时限": "promised_days",
    "网办深度": "online",
    "办理方式": "online",
    "收费（分）": "fee_fen",
    "收费(分)": "fee_fen",
    "收费说明": "fee_note",
    "设定依据": "legal_basis",
    "受理条件": "conditions",
    "申请表单": "form_name",
    "办理地点": "location",
    "办理时间": "hours",
    "办理结果": "result_name",
    "结果名称": "result_name",
    "人生事件": "life_events",
    "主题": "life_events",
    "申请材料": "materials",
    "关键词": "keywords",
    "俗称": "keywords",
    "来源": "source",
}
MATERIAL_PARTS = ("name", "form", "count", "tolerance", "licence_kind", "note")
FORMATS = ("csv", "yaml")
# A reader marks a row it could not read with this key (the message); the import reports it by row.
ERROR_KEY = "__error__"


def format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    raise Invalid(f"cannot read {path.name}: use a .csv or .yaml file", fields={"file": "unknown format"})


def read_file(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if not path.exists():
        raise Invalid(f"no such file: {path}", fields={"file": "not found"})
    text = path.read_text(encoding="utf-8-sig")
    return read_text(text, fmt=format_of(path))


def read_text(text: str, *, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    if fmt == "csv":
        return list(read_csv(text))
    if fmt == "yaml":
        return read_yaml(text)
    raise Invalid(f"unknown format {fmt!r}", fields={"format": "csv or yaml"})


# --- CSV ---------------------------------------------------------------------------------------------


def _field(header: str) -> str:
    h = header.strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(h, h)


def parse_materials(cell: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in cell.replace("；", ";").replace("\n", ";").split(";"):
        if not entry.strip():
            continue
        parts = [p.strip() for p in entry.split("|")]
        if len(parts) > len(MATERIAL_PARTS):
            raise ValueError(f"material {parts[0]!r} has {len(parts)} parts; at most {len(MATERIAL_PARTS)}")
        m: dict[str, Any] = {k: v for k, v in zip(MATERIAL_PARTS, parts, strict=False) if v != ""}
        m.setdefault("name", "")
        out.append(m)
    return out


def read_csv(text: str) -> Iterable[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    names = [_field(h) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n and n not in FIELDS]
    if unknown:
        raise Invalid(
            f"unknown columns: {', '.join(unknown)}",
            fields={"header": f"unknown columns {unknown}; use {', '.join(FIELDS)}"},
        )
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        row: dict[str, Any] = {}
        for name, value in zip(names, values, strict=False):
            if not name or value.strip() == "":
                continue
            row[name] = value.strip()
        if "materials" in row:
            try:
                row["materials"] = parse_materials(row["materials"])
            except ValueError as exc:
                row = {"code": row.get("code"), ERROR_KEY: f"materials: {exc}"}
        yield number, row


# --- YAML --------------------------------------------------------------------------------------------


def _item_lines(text: str) -> list[int]:
    """The line each element of the item list starts on (1-based), from the YAML node tree."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if isinstance(root, yaml.MappingNode):
        root = next((v for k, v in root.value if getattr(k, "value", None) == "items"), None)
    if not isinstance(root, yaml.SequenceNode):
        return []
    return [child.start_mark.line + 1 for child in root.value]


def read_yaml(text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = yaml.safe_load(text)
        lines = _item_lines(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise Invalid(f"not valid YAML{where}: {exc}", fields={"file": f"not valid YAML{where}"}) from None
    if isinstance(data, dict) and "items" in data:
        data = data["items"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise Invalid("a catalogue YAML file is a list of items", fields={"file": "expected a list of items"})
    out = []
    for index, raw in enumerate(data):
        line = lines[index] if index < len(lines) else index + 1
        if not isinstance(raw, dict):
            out.append((line, {ERROR_KEY: "not a mapping of fields (code: …, name: …)"}))
            continue
        out.append((line, raw))
    return out


# --- export ------------------------------------------------------------------------------------------


def _material_cell(materials: list[dict[str, Any]]) -> str:
    entries = []
    for m in materials:
        form_zh = FORM_LABELS[m["form"]][0]
        parts = [
            m["name"],
            form_zh,
            str(m["count"]),
            "容缺" if m["tolerance"] else "",
            m.get("licence_kind") or "",
            m.get("note") or "",
        ]
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        entries.append("|".join(parts))
    return "; ".join(entries)


def write_csv(items: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(FIELDS)
    for item in items:
        row = []
        for name in FIELDS:
            value = item.get(name)
            if name == "materials":
                value = _material_cell(value or [])
            elif name in ("life_events", "keywords"):
                value = ";".join(value or [])
            row.append("" if value is None else value)
        writer.writerow(row)
    return buf.getvalue()


def write_yaml(items: list[dict[str, Any]]) -> str:
    cleaned = []
    for item in items:
        d = {k: v for k, v in item.items() if v not in (None, "", [])}
        if "materials" in d:
            d["materials"] = [
                {k: v for k, v in m.items() if v not in (None, "") and not (k == "tolerance" and v is False)}
                for m in d["materials"]
            ]
        cleaned.append(d)
    return yaml.safe_dump({"items": cleaned}, allow_unicode=True, sort_keys=False, width=1000)
