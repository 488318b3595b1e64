"""Presentation helpers the staff pages share: names in the page's language, deadline texts, pickers.

No business rules: what is overdue, and who may do what, comes from the services.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from haoban.web import i18n

# Department kinds, in the order a picker shows them (市直部门, 区县政府, 公共事业单位).
KIND_ORDER = ("department", "district", "utility")


def dept_name(rt: Any, code: str | None, lang: str) -> str:
    """A department's name in the page's language (its English name in English when it has one)."""
    if not code:
        return ""
    d = rt.directory.department(code)
    if d is None:
        return code
    return (getattr(d, "name_en", None) or d.name) if lang == "en" else d.name


def district_name(rt: Any, code: str | None, lang: str) -> str:
    if not code:
        return ""
    d = rt.directory.district(code)
    if d is None:
        return code
    return (getattr(d, "name_en", None) or d.name) if lang == "en" else d.name


def category_name(rt: Any, code: str | None, lang: str = "zh") -> str:
    """A category's path in the page's language (the taxonomy's English names in English)."""
    if not code:
        return ""
    c = rt.directory.category(code)
    return c.label(lang) if c is not None else code


def category_short(rt: Any, code: str | None, lang: str) -> str:
    """A category's own name (the last level) in the page's language."""
    c = rt.directory.category(code) if code else None
    if c is None:
        return code or ""
    return (c.name_en or c.name) if lang == "en" else c.name


def _sort_name(name: str) -> str:
    return name.removeprefix("市").removeprefix("国家")


def department_groups(rt: Any, lang: str) -> list[dict[str, Any]]:
    """Active departments grouped by kind, each group sorted by name; for pickers with a filter box."""
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in KIND_ORDER}
    for d in rt.directory.departments_by_id.values():
        if not d.active:
            continue
        name_en = getattr(d, "name_en", None)
        shown = (name_en or d.name) if lang == "en" else d.name
        groups.setdefault(d.kind, []).append(
            {
                "code": d.code,
                "name": shown,
                # what the filter box matches: both names and the code
                "search": " ".join(x for x in (d.name, name_en or "", d.code) if x).lower(),
            }
        )
    out = []
    for kind, items in groups.items():
        if items:
            items.sort(key=lambda x: (_sort_name(x["name"]).lower(), x["code"]))
            out.append({"kind": kind, "label": i18n.translate(f"kind_{kind}", lang), "depts": items})
    return out


def ranked_department_groups(
    rt: Any, lang: str, candidates: list[Any], *, top: int = 5
) -> list[dict[str, Any]]:
    """The picker's groups with the likeliest departments first (a "suggested" group of up to ``top``
    with a score), then the usual groups without them: every department still appears once."""
    groups = department_groups(rt, lang)
    first = [c.code for c in candidates if c.score > 0][:top]
    if not first:
        return groups
    by_code = {d["code"]: d for g in groups for d in g["depts"]}
    suggested = [by_code[c] for c in first if c in by_code]
    taken = {d["code"] for d in suggested}
    rest = [{**g, "depts": [d for d in g["depts"] if d["code"] not in taken]} for g in groups]
    head = {"kind": "suggested", "label": i18n.translate("dept_suggested", lang), "depts": suggested}
    return [head, *(g for g in rest if g["depts"])]


def _span(delta: timedelta, lang: str) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if lang == "en":
        if days:
            return f"{days} d {hours} h" if hours else f"{days} d"
        return f"{hours} h {mins} min" if hours else f"{mins} min"
    if days:
        return f"{days} 天 {hours} 小时" if hours else f"{days} 天"
    return f"{hours} 小时 {mins} 分钟" if hours else f"{mins} 分钟"


def due_text(at: datetime | None, now: datetime, lang: str, *, done: bool = False) -> str:
    """ "剩 2 天 3 小时" before a deadline, "已超时 3 天" after it (calendar time); empty when finished."""
    if at is None or done:
        return ""
    if at.tzinfo is None:
        at = at.replace(tzinfo=now.tzinfo)
    if at >= now:
        return i18n.translate("due_left", lang).format(span=_span(at - now, lang))
    late = now - at
    days = late.days
    if days >= 1:
        return i18n.translate("due_overdue_days", lang).format(days=days)
    return i18n.translate("due_overdue", lang).format(span=_span(late, lang))


def days_overdue(at: datetime | None, now: datetime) -> int:
    if at is None:
        return 0
    if at.tzinfo is None:
        at = at.replace(tzinfo=now.tzinfo)
    return max(0, (now - at).days)
