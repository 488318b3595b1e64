"""``make_case(status=…)``: a case in any state, reached through the services as the window would.

Lead department ``cgj`` (handler ``h_cgj``), co-department ``gjj`` (``h_gjj``); a meeting's decision is
owned by ``jtj`` (``h_jtj``). The complainant is anonymous unless asked otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from haoban.auth.actors import Actor
from haoban.casework.actions import apply_action
from haoban.casework.schemas import CaseAction, CaseCreate
from haoban.casework.service import open_case
from haoban.db import utcnow
from haoban.runtime import Runtime
from tests.builders import actors

VALID_USCC = "91110000600037341L"
NAME, PHONE, ID_NUMBER, COMPANY = "王小明", "13912345678", "110101199003077774", "衡阳市好办贸易有限公司"

MEETING = {  # dated on the day the case is made (see ``meeting_on``)
    "held_on": "",
    "participants": ["市城管局 李科长", "市公积金中心 王主任", "市交通局 赵科长"],
    "minutes": "三方会商，明确由城管局牵头，交通局配合清理占道。",
    "decisions": [{"text": "交通局三日内清理占道车辆", "owner": "jtj", "due": ""}],
}


def meeting_on(rt: Runtime, now: datetime | None) -> dict[str, Any]:
    """The builder's meeting, held today (in the city) with its decision due three days later."""
    today = (now or utcnow()).astimezone(rt.settings.tz).date()
    decisions = [{**MEETING["decisions"][0], "due": (today + timedelta(days=3)).isoformat()}]
    return {**MEETING, "held_on": today.isoformat(), "decisions": decisions}


# Each state: the one before it and the step that leads there (action, username, fields).
PATHS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "solved": ("received", "solve_on_spot", "window", {"note": "陪同申请人到税务窗口当场办结。"}),
    "solved_unsatisfied": ("solved", "follow_up", "window", {"result": "unsatisfied"}),
    "ledgered": ("received", "ledger", "window", {"obstacle": "back_and_forth", "item": "营业执照变更"}),
    "assigned": ("ledgered", "assign", "window", {"department": "cgj", "co_departments": ["gjj"], "days": 5}),
    "consulting": ("assigned", "meet", "window", {"meeting": MEETING}),
    "concluded": (
        "consulting",
        "conclude",
        "h_cgj",
        {"outcome": "done", "explanation": "已办结营业执照变更。"},
    ),
    "concluded_unsatisfied": ("concluded", "follow_up", "window", {"result": "unsatisfied"}),
    "concluded_satisfied": ("concluded", "follow_up", "window", {"result": "satisfied"}),
    "closed": ("concluded_satisfied", "close", "window", {}),
}
SITUATIONS: tuple[str, ...] = ("received", *PATHS)


def case_data(*, anonymous: bool = True, kind: str = "business", **over: Any) -> CaseCreate:
    fields: dict[str, Any] = {
        "kind": kind,
        "subject": "营业执照变更跑了三趟还没办成",
        "content": "公司变更法定代表人，窗口三次要求补充不同材料，至今未能受理。",
        "obstacle": "back_and_forth",
        "item": "营业执照变更登记",
        "department": "scjg",
        "anonymous": anonymous,
        "complainant_name": NAME,
        "complainant_phone": PHONE,
        "complainant_id_number": ID_NUMBER,
        "company_name": COMPANY,
        "company_uscc": VALID_USCC,
    }
    fields.update(over)
    return CaseCreate(**fields)


def _path_to(status: str) -> list[tuple[str, str, dict[str, Any]]]:
    steps = []
    while status != "received":
        before, action, username, fields = PATHS[status]
        steps.append((action, username, fields))
        status = before
    return steps[::-1]


def make_case(
    rt: Runtime,
    *,
    status: str = "received",
    users: dict[str, Actor] | None = None,
    now: datetime | None = None,
    anonymous: bool = True,
) -> str:
    users = users or actors(rt)
    with rt.db.write() as session:
        code = open_case(
            session, rt, data=case_data(anonymous=anonymous), actor=users["window"], now=now
        ).code
        for action, username, fields in _path_to(status):
            if action == "meet":
                fields = {"meeting": meeting_on(rt, now)}
            apply_action(
                session,
                rt,
                code=code,
                action=action,
                data=CaseAction(**fields),
                actor=users[username],
                now=now,
            )
    return code
