"""The supervisor board: overdue and warning orders by department, 督办, and the review queues."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haoban.analytics import service as analytics
from haoban.auth.roles import REVIEW_ROLES
from haoban.casework import access as case_access
from haoban.casework import presenters as case_presenters
from haoban.casework import service as case_service
from haoban.db import utcnow
from haoban.orders import presenters, queries
from haoban.web import panels, staff
from haoban.web.common import PageRoute, lang_of, render, require_actor, runtime
from haoban.web.orders import done_message, failure, localized_score

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LIMIT = 10


@router.get("/board")
def board(request: Request, department: str | None = None) -> Response:
    actor = require_actor(request, *REVIEW_ROLES)
    rt = runtime(request)
    now = utcnow()
    dept = rt.directory.department(department) if department else None

    lang = lang_of(request)

    def queue(session: object, order: str = "newest", **filters: object) -> tuple[list[dict[str, Any]], int]:
        f = queries.OrderFilter(department=dept.code if dept else None, **filters)  # type: ignore[arg-type]
        rows, total = queries.list_orders(
            session,  # type: ignore[arg-type]
            rt,
            actor=actor,
            filters=f,
            page=1,
            page_size=LIMIT,
            order=order,
        )
        items = [presenters.order_detail(o, rt, actor=actor, now=now) for o in rows]
        for item in items:
            item["department_label"] = staff.dept_name(rt, item["department"], lang)
            item["due_text"] = staff.due_text(item["deadlines"]["handle"]["at"], now, lang)
        return items, total

    with rt.db.read() as session:
        by_dept = analytics.department_deadlines(session, now=now, directory=rt.directory)
        overdue = queue(session, order="deadline", overdue=True)  # the most days overdue first
        returns = queue(session, status=["return_requested"])
        replies = queue(session, status=["replied"])
        callbacks = queue(session, status=["callback"])
        ext_rows, ext_total = queries.pending_extensions(session, actor=actor, limit=LIMIT)
        extensions = ([presenters.order_detail(o, rt, actor=actor, now=now) for o in ext_rows], ext_total)
        scores = {
            o["code"]: localized_score(panels.reply_score(session, code=o["code"], actor=actor), lang)
            for o in replies[0]
        }
        board_cases = _overdue_cases(session, rt, actor, now)
    return render(
        request,
        "board.html",
        {
            "by_dept": by_dept,
            "dept": dept,
            "sections": [
                ("overdue_orders", "supervise", overdue),
                ("returns_review", "review_return", returns),
                ("replies_review", "review_reply", replies),
                ("extensions_review", "decide_extension", extensions),
                ("callbacks_due", "callback", callbacks),
            ],
            "scores": scores,
            "board_cases": board_cases,
            "done": request.query_params.get("done"),
            "done_code": request.query_params.get("code"),
            "done_message": done_message(request, lang),
            "dept_label": lambda code: staff.dept_name(rt, code, lang),
            "failure": failure(request),
        },
        actor=actor,
    )


def _overdue_cases(session: Any, rt: Any, actor: Any, now: Any) -> tuple[list[dict[str, Any]], int]:
    """Cases past their 限时 deadline (the window's difficult matters), with whether 督办 is offered."""
    rows, total = case_service.list_cases(
        session, rt, actor=actor, filters=case_service.CaseFilter(overdue=True), page_size=LIMIT, now=now
    )
    ratio = rt.settings.warning_ratio
    out = []
    for c in rows:
        view = case_presenters.case_summary(c, warning_ratio=ratio, now=now)
        view["allowed"] = case_access.allowed_actions(c, actor, now=now)
        out.append(view)
    return out, total
