"""Messages from the services and Pydantic, in the page's language.

The services and the API speak English to machines (``Invalid("a transfer rule needs …")``, Pydantic's
"Input should be less than or equal to 60"); a page shows them to people in Chinese or English. Known
messages are matched here — exactly, or by a pattern keeping the numbers and names they carry — and
anything unknown is shown as it came (so a missing translation is visible, not hidden).
Templates use the ``localize`` filter (registered in ``web.common``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from haoban.auth.roles import ROLE_LABELS
from haoban.orders import workflow
from haoban.web import i18n

# (pattern, Chinese, English); groups are put in by position ({0}, {1}, …).
_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(p), zh, en)
    for p, zh, en in [
        # Pydantic v2
        (r"^Field required$", "必填", "Required"),
        (r"^Input should be less than or equal to (\S+)$", "不能大于 {0}", "At most {0}"),
        (r"^Input should be greater than or equal to (\S+)$", "不能小于 {0}", "At least {0}"),
        (r"^Input should be less than (\S+)$", "应小于 {0}", "Less than {0}"),
        (r"^Input should be greater than (\S+)$", "应大于 {0}", "More than {0}"),
        (r"^String should have at most (\d+) characters?$", "最多 {0} 个字", "At most {0} characters"),
        (r"^String should have at least (\d+) characters?$", "至少 {0} 个字", "At least {0} characters"),
        (r"^List should have at most (\d+) items?.*$", "最多 {0} 项", "At most {0} items"),
        (r"^Input should be a valid integer.*$", "请填写整数", "Enter a whole number"),
        (r"^Input should be a valid number.*$", "请填写数字", "Enter a number"),
        (r"^Input should be a valid date.*$", "日期格式应为 年-月-日", "Enter a date as YYYY-MM-DD"),
        (r"^Input should be a valid datetime.*$", "时间格式不正确", "Enter a valid date and time"),
        (r"^Input should be a valid boolean.*$", "请选择是或否", "Choose yes or no"),
        (r"^Input should be a valid string.*$", "请填写文字", "Enter text"),
        (r"^Input should be (.+)$", "只能是：{0}", "One of: {0}"),
        (r"^String should match pattern .*$", "格式不正确", "Not in the expected format"),
        (r"^Extra inputs are not permitted$", "不接受这个字段", "This field is not accepted"),
        (r"^value is not a valid email address.*$", "邮箱地址不正确", "Not a valid e-mail address"),
        # the rate limits (ratelimit.check_rate and the pages' own counters)
        (
            r"^too many (?:look-ups|requests|tries|appeals) from your address; "
            r"wait a minute or call 12345$",
            "同一网络地址的操作过于频繁，请一分钟后再试，或拨打 12345",
            "Too many requests from your address; wait a minute or call 12345",
        ),
        (
            r"^too many (look-ups|requests|tries|appeals|codes asked|complaints|read-aloud requests) "
            r"from your address; wait a minute(?: and try again)?$",
            "同一网络地址的操作过于频繁，请一分钟后再试",
            "Too many {0} from your address; wait a minute and try again",
        ),
        (
            r"^too many failed logins; try again in (\d+) seconds$",
            "登录失败次数过多，请 {0} 秒后再试",
            "Too many failed logins; try again in {0} seconds",
        ),
        # the forms' own
        (r"^required$", "必填", "Required"),
        (r"^empty$", "文件是空的", "The file is empty"),
        # dispatch: the catalogue's explanations and rules
        (
            r"^rule #(\d+) '(.+)' matched$",
            "派单目录第 {0} 条“{1}”命中",
            "catalogue rule #{0} “{1}” matched",
        ),
        (
            r"^no catalogue rule matched; a dispatcher decides$",
            "派单目录没有命中的规则，由派单员决定",
            "No catalogue rule matched; a dispatcher decides",
        ),
        (
            r"^the category guess is below the confidence threshold, a dispatcher decides$",
            "分类判断把握不足，由派单员决定",
            "The category guess is below the confidence threshold; a dispatcher decides",
        ),
        (r"^the catalogue routes here$", "派单目录指向此单位", "The catalogue routes here"),
        (r"^co-handler of rule '(.+)'$", "规则“{0}”的协办单位", "Co-handler of rule “{0}”"),
        (
            r"^rule #(\d+) '(.+)' also matches \((.+)\)$",
            "派单目录第 {0} 条“{1}”也命中（关键词：{2}）",
            "Catalogue rule #{0} “{1}” also matches (words “{2}”)",
        ),
        (
            r"^rule #(\d+) '(.+)' also matches$",
            "派单目录第 {0} 条“{1}”也命中",
            "Catalogue rule #{0} “{1}” also matches",
        ),
        (
            r"^category (.+) \((\d+%)\) → rule '(.+)'$",
            "分类“{0}”（{1}）→ 规则“{2}”",
            "Category “{0}” ({1}) → rule “{2}”",
        ),
        (r"^chosen by (.+) at intake$", "受理时由 {0} 选定", "Chosen by {0} at intake"),
        (r"^no known words$", "没有可识别的词语", "No known words"),
        (
            r"^a dispatch rule needs department_code$",
            "派单规则需要选择承办单位",
            "A dispatch rule needs a department",
        ),
        (
            r"^a transfer rule needs transfer_target.*$",
            "转警/急救规则需要选择转往 110、119、120 或 122",
            "A transfer rule needs its line: 110, 119, 120 or 122",
        ),
        (
            r"^an answer rule needs guidance.*$",
            "即时答复规则需要填写答复口径",
            "An answer rule needs the answer given to the citizen",
        ),
        (
            r"^give both hour_from and hour_to, or neither$",
            "起止时段需同时填写或都不填",
            "Give both hours or neither",
        ),
        (r"^a keyword may not contain a comma$", "关键词中不能有逗号", "A keyword may not contain a comma"),
        (
            r"^the rule refers to things that do not exist$",
            "规则引用了不存在的单位、区县或分类",
            "The rule names something that does not exist",
        ),
        # people's details (orders.citizen, applications)
        (
            r"^(?:Value error, )?not a valid phone number.*$",
            "电话号码不正确：请填写 11 位手机号（如 13812345678）或带区号的固定电话（如 0734-8123456）",
            "Not a valid phone number: an 11-digit mobile (e.g. 13812345678) or a landline with area code "
            "(e.g. 0734-8123456)",
        ),
        (
            r"^(?:Value error, )?ID number must be 17 digits.*$",
            "身份证号应为 17 位数字加 1 位数字或 X",
            "An ID number is 17 digits followed by a digit or X",
        ),
        (
            r"^(?:Value error, )?ID number contains an impossible birth date$",
            "身份证号中的出生日期不存在",
            "The ID number's birth date is impossible",
        ),
        (
            r"^(?:Value error, )?ID number checksum does not match.*$",
            "身份证号校验位不符，请检查是否输错",
            "The ID number's last character does not match: check for a typo",
        ),
        (
            r"^give the applicant's name \(up to (\d+) characters\)$",
            "请填写申请人姓名（最多 {0} 个字）",
            "Give the applicant's name (up to {0} characters)",
        ),
        (
            r"^no material with this digest is held for this applicant$",
            "没有这份可复用的材料",
            "No such material is held for this applicant",
        ),
        # orders
        (r"^say why the reply is rejected$", "请写明驳回答复的理由", "Say why the reply is rejected"),
        (r"^required to reject a reply$", "驳回答复需要写明理由", "Required to reject a reply"),
        (r"^no master order (.+)$", "没有主工单 {0}", "No master order {0}"),
        (r"^no order '(.+)' that you can see$", "没有您可查看的工单 {0}", "No order {0} that you can see"),
        (r"^required fields are missing$", "有必填项未填写", "Required fields are missing"),
        (r"^the form is not valid$", "表单有误", "The form is not valid"),
        # admin
        (r"^unknown department '(.+)'.*$", "没有这个承办单位：{0}", "No such department: {0}"),
        (r"^unknown district '(.+)'.*$", "没有这个区县：{0}", "No such district: {0}"),
        (r"^unknown category '(.+)'.*$", "没有这个分类：{0}", "No such category: {0}"),
        # photos (haoban.orders.attachments; the field's own message says which file)
        (r"^the photo is empty$", "照片文件是空的", "The photo file is empty"),
        (r"^the photo is too large$", "照片太大", "The photo is too large"),
        (r"^only JPEG and PNG photos$", "只接受 JPEG 或 PNG 照片", "Only JPEG and PNG photos"),
        (r"^the photo cannot be read$", "照片无法读取", "The photo cannot be read"),
        (r"^too many photos$", "照片太多", "Too many photos"),
        (r"^no photo chosen$", "请选择照片", "Choose a photo"),
        # the history of rules and reply templates (haoban.revisions)
        (
            r"^no deleted (?:rule|reply template) in revision #(\d+)$",
            "历史记录 #{0} 不是一次删除，无法恢复",
            "History entry #{0} is not a deletion; nothing to restore",
        ),
        (
            r"^the (?:rule|reply template) deleted in revision #(\d+) was already restored$",
            "历史记录 #{0} 删除的内容已经恢复过了",
            "What history entry #{0} deleted was already restored",
        ),
        (
            r"^no reply template #(\d+)$",
            "没有第 {0} 号答复模板（可能已被删除）",
            "No reply template #{0} (it may have been deleted)",
        ),
        (
            r"^unknown placeholder \{(.*)\}; use .*$",
            "不认识的占位符 {{{0}}}；请只用下方列出的占位符",
            "Unknown placeholder {{{0}}}; use only the placeholders listed below",
        ),
        (
            r"^a handler belongs to a department$",
            "承办人必须属于一个承办单位",
            "A handler belongs to a department",
        ),
        (r"^cannot create user$", "无法创建账号", "Cannot create the account"),
        (r"^cannot change role$", "无法更改角色", "Cannot change the role"),
        (r"^schedule file rejected: (.+)$", "放假安排文件有误：{0}", "Schedule file rejected: {0}"),
        (r"^the schedule is empty$", "放假安排文件是空的", "The schedule file is empty"),
        (r"^no schedule loaded for (\d+)$", "{0} 年没有已上传的放假安排", "No schedule loaded for {0}"),
        (r"^the period or filter is not valid$", "期间或筛选条件有误", "The period or filter is not valid"),
        # passwords (auth.passwords)
        (r"^.*password needs at least (\d+) characters$", "密码至少 {0} 个字符", "At least {0} characters"),
        (r"^at most (\d+) characters$", "最多 {0} 个字符", "At most {0} characters"),
        (
            r"^the password must not contain the username$",
            "密码不能包含用户名",
            "Must not contain the username",
        ),
        (
            r"^this password is among the most common ones.*$",
            "密码太常见，请换一个",
            "Too common; choose another",
        ),
        (
            r"^the password repeats one or two characters.*$",
            "密码只是重复的字符，请换一个",
            "Repeats one or two characters",
        ),
        (
            r"^the password is a plain sequence.*$",
            "密码是连续的字符，请换一个",
            "A plain sequence; choose another",
        ),
        (
            r"^mix at least three of.*$",
            "需混合小写、大写、数字、其他字符中的至少三类",
            "Mix at least three kinds of character",
        ),
    ]
]


# A message already in both languages, "中文 (English)" (the reply scorer's reasons, the sweep's note):
# the page shows its own half.
_BILINGUAL = re.compile(r"^(?:[a-z_]+: )?(.*?[\u3400-\u9fff].*?)\s*\(([^()]*[A-Za-z][^()]*)\)$")


_STATE_REFUSAL = re.compile(r"^cannot (\w+) an? (\w+) that is ([\w ]+)$")
_ROLE_REFUSAL = re.compile(r"^role '(\w+)' may not (\w+)$")
_ROLES_NEEDED = re.compile(r"^this page needs one of the roles: (.+)$")
_LEAD_ONLY = re.compile(r"^only the lead department's handlers may (\w+) this (\w+)$")


def _action(name: str, lang: str) -> str:
    t = workflow.BY_ACTION.get(name)
    return (t.label[1] if lang == "en" else t.label[0]) if t is not None and t.label[0] else name


def _status(name: str, lang: str) -> str:
    try:
        zh, en = workflow.STATUS_LABELS[workflow.Status(name)]
    except ValueError:
        return name
    return en if lang == "en" else zh


def _refusals(s: str, lang: str) -> str | None:
    """The state table's refusals, with the action and status named as the pages name them."""
    if m := _STATE_REFUSAL.match(s):
        action, state = _action(m.group(1), lang), _status(m.group(3), lang)
        return (
            f"Cannot {action.lower()} now: the order is {state.lower()}"
            if lang == "en"
            else f"工单当前为“{state}”，不能{action}"
        )
    if m := _ROLE_REFUSAL.match(s):
        return (
            f"Your role may not {_action(m.group(2), lang).lower()}"
            if lang == "en"
            else f"您的角色不能{_action(m.group(2), lang)}"
        )
    if m := _ROLES_NEEDED.match(s):
        names = [i18n.label(ROLE_LABELS, r.strip(), lang) for r in m.group(1).split(",")]
        if lang == "en":
            return "This page needs one of the roles: " + ", ".join(names)
        return "此页面需要以下角色之一：" + "、".join(names)
    if m := _LEAD_ONLY.match(s):
        action = _action(m.group(1), lang)
        return (
            f"Only the lead department may {action.lower()}"
            if lang == "en"
            else f"只有主办单位的承办人可以{action}"
        )
    return None


def localize(text: object, lang: str) -> str:
    """``text`` (a service's or Pydantic's message) in ``lang``; unknown messages come back unchanged."""
    if text is None:
        return ""
    s = str(text).strip()
    refused = _refusals(s, lang)
    if refused:
        return refused
    for pattern, zh, en in _PATTERNS:
        m = pattern.match(s)
        if m:
            return (en if lang == "en" else zh).format(*m.groups())
    m = _BILINGUAL.match(s)
    if m:
        return m.group(2) if lang == "en" else m.group(1)
    return s


def localize_reasons(text: object, lang: str) -> str:
    """A dispatch explanation made of reasons joined by "; " (the router's and the department ranking's),
    each in ``lang``."""
    if not text:
        return ""
    whole = localize(text, lang)
    if whole != str(text).strip():
        return whole
    parts = [localize(p, lang) for p in str(text).split("; ") if p.strip()]
    return ("; " if lang == "en" else "；").join(parts)


def localizer(lang: str) -> Callable[[object], str]:
    return lambda text: localize(text, lang)
