"""The pages' words, Chinese first and English second, in one small dictionary.

Templates call ``t("key")``; an unknown key shows itself, so a missing string is visible, not fatal.
Status and action labels come from the state table (``orders.workflow``), appeal types, urgency and
channels from ``directory.vocabulary``, roles from ``auth.roles`` — not from here.
"""

from __future__ import annotations

from haoban.directory.vocabulary import URGENCY_LABELS

LANGS = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    # frame
    "app": ("好办 · 12345 政务服务便民热线", "haoban · 12345 government service hotline"),
    "brand": ("好办 12345", "haoban 12345"),
    "skip": ("跳到正文", "Skip to content"),
    "toggle_lang": ("English", "中文"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "home": ("首页", "Home"),
    "portal": ("市民服务", "Citizens"),
    "console": ("话务受理", "Operator console"),
    "queue": ("待派单", "Dispatch queue"),
    "inbox": ("部门工单", "Department inbox"),
    "board": ("督办看板", "Supervisor board"),
    "admin": ("系统管理", "Admin"),
    "dashboard": ("数据看板", "City dashboard"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "shortcuts": ("快捷键", "Keyboard shortcuts"),
    "footer": (
        "好办 haoban · 开源 12345 热线平台 · 时间按北京时间显示",
        "haoban · open-source 12345 hotline platform · times in Beijing time",
    ),
    # landing
    "landing_lead": (
        "一个号码、一个队列：受理、派单、办理、督办、回访、评价，全程留痕。",
        "One number, one queue: registration, dispatch, handling, supervision, call-back, rating, on record.",
    ),
    "landing_roles": ("按角色进入", "Pages by role"),
    "role_citizen": ("市民：提交诉求、查询进度、评价", "Citizens: file an appeal, track it, rate it"),
    "role_operator": ("话务员：快速登记来电、即时答复、转警", "Operators: register calls, answer, transfer"),
    "role_dispatcher": ("派单员：待派单队列、退单审核", "Dispatchers: the dispatch queue, return reviews"),
    "role_handler": ("承办单位：签收、退单、答复、申请延期", "Departments: sign, return, reply, extensions"),
    "role_supervisor": (
        "督办员：超时预警、督办、审核、回访",
        "Supervisors: overdue, 督办, reviews, call-backs",
    ),
    "role_admin": (
        "管理员：部门、账号、派单目录、时限、日历",
        "Admins: departments, users, rules, SLAs, calendar",
    ),
    "role_leader": ("城市管理者：数据看板", "City leaders: the dashboard"),
    "demo_accounts": ("演示账号（密码均为 demo）", "Demo accounts (password: demo)"),
    "api_docs": ("API 文档", "API docs"),
    "workflow_table": ("工单流转表", "Work-order state table"),
    # login
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码错误，请重试。", "Wrong username or password. Please try again."),
    "login_disabled": ("该账号已停用，请联系管理员。", "This account is disabled; ask an administrator."),
    "login_needed": ("请先登录。", "Please log in first."),
    "logged_out": ("已退出登录。", "You have logged out."),
    # errors
    "err_required": ("必填", "Required"),
    "err_form": ("请修改标出的字段后再提交。", "Please correct the marked fields and submit again."),
    "err_not_found_title": ("未找到或无权查看", "Not found, or no access"),
    "err_not_found": (
        "没有找到该页面或工单，或者您没有查看它的权限。",
        "This page or order does not exist, or you do not have access to it.",
    ),
    "err_forbidden_title": ("无权操作", "Not allowed"),
    "err_forbidden": ("您的角色不能进行此操作或查看此页面。", "Your role may not do this or see this page."),
    "err_conflict_title": ("暂时无法操作", "Cannot do that now"),
    "err_conflict": (
        "工单当前状态不允许此操作，请刷新后重试。",
        "The order's state does not allow this now; reload and retry.",
    ),
    "err_busy": ("系统繁忙，请稍后重试。", "The system is busy; please retry in a moment."),
    "err_rate": ("操作过于频繁，请一分钟后再试。", "Too many attempts; please wait a minute."),
    "err_server_title": ("出错了", "Something went wrong"),
    "err_server": (
        "服务器处理时出错，已记录。请稍后重试。",
        "The server could not handle this; it was logged. Please retry later.",
    ),
    "details": ("详情", "Details"),
    "back_home": ("返回首页", "Back to the home page"),
    # orders, common
    "code": ("工单编号", "Tracking code"),
    "status": ("状态", "Status"),
    "type": ("诉求类型", "Type"),
    "urgency": ("紧急程度", "Urgency"),
    "subject": ("标题", "Subject"),
    "content": ("诉求内容", "What happened"),
    "place": ("地点", "Place"),
    "address": ("详细地址", "Address"),
    "district": ("区县", "District"),
    "any_district": ("（不限 / 不清楚）", "(any / not sure)"),
    "category": ("分类", "Category"),
    "department": ("承办单位", "Department"),
    "co_handlers": ("协办单位", "Co-handlers"),
    "received_at": ("受理时间", "Received"),
    "deadline": ("办理时限", "Deadline"),
    "sign_deadline": ("签收时限", "Sign by"),
    "provisional": ("（暂定）", "(provisional)"),
    "citizen_name": ("姓名", "Name"),
    "citizen_phone": ("联系电话", "Phone"),
    "channel": ("渠道", "Channel"),
    "reply": ("答复内容", "Reply"),
    "answer": ("答复", "Answer"),
    "timeline": ("办理过程（一事一档）", "Case file timeline"),
    "actions": ("可进行的操作", "What you can do"),
    "no_actions": ("当前状态下您没有可进行的操作。", "There is nothing you can do on this order now."),
    "submit": ("提交", "Submit"),
    "search": ("搜索", "Search"),
    "open": ("打开", "Open"),
    "none": ("暂无", "None"),
    "all": ("全部", "All"),
    "page": ("页", "page"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "total": ("共", "Total"),
    "done": ("已完成", "Done"),
    "state_on_time": ("正常", "On time"),
    "state_warning": ("预警", "Warning"),
    "state_overdue": ("超时", "Overdue"),
    "supervision": ("督办次数", "Supervised"),
    "redo": ("重办次数", "Redone"),
    "extension_request": ("延期申请", "Extension request"),
    "days": ("天数", "Days"),
    "reason": ("理由", "Reason"),
    "note": ("督办意见", "Note"),
    "comment": ("备注", "Comment"),
    "decision": ("审核意见", "Decision"),
    "result": ("回访结果", "Result"),
    "target": ("转往", "Transfer to"),
    "master": ("主工单编号", "Master order code"),
    "dec_approve": ("同意", "Approve"),
    "dec_reject": ("驳回", "Reject"),
    "dec_refuse": ("不同意", "Refuse"),
    "dec_uphold": ("同意退单并改派", "Uphold and re-dispatch"),
    "res_satisfied": ("满意", "Satisfied"),
    "res_basically_satisfied": ("基本满意", "Basically satisfied"),
    "res_unsatisfied": ("不满意", "Unsatisfied"),
    "choose": ("请选择", "Choose"),
    "dispatch_info": ("派单依据", "Dispatch"),
    "confidence": ("置信度", "Confidence"),
    "source": ("来源", "Source"),
    # citizen portal
    "portal_title": ("12345 市民服务", "12345 for citizens"),
    "portal_lead": (
        "有事找 12345：提交诉求后会得到工单编号，用编号和手机号后四位随时查询进度。",
        "File an appeal and get a tracking code; track it with the code and your phone's last four digits.",
    ),
    "file_appeal": ("提交诉求", "File an appeal"),
    "your_phone_hint": ("用于回访和查询进度", "For the call-back and tracking"),
    "place_hint": ("如：珠晖区滨江路 12 号", "e.g. 12 Binjiang Road, Zhuhui"),
    "content_hint": (
        "请写明时间、地点、事情经过和您的诉求",
        "When, where, what happened and what you ask for",
    ),
    "filed_title": ("诉求已提交", "Appeal filed"),
    "filed_lead": ("请记下您的工单编号：", "Please keep your tracking code:"),
    "filed_next": ("我们会按时限办理并回访。", "We will handle it within the time limit and call you back."),
    "track": ("查询进度", "Track an appeal"),
    "phone_last4": ("手机号后四位", "Last 4 digits of your phone"),
    "track_not_found": (
        "没有找到与该编号和手机号匹配的诉求，请检查后重试。",
        "No appeal matches this code and phone number. Please check and try again.",
    ),
    "dup_hint": ("已有相似诉求正在办理：", "Similar appeals are already being handled:"),
    "dup_hint_more": (
        "您仍可提交，我们会合并办理。",
        "You may still file; we will handle them together.",
    ),
    "rate": ("评价办理结果", "Rate the outcome"),
    "rate_lead": ("您的评价会帮助改进服务（好差评）。", "Your rating helps improve the service."),
    "stars": ("评分", "Rating"),
    "rated": ("感谢您的评价！", "Thank you for your rating!"),
    "rectification": ("已转办整改，整改期限", "A rectification was opened, due"),
    "rate_unavailable": ("办理完成并答复后即可评价。", "You can rate the appeal once it has been answered."),
    "phone_digits_err": ("请输入 4 位数字", "Enter four digits"),
    # console
    "console_title": ("话务受理", "Register a call"),
    "register": ("登记", "Register"),
    "register_dispatch": ("登记并派单", "Register and dispatch"),
    "register_answer": ("登记并即时答复", "Register and answer now"),
    "register_transfer": ("登记并转警/急救", "Register and transfer"),
    "instant_answer": ("即时答复内容", "Instant answer"),
    "transfer_to": ("紧急转接", "Emergency transfer"),
    "no_transfer": ("（不转接）", "(no transfer)"),
    "auto_dispatch": ("自动派单", "Automatic dispatch"),
    "suggestion": ("派单建议", "Dispatch suggestion"),
    "suggestion_empty": ("输入诉求内容后显示派单建议。", "Type the appeal to see a dispatch suggestion."),
    "kb": ("知识库", "Knowledge base"),
    "kb_use": ("用作答复", "Use as answer"),
    "kb_empty": ("没有匹配的知识。", "No matching articles."),
    "similar": ("相似工单", "Similar orders"),
    "similar_none": ("暂无相似的在办工单。", "No similar open orders."),
    "console_keys": (
        "Alt+N 新登记 · Ctrl+Enter 提交 · Alt+K 知识库 · Alt+Q 待派单 · Alt+1…6 诉求类型",
        "Alt+N new call · Ctrl+Enter submit · Alt+K knowledge base · Alt+Q queue · Alt+1…6 type",
    ),
    "registered_ok": ("已登记", "Registered"),
    "queue_title": ("待派单队列", "Pending dispatch"),
    "queue_empty": ("没有待派单的工单。", "No orders wait for dispatch."),
    "dispatch_to": ("派往", "Dispatch to"),
    "merge_into": ("并入", "Merge into"),
    # inbox
    "inbox_title": ("本单位工单", "Our department's orders"),
    "tab_to_sign": ("待签收", "To sign"),
    "tab_handling": ("办理中", "Handling"),
    "tab_replied": ("已答复", "Replied"),
    "tab_returned": ("退单中", "Returned"),
    "tab_overdue": ("已超时", "Overdue"),
    "tab_all": ("全部", "All"),
    "inbox_empty": ("这里没有工单。", "No orders here."),
    # board
    "board_title": ("督办看板", "Supervisor board"),
    "by_department": ("各单位超时与预警", "Overdue and warning by department"),
    "overdue_orders": ("超时工单", "Overdue orders"),
    "returns_review": ("退单待审核", "Returns to review"),
    "replies_review": ("答复待审核", "Replies to review"),
    "callbacks_due": ("待回访", "Call-backs due"),
    "extensions_review": ("延期待审批", "Extension requests"),
    "reply_score": ("答复质量", "Reply quality"),
    "score_none": ("尚未评分", "not scored yet"),
    "grade_good": ("好", "good"),
    "grade_fair": ("一般", "fair"),
    "grade_poor": ("差", "poor"),
    "open_orders": ("在办", "Open"),
    # admin
    "admin_title": ("系统管理", "Administration"),
    "departments": ("承办单位", "Departments"),
    "users": ("账号", "Users"),
    "rules": ("派单目录", "Dispatch rules"),
    "sla": ("办理时限", "Time limits"),
    "calendar": ("工作日历", "Working calendar"),
    "name": ("名称", "Name"),
    "name_en": ("英文名称", "English name"),
    "hotline": ("原热线", "Former hotline"),
    "kind": ("类型", "Kind"),
    "active": ("启用", "Active"),
    "role": ("角色", "Role"),
    "display_name": ("显示名", "Display name"),
    "save": ("保存", "Save"),
    "add": ("新增", "Add"),
    "delete": ("删除", "Delete"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "keywords": ("关键词（逗号分隔）", "Keywords (comma-separated)"),
    "position": ("顺序", "Position"),
    "outcome": ("处理方式", "Outcome"),
    "sign_limit": ("签收时限", "Sign within"),
    "handle_limit": ("办理时限", "Handle within"),
    "unit": ("单位", "Unit"),
    "upload_schedule": (
        "上传年度放假安排（YAML / JSON / CSV）",
        "Upload a year's official schedule (YAML / JSON / CSV)",
    ),
    "year": ("年份", "Year"),
    "holidays": ("节假日", "Holidays"),
    "makeup_days": ("调休上班日", "Make-up workdays"),
    "file": ("文件", "File"),
    "saved": ("已保存", "Saved"),
    "read_only": ("只读：只有管理员可以修改。", "Read only: only admins may change this."),
    # dashboard
    "dashboard_title": ("城市数据看板", "City dashboard"),
    "from": ("开始日期", "From"),
    "to": ("结束日期", "To"),
    "bucket": ("粒度", "Group by"),
    "bucket_day": ("日", "Day"),
    "bucket_week": ("周", "Week"),
    "bucket_month": ("月", "Month"),
    "apply": ("应用", "Apply"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "kpi_on_time_rate": ("按时办结率", "On-time rate"),
    "kpi_closure_rate": ("办结率", "Closure rate"),
    "kpi_satisfaction_rate": ("满意率", "Satisfaction"),
    "kpi_resolution_rate": ("解决率", "Resolution"),
    "kpi_first_time_rate": ("一次办结率", "First-time resolution"),
    "kpi_dispatch_accuracy": ("派单准确率", "Dispatch accuracy"),
    "kpi_auto_dispatch_share": ("自动派单率", "Auto-dispatch share"),
    "kpi_instant_answer_rate": ("即时答复率", "Instant-answer rate"),
    "received": ("受理量", "Received"),
    "finished": ("办结量", "Finished"),
    "on_time": ("按时办结", "On time"),
    "open_now": ("在办", "Open"),
    "overdue_now": ("超时在办", "Overdue open"),
    "trend": ("受理与办结趋势", "Volumes and trend"),
    "category_mix": ("诉求分类", "Category mix"),
    "district_mix": ("区县分布", "Districts"),
    "channel_mix": ("受理渠道", "Channels"),
    "hotspots": ("热点诉求", "Hotspots"),
    "loading": ("正在加载…", "Loading…"),
    "hotspots_none": ("所选时段内没有热点。", "No hotspots in this period."),
    "hotspots_failed": (
        "热点暂时无法计算，请稍后刷新。",
        "Hotspots could not be computed; reload in a moment.",
    ),
    "orders": ("工单数", "Orders"),
    "uncategorised": ("未分类", "Uncategorised"),
    "unknown": ("未注明", "Not given"),
    "kpi_help": ("指标口径", "How each figure is defined"),
}

# --- tourism (AI游衡阳): the tour helper's block ---------------------------------------------------
STRINGS.update(
    {
        "tour": ("AI游衡阳", "Visit Hengyang"),
        "tour_title": ("AI游衡阳", "Visit Hengyang"),
        "tour_lead": (
            "景点、场馆、住宿、美食和特产；分时预约购票、扫码入园、语音导览，有问题直接反映到 12345。",
            "Spots, venues, stays, food and products; timed tickets, QR entry, spoken guides, and 12345 for "
            "any complaint.",
        ),
        "tour_search": ("搜索地点", "Search places"),
        "tour_search_hint": ("例如：南岳大庙、寿文化、博物馆", "e.g. 南岳大庙, longevity, museum"),
        "tour_kind": ("类别", "Kind"),
        "tour_all": ("全部", "All"),
        "tour_price": ("价格", "Price"),
        "tour_free": ("免费", "Free"),
        "tour_paid": ("收费", "Paid"),
        "tour_open_today": ("今天开放", "Open today"),
        "tour_accessible": ("无障碍", "Accessibility"),
        "tour_found": ("找到", "Found"),
        "tour_none": ("没有符合条件的地点。", "No place matches."),
        "tour_today": ("今天", "Today"),
        "tour_all_day": ("全天开放", "open all day"),
        "tour_closed_today": ("今天闭馆", "Closed today"),
        "tour_demo": ("演示", "demo"),
        "tour_demo_note": (
            "演示数据：介绍由好办项目自行撰写，开放时间、票价、容量等仅作示例，出行前请以官方信息为准。",
            "Demo facts: written by the haoban project in its own words; hours, prices and capacity are "
            "illustrations — check official information before you travel.",
        ),
        "tour_facts": ("基本信息", "Facts"),
        "tour_hours": ("开放时间", "Opening hours"),
        "tour_workdays": ("工作日", "working days"),
        "tour_restdays": ("周末及节假日", "weekends and holidays"),
        "tour_closed_on": ("闭馆", "closed"),
        "tour_except_holidays": ("法定节假日除外", "except public holidays"),
        "tour_capacity": ("每日限流", "Daily cap"),
        "tour_per_day": ("人/天", "visitors a day"),
        "tour_phone": ("电话", "Phone"),
        "tour_guide": ("导览", "Guide"),
        "tour_book": ("预约购票", "Book a timed ticket"),
        "tour_day": ("日期", "Day"),
        "tour_slot": ("入园时段", "Time slot"),
        "tour_person": ("人", "person"),
        "tour_left": ("余", "left"),
        "tour_full": ("已约满", "full"),
        "tour_sold_out": ("该时段已约满，请选择其他时段。", "This slot is sold out; choose another."),
        "tour_not_on_sale": ("当天不可预约", "Not on sale that day"),
        "tour_real_name_hint": (
            "实名预约：每位游客填写姓名和身份证号，同一时段每人限一张。",
            "Real-name tickets: each visitor's name and ID number; one ticket per person per slot.",
        ),
        "tour_visitor": ("游客", "Visitor"),
        "tour_id_number": ("身份证号", "ID number"),
        "tour_pay": ("提交并支付", "Book and pay"),
        "tour_order": ("订单", "Order"),
        "tour_keep_link": (
            "请收藏本页链接：凭它查看电子票和退票。",
            "Keep this page's link: it shows your e-tickets and lets you refund.",
        ),
        "tour_place": ("地点", "Place"),
        "tour_paid_amount": ("金额", "Amount"),
        "tour_serial": ("票号", "Ticket no."),
        "tour_qr": ("电子票二维码", "E-ticket QR code"),
        "tour_token": ("二维码内容", "QR content"),
        "tour_refund": ("退票", "Refund"),
        "tour_refunded": ("已退票", "Refunded"),
        "tour_checked_in": ("已检票", "Checked in"),
        "tour_gate": ("检票", "Gate check-in"),
        "tour_gate_name": ("检票口", "Gate"),
        "tour_scan_or_type": ("扫码或输入票号", "Scan the QR code or type the ticket number"),
        "tour_check_in": ("检票", "Check in"),
        "tour_camera": ("用摄像头扫码", "Scan with the camera"),
        "tour_camera_none": (
            "此浏览器不能直接扫码：请用扫码枪或输入票号。",
            "This browser cannot scan: use a scanner or type the ticket number.",
        ),
        "tour_gate_ok": ("检票通过", "Checked in"),
        "tour_first_scan": ("首次检票", "First scanned"),
    }
)

# security (issue 10): refused input, login throttling, CSRF, second factor
STRINGS.update(
    {
        "err_invalid": (
            "提交的内容无法接受（过大、字段过多或含有控制字符），请修改后重试。",
            "The request could not be accepted (too large, too many fields or control characters).",
        ),
        "login_locked": (
            "登录失败次数过多，请 {seconds} 秒后再试。",
            "Too many failed logins; try again in {seconds} seconds.",
        ),
        "login_need_otp": (
            "请输入身份验证器中的 6 位动态码。",
            "Enter the 6-digit code from your authenticator app.",
        ),
        "login_wrong_otp": ("动态码错误或已过期。", "Wrong or expired one-time code."),
        "otp": ("动态码", "One-time code"),
        "login_audit": ("登录日志", "Login audit"),
    }
)

# incident matching (同一事件): the reasons shown with each similar order
STRINGS.update(
    {
        "incident_score": ("同一事件的把握", "How surely the same incident"),
        "reason_place": ("地点", "Place"),
        "reason_problem": ("问题", "Problem"),
        "reason_time": ("相隔", "Apart"),
        "reason_words": ("用词相似", "Wording"),
        "reason_near_copy": ("几乎相同", "Near copy"),
    }
)

# urgency_normal, urgency_urgent: the words of ``directory.vocabulary``, for templates' t("urgency_…").
STRINGS.update({f"urgency_{k}": v for k, v in URGENCY_LABELS.items()})

EVENT_LABELS: dict[str, tuple[str, str]] = {
    "register": ("受理登记", "Registered"),
    "absorb": ("并入重复件", "Absorbed a duplicate"),
}


def translate(key: str, lang: str) -> str:
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def label(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    if key is None:
        return ""
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
