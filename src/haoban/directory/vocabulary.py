"""The hotline's classification words, each defined once with its zh / en label.

Appeal types (诉求类型), urgency and intake channels are reference data like the category tree: the
dispatch catalogue matches them, time limits are set per type × urgency, orders carry them and the
pages show their labels. Pure: no database.
"""

from __future__ import annotations

import enum


class OrderType(enum.StrEnum):
    CONSULT = "consult"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class Channel(enum.StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    WINDOW = "window"
    EMAIL = "email"
    OPEN311 = "open311"
    TOURISM = "tourism"  # AI游衡阳: a visitor's complaint from a place's page
    REGION = "region"  # 跨区域转办: transferred from a partner city's 12345


# value → (zh, en)
TYPE_LABELS: dict[str, tuple[str, str]] = {
    OrderType.CONSULT: ("咨询", "Consultation"),
    OrderType.HELP: ("求助", "Help"),
    OrderType.COMPLAINT: ("投诉", "Complaint"),
    OrderType.REPORT: ("举报", "Report"),
    OrderType.SUGGESTION: ("建议", "Suggestion"),
    OrderType.PRAISE: ("表扬", "Praise"),
}
URGENCY_LABELS: dict[str, tuple[str, str]] = {
    Urgency.NORMAL: ("一般", "Normal"),
    Urgency.URGENT: ("紧急", "Urgent"),
}
CHANNEL_LABELS: dict[str, tuple[str, str]] = {
    Channel.PHONE: ("电话", "Phone"),
    Channel.WEB: ("网站", "Web"),
    Channel.APP: ("App", "App"),
    Channel.WECHAT: ("微信", "WeChat"),
    Channel.WINDOW: ("窗口", "Window"),
    Channel.EMAIL: ("邮件", "Email"),
    Channel.OPEN311: ("Open311", "Open311"),
    Channel.REGION: ("外地转入", "From another city"),
    Channel.TOURISM: ("AI游衡阳", "Visit Hengyang"),
}
# The Chinese type names people type or import ("投诉") → the value.
TYPE_BY_LABEL: dict[str, str] = {zh: str(value) for value, (zh, _en) in TYPE_LABELS.items()}
