"""长辈版 (issue 18): which pages are citizen pages, whether a request is in the mode, and the plain words
that replace official terms and long instructions on the citizen pages while it is on.

Pure (no imports from the web layer): ``common.render`` asks it which words to use, ``base.html`` gets
``citizen_page`` and ``care`` from there, and ``care.py`` sets the cookie it reads.
"""

from __future__ import annotations

from collections.abc import Mapping

CARE_COOKIE = "haoban_care"
CITIZEN_PREFIXES = ("/portal", "/services", "/verify", "/tour")
# Staff pages under the citizens' prefixes: the tourism gate and dashboard, the services' figures.
STAFF_UNDER_CITIZEN = ("/tour/gate", "/tour/dashboard", "/services/metrics")


def is_citizen_page(path: str) -> bool:
    return path == "/" or (path.startswith(CITIZEN_PREFIXES) and not path.startswith(STAFF_UNDER_CITIZEN))


def in_care_mode(path: str, cookies: Mapping[str, str]) -> bool:
    return is_citizen_page(path) and cookies.get(CARE_COOKIE) == "1"


# Key → (zh, en) in plain words: short sentences, everyday words, no 诉求/工单/受理/承办/时限.
PLAIN_WORDS: dict[str, tuple[str, str]] = {
    # The portal: filing and tracking.
    "portal_lead": (
        "遇到什么事，写下来告诉我们。我们会给您一个编号，凭编号可以查办得怎么样了。",
        "Tell us what is wrong. You get a number, and with it you can see how it is going.",
    ),
    "file_appeal": ("有事跟我们说", "Tell us what is wrong"),
    "type": ("哪一类事", "Kind of request"),
    "content": ("遇到了什么事", "What is wrong?"),
    "content_hint": (
        "什么时候、在哪里、发生了什么、想怎么解决",
        "When, where, what happened, what you want done",
    ),
    "district": ("在哪个区", "Which district"),
    "place": ("在什么地方", "Where"),
    "mp_hint": (
        "可以在地图上点一下，标出地方。不会也没关系。",
        "You can tap the map to show the place. You can skip this.",
    ),
    "ph_hint": ("可以加照片，最多 4 张。", "You can add up to 4 photos."),
    "citizen_name": ("怎么称呼您", "Your name"),
    "citizen_phone": ("您的电话", "Your phone"),
    "your_phone_hint": ("给您回电、查进度都用它", "We call you on it; you check progress with it"),
    "err_form": ("有几处没填好，请看红字改一下。", "Some boxes need fixing: see the red words."),
    "err_required": ("这一项要填", "Please fill this in"),
    "track": ("查办得怎么样了", "See how it is going"),
    "code": ("编号", "Your number"),
    "phone_last4": ("手机号最后 4 位", "Last 4 digits of your phone"),
    "track_not_found": (
        "没找到。请看看编号和手机号对不对。",
        "Not found. Please check the number and your phone.",
    ),
    "my_lead": (
        "输入手机号，收到短信验证码后，就能看到用这个号码提过的所有事。",
        "Enter your phone. We text you a code; then you see all you sent us.",
    ),
    # The receipt and the progress page.
    "filed_title": ("已经收到", "We got it"),
    "filed_lead": ("这是您的编号，请记下来：", "This is your number. Please write it down:"),
    "filed_next": (
        "我们会按时办，办完给您打电话。",
        "We will deal with it in time and call you when it is done.",
    ),
    "pt_progress": ("办到哪一步了", "How far it has got"),
    "pt_bookmark": ("把这个网页收藏起来，随时能看进度。", "Save this page to check again any time."),
    "received_at": ("收到的时间", "We got it on"),
    "deadline": ("最晚办完的日子", "To be done by"),
    "department": ("哪个部门在办", "Who is handling it"),
    "reply": ("部门的回复", "The answer"),
    "status": ("现在", "Now"),
    # Rating.
    "rate": ("您满意吗？", "Are you happy with it?"),
    "rate_lead": ("说说您满不满意，帮我们改进。", "Tell us if you are happy. It helps us do better."),
    "rate_unavailable": ("办完以后就可以评价。", "You can rate it when it is done."),
    "stars": ("满意程度", "How happy"),
    "comment": ("还想说的话（可以不填）", "Anything else (you can skip this)"),
    "rectification": (
        "您不满意，已要求部门改正，最晚",
        "You were not happy; the office must put it right by",
    ),
    "sr_title": ("给办事打分", "Rate a service"),
    "sr_rate_link": ("给办事和窗口打分", "Rate a service or a visit"),
    # One thing, once; benefits; the call-back request.
    "ap_title": ("一次办好一件事", "Get one thing done in one go"),
    "ap_lead": (
        "选一件您要办的事。填一张表、交一次材料，几个部门一起办。",
        "Pick what you need. One form, papers once; the offices work on it together.",
    ),
    "bn_portal_title": ("不用申请就能领的钱", "Money you get without applying"),
    "bn_portal_lead": (
        "您符合条件的补贴，政府会主动告诉您。看一看，确认就能领。",
        "If you qualify for a payment, we tell you. Check it and confirm to get it.",
    ),
    "hp_lead": (
        "留下电话，说说要办什么，我们打电话帮您办。",
        "Leave your number and say what you need. We call you and help.",
    ),
    "hp_need_hint": ("例如：办老年证、领养老金", "For example: an older person's card, a pension"),
}


def plain(key: str, lang: str) -> str | None:
    pair = PLAIN_WORDS.get(key)
    if pair is None:
        return None
    return pair[1] if lang == "en" else pair[0]
