"""The state table, pinned: every (action, situation, role) through the API, the pages and /workflow.

``SPEC`` below is the table written out by hand (as Signals' ``tests/test_workflow.py`` does): a change
to ``haoban.orders.workflow`` that is not also made here fails ``test_the_table_is_the_spec``. The
matrix then asks the API for every public action, in every situation an order can be in (each status,
plus the two the guards tell apart), as every kind of staff member. An allowed move answers 200 and
lands in the target state; a refused one answers 404 (cannot see it), 403 (role or department) or 409
(state or guard) and changes nothing — not the status, not the version, not the case file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from haoban.orders import workflow
from haoban.orders.models import Order
from tests.builders import CO, LEAD, SITUATIONS, STATUS_OF, actors, make_order
from tests.conftest import Api
from tests.federation.partners import PARTNER, seed_partner


@pytest.fixture(autouse=True)
def _partner_city(rt: Any, tmp_path: Any) -> None:
    seed_partner(rt, tmp_path)


OPEN = {"registered", "pending_dispatch", "dispatched", "return_requested", "signed", "replied", "callback"}
CALL_ROLES = {"operator", "dispatcher", "supervisor", "admin"}

# action: (from, to per decision ("" without one; None: the order stays), roles, lead department only)
SPEC: dict[str, tuple[set[str | None], dict[str, str | None], set[str], bool]] = {
    "register": ({None}, {"": "registered"}, CALL_ROLES | {"system", "citizen"}, False),
    "answer": (
        {"registered", "pending_dispatch"},
        {"": "answered"},
        {"operator", "dispatcher", "system"},
        False,
    ),
    "transfer": (
        {"registered", "pending_dispatch"},
        {"": "transferred"},
        {"operator", "dispatcher", "system"},
        False,
    ),
    "hold": ({"registered"}, {"": "pending_dispatch"}, {"operator", "dispatcher", "system"}, False),
    "dispatch": ({"registered", "pending_dispatch"}, {"": "dispatched"}, CALL_ROLES | {"system"}, False),
    "sign": ({"dispatched"}, {"": "signed"}, {"handler"}, True),
    "return": ({"dispatched"}, {"": "return_requested"}, {"handler"}, True),
    "review_return": (
        {"return_requested"},
        {"uphold": "dispatched", "reject": "dispatched"},
        {"dispatcher", "supervisor", "admin"},
        False,
    ),
    "request_extension": ({"signed"}, {"": None}, {"handler"}, True),
    "decide_extension": (
        {"signed"},
        {"approve": None, "refuse": None},
        {"dispatcher", "supervisor", "admin"},
        False,
    ),
    "reply": ({"signed"}, {"": "replied"}, {"handler"}, True),
    "review_reply": (
        {"replied"},
        {"approve": "callback", "reject": "signed"},
        {"dispatcher", "supervisor", "admin"},
        False,
    ),
    "callback": (
        {"callback"},
        {"satisfied": "closed", "basically_satisfied": "closed", "unsatisfied": "callback"},
        {"operator", "dispatcher", "supervisor", "system"},
        False,
    ),
    "reopen": ({"callback", "closed"}, {"": "dispatched"}, {"dispatcher", "supervisor", "admin"}, False),
    "close": ({"answered", "transferred", "callback"}, {"": "closed"}, CALL_ROLES | {"system"}, False),
    "archive": ({"closed"}, {"": "archived"}, {"supervisor", "admin", "system"}, False),
    "supervise": (set(OPEN), {"": None}, {"supervisor", "admin", "system"}, False),
    "merge": (
        {"registered", "pending_dispatch", "dispatched"},
        {"": "merged"},
        {"operator", "dispatcher", "supervisor", "system"},  # system: a citizen's +1 on the portal
        False,
    ),
    "follow_master": ({"merged"}, {"": "callback"}, {"system"}, False),
    "transfer_region": (
        {"registered", "pending_dispatch"},
        {"": "region_transferred"},
        {"operator", "dispatcher", "supervisor"},
        False,
    ),
    "remote_close": ({"region_transferred"}, {"": "closed"}, {"system"}, False),
}
INTERNAL = {"follow_master", "remote_close"}
# Situations in which a guard refuses an action its state allows (409 naming the guard).
GUARDED = {
    ("signed_extension", "request_extension"): "no_extension_pending",
    ("signed", "decide_extension"): "extension_pending",
    ("callback", "reopen"): "unsatisfied",
    ("callback", "close"): "called_back",
}
# Who acts: (username, role, department relation to the orders made by the builder).
ACTORS = {
    "operator": ("operator", "operator", None),
    "dispatcher": ("dispatcher", "dispatcher", None),
    "supervisor": ("supervisor", "supervisor", None),
    "admin": ("admin", "admin", None),
    "auditor": ("auditor", "auditor", None),
    "lead_handler": (f"h_{LEAD}", "handler", "lead"),
    "co_handler": (f"h_{CO}", "handler", "co"),
    "other_handler": ("h_tax", "handler", None),
}
# Valid fields for each action and decision, so that a refusal is the table's, never a missing field.
FIELDS: dict[str, dict[str, Any]] = {
    "answer": {"answer": "已即时答复。"},
    "transfer": {"target": "119"},
    "hold": {},
    "dispatch": {"department": LEAD},
    "sign": {},
    "return": {"reason": "不属于本单位职责。"},
    "review_return": {"department": "jtj", "reason": "审核意见"},
    "request_extension": {"days": 2, "reason": "需要协调。"},
    "decide_extension": {"reason": "审批意见"},
    "reply": {"reply": "已处理完毕。"},
    "review_reply": {"reason": "答复不完整"},
    "callback": {"comment": "回访记录"},
    "reopen": {"reason": "市民不满意，重办。"},
    "close": {"reason": "已解释政策，予以办结。"},
    "archive": {},
    "supervise": {"note": "请加快办理。"},
    "merge": {},  # the master is added per test
    "transfer_region": {"region": PARTNER},  # a partner city with a 12345 agreement (seeded below)
}
DISPATCHED_BEFORE = {
    s for s in SITUATIONS if s not in {"registered", "pending_dispatch", "answered", "transferred", "merged"}
}


def _table_as_spec() -> dict[str, tuple[set[str | None], dict[str, str | None], set[str], bool]]:
    out = {}
    for t in workflow.TRANSITIONS:
        if t.stays:
            to: dict[str, str | None] = {d: None for d in t.decisions} or {"": None}
        else:
            to = {k or "": v.value for k, v in t.targets.items()}
        out[t.action] = (
            {s.value if s else None for s in t.sources},
            to,
            {str(r) for r in t.roles},
            t.lead_department_only,
        )
    return out


def test_the_table_is_the_spec() -> None:
    assert _table_as_spec() == SPEC
    assert {t.action for t in workflow.TRANSITIONS if t.internal} == INTERNAL
    assert {(s, a) for (s, a) in GUARDED} <= {
        (s, a) for s in SITUATIONS for a in SPEC if STATUS_OF[s] in SPEC[a][0]
    }
    assert {g.name for t in workflow.TRANSITIONS for g in t.guards} >= set(GUARDED.values())


def expected(action: str, situation: str, who: str) -> tuple[int, str | None]:
    """(HTTP status, reason) the API must answer, worked out from SPEC alone."""
    sources, _to, roles, lead_only = SPEC[action]
    _username, role, relation = ACTORS[who]
    visible = role != "handler" or (relation is not None and situation in DISPATCHED_BEFORE)
    if not visible:
        return 404, "cannot see the order"
    if role not in roles:
        return 403, "role"
    if lead_only and relation != "lead":
        return 403, "lead department only"
    if STATUS_OF[situation] not in sources:
        return 409, "state"
    if (situation, action) in GUARDED:
        return 409, GUARDED[(situation, action)]
    return 200, None


def _snapshot(rt: Any, code: str) -> tuple[str, int, int]:
    with rt.db.read() as session:
        o = session.scalar(select(Order).where(Order.code == code))
        return o.status, o.version, o.event_count


@pytest.mark.parametrize("action", [a for a in SPEC if a not in INTERNAL and a != "register"])
def test_every_situation_and_role(action: str, api: Api, rt: Any) -> None:
    users = actors(rt)
    master = make_order(rt, status="registered", users=users)
    probes = {s: make_order(rt, status=s, users=users) for s in SITUATIONS}
    wrong: list[str] = []
    for situation in SITUATIONS:
        for who, (username, _role, _rel) in ACTORS.items():
            status, reason = expected(action, situation, who)
            decisions = [d for d in SPEC[action][1] if d] or [""]
            for decision in decisions if status == 200 else decisions[:1]:
                # An allowed move changes the order: it gets a fresh one; refusals share the probe.
                code = make_order(rt, status=situation, users=users) if status == 200 else probes[situation]
                body = {**FIELDS[action], **({"master": master} if action == "merge" else {})}
                field = workflow.BY_ACTION[action].decision_field
                if decision:
                    body[field] = decision  # type: ignore[index]
                before = _snapshot(rt, code)
                r = api.post(f"/api/v1/orders/{code}/{action}", as_=username, json=body)
                cell = f"{action} in {situation} by {who}{' (' + decision + ')' if decision else ''}"
                if r.status_code != status:
                    wrong.append(f"{cell}: {r.status_code} (expected {status}: {reason}) {r.text[:160]}")
                    continue
                after = _snapshot(rt, code)
                if status != 200:
                    if after != before:
                        wrong.append(f"{cell}: refused but changed {before} -> {after}")
                    if status == 409 and reason in GUARDED.values() and r.json().get("guard") != reason:
                        wrong.append(f"{cell}: refused without naming the guard {reason}: {r.text[:160]}")
                    continue
                target = SPEC[action][1][decision] or STATUS_OF[situation]
                if after[0] != target or after[2] <= before[2]:
                    wrong.append(f"{cell}: ended {after[0]} with {after[2]} events (expected {target})")
    assert wrong == [], "\n".join(wrong)


def test_the_pages_offer_exactly_what_the_api_allows(client: Any, api: Api, rt: Any) -> None:
    """For every situation and every staff member, the order page's action buttons are the API's
    ``allowed_actions``, which are the SPEC's allowed cells."""
    users = actors(rt)
    codes = {s: make_order(rt, status=s, users=users) for s in SITUATIONS}
    wrong = []
    for who, (username, _role, _rel) in ACTORS.items():
        client.cookies.clear()
        login = client.post("/login", data={"username": username, "password": "demo"}, follow_redirects=False)
        assert login.status_code == 303
        for situation, code in codes.items():
            api_answer = api.get(f"/api/v1/orders/{code}", as_=username)
            page = client.get(f"/orders/{code}")
            if expected("sign", situation, who)[0] == 404:
                if (api_answer.status_code, page.status_code) != (404, 404):
                    wrong.append(
                        f"{situation} by {who}: API {api_answer.status_code}, page {page.status_code}"
                    )
                continue
            allowed = api_answer.json()["allowed_actions"]
            spec = [a for a in workflow.PUBLIC_ACTIONS if expected(a, situation, who)[0] == 200]
            buttons = sorted(set(re.findall(r'id="btn-([a-z_]+)"', page.text)))
            if sorted(allowed) != sorted(spec) or buttons != sorted(spec):
                wrong.append(f"{situation} by {who}: spec {spec}, API {allowed}, page {buttons}")
    assert wrong == [], "\n".join(wrong)


def test_workflow_publishes_the_table(client: Any) -> None:
    table = client.get("/api/v1/workflow").json()
    published = {
        a["action"]: (
            set(a["from"]) or {None},
            {d: None for d in a["decisions"]} or {"": None} if a["stays"] else a["to"],
            set(a["roles"]),
            a["lead_department_only"],
        )
        for a in table["actions"]
    }
    assert published == SPEC
    assert {a["action"] for a in table["actions"] if a["internal"]} == INTERNAL
    guards = {(a["action"], g["name"]) for a in table["actions"] for g in a["guards"]}
    assert {(action, name) for (_s, action), name in GUARDED.items()} <= guards
    assert set(table["statuses"]) == {s.value for s in workflow.Status}
    assert all(v["zh"] and v["en"] for v in table["statuses"].values())
