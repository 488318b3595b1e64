"""请工作人员帮我办: a citizen's call-back request into the 帮代办 queue (issue 18).

A citizen who cannot (or would rather not) fill in a form online leaves a name, a phone number, what
they need and when to call; the request waits in the queue of the people who may apply on someone's
behalf (``assistance.HELPER_ROLES``: volunteers, window staff, operators, supervisors). One of them
claims it, calls, notes each call, and closes it with an outcome; the citizen follows it with a code
(``BB…``) and the last four digits of the phone, or the bookmarkable link the confirmation gives.

Why not a work order (工单): an order is dispatched to a department and answered within statutory
deadlines, then called back about; this is the service centre's own help to fill in or hand in an
application (帮办代办), handled by its staff, not by a department. The applications domain already
keeps the 帮代办 records (consent, 陪同办), so the request lives next to them.

The state table below is the only list of moves; ``_move`` is the only place the status changes and
the only writer of the request's events.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from haoban.applications.assistance import HELPER_ROLES
from haoban.applications.models import HelpRequest, HelpRequestEvent
from haoban.auth.actors import CITIZEN_ACTOR, Actor
from haoban.auth.rbac import require_role
from haoban.auth.roles import Role
from haoban.db import utcnow
from haoban.errors import Conflict, Forbidden, Invalid, NotFound
from haoban.notifications.service import enqueue
from haoban.orders.citizen import normalise_phone, phone_last4
from haoban.runtime import Runtime
from haoban.security.codes import public_code

CODE_PREFIX = "BB"  # 帮办
NEED_MAX = 1000
NOTE_MAX = 2000

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("已收到，等待工作人员联系", "Received; a member of staff will call you"),
    "claimed": ("工作人员正在帮您办理", "A member of staff is helping you"),
    "closed": ("已办完", "Done"),
}
STAFF_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "open": ("待认领", "Waiting"),
    "claimed": ("处理中", "In hand"),
    "closed": ("已关闭", "Closed"),
}
TIME_LABELS: dict[str, tuple[str, str]] = {
    "anytime": ("什么时候都可以", "Any time"),
    "morning": ("上午（9:00–12:00）", "Morning (9:00–12:00)"),
    "afternoon": ("下午（14:00–17:30）", "Afternoon (14:00–17:30)"),
    "evening": ("傍晚（17:30–20:00）", "Early evening (17:30–20:00)"),
}
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "helped": ("已电话指导办理", "Helped over the phone"),
    "proxy": ("已代为办理（帮代办）", "Applied on their behalf"),
    "appointment": ("已预约到窗口办理", "Booked a visit to a service window"),
    "referred": ("已转相关部门", "Referred to the right department"),
    "unreachable": ("多次联系不上", "Could not be reached"),
    "not_needed": ("不再需要", "No longer needed"),
}
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "file": ("提交请求", "Request received"),
    "claim": ("工作人员已接手", "A member of staff took it on"),
    "note": ("工作人员已联系", "Staff contacted you"),
    "release": ("重新排队等待联系", "Back in the queue for the next member of staff"),
    "close": ("已办完", "Done"),
}


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[str | None]
    target: str | None  # None: the status stays
    roles: tuple[str, ...]


# The state table: every move of a help request.
MOVES: dict[str, Move] = {
    m.action: m
    for m in (
        Move("file", frozenset({None}), "open", (Role.CITIZEN, *HELPER_ROLES)),
        Move("claim", frozenset({"open"}), "claimed", HELPER_ROLES),
        Move("note", frozenset({"claimed"}), None, HELPER_ROLES),
        Move("release", frozenset({"claimed"}), "open", HELPER_ROLES),
        Move("close", frozenset({"claimed"}), "closed", HELPER_ROLES),
    )
}
# Who may act on a request someone else has claimed.
OVERSIGHT = (Role.SUPERVISOR, Role.ADMIN)


def allowed_actions(req: HelpRequest, actor: Actor) -> list[str]:
    """The moves ``actor`` may make on ``req`` now: the same checks as ``_move``."""
    out = []
    for move in MOVES.values():
        if move.action == "file" or req.status not in move.sources or actor.role not in move.roles:
            continue
        if req.status == "claimed" and req.claimed_by_id != actor.id and actor.role not in OVERSIGHT:
            continue
        out.append(move.action)
    return out


def _move(
    session: Session,
    req: HelpRequest,
    *,
    action: str,
    actor: Actor,
    at: datetime,
    note: str | None = None,
    outcome: str | None = None,
) -> None:
    """The one gate: check the table, change the status, append the event."""
    move = MOVES[action]
    require_role(actor, *move.roles)
    if req.status not in move.sources:
        raise Conflict(
            f"cannot {action} a help request that is {req.status}",
            allowed_actions=allowed_actions(req, actor),
            message_zh="该请求当前状态不允许此操作，请刷新页面",
        )
    if (
        action != "claim"
        and req.status == "claimed"
        and req.claimed_by_id != actor.id
        and actor.role not in OVERSIGHT
    ):
        raise Forbidden(
            f"{req.claimed_by_name} has this request; ask them or a supervisor",
            message_zh=f"该请求已由{req.claimed_by_name}接手，请联系对方或督办员",
        )
    if move.target is not None:
        req.status = move.target
    req.updated_at = at
    if req.id is None:
        session.flush()  # a new request: its id, for the event
    session.add(
        HelpRequestEvent(
            request_id=req.id,
            action=action,
            actor_name=actor.name,
            actor_role=actor.role,
            note=note,
            outcome=outcome,
            at=at,
        )
    )


def _clean_note(note: str | None, *, required: bool) -> str | None:
    text = (note or "").strip()
    if required and not text:
        raise Invalid(
            "note: say what happened on the call", fields={"note": "required"}, message_zh="请填写联系情况"
        )
    if len(text) > NOTE_MAX:
        raise Invalid(
            f"note: at most {NOTE_MAX} characters", fields={"note": f"at most {NOTE_MAX} characters"}
        )
    return text or None


def file_request(
    rt: Runtime,
    session: Session,
    *,
    name: str,
    phone: str,
    need: str,
    preferred_time: str = "anytime",
    lang: str = "zh",
    actor: Actor = CITIZEN_ACTOR,
    now: datetime | None = None,
) -> HelpRequest:
    """Put a request into the queue and text its code to the phone."""
    at = now or utcnow()
    fields: dict[str, str] = {}
    zh: list[str] = []
    name = (name or "").strip()
    need = (need or "").strip()
    if not name:
        fields["name"] = "required"
        zh.append("请填写怎么称呼您")
    elif len(name) > 50:
        fields["name"] = "at most 50 characters"
        zh.append("称呼最多 50 个字")
    number = ""
    try:
        number = normalise_phone(phone or "")
    except ValueError as exc:
        fields["phone"] = str(exc)
        zh.append("手机或电话号码格式不正确")
    if not need:
        fields["need"] = "required"
        zh.append("请说说您要办什么事")
    elif len(need) > NEED_MAX:
        fields["need"] = f"at most {NEED_MAX} characters"
        zh.append(f"内容最多 {NEED_MAX} 个字")
    if preferred_time not in TIME_LABELS:
        fields["preferred_time"] = f"one of {', '.join(TIME_LABELS)}"
        zh.append("请选择方便接电话的时间")
    if fields:
        raise Invalid(
            "the help request is not complete: " + "; ".join(f"{k}: {v}" for k, v in fields.items()),
            fields=fields,
            message_zh="；".join(zh),
        )
    req = HelpRequest(
        code=f"new-{secrets.token_hex(8)}",  # replaced by the public code once the id is known
        name=name,
        phone=number,
        need=need,
        preferred_time=preferred_time,
        lang="en" if lang == "en" else "zh",
        created_at=at,
        updated_at=at,
    )
    session.add(req)
    _move(session, req, action="file", actor=actor, at=at)
    day = at.astimezone(rt.settings.tz).strftime("%Y%m%d")
    req.code = public_code(CODE_PREFIX, day, req.id, width=6)
    slot = TIME_LABELS[preferred_time][0]
    enqueue(
        session,
        channel="sms",
        recipient=number,
        subject="帮办请求已收到",
        body=f"您的帮办请求已收到，编号 {req.code}。工作人员将在{slot}给您回电（来电显示 12345）。"
        "凭编号和手机后四位可查询进度。",
        dedupe_key=f"help-request:{req.code}:file",
    )
    return req


def get(session: Session, code: str, *, for_update: bool = False) -> HelpRequest:
    stmt = select(HelpRequest).where(HelpRequest.code == (code or "").strip().upper())
    if for_update:
        stmt = stmt.with_for_update()
    req = session.scalars(stmt).first()
    if req is None:
        raise NotFound(f"no help request {code!r}", message_zh="没有这个帮办请求")
    return req


def for_citizen(session: Session, *, code: str, last4: str) -> HelpRequest:
    """The request if ``last4`` are its phone's last four digits; the same NotFound otherwise."""
    try:
        req = get(session, code)
    except NotFound:
        req = None
    if req is None or phone_last4(req.phone) != last4:
        raise NotFound(
            "no help request with this code and these phone digits",
            message_zh="编号或手机后四位不对，请核对后再查",
        )
    return req


def act(
    session: Session,
    *,
    code: str,
    action: str,
    actor: Actor,
    note: str | None = None,
    outcome: str | None = None,
    now: datetime | None = None,
) -> HelpRequest:
    """A staff move: ``claim``, ``note`` (a call, with what happened), ``release``, ``close`` (outcome)."""
    require_role(actor, *HELPER_ROLES)
    if action not in MOVES or action == "file":
        raise Invalid(
            f"unknown action {action!r}: one of claim, note, release, close",
            fields={"action": "claim, note, release or close"},
            message_zh="未知操作",
        )
    at = now or utcnow()
    req = get(session, code, for_update=True)
    text = _clean_note(note, required=action == "note")
    if action == "close":
        if outcome not in OUTCOME_LABELS:
            raise Invalid(
                f"outcome: one of {', '.join(OUTCOME_LABELS)}",
                fields={"outcome": f"one of {', '.join(OUTCOME_LABELS)}"},
                message_zh="请选择办理结果",
            )
    else:
        outcome = None
    _move(session, req, action=action, actor=actor, at=at, note=text, outcome=outcome)
    if action == "claim":
        req.claimed_by_id = actor.id
        req.claimed_by_name = actor.name
        req.claimed_at = at
    elif action == "release":
        req.claimed_by_id = None
        req.claimed_by_name = None
        req.claimed_at = None
    elif action == "close":
        req.outcome = outcome
        req.closed_at = at
        enqueue(
            session,
            channel="sms",
            recipient=req.phone,
            subject="帮办请求已办完",
            body=f"您的帮办请求 {req.code} 已办完：{OUTCOME_LABELS[str(outcome)][0]}。"
            "如还需帮助，请拨打 12345。",
            dedupe_key=f"help-request:{req.code}:close",
        )
    return req


def queue(
    session: Session, *, actor: Actor, status: str | None = None, limit: int = 200
) -> list[HelpRequest]:
    """The 帮代办 queue: waiting requests oldest first, then those in hand, then the recently closed."""
    require_role(actor, *HELPER_ROLES)
    stmt = select(HelpRequest)
    if status:
        if status not in STATUS_LABELS:
            raise Invalid(f"status: one of {', '.join(STATUS_LABELS)}", fields={"status": "unknown"})
        stmt = stmt.where(HelpRequest.status == status)
    order = case({"open": 0, "claimed": 1}, value=HelpRequest.status, else_=2)
    closed_last = case((HelpRequest.status == "closed", HelpRequest.closed_at), else_=None)
    stmt = stmt.order_by(order, closed_last.desc(), HelpRequest.created_at).limit(limit)
    return list(session.scalars(stmt))


def events(session: Session, req: HelpRequest) -> list[HelpRequestEvent]:
    return list(
        session.scalars(
            select(HelpRequestEvent)
            .where(HelpRequestEvent.request_id == req.id)
            .order_by(HelpRequestEvent.id)
        )
    )


def _pick(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str | None:
    if key is None:
        return None
    pair = table.get(key, (key, key))
    return pair[1] if lang == "en" else pair[0]


def citizen_view(session: Session, req: HelpRequest, lang: str) -> dict[str, Any]:
    """What the citizen sees: status in plain words, the steps, never staff notes or names."""
    return {
        "code": req.code,
        "status": req.status,
        "status_text": _pick(STATUS_LABELS, req.status, lang),
        "need": req.need,
        "preferred_time": _pick(TIME_LABELS, req.preferred_time, lang),
        "created_at": req.created_at,
        "outcome": req.outcome,
        "outcome_text": _pick(OUTCOME_LABELS, req.outcome, lang),
        "steps": [
            {"action": e.action, "text": _pick(EVENT_LABELS, e.action, lang), "at": e.at}
            for e in events(session, req)
        ],
    }


def staff_view(session: Session, req: HelpRequest, lang: str, actor: Actor) -> dict[str, Any]:
    return {
        "code": req.code,
        "status": req.status,
        "status_text": _pick(STAFF_STATUS_LABELS, req.status, lang),
        "name": req.name,
        "phone": req.phone,
        "need": req.need,
        "preferred_time": req.preferred_time,
        "preferred_time_text": _pick(TIME_LABELS, req.preferred_time, lang),
        "created_at": req.created_at,
        "claimed_by": req.claimed_by_name,
        "claimed_at": req.claimed_at,
        "mine": req.claimed_by_id is not None and req.claimed_by_id == actor.id,
        "outcome": req.outcome,
        "outcome_text": _pick(OUTCOME_LABELS, req.outcome, lang),
        "closed_at": req.closed_at,
        "allowed_actions": allowed_actions(req, actor),
    }


def staff_events(session: Session, req: HelpRequest, lang: str) -> list[dict[str, Any]]:
    return [
        {
            "action": e.action,
            "text": _pick(EVENT_LABELS, e.action, lang),
            "actor": e.actor_name,
            "note": e.note,
            "outcome_text": _pick(OUTCOME_LABELS, e.outcome, lang),
            "at": e.at,
        }
        for e in events(session, req)
    ]
