"""Form plumbing: which fields each action's form shows, and turning posted fields into requests.

Presentation only: the state table says which fields an action requires; the services validate them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from haoban.dispatch.routing import TRANSFER_TARGETS
from haoban.errors import Invalid
from haoban.orders import workflow
from haoban.orders.schemas import ActionRequest
from haoban.web import i18n


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # text / textarea / select / number / department / category
    options: tuple[tuple[str, str], ...] = ()  # (value, i18n key)
    label: str | None = None  # i18n key; default: the field name


_DECISIONS = {
    "review_return": (("reject", "dec_reject"), ("uphold", "dec_uphold")),
    "decide_extension": (("approve", "dec_approve"), ("refuse", "dec_refuse")),
    "review_reply": (("approve", "dec_approve"), ("reject", "dec_reject")),
}
_RESULTS = tuple((r, f"res_{r}") for r in workflow.CALLBACK_RESULTS)
_TARGETS = tuple((t, t) for t in TRANSFER_TARGETS)

ACTION_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "answer": (FieldSpec("answer", "textarea"),),
    "transfer": (FieldSpec("target", "select", _TARGETS),),
    "hold": (),
    "dispatch": (FieldSpec("department", "department"), FieldSpec("category", "category")),
    "sign": (),
    "return": (FieldSpec("reason", "textarea"),),
    "review_return": (
        FieldSpec("decision", "select", _DECISIONS["review_return"]),
        FieldSpec("department", "department"),
        FieldSpec("reason", "text", label="comment"),
    ),
    "request_extension": (FieldSpec("days", "number"), FieldSpec("reason", "textarea")),
    "decide_extension": (
        FieldSpec("decision", "select", _DECISIONS["decide_extension"]),
        FieldSpec("reason", "text", label="comment"),
    ),
    "reply": (FieldSpec("reply", "textarea"),),
    "review_reply": (
        FieldSpec("decision", "select", _DECISIONS["review_reply"]),
        FieldSpec("reason", "text", label="comment"),
    ),
    "callback": (FieldSpec("result", "select", _RESULTS), FieldSpec("comment", "text")),
    "reopen": (FieldSpec("reason", "textarea"),),
    "close": (FieldSpec("reason", "text"),),
    "archive": (),
    "supervise": (FieldSpec("note", "textarea"),),
    "merge": (FieldSpec("master", "text"),),
    "transfer_region": (FieldSpec("region", "text"), FieldSpec("reason", "textarea")),
}
# Actions shown as a primary (one-click) button when they need no fields.
ONE_CLICK = frozenset({"sign", "hold", "archive"})


def required_fields(action: str) -> tuple[str, ...]:
    t = workflow.BY_ACTION.get(action)
    return t.required if t else ()


def clean(form: dict[str, Any]) -> dict[str, str]:
    """Posted fields, stripped, blanks dropped (the form always sends every field)."""
    out: dict[str, str] = {}
    for k, v in form.items():
        if isinstance(v, str) and v.strip():
            out[k] = v.strip()
    return out


def check_required(data: dict[str, str], names: tuple[str, ...] | list[str], lang: str) -> dict[str, str]:
    return {n: i18n.translate("err_required", lang) for n in names if not data.get(n)}


def pydantic_errors(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ())]
        name = loc[0] if loc else "form"
        out.setdefault(name, str(err.get("msg", "invalid")).removeprefix("Value error, "))
    return out


def build(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """Validate ``data`` into ``model``; a failure becomes ``Invalid`` with per-field messages."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid("the form is not valid", fields=pydantic_errors(exc)) from None


def action_request(action: str, form: dict[str, Any], lang: str) -> ActionRequest:
    """``ActionRequest`` for ``action`` from posted fields: required ones first, then the model's rules."""
    data = clean(form)
    allowed = {f.name for f in ACTION_FIELDS.get(action, ())}
    data = {k: v for k, v in data.items() if k in allowed}
    missing = check_required(data, required_fields(action), lang)
    if missing:
        raise Invalid("required fields are missing", fields=missing)
    return build(ActionRequest, data)  # type: ignore[return-value]
