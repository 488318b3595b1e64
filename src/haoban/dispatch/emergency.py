"""Life-safety content at intake (紧急警情识别): gas leaks, fire, people trapped, drowning, fallen live
wires, violence, collapse and medical emergencies, road accidents with injuries.

A 12345 operator must hand such a call to 110 / 119 / 120 / 122 at once; the console shows a red
banner with a one-press transfer and marks the order urgent. Recall comes first — a missed
emergency is the worst error — so each kind is a list of plain phrases a frightened caller uses,
matched on the normalised text, and only a few guards keep ordinary complaints quiet:

- words that contain a trigger in another sense never count (火车站, 火锅, 天气, 煤气费 …);
- a trigger followed by 隐患 / 风险 / 演练 / 检查 / 宣传 … speaks of a risk, a drill or paperwork, not
  of something happening now (消防火灾隐患, 燃气安全检查);
- 燃气/煤气 alone is a utility, not an emergency: a gas kind needs a leak or its smell.

Each kind names its line: gas and fire and people trapped → 119; drowning, violence and a fallen
live wire → 110; collapse/medical → 120; a road accident with injuries → 122. A gas leak with
dizziness or a fainted person also suggests 120.

Measured on ``data/emergencies/labelled.csv`` (``bench/incidents.py emergencies``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["EMERGENCY_KINDS", "Emergency", "as_dict", "detect"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class _Kind:
    id: str
    line: str  # 110 / 119 / 120 / 122
    label_zh: str
    label_en: str
    triggers: tuple[str, ...]


EMERGENCY_KINDS: tuple[_Kind, ...] = (
    _Kind(
        "gas",
        "119",
        "燃气泄漏",
        "Gas leak",
        _words(
            "燃气泄漏 煤气泄漏 天然气泄漏 液化气泄漏 燃气漏了 煤气漏了 漏气 煤气味 "
            "燃气味 天然气味 液化气味 闻到煤气 闻到燃气 闻到天然气 煤气罐漏 气罐漏 "
            "燃气管道破裂 燃气管破 燃气管道断 煤气中毒 一氧化碳中毒 管道被挖断 往外冒气"
        ),
    ),
    _Kind(
        "fire",
        "119",
        "火灾",
        "Fire",
        _words("着火 起火 失火 火灾 大火 火势 冒浓烟 浓烟 烧起来 燃起来 火烧起来 烧着了 爆炸 炸了 冒火 火苗"),
    ),
    _Kind(
        "trapped",
        "119",
        "人员被困",
        "People trapped",
        _words("被困 困在电梯 困在里面 关在电梯 卡在电梯 电梯里出不来 出不来了 压在下面 埋在下面"),
    ),
    _Kind(
        "drowning",
        "110",
        "溺水",
        "Drowning",
        _words("溺水 落水 掉进河 掉进水 掉到水里 掉进池塘 掉进江 掉进湖 跳河 跳江 跳湖 被水冲走"),
    ),
    _Kind(
        "live_wire",
        "110",
        "电线落地/触电",
        "Fallen live wire / electric shock",
        _words(
            "电线掉 电线断 电线落地 电线垂 高压线断 高压线掉 高压线落 电线杆倒 电杆倒 "
            "漏电 触电 电到人 被电击 电线冒火 电线着火"
        ),
    ),
    _Kind(
        "violence",
        "110",
        "暴力/人身危险",
        "Violence / threat to life",
        _words(
            "打人 砍人 持刀 拿刀 拿着刀 行凶 家暴 殴打 斗殴 打架 抢劫 绑架 要杀 "
            "杀人 捅人 捅伤 自杀 跳楼 轻生 被打伤 打伤了 在家打我 打我 打孩子 "
            "打老人"
        ),
    ),
    _Kind(
        "medical",
        "120",
        "急病/受伤",
        "Medical emergency",
        _words("昏迷 晕倒 晕过去 不省人事 呼吸困难 喘不过气 抽搐 大出血 流了很多血 没有呼吸 心脏病发"),
    ),
    _Kind(
        "traffic",
        "122",
        "交通事故",
        "Road accident",
        _words("车祸 撞人 撞倒 被车撞 撞伤 翻车 连环追尾 撞车"),
    ),
)

# Words containing a trigger that mean something else: masked before matching.
_OTHER_SENSES = _words(
    "火车 火锅 发火 上火 火爆 火葬 火腿 火柴 火箭 红火 烟火 灯火 防火 "
    "消防 天气 气温 空气 生气 气候 运气 名气 口气 客气 脾气 暖气费 煤气费 "
    "燃气费 燃气公司收费 天然气费 打人民 打架子 漏电保护 防漏电 爆炸性 被困扰 "
    "撞车位 打我电话 打我手机 打我的电话 自打 打不着火 不着火 撞衫 炸鸡 炸串 "
    "油炸 炸酱 打架子鼓"
)
# After a trigger (within a few characters): speaks of a risk, a drill, paperwork or the past.
_NOT_NOW = _words("隐患 风险 危险性 演练 演习 检查 宣传 培训 预防 整改 证 报告 赔偿 保险")
# Before a trigger (within a few characters): a hypothesis, a fear, or a date in the past — what a
# complaint about safety says ("万一起火怎么办", "2018年10月弱电井起火"), not a call about danger now.
_NOT_HAPPENING = _words(
    "万一 如果 一旦 假如 若是 防止 避免 容易 可能 担心 害怕 以防 难免 "
    "出了 发生了 曾经 以前 去年 前年 当年 之前 那年 年前 月前 又一个"
)
_PAST_DATE = re.compile(r"\d{2,4}年|\d{1,2}月\d{1,2}[日号]")
_DIZZY = ("头晕", "头痛", "恶心", "晕倒", "昏迷", "不舒服", "喘不过气", "中毒")
_WINDOW = 6


@dataclass(frozen=True)
class Emergency:
    """What was found: the kinds in order of their line's priority, the line to call, the evidence."""

    kinds: tuple[str, ...]
    line: str
    lines: tuple[str, ...]  # every line the kinds suggest (gas with dizziness: 119 and 120)
    evidence: tuple[str, ...]
    label_zh: str
    label_en: str


_BY_ID = {k.id: k for k in EMERGENCY_KINDS}
_TRIGGER_RE = re.compile(
    "|".join(
        re.escape(t) for t in sorted({t for k in EMERGENCY_KINDS for t in k.triggers}, key=len, reverse=True)
    )
)
_KIND_OF = {t: k.id for k in reversed(EMERGENCY_KINDS) for t in k.triggers}
# 困难 is "hardship" (生活困难), except in 呼吸困难 (cannot breathe).
_OTHER_RE = re.compile(
    "|".join(re.escape(w) for w in sorted(_OTHER_SENSES, key=len, reverse=True)) + "|(?<!呼吸)困难"
)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")[:2000].lower()
    return _OTHER_RE.sub(lambda m: "·" * len(m.group()), text)


def detect(text: str) -> Emergency | None:
    """The life-safety emergency *text* reports, or None."""
    norm = _normalise(text)
    found: dict[str, list[str]] = {}
    for m in _TRIGGER_RE.finditer(norm):
        after = norm[m.end() : m.end() + _WINDOW]
        if any(w in after for w in _NOT_NOW) or "怎么办" in norm[m.end() : m.end() + 10]:
            continue
        before = norm[max(0, m.start() - 10) : m.start()]
        if any(w in before for w in _NOT_HAPPENING) or _PAST_DATE.search(before):
            continue
        found.setdefault(_KIND_OF[m.group()], []).append(m.group())
    if not found:
        return None
    order = [k.id for k in EMERGENCY_KINDS if k.id in found]
    lines = [_BY_ID[k].line for k in order]
    if "gas" in found and any(w in norm for w in _DIZZY) and "120" not in lines:
        lines.append("120")
    unique_lines = tuple(dict.fromkeys(lines))
    return Emergency(
        kinds=tuple(order),
        line=unique_lines[0],
        lines=unique_lines,
        evidence=tuple(w for k in order for w in dict.fromkeys(found[k])),
        label_zh="、".join(_BY_ID[k].label_zh for k in order),
        label_en=", ".join(_BY_ID[k].label_en for k in order),
    )


def as_dict(found: Emergency | None) -> dict[str, object]:
    """The API's answer for a detection (or for none)."""
    if found is None:
        return {"emergency": False, "kinds": [], "line": None, "lines": [], "label_zh": None,
                "label_en": None, "evidence": []}  # fmt: skip
    return {
        "emergency": True,
        "kinds": list(found.kinds),
        "line": found.line,
        "lines": list(found.lines),
        "label_zh": found.label_zh,
        "label_en": found.label_en,
        "evidence": list(found.evidence),
    }
