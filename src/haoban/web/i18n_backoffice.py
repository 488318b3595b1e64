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
    # admin (issue 13): rules with names, transfer targets, delete with confirmation and history
    "outcome_dispatch": ("派往承办单位", "Dispatch to a department"),
    "outcome_transfer": ("转警/急救", "Transfer to 110/119/120/122"),
    "outcome_answer": ("即时答复", "Answer at once"),
    "outcome_hold": ("待人工派单", "Hold for a dispatcher"),
    "transfer_target": ("转往", "Transfer to"),
    "guidance": ("答复口径", "Answer given"),
    "cancel": ("取消", "Cancel"),
    "restore": ("恢复", "Restore"),
    "restored": ("已恢复", "Restored"),
    "confirm_delete_rule": ("确认删除这条派单规则？", "Delete this dispatch rule?"),
    "confirm_delete_year": ("确认删除该年度放假安排？", "Delete the holiday schedule of"),
    "delete_kept_in_history": (
        "删除后记入历史，可随时恢复。",
        "It goes into the history and can be restored at any time.",
    ),
    "deleted_rules": ("已删除的规则（可恢复）", "Deleted rules (restorable)"),
    # reply templates (答复模板) on the admin page
    "templates": ("答复模板", "Reply templates"),
    "edit": ("修改", "Edit"),
    "edit_template": ("修改答复模板", "Edit the reply template"),
    "template_title": ("模板名称", "Template name"),
    "template_body": ("答复内容", "Reply text"),
    "all_categories": ("全部分类", "All categories"),
    "template_placeholders": ("可用占位符（答复时自动填入）：", "Placeholders (filled in when replying):"),
    "placeholder_department": ("承办单位", "handling department"),
    "placeholder_code": ("工单编号", "order number"),
    "placeholder_category": ("诉求分类", "category"),
    "placeholder_district": ("所属区县", "district"),
    "placeholder_date": ("受理日期", "date received"),
    "confirm_delete_template": ("确认删除这个答复模板？", "Delete this reply template?"),
    "ph_reply_photos": (
        "答复照片（可选，答复通过后市民可见）",
        "Photos with the reply (optional; the citizen sees them once it is approved)",
    ),
    "deleted_templates": ("已删除的答复模板（可恢复）", "Deleted reply templates (restorable)"),
    "deleted_at": ("时间", "When"),
    "calendar_history": ("放假安排历史（可恢复）", "Schedule history (restorable)"),
    "change_replace": ("被替换前", "Before a replacement"),
    "change_delete": ("被删除前", "Before a deletion"),
    "change_restore": ("恢复前", "Before a restore"),
    "calendar_change": ("变化", "Change"),
    "calendar_preview": ("上传预览：", "Preview of the upload:"),
    "calendar_preview_btn": ("预览", "Preview"),
    "calendar_replaces": (
        "将替换已上传的本年度安排。",
        "This replaces the schedule already loaded for the year.",
    ),
    "calendar_overrides": (
        "将取代系统内置的本年度数据。",
        "This takes the place of the built-in data for the year.",
    ),
    "calendar_dropped": ("新文件不再包含这些节日", "The new file no longer contains these holidays"),
    "calendar_confirm_dropped": ("我确认删除：", "I confirm removing:"),
    "calendar_confirm_dropped_err": (
        "新文件去掉了节日，请勾选确认或改正文件。",
        "The new file drops holidays: tick to confirm, or fix the file.",
    ),
    "calendar_no_change": ("与现行安排相同，没有变化。", "Same as the schedule in force: nothing changes."),
    "calendar_removed_all": ("整个节日被删除", "whole holiday removed"),
    "calendar_new": ("新增", "new"),
    "calendar_same": ("不变", "unchanged"),
    "calendar_confirm": ("确认保存", "Confirm and save"),
    "calendar_template": ("下载 CSV 模板", "Download the CSV template"),
    "calendar_format_help": (
        "上传国务院办公厅当年的放假安排：CSV（Excel 另存为 CSV 即可，UTF-8 或 GBK），每行一天，"
        "表头“日期,类型,名称”（也可用 date,kind,name）；类型写“休”（放假）或“班”（调休上班）；"
        "也可上传 YAML / JSON。保存前会先显示与现行安排的差别。",
        "Upload the State Council's holiday schedule for one year: CSV (save from Excel as CSV, UTF-8 or "
        "GBK), one day a line, header 'date,kind,name' (the Chinese headers work too); kind is holiday or "
        "makeup_workday; YAML / JSON also work. You will see what changes before it is saved.",
    ),
    "calendar_format_example": (
        "日期,类型,名称\n2027-02-06,休,春节\n2027-02-14,班,",
        "date,kind,name\n2027-02-06,holiday,春节\n2027-02-14,makeup_workday,",
    ),
    # dashboard
    "dash_err_day": ("请按 年-月-日 填写日期，如 2026-11-30", "Enter the date as YYYY-MM-DD"),
    "dash_err_order": ("开始日期不能晚于结束日期", "The start date must not be after the end date"),
    "dash_err_long": ("期间最长十年", "A period may be at most ten years"),
    "dash_err_district": ("没有这个区县", "No such district"),
    "dash_err_bucket": ("请选择 按日 / 按周 / 按月", "Choose day, week or month"),
    "dash_default_shown": ("下面显示的是默认期间：", "The figures below are for the default period:"),
    "dash_on_time_caveat": (
        "只计已办结的工单；此刻另有",
        "Counts finished orders only; right now",
    ),
    "dash_on_time_caveat_tail": ("件在办工单已超时，未计入。", "open orders are overdue and not counted."),
    # dispatch sources (the order page's 派单依据)
    "dispatch_source_rule": ("派单目录", "Dispatch catalogue"),
    "dispatch_source_model": ("智能派单模型", "Dispatch model"),
    "dispatch_source_human": ("人工派单", "A person"),
    "dispatch_source_human_dispatch": ("人工派单", "A person"),
    "dispatch_source_return": ("退单改派", "Re-dispatched after a return"),
    "dispatch_source_keyword": ("关键词", "Keywords"),
    # SLA units
    "unit_working_days": ("个工作日", "working days"),
    "unit_working_hours": ("个工作小时", "working hours"),
    "unit_calendar_days": ("个自然日", "calendar days"),
    "unit_calendar_hours": ("个自然小时", "calendar hours"),
    "code_short": ("编码", "Code"),
    "tabs_label": ("分类标签", "Tabs"),
    "main_nav": ("主导航", "Main navigation"),
    # back-office comforts
    "caller_history": ("来电人历史工单", "This caller's earlier orders"),
    "caller_history_none": ("这个号码以前没有来过电。", "No earlier orders from this number."),
    "select": ("选择", "Select"),
    "select_all": ("全选", "Select all"),
    "bulk_dispatch_to": ("勾选的工单派往", "Dispatch the ticked orders to"),
    "bulk_dispatch": ("批量派单", "Dispatch ticked"),
    "bulk_dispatched": ("已批量派单", "Dispatched"),
    "bulk_sign": ("批量签收", "Sign ticked"),
    "bulk_signed": ("已批量签收", "Signed"),
    "bulk_failed": ("以下工单未完成：", "These orders were not done:"),
    "bulk_missing_codes": ("请先勾选工单", "Tick some orders first"),
    "bulk_missing_department": ("请选择承办单位", "Choose a department"),
    "reply_template": ("答复模板", "Reply template"),
}
