"""``make_order(status=…)``: an order in any state, reached the way people reach it — through the services.

Every order is registered by intake and moved by ``apply_action`` as the demo accounts would move it
(no raw inserts, no status written by hand), so an order made here carries a real case file, real
deadlines and whatever the effects of each step leave behind. Situations the table's guards tell
apart have their own names:

- ``signed_extension``: signed, with an extension request waiting for a decision;
- ``callback_unsatisfied``: due for its call-back, after a call-back that found the citizen unsatisfied.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import select

from haoban.auth.actors import Actor
from haoban.auth.models import User
from haoban.auth.service import actor_for
from haoban.orders.actions import apply_action
from haoban.orders.intake import prepare_order, write_prepared
from haoban.orders.schemas import ActionRequest, OrderCreate
from haoban.runtime import Runtime

LEAD = "cgj"  # the lead department of orders made here (its handler: h_cgj)
CO = "gjj"  # a co-handling department (its handler: h_gjj sees the order but does not lead it)

# Each situation: the one before it and the step that leads from there (action, actor, fields).
PATHS: dict[str, tuple[str | None, str, str, dict[str, Any]]] = {
    "pending_dispatch": ("registered", "hold", "operator", {}),
    "answered": ("registered", "answer", "operator", {"answer": "已即时答复。"}),
    "transferred": ("registered", "transfer", "operator", {"target": "110"}),
    "dispatched": ("registered", "dispatch", "dispatcher", {"department": LEAD, "co_handlers": [CO]}),
    "return_requested": ("dispatched", "return", f"h_{LEAD}", {"reason": "不属于本单位职责。"}),
    "signed": ("dispatched", "sign", f"h_{LEAD}", {}),
    "signed_extension": ("signed", "request_extension", f"h_{LEAD}", {"days": 2, "reason": "需要协调。"}),
    "replied": ("signed", "reply", f"h_{LEAD}", {"reply": "已处理完毕，路灯已修复。"}),
    "callback": ("replied", "review_reply", "dispatcher", {"decision": "approve"}),
    "callback_unsatisfied": ("callback", "callback", "operator", {"result": "unsatisfied"}),
    "closed": ("callback", "callback", "operator", {"result": "satisfied"}),
    "archived": ("closed", "archive", "supervisor", {}),
}
SITUATIONS: tuple[str, ...] = ("registered", "merged", *PATHS)
# The status each situation stands in.
STATUS_OF = {s: s.removesuffix("_extension").removesuffix("_unsatisfied") for s in SITUATIONS}


def actors(rt: Runtime) -> dict[str, Actor]:
    with rt.db.read() as session:
        return {u.username: actor_for(u) for u in session.scalars(select(User))}


def make_order(
    rt: Runtime,
    *,
    status: str,
    content: str = "滨江路的路灯坏了三天，晚上很黑，请尽快修理。",
    users: dict[str, Actor] | None = None,
    now: datetime | None = None,
) -> str:
    """An order in ``status`` (a status, or one of the guard situations above); returns its code."""
    if status not in SITUATIONS:
        raise ValueError(f"no way to make an order {status!r}; one of {', '.join(SITUATIONS)}")
    users = users or actors(rt)
    data = OrderCreate(type="complaint", content=content, citizen_phone="13812345678", citizen_name="张三")
    with rt.db.write() as session:
        # Registered with the operator, not routed: every later step is a person's, as in the console.
        code = write_prepared(
            session, [prepare_order(rt, data=data, actor=users["operator"], now=now, route=False)]
        )[0].code
        if status == "merged":
            master = write_prepared(
                session, [prepare_order(rt, data=data, actor=users["operator"], now=now, route=False)]
            )[0].code
            _step(session, rt, code, "merge", users["operator"], {"master": master}, now)
            return code
        for action, username, fields in _path_to(status):
            _step(session, rt, code, action, users[username], fields, now)
    return code


def _path_to(status: str) -> list[tuple[str, str, dict[str, Any]]]:
    steps = []
    while status != "registered":
        before, action, username, fields = PATHS[status]
        steps.append((action, username, fields))
        status = before  # type: ignore[assignment]
    return steps[::-1]


def _step(
    session: Any,
    rt: Runtime,
    code: str,
    action: str,
    actor: Actor,
    fields: dict[str, Any],
    now: datetime | None,
) -> None:
    apply_action(session, rt, code=code, action=action, data=ActionRequest(**fields), actor=actor, now=now)


def run_async(coroutine: Any) -> Any:
    """Run *coroutine* to its end on a thread of its own and return its result (or raise its error here):
    a browser test's sync API earlier in this process may have left an event loop running in this
    thread, where ``asyncio.run`` refuses to start."""
    out: list[Any] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(coroutine))
        except BaseException as e:  # re-raised in the caller's thread
            errors.append(e)

    runner = threading.Thread(target=target)
    runner.start()
    runner.join()
    if errors:
        raise errors[0]
    return out[0]
