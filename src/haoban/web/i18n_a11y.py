"""Words of the accessibility and 长辈版 (elderly-friendly mode) controls on the citizen pages (issue 18)."""

from __future__ import annotations

A11Y_STRINGS: dict[str, tuple[str, str]] = {
    "care_on": ("长辈版（大字）", "Large-text mode"),
    "care_off": ("返回标准版", "Standard mode"),
    "care_help": ("需要帮助？", "Need help?"),
    "call_12345": ("拨打 12345", "Call 12345"),
    "call_me_back": ("留下电话，请我们回电", "Leave your number, we call you back"),
    "ra_play": ("朗读本页", "Read aloud"),
    "ra_stop": ("停止朗读", "Stop reading"),
    "ra_making": ("正在生成朗读音频…", "Making the audio…"),
    "ra_failed": (
        "朗读音频暂不可用，请稍后再试或拨打 12345。",
        "Read-aloud audio is not available; try later or call 12345.",
    ),
}

# 请工作人员帮我办: the call-back request and the 帮代办 queue.
A11Y_STRINGS.update(
    {
        "hp_title": ("请工作人员帮我办", "Ask a member of staff to help you"),
        "hp_lead": (
            "不会在网上填表，或者想有人帮忙？留下称呼和电话，说说要办什么事，工作人员会在您方便的时间给您打电话，"
            "帮您办或者代您办。",
            "Not sure how to fill in the forms, or want someone to help? Leave your name and phone number "
            "and say what you need: a member of staff will call you at a time that suits you and help you, "
            "or apply for you.",
        ),
        "hp_name": ("怎么称呼您", "Your name"),
        "hp_phone": ("您的电话", "Your phone number"),
        "hp_phone_hint": (
            "手机或座机都可以，我们只用它给您回电",
            "Mobile or landline; we use it only to call you back",
        ),
        "hp_need": ("您要办什么事", "What do you need to do?"),
        "hp_need_hint": (
            "例如：给孙子办出生证明、领养老金、办医保卡",
            "For example: a birth certificate, a pension, a medical insurance card",
        ),
        "hp_time": ("什么时候给您打电话方便", "When should we call you?"),
        "hp_submit": ("提交，请工作人员回电", "Send: please call me back"),
        "hp_or_call": ("着急的话，请直接拨打 12345。", "If it is urgent, call 12345 now."),
        "hp_lookup_title": ("查询帮办请求", "Look up a help request"),
        "hp_code": ("帮办编号", "Request code"),
        "hp_not_found": (
            "编号或手机后四位不对，请核对后再查。",
            "The code or the phone digits do not match; please check them.",
        ),
        "hp_received": ("已收到您的请求", "We have your request"),
        "hp_received_lead": (
            "工作人员会按您选的时间给您回电，来电显示 12345。请记下编号，或收藏这个页面查看进度。",
            "A member of staff will call you at the time you chose; the call shows as 12345. "
            "Keep the code, or bookmark this page to follow it.",
        ),
        "hp_status_title": ("帮办请求进度", "Your help request"),
        "hp_status": ("现在", "Now"),
        "hp_when": ("回电时间", "We call you"),
        "hp_outcome": ("办理结果", "Outcome"),
        "hp_steps": ("经过", "What happened"),
        "hp_new": ("再提一个请求", "Another request"),
        "hp_err_name": ("请填写怎么称呼您（最多 50 个字）", "Enter your name (at most 50 characters)"),
        "hp_err_phone": ("请填写正确的手机或座机号码", "Enter a valid mobile or landline number"),
        "hp_err_need": (
            "请说说您要办什么事（最多 1000 个字）",
            "Say what you need (at most 1000 characters)",
        ),
        "hp_err_preferred_time": ("请选择方便接电话的时间", "Choose when we should call you"),
        "hp_err_phone_last4": ("请输入 4 位数字", "Enter four digits"),
        "hp_err_code": ("请填写帮办编号", "Enter the request code"),
        "hp_err_note": (
            "请填写联系情况（最多 2000 字）",
            "Say what happened on the call (at most 2000 characters)",
        ),
        "hp_err_outcome": ("请选择办理结果", "Choose the outcome"),
        "hp_err_action": ("未知操作", "Unknown action"),
        "hp_nav": ("帮办请求", "Help requests"),
        "hp_queue_title": ("帮办请求（请工作人员帮我办）", "Help requests (call-backs)"),
        "hp_queue_lead": (
            "市民留下电话请工作人员回电帮办。先认领，按对方方便的时间回电，记下每次联系，办完后选择结果关闭。",
            "Citizens asking to be called back and helped. Claim one, call at the time they chose, note each "
            "call, and close it with the outcome.",
        ),
        "hp_all": ("全部", "All"),
        "hp_none": ("没有帮办请求。", "No help requests."),
        "hp_col_code": ("编号", "Code"),
        "hp_col_who": ("市民", "Citizen"),
        "hp_col_need": ("诉求", "Need"),
        "hp_col_time": ("方便回电时间", "Call at"),
        "hp_col_filed": ("提交时间", "Received"),
        "hp_col_status": ("状态", "Status"),
        "hp_col_claimed": ("接手人", "Taken by"),
        "hp_claim": ("认领", "Claim"),
        "hp_note": ("记录联系情况", "Note a call"),
        "hp_note_label": ("联系情况", "What happened"),
        "hp_release": ("放回队列", "Put back in the queue"),
        "hp_close": ("办结并关闭", "Close with the outcome"),
        "hp_close_note": ("说明（可选）", "Note (optional)"),
        "hp_done_claim": ("已认领，请按对方方便的时间回电。", "Claimed: call them at the time they chose."),
        "hp_done_note": ("已记录。", "Noted."),
        "hp_done_release": ("已放回队列。", "Back in the queue."),
        "hp_done_close": ("已关闭，市民会收到短信。", "Closed; the citizen gets a text."),
        "hp_back": ("返回帮办请求", "Back to the help requests"),
        "hp_link": ("请工作人员帮我办", "Ask staff to help me"),
    }
)
