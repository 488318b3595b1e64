"""A service's extra questions (GeoReport v2 service definition attributes) and their checks.

They are data, not code: ``<data_dir>/open311/attributes.yaml`` keys lists of attributes by category path;
a category asks its own and its ancestors' questions. ``POST requests`` sends answers as
``attribute[code]=value`` (``attribute[code][]=`` once per value of a multivaluelist); a required one
missing, a value not in the list, a number or date-time that is not one: each is one entry of the spec's
400 error list. Answers to questions no definition asks (FixMyStreet sends its own, such as
``attribute[fixmystreet_id]``) are kept as given and not checked.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from haoban.directory.service import CategoryRef, DirectorySnapshot

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
_DESCRIBED = {
    "number": "a number, e.g. 3 or 2.5",
    "datetime": "a W3C date-time, e.g. 2026-11-30T08:00:00+08:00",
    "singlevaluelist": "one key of values",
    "multivaluelist": "one or more keys of values",
}
MAX_STRING = 200
MAX_TEXT = 4000


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    required: bool
    description: str
    values: tuple[tuple[str, str], ...] = ()  # (key, name) for the list types

    def view(self, order: int) -> dict[str, Any]:
        return {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": _DESCRIBED.get(self.datatype, ""),
            "order": order,
            "description": self.description,
            "values": [{"key": k, "name": n} for k, n in self.values],
        }


def _parse(raw: Any, *, source: Path) -> dict[str, tuple[Attribute, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: expected a mapping of category path to a list of attributes")
    out: dict[str, tuple[Attribute, ...]] = {}
    for path, items in raw.items():
        attrs = []
        for item in items or []:
            datatype = str(item.get("datatype", "string"))
            if datatype not in DATATYPES:
                raise ValueError(
                    f"{source}: {path}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}"
                )
            values = tuple((str(v["key"]), str(v["name"])) for v in item.get("values") or [])
            if datatype.endswith("valuelist") and not values:
                raise ValueError(f"{source}: {path}: {item.get('code')!r} is a list without values")
            attrs.append(
                Attribute(
                    code=str(item["code"]),
                    datatype=datatype,
                    required=bool(item.get("required", False)),
                    description=str(item.get("description", "")),
                    values=values,
                )
            )
        out[str(path)] = tuple(attrs)
    return out


@functools.lru_cache(maxsize=4)
def _load(path: Path, mtime: float) -> dict[str, tuple[Attribute, ...]]:
    return _parse(yaml.safe_load(path.read_text(encoding="utf-8")), source=path)


def load(data_dir: Path) -> dict[str, tuple[Attribute, ...]]:
    """The attributes file of this data directory (re-read when it changes); none when it is absent."""
    path = data_dir / "open311" / "attributes.yaml"
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return {}
    return _load(path, mtime)


def for_service(
    ref: CategoryRef, *, directory: DirectorySnapshot, table: dict[str, tuple[Attribute, ...]]
) -> list[Attribute]:
    """The questions of a service: its ancestors' first, then its own."""
    out: list[Attribute] = []
    for code in ref.ancestors or (ref.code,):
        cat = directory.category(code)
        if cat is not None:
            out.extend(table.get(cat.path, ()))
    return out


def check(attributes: list[Attribute], answers: dict[str, list[str]]) -> tuple[dict[str, Any], list[str]]:
    """Answers checked against the questions: (what to keep, the problems, one sentence each)."""
    problems: list[str] = []
    kept: dict[str, Any] = {}
    asked = {a.code: a for a in attributes}
    for a in attributes:
        given = [v.strip() for v in answers.get(a.code, []) if v.strip()]
        if not given:
            if a.required:
                problems.append(f"attribute[{a.code}] is required: {a.description}")
            continue
        keys = [k for k, _ in a.values]
        if a.datatype == "singlevaluelist":
            if len(given) > 1 or given[0] not in keys:
                problems.append(f"attribute[{a.code}] must be one of {', '.join(keys)}")
                continue
            kept[a.code] = given[0]
        elif a.datatype == "multivaluelist":
            wrong = [v for v in given if v not in keys]
            if wrong:
                problems.append(f"attribute[{a.code}]: {', '.join(wrong)} not among {', '.join(keys)}")
                continue
            kept[a.code] = list(dict.fromkeys(given))
        elif a.datatype == "number":
            try:
                float(given[0])
            except ValueError:
                problems.append(f"attribute[{a.code}] must be a number, not {given[0][:40]!r}")
                continue
            kept[a.code] = given[0]
        elif a.datatype == "datetime":
            try:
                datetime.fromisoformat(given[0].replace("Z", "+00:00"))
            except ValueError:
                problems.append(f"attribute[{a.code}] must be a W3C date-time, not {given[0][:40]!r}")
                continue
            kept[a.code] = given[0]
        else:
            limit = MAX_TEXT if a.datatype == "text" else MAX_STRING
            if len(given[0]) > limit:
                problems.append(f"attribute[{a.code}] is longer than {limit} characters")
                continue
            kept[a.code] = given[0]
    for code, values in answers.items():
        if code not in asked and any(v.strip() for v in values):
            extra = [v.strip()[:MAX_STRING] for v in values if v.strip()]
            kept[code[:60]] = extra[0] if len(extra) == 1 else extra[:20]
    return kept, problems


def describe(attributes: list[Attribute], kept: dict[str, Any]) -> list[str]:
    """One line per answer, for the order's text: the question's words and the chosen values' names."""
    asked = {a.code: a for a in attributes}
    lines = []
    for code, value in kept.items():
        a = asked.get(code)
        values = value if isinstance(value, list) else [value]
        if a is None:
            lines.append(f"{code}: {', '.join(values)}")
            continue
        names = dict(a.values)
        lines.append(f"{a.description}: {'、'.join(names.get(v, v) for v in values)}")
    return lines
