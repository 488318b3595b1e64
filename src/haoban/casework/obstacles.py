"""The obstacle taxonomy (堵点分类): why a matter could not get done. Pure.

Window staff file each case under one obstacle; the reform list counts 12345 orders under the same
codes by the words people use for them (``Obstacle.words``), so that cases and calls add up.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Obstacle:
    code: str
    zh: str
    en: str
    # Phrases in a 12345 order's text that point to this obstacle (the reform list's counting).
    words: tuple[str, ...] = ()


OBSTACLES: tuple[Obstacle, ...] = (
    Obstacle(
        "favours", "索拿卡要", "Demands for favours", ("索拿卡要", "吃拿卡要", "刁难", "好处费", "要红包")
    ),
    Obstacle(
        "not_accepted",
        "未能受理审批",
        "Application not accepted",
        ("不予受理", "不受理", "不给办", "拒绝受理", "审批不下来", "卡着不批"),
    ),
    Obstacle(
        "back_and_forth",
        "反复跑腿",
        "Back and forth in vain",
        ("跑了好几趟", "来回跑", "反复跑", "多次跑", "跑腿", "跑了几次"),
    ),
    Obstacle(
        "paperwork",
        "材料繁琐",
        "Excessive paperwork",
        ("材料太多", "重复提交", "证明材料", "奇葩证明", "材料繁琐", "要求提供证明"),
    ),
    Obstacle(
        "systems",
        "系统不通",
        "Systems not connected",
        ("系统不通", "系统故障", "网上办不了", "数据不共享", "系统显示", "APP无法"),
    ),
    Obstacle(
        "buck_passing", "部门推诿", "Departments pass the buck", ("推诿", "踢皮球", "互相推", "不归我们管")
    ),
    Obstacle(
        "unclear_policy", "政策不明", "Unclear policy", ("政策不明确", "没有依据", "政策不清", "标准不一")
    ),
    Obstacle("delay", "久拖不办", "Delayed without end", ("久拖不办", "拖延", "迟迟不办", "一直没有结果")),
    Obstacle("other", "其他", "Other"),
)
BY_CODE: dict[str, Obstacle] = {o.code: o for o in OBSTACLES}
CODES: tuple[str, ...] = tuple(o.code for o in OBSTACLES)


def label(code: str | None, lang: str = "zh") -> str:
    o = BY_CODE.get(code or "")
    if o is None:
        return code or ""
    return o.en if lang == "en" else o.zh


def obstacle_in_text(text: str) -> str | None:
    """The first obstacle whose words occur in ``text`` (for 12345 orders), or None."""
    for o in OBSTACLES:
        if any(w in text for w in o.words):
            return o.code
    return None
