"""A bundle's JSON Schema as an HTML form, and the posted fields back as the form's JSON.

Presentation only: the engine validates the result against the schema (``haoban.bundles.forms``) and
names any bad field by its dotted path, which is also the input's ``name`` here (``baby.name``). One
level of nesting becomes a fieldset; arrays of choices become check boxes; booleans a check box.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# Choice values the shipped schemas use, in words (the schemas carry codes only).
CHOICE_LABELS: dict[str, tuple[str, str]] = {
    "male": ("男", "Male"),
    "female": ("女", "Female"),
    "mother": ("随母", "With the mother"),
    "father": ("随父", "With the father"),
    "wechat": ("微信", "WeChat Pay"),
    "alipay": ("支付宝", "Alipay"),
    "bank_card": ("银行卡", "Bank card"),
    "post": ("邮寄到家", "By post"),
    "window": ("窗口领取", "Collect at the window"),
    "electronic": ("电子发票", "Electronic"),
    "paper": ("纸质发票", "Paper"),
    "small_scale": ("小规模纳税人", "Small-scale taxpayer"),
    "general": ("一般纳税人", "General taxpayer"),
    "registration_form": ("登记表", "Registration form"),
    "report_book": ("报告书", "Report book"),
    "report_form": ("报告表", "Report form"),
    # banks (the enum values are their Chinese names)
    "工商银行": ("工商银行", "ICBC"),
    "农业银行": ("农业银行", "Agricultural Bank of China"),
    "中国银行": ("中国银行", "Bank of China"),
    "建设银行": ("建设银行", "China Construction Bank"),
    "交通银行": ("交通银行", "Bank of Communications"),
    "邮储银行": ("邮储银行", "Postal Savings Bank of China"),
    "长沙银行": ("长沙银行", "Bank of Changsha"),
    "华融湘江银行": ("华融湘江银行", "Huarong Xiangjiang Bank"),
}


@dataclass
class Field:
    name: str  # dotted path, e.g. "baby.name"
    label: str
    kind: str  # text, textarea, select, radio, checkboxes, checkbox, integer, number, date, datetime, tel
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass
class Group:
    name: str
    label: str
    fields: list[Field]


def _label(node: Mapping[str, Any], name: str, lang: str) -> str:
    zh = str(node.get("title") or name)
    return str(node.get("x-title-en") or zh) if lang == "en" else zh


def choice_label(value: Any, lang: str) -> str:
    pair = CHOICE_LABELS.get(str(value))
    if pair is None:
        return str(value)
    return pair[1] if lang == "en" else pair[0]


def _field(name: str, node: Mapping[str, Any], required: bool, lang: str) -> Field:
    label = _label(node, name.rsplit(".", 1)[-1], lang)
    kind = node.get("type")
    if "enum" in node:
        options = [(str(v), choice_label(v, lang)) for v in node["enum"]]
        return Field(name, label, "radio" if len(options) <= 3 else "select", required, options)
    if kind == "array" and isinstance(node.get("items"), Mapping) and "enum" in node["items"]:
        options = [(str(v), choice_label(v, lang)) for v in node["items"]["enum"]]
        return Field(name, label, "checkboxes", required, options)
    if kind == "boolean":
        return Field(name, label, "checkbox", required)
    if kind in ("integer", "number"):
        return Field(
            name, label, str(kind), required, minimum=node.get("minimum"), maximum=node.get("maximum")
        )
    fmt = node.get("format")
    if fmt == "date-time":
        return Field(name, label, "datetime", required)
    if fmt == "date":
        return Field(name, label, "date", required)
    if fmt == "cn-mobile":
        return Field(name, label, "tel", required, max_length=11)
    max_length = node.get("maxLength")
    return Field(
        name, label, "textarea" if (max_length or 0) > 200 else "text", required, max_length=max_length
    )


def groups(schema: Mapping[str, Any], lang: str) -> list[Group]:
    """The schema's fields, one group per top-level object (the top level's plain fields first)."""
    top: list[Field] = []
    out: list[Group] = []
    required = set(schema.get("required") or ())
    for name, node in (schema.get("properties") or {}).items():
        if not isinstance(node, Mapping):
            continue
        if node.get("type") == "object" and "properties" in node:
            inner = set(node.get("required") or ())
            fields = [
                _field(f"{name}.{sub}", child, sub in inner, lang)
                for sub, child in node["properties"].items()
                if isinstance(child, Mapping)
            ]
            out.append(Group(name, _label(node, name, lang), fields))
        else:
            top.append(_field(name, node, name in required, lang))
    if top:
        out.insert(0, Group("", _label(schema, "", lang) if lang == "en" else "基本信息", top))
    return out


def flat(schema: Mapping[str, Any], lang: str = "zh") -> dict[str, Field]:
    return {f.name: f for g in groups(schema, lang) for f in g.fields}


def _convert(f: Field, raw: list[str], tz: ZoneInfo) -> Any:
    values = [v.strip() for v in raw if v.strip()]
    if f.kind == "checkboxes":
        return values
    if f.kind == "checkbox":
        return bool(values)
    if not values:
        return None
    value = values[0]
    if f.kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value  # the schema check names the field
    if f.kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if f.kind == "datetime":
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
        if at.tzinfo is None:
            at = at.replace(tzinfo=tz)
        return at.isoformat()
    return value


def parse(schema: Mapping[str, Any], posted: Mapping[str, list[str]], tz: ZoneInfo) -> dict[str, Any]:
    """The form's JSON from posted fields (``posted``: name → every value sent); blanks left out."""
    data: dict[str, Any] = {}
    for name, f in flat(schema).items():
        if f.kind not in ("checkboxes", "checkbox") and name not in posted:
            continue
        value = _convert(f, posted.get(name, []), tz)
        if value is None or (f.kind == "checkboxes" and not value and name not in posted):
            continue
        if f.kind == "checkbox" and not value and not f.required:
            continue
        head, _, tail = name.partition(".")
        if tail:
            data.setdefault(head, {})[tail] = value
        else:
            data[name] = value
    return data


def values_of(form: Mapping[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """A stored form as the inputs' values (dotted names; date-times in the input's local form)."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        items = value.items() if isinstance(value, Mapping) else [("", value)]
        for sub, v in items:
            name = f"{key}.{sub}" if sub else key
            if isinstance(v, str) and len(v) > 16 and v[10:11] == "T":
                with contextlib.suppress(ValueError):
                    v = datetime.fromisoformat(v).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
            out[name] = v
    return out
