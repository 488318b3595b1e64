"""The shared applicant form of a bundle: JSON Schema checks with messages in Chinese and English.

A form schema is JSON Schema (draft 2020-12). Labels come from each property's ``title`` (Chinese)
and ``x-title-en`` (English). Two formats beyond the standard ones are checked: ``cn-resident-id``
(18-character resident identity number with its GB 11643 check digit) and ``cn-mobile`` (11-digit
mainland mobile number). Every error names the field by its dotted path (``mother.id_number``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

__all__ = [
    "FORMAT_CHECKER",
    "FieldProblem",
    "check_schema",
    "compile_schema",
    "field_label",
    "form_problems",
    "is_cn_resident_id",
    "schema_paths",
]

FORMAT_CHECKER = FormatChecker()

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_REQUIRED_RE = re.compile(r"^'(.+)' is a required property$")


def is_cn_resident_id(value: str) -> bool:
    """GB 11643-1999: 17 digits, a valid birth date, and the ISO 7064 MOD 11-2 check character."""
    value = value.upper()
    if not _ID_RE.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


@FORMAT_CHECKER.checks("cn-resident-id")
def _check_resident_id(value: object) -> bool:
    return not isinstance(value, str) or is_cn_resident_id(value)


@FORMAT_CHECKER.checks("cn-mobile")
def _check_mobile(value: object) -> bool:
    return not isinstance(value, str) or bool(_MOBILE_RE.match(value))


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field of the form (``field`` is a dotted path; "" is the whole form)."""

    field: str
    zh: str
    en: str


def check_schema(schema: Any) -> list[FieldProblem]:
    """Problems that make ``schema`` unusable as a form schema (empty when it is fine)."""
    if not isinstance(schema, Mapping):
        return [FieldProblem("", "表单定义必须是 JSON 对象", "the form schema must be a JSON object")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        return [
            FieldProblem(
                where,
                f"不是有效的 JSON Schema：{exc.message}",
                f"not a valid JSON Schema: {exc.message}",
            )
        ]
    if schema.get("type") != "object":
        return [FieldProblem("type", 'type 必须为 "object"', 'type must be "object"')]
    return []


def compile_schema(schema: Mapping[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


def schema_paths(schema: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every dotted path the schema declares through ``properties`` (objects nest)."""
    for name, sub in (schema.get("properties") or {}).items():
        path = (*prefix, name)
        yield path
        if isinstance(sub, Mapping):
            yield from schema_paths(sub, path)


def _sub_schema(schema: Mapping[str, Any], path: Sequence[str]) -> Mapping[str, Any] | None:
    node: Any = schema
    for key in path:
        props = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(props, Mapping) or key not in props:
            return None
        node = props[key]
    return node if isinstance(node, Mapping) else None


def field_label(schema: Mapping[str, Any], path: Sequence[str]) -> tuple[str, str]:
    """(zh, en) label of a field: its titles, falling back to the dotted path."""
    node = _sub_schema(schema, path)
    dotted = ".".join(path) or "form"
    if node is None:
        return dotted, dotted
    return str(node.get("title") or dotted), str(node.get("x-title-en") or node.get("title") or dotted)


def _message(error: ValidationError, zh_label: str, en_label: str) -> tuple[str, str]:
    v, val = error.validator, error.validator_value
    if v == "required":
        return "此项必填", "is required"
    if v == "type":
        names = {
            "string": "文本",
            "integer": "整数",
            "number": "数字",
            "boolean": "是/否",
            "object": "对象",
            "array": "列表",
            "null": "空",
        }
        types = val if isinstance(val, list) else [val]
        return (
            "应为" + "或".join(names.get(t, t) for t in types),
            "must be of type " + " or ".join(types),
        )
    if v == "enum":
        options = "、".join(str(o) for o in val)
        return f"只能是以下之一：{options}", f"must be one of: {', '.join(str(o) for o in val)}"
    if v == "const":
        return f"只能是 {val}", f"must be {val}"
    if v == "minLength":
        return f"至少 {val} 个字符", f"must have at least {val} characters"
    if v == "maxLength":
        return f"最多 {val} 个字符", f"must have at most {val} characters"
    if v == "pattern":
        return "格式不正确", f"does not match the pattern {val}"
    if v in ("minimum", "exclusiveMinimum"):
        return (
            f"不能小于{'或等于' if v == 'exclusiveMinimum' else ''} {val}",
            f"must be {'>' if v == 'exclusiveMinimum' else '>='} {val}",
        )
    if v in ("maximum", "exclusiveMaximum"):
        return (
            f"不能大于{'或等于' if v == 'exclusiveMaximum' else ''} {val}",
            f"must be {'<' if v == 'exclusiveMaximum' else '<='} {val}",
        )
    if v == "format":
        formats = {
            "cn-resident-id": ("不是有效的居民身份证号码", "is not a valid resident identity number"),
            "cn-mobile": ("不是有效的手机号码", "is not a valid mobile number"),
            "date": ("不是有效的日期（YYYY-MM-DD）", "is not a valid date (YYYY-MM-DD)"),
            "date-time": ("不是有效的时间（ISO 8601）", "is not a valid date-time (ISO 8601)"),
            "email": ("不是有效的电子邮箱", "is not a valid e-mail address"),
        }
        return formats.get(val, (f"不符合格式 {val}", f"is not a valid {val}"))
    if v == "additionalProperties":
        return "包含表单未定义的字段", "has fields the form does not define"
    if v in ("minItems", "maxItems"):
        word = ("至少", "at least") if v == "minItems" else ("最多", "at most")
        return f"{word[0]} {val} 项", f"must have {word[1]} {val} items"
    return "不符合要求", error.message


def form_problems(
    validator: Draft202012Validator, schema: Mapping[str, Any], data: Any
) -> list[FieldProblem]:
    """Every problem of ``data`` against the form schema, each naming its field, in a stable order."""
    problems: list[FieldProblem] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        # A subschema failure (anyOf/if-then) reports its leaves through ``context``.
        leaves = [e for e in error.context if e.validator != "if"] if error.context else [error]
        for leaf in leaves or [error]:
            path = [str(p) for p in leaf.absolute_path]
            if leaf.validator == "required":
                named = _REQUIRED_RE.match(leaf.message)
                missing = (
                    named.group(1)
                    if named
                    else next(
                        (
                            n
                            for n in leaf.validator_value
                            if isinstance(leaf.instance, Mapping) and n not in leaf.instance
                        ),
                        None,
                    )
                )
                if missing is not None:
                    path.append(missing)
            elif leaf.validator == "additionalProperties" and isinstance(leaf.instance, Mapping):
                allowed = set((leaf.schema.get("properties") or {}).keys())
                extra = sorted(k for k in leaf.instance if k not in allowed)
                if extra:
                    path.append(extra[0])
            zh_label, en_label = field_label(schema, path)
            zh, en = _message(leaf, zh_label, en_label)
            dotted = ".".join(path)
            problem = FieldProblem(dotted, f"{zh_label}：{zh}", f"{en_label}: {en}")
            if problem not in problems:
                problems.append(problem)
    return problems
