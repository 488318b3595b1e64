"""Roles, in one place: the enum, their zh / en names and the groups that share a permission. Pure.

Staff accounts carry one of the staff roles. ``system`` (the platform itself: intake, the deadline
sweep, fan-out to merged orders) and ``citizen`` (tracking and rating with a code and phone digits)
have no account; they act through fixed actors.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    OPERATOR = "operator"  # 话务员: registers calls, answers from the knowledge base
    DISPATCHER = "dispatcher"  # 派单员: dispatches, reviews returns and replies
    HANDLER = "handler"  # 承办人: works a department's orders
    SUPERVISOR = "supervisor"  # 督办员: supervises, approves extensions, call-backs
    ADMIN = "admin"  # 管理员
    AUDITOR = "auditor"  # 审计: reads everything, changes nothing
    SYSTEM = "system"  # the platform itself
    CITIZEN = "citizen"  # 市民, no account
    GATE = "gate"  # 检票员: checks visitors' e-tickets in at a scenic spot's gate (AI游衡阳)
    WINDOW = "window"  # 窗口工作人员: the service centre's windows (办不成事, 营商环境投诉, applications)
    VOLUNTEER = "volunteer"  # 帮代办员: staff or registered volunteer applying on someone's behalf


R = Role
STAFF_ROLES: tuple[Role, ...] = (
    R.OPERATOR,
    R.DISPATCHER,
    R.HANDLER,
    R.SUPERVISOR,
    R.ADMIN,
    R.AUDITOR,
    R.GATE,
    R.WINDOW,
    R.VOLUNTEER,
)
ROLE_LABELS: dict[str, tuple[str, str]] = {
    R.OPERATOR: ("话务员", "Operator"),
    R.DISPATCHER: ("派单员", "Dispatcher"),
    R.HANDLER: ("承办人", "Handler"),
    R.SUPERVISOR: ("督办员", "Supervisor"),
    R.ADMIN: ("管理员", "Admin"),
    R.AUDITOR: ("审计", "Auditor"),
    R.SYSTEM: ("系统", "System"),
    R.CITIZEN: ("市民", "Citizen"),
    R.GATE: ("检票员", "Gate staff"),
    R.WINDOW: ("窗口人员", "Window clerk"),
    R.VOLUNTEER: ("帮代办员", "Assistant (帮代办)"),
}

# The hotline centre (受理 / 派单 / 督办) and the administrators.
CALL_CENTRE: frozenset[Role] = frozenset({R.OPERATOR, R.DISPATCHER, R.SUPERVISOR, R.ADMIN})
# Roles that see every order: the call centre, auditors (who read but never act), the platform.
# The window reads orders too (never acts on them): it takes stuck ones on as difficult-matter cases.
CITY_WIDE_ROLES: frozenset[Role] = CALL_CENTRE | {R.AUDITOR, R.SYSTEM, R.WINDOW}
# Who may change the configuration: administrators, and the platform itself when the command line or
# the demo seeding sets a city up (the system actor has no account, so no request can act as it).
ADMIN_ROLES: tuple[Role, ...] = (R.ADMIN, R.SYSTEM)
# Who may read the configuration (departments, users, rules, time limits, the calendar).
READ_CONFIG_ROLES: tuple[Role, ...] = (R.ADMIN, R.SUPERVISOR, R.DISPATCHER, R.AUDITOR)
# Who may read the city dashboard's figures (analytics): the call centre and auditors.
DASHBOARD_ROLES: tuple[Role, ...] = (R.OPERATOR, R.DISPATCHER, R.SUPERVISOR, R.ADMIN, R.AUDITOR)
# Who reviews returns, replies and extensions (the supervisor board).
REVIEW_ROLES: tuple[Role, ...] = (R.DISPATCHER, R.SUPERVISOR, R.ADMIN)
# Who checks tickets in at a gate: gate staff, and admins (who set the gates up and test them).
GATE_ROLES: tuple[Role, ...] = (R.GATE, R.ADMIN)
del R
