"""The staff pages' words added for issue 13 (console, queue, inbox, board, admin, dashboard).

Kept beside ``i18n.STRINGS`` (merged into it there) so the helpers adding keys do not collide.
"""

from __future__ import annotations

BACKOFFICE_STRINGS: dict[str, tuple[str, str]] = {
    # department kinds (pickers' groups)
    "kind_department": ("市直部门", "City departments"),
    "kind_district": ("区县政府", "District governments"),
    "kind_utility": ("公共事业单位", "Utilities"),
    "filter_departments": ("筛选单位（名称或编码）", "Filter departments (name or code)"),
    # deadlines
    "due_left": ("剩 {span}", "{span} left"),
    "due_overdue": ("已超时 {span}", "overdue by {span}"),
    "due_overdue_days": ("已超时 {days} 天", "{days} days overdue"),
    "handle_deadline": ("办理时限", "Handling deadline"),
    "supervised_badge": ("督办", "Supervised"),
    # console confirmation
    "registered_to": ("已派往", "Dispatched to"),
    "registered_pending": ("待派单员派单", "Waiting for a dispatcher"),
    "registered_answered": ("已即时答复并办结", "Answered at once and closed"),
    "registered_transferred": ("已转", "Transferred to"),
    "registered_deadline": ("办理时限", "handling deadline"),
    "registered_tell": ("请告知来电人：", "Tell the caller:"),
    "transfer_now": ("一键转", "Transfer to"),
    "transfer_line_110": ("110 报警", "110 police"),
    "transfer_line_119": ("119 火警", "119 fire"),
    "transfer_line_120": ("120 急救", "120 ambulance"),
    "transfer_line_122": ("122 交通事故", "122 traffic accident"),
    # decisions' confirmations
    "done_review_reply_approve": ("已同意答复，转入回访", "Reply approved; the call-back is due"),
    "done_review_reply_reject": (
        "已驳回答复，退回承办单位重新答复",
        "Reply rejected; sent back to the department",
    ),
    "done_decide_extension_approve": ("已批准延期", "Extension approved"),
    "done_decide_extension_refuse": ("已不同意延期", "Extension refused"),
    "done_review_return_uphold": ("已同意退单并改派", "Return upheld and re-dispatched"),
    "done_review_return_reject": ("已驳回退单", "Return rejected"),
    "done_supervise": ("已督办", "Supervision sent"),
    "failed_action": ("未完成", "Not done"),
    "reject_reason": ("驳回理由", "Reason to reject"),
    "days_overdue": ("超时天数", "Days overdue"),
}
