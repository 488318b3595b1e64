"""Reply quality (答复质量): score a department's reply before the hotline reviews it (审核报结).

A transparent rule-based score, 0–100, with sub-scores and reasons a reviewer can check:

relevance (30 %)
    Share of the appeal's key terms that the reply takes up. Key terms are the appeal's jieba
    words weighted ``√tf × idf`` (jieba's general-corpus IDF; unknown words — usually place
    names — get the median). A term counts as taken up when the reply contains it, or at least
    half of its character bigrams (搅拌站 ~ 搅拌厂). 60 % coverage scores 100.
completeness (40 %)
    Half: the points of the appeal (questions, requests, numbered items; the whole appeal if it
    has none) that the reply addresses. Half: concrete elements — substance (a measure taken or
    planned, or a policy basis / conditions), a time or date, a contact or phone, a responsible
    unit. A short reply that only says where to ask ("请咨询…", "已转…") has no substance.
timeliness (15 %, when both times are known)
    Calendar days from appeal to reply: ≤ 3 days 100, 15 days 60, 30 days 30, ≥ 90 days 0,
    linear in between. (Working-day SLAs belong to the calendar domain; this is a quality cue.)
tone (15 %)
    Starts at 60; polite forms and apology add, brush-offs ("不属于我单位职责" without saying who
    is responsible, "请自行协商"), bare receipts ("已收悉") and very short replies subtract.

Without timeliness the other weights are rescaled. Grade: good ≥ 70, fair ≥ 45, poor below.
Reasons are "key: 中文说明" strings, the key in English for machines, the text for reviewers.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Literal

from haoban.textutil import (
    char_ngrams,
    clean_reply,
    normalize,
    split_sentences,
    strip_masks,
    tokenize,
    variants,
)

__all__ = ["ReplyScore", "appeal_points", "key_terms", "score_reply"]

Grade = Literal["good", "fair", "poor"]

_WEIGHTS = {"relevance": 0.30, "completeness": 0.40, "timeliness": 0.15, "tone": 0.15}
_GOOD = 70.0
_FAIR = 45.0


@dataclass(frozen=True)
class ReplyScore:
    total: float
    relevance: float
    completeness: float
    timeliness: float | None
    tone: float
    reasons: list[str]
    grade: Grade


# --- IDF ------------------------------------------------------------------------------------------

_idf_lock = threading.Lock()
_idf: tuple[dict[str, float], float] | None = None


def _idf_table() -> tuple[dict[str, float], float]:
    """jieba's bundled general-corpus IDF (loaded once, ~1 s)."""
    global _idf
    if _idf is None:
        with _idf_lock:
            if _idf is None:
                import jieba.analyse

                t = jieba.analyse.default_tfidf
                _idf = (t.idf_freq, t.median_idf)
    return _idf


def key_terms(text: str, top: int = 12) -> list[tuple[str, float]]:
    """The appeal's main words with weights ``√tf × idf``, heaviest first.

    Words outside jieba's dictionary come from its HMM guesser: real names when repeated
    ("霖鑫" twice), mostly fragments when seen once ("太少且", "我住") — so they need tf ≥ 2.
    """
    idf, median = _idf_table()
    counts: dict[str, int] = {}
    for w in tokenize(text):
        counts[w] = counts.get(w, 0) + 1
    scored = [
        (w, math.sqrt(c) * idf.get(w, median))
        for w, c in counts.items()
        if (w in idf or c >= 2) and not w.isdigit()  # amounts and years are no topic
    ]
    scored.sort(key=lambda x: (-x[1], x[0]))
    return scored[:top]


# --- points of an appeal ----------------------------------------------------------------------

_QUESTION = re.compile(
    r"[?？]|请问|是否|能否|可否|何时|什么时候|怎么|如何|为什么|为何|多少|哪些|哪里|吗|呢|有没有"
)
_DEMAND = re.compile(r"请求|要求|希望|建议|恳请|恳求|呼吁|盼|请.{0,6}(?:尽快|解决|处理|查处|整改|落实|协调)")
_ENUM = re.compile(
    r"(?:^|[。；;！!？?\s])(?:[一二三四五六七八九十]+[、.．]|\d{1,2}[、.．)）]|[（(]\d{1,2}[)）])"
)


def appeal_points(appeal: str, limit: int = 6) -> list[str]:
    """The questions, requests and numbered items of an appeal (the whole appeal if none).

    Numbered items are split first; then sentences that ask (?, 是否, 何时…) or demand (请求,
    希望…) are kept. Long appeals keep the first *limit* points: the rest is usually repetition.
    """
    text = strip_masks(appeal or "")
    parts: list[str] = []
    for chunk in _ENUM.split(text):
        parts.extend(split_sentences(chunk))
    points = [p for p in parts if len(p) >= 4 and (_QUESTION.search(p) or _DEMAND.search(p))]
    if not points:
        whole = text.strip()
        return [whole] if whole else []
    return points[:limit]


# --- reply features ---------------------------------------------------------------------------

_MEASURE = re.compile(
    r"(?:已经?|立即|当即|马上|随即|将|会|拟|计划|正在|及时|责令|督促|要求)[^。！!？?]{0,12}?"
    r"(?:责令|要求|安排|督促|组织|清理|清除|拆除|整改|维修|修复|修缮|处理|查处|约谈|协调|落实|制定|启动|"
    r"完成|开展|下达|立案|处罚|罚款|暂扣|关停|取缔|查封|疏通|更换|安装|加装|调整|恢复|制止|劝导|教育|"
    r"核查|调查|检查|巡查|整治|规范|退还|退费|补发|支付|发放|办理|解决)"
)
_EXPLAIN = re.compile(
    r"根据|依据|按照|依照|规定|政策|条例|办法|文件|通知|第[一二三四五六七八九十百\d]+条|条件|流程|"
    r"程序|材料|应当|符合|标准为|手续"
)
_TIME = re.compile(
    r"\d{4}\s*年|\d{1,2}\s*月\s*\d{0,2}\s*日?|\d+\s*个?(?:工作日|日|天|周|星期|个月|月)(?:内|前|后)?|"
    r"月底|月初|年底|年内|近期|本周|下周|本月|下月|[上下]半年|今年|明年|同日|当天|次日"
)
_PHONE = re.compile(
    r"\d{3,4}\s*[-—－]\s*\d{4}[-—－]?\d{3,8}|(?<!\d)1[3-9]\d{9}(?!\d)|\d{7,8}(?!\d)|0{3,4}-0{7,8}"
)
_CONTACT = re.compile(r"联系电话|咨询电话|服务电话|热线|拨打|致电|联系方式|联系人|来电|电话")
_UNIT = re.compile(
    r"[\u4e00-\u9fff]{1,12}?(?:局|委员会|委|办公室|办|中心|街道办事处|街道|政府|镇|乡|社区|居委会|村委会|"
    r"派出所|公司|大队|中队|支队|管理处|分局|医院|学校|所|站|部门)"
)
_REFERRAL = re.compile(
    r"已转|转交|转办|转至|移交|交由|转[^。！!]{0,10}(?:处理|办理|核实|调查)|"
    r"(?:请|建议)您?(?:直接)?(?:向|到|与|联系|咨询|致电|拨打|登陆|登录|前往|查询)|可(?:向|到|与|联系|咨询|致电|拨打|登录|登陆)"
)
_POLITE = (
    re.compile(r"您好|你好"),
    re.compile(r"感谢|谢谢|多谢"),
    re.compile(r"敬请|请您|烦请|欢迎"),
    re.compile(r"理解|支持|关心|关注|信任|监督"),
)
_APOLOGY = re.compile(r"抱歉|歉意|致歉|不便|对不起")
_BRUSH_OFF = re.compile(
    r"(?:不属于?|不在|非)(?:我|本)(?:单位|局|部门|委|办|中心|机关|镇|街道|司|院|所)?的?"
    r"(?:职责|职能|管辖|受理|业务|工作)(?:范围)?|"
    r"不归我|与我(?:单位|局|部门|们)?无关|无法(?:处理|解决|答复|受理)|不予(?:受理|处理|答复)|"
    r"请自行|自行(?:解决|协商|处理)|通过(?:法律|司法)途径|向法院起诉|诉讼解决"
)
_RECEIPT_ONLY = re.compile(r"已收悉|已收到|收悉")


def _content_len(text: str) -> int:
    return sum(1 for ch in normalize(text) if "\u4e00" <= ch <= "\u9fff" or ch.isalnum())


def _covered(term: str, reply_norm: str, reply_bigrams: set[str]) -> bool:
    if any(v in reply_norm for v in variants(term)):  # 的士 is covered by 出租车
        return True
    grams = char_ngrams(term, 2)
    if len(grams) < 2:
        return False
    return sum(1 for g in grams if g in reply_bigrams) * 2 >= len(grams)


def _timeliness(appeal_at: datetime | None, replied_at: datetime | None) -> tuple[float | None, str | None]:
    if appeal_at is None or replied_at is None:
        return None, None
    days = (replied_at - appeal_at).total_seconds() / 86400.0
    if days < 0:
        return None, "timeliness: 答复时间早于留言时间，未计时效 (reply predates appeal)"
    # Piecewise linear through (3, 100), (15, 60), (30, 30), (90, 0).
    knots = ((0.0, 100.0), (3.0, 100.0), (15.0, 60.0), (30.0, 30.0), (90.0, 0.0))
    score = 0.0
    for (x0, y0), (x1, y1) in pairwise(knots):
        if days <= x1:
            score = y0 + (y1 - y0) * (days - x0) / (x1 - x0)
            break
    label = "及时" if score >= 80 else "偏慢" if score >= 40 else "严重超时"
    return round(score, 1), f"timeliness: 留言后 {days:.1f} 天答复，{label} ({days:.1f} days)"


def _grade(total: float) -> Grade:
    return "good" if total >= _GOOD else "fair" if total >= _FAIR else "poor"


def score_reply(
    *,
    appeal: str,
    reply: str,
    appeal_at: datetime | None = None,
    replied_at: datetime | None = None,
) -> ReplyScore:
    """Score *reply* to *appeal* (subject and detail together) on 0–100; see the module docstring."""
    timeliness, time_reason = _timeliness(appeal_at, replied_at)
    reasons: list[str] = []
    reply = reply or ""
    length = _content_len(reply)
    if length == 0:
        reasons.append("empty: 答复为空 (empty reply)")
        if time_reason:
            reasons.append(time_reason)
        return ReplyScore(0.0, 0.0, 0.0, timeliness, 0.0, reasons, "poor")

    # Greeting, receipt formula, thanks and the closing date are not substance: the elements and
    # brush-off checks look at the rest (a closing date is no deadline, a user id no phone number).
    body = strip_masks(clean_reply(reply), repl="")
    reply_norm = normalize(body)
    reply_bigrams = set(char_ngrams(reply_norm, 2))

    # Relevance: weighted coverage of the appeal's key terms.
    terms = key_terms(appeal)
    if terms:
        total_w = sum(w for _, w in terms)
        hit = [t for t, _ in terms if _covered(t, reply_norm, reply_bigrams)]
        missed = [t for t, _ in terms if t not in hit]
        coverage = sum(w for t, w in terms if t in hit) / total_w
        relevance = min(100.0, 100.0 * coverage / 0.6)
        msg = f"relevance: 答复回应了留言关键词 {len(hit)}/{len(terms)} 个"
        if missed:
            msg += f"，未提及：{'、'.join(missed[:4])}"
        reasons.append(msg + f" (key terms covered {len(hit)}/{len(terms)})")
    else:
        relevance = 50.0
        reasons.append("relevance: 留言无可识别关键词，相关性按中等计 (no key terms in appeal)")

    # Completeness: points addressed + concrete elements.
    # A point made only of generic words ("请尽快处理") cannot be checked: it is left out, and
    # if nothing is left the appeal as a whole is the one point.
    point_terms = [t for t in (key_terms(p, top=5) for p in appeal_points(appeal)) if t]
    if not point_terms and terms:
        point_terms = [terms[:5]]
    points = point_terms
    addressed = 0
    for p_terms in point_terms:
        w_all = sum(w for _, w in p_terms)
        w_hit = sum(w for t, w in p_terms if _covered(t, reply_norm, reply_bigrams))
        if w_hit / w_all >= 0.4:
            addressed += 1
    point_score = 100.0 * addressed / len(points) if points else 50.0
    reasons.append(
        f"completeness.points: 留言诉求 {len(points)} 项，答复涉及 {addressed} 项 "
        f"(points addressed {addressed}/{len(points)})"
    )
    has_measure = bool(_MEASURE.search(body))
    has_explain = bool(_EXPLAIN.search(body))
    has_time = bool(_TIME.search(body))
    has_contact = bool(_PHONE.search(body)) or bool(_CONTACT.search(body))
    has_unit = bool(_UNIT.search(body))
    has_referral = bool(_REFERRAL.search(body))
    # "Please ask X" in a few lines is a pointer, not an answer: no substance, however polite.
    referral_only = has_referral and not has_measure and _content_len(body) < 100
    if referral_only:
        reasons.append("completeness.referral_only: 仅告知咨询或办理渠道，未直接答复 (referral only)")
    # Substance is a measure taken or planned (complaints) or a policy basis / conditions
    # (consultations); either counts, so no fragile appeal-type guess is needed.
    elements = {
        "substance": ((has_measure or has_explain) and not referral_only, 45),
        "time": (has_time, 20),
        "unit": (has_unit, 20),
        "contact": (has_contact, 15),
    }
    element_score = float(sum(w for ok, w in elements.values() if ok))
    names = {
        "substance": "具体措施或政策依据",
        "time": "时间或期限",
        "contact": "联系电话或联系人",
        "unit": "责任单位",
    }
    present = [names[k] for k, (ok, _) in elements.items() if ok]
    absent = [names[k] for k, (ok, _) in elements.items() if not ok]
    msg = "completeness.elements: 答复"
    msg += f"含{'、'.join(present)}" if present else "缺少具体内容"
    if absent:
        msg += f"；缺{'、'.join(absent)}"
    reasons.append(msg + f" (elements {len(present)}/{len(elements)})")
    completeness = 0.5 * point_score + 0.5 * element_score

    # Tone.
    tone = 60.0
    polite = sum(1 for rx in _POLITE if rx.search(reply))
    tone += min(30.0, 10.0 * polite)
    if _APOLOGY.search(reply):
        tone += 10.0
    brush = _BRUSH_OFF.search(body)
    if brush and not has_referral:
        tone -= 50.0
        reasons.append(
            f"tone.brush_off: 推诿用语“{brush.group(0)}”且未告知责任单位 (brush-off without referral)"
        )
    elif brush:
        tone -= 15.0
        reasons.append(f"tone.brush_off: 含“{brush.group(0)}”，但已指明去向 (brush-off with referral)")
    if length < 30:
        tone -= 25.0
        reasons.append(f"tone.short: 答复过短（{length} 字）(very short reply)")
        if _RECEIPT_ONLY.search(reply) and not has_measure and _content_len(body) < 15:
            tone -= 15.0
            reasons.append("tone.receipt_only: 仅告知已收悉，没有实质答复 (receipt only)")
    tone = max(0.0, min(100.0, tone))
    if polite:
        reasons.append(f"tone.polite: 使用礼貌用语 {polite} 类 (polite forms)")

    if time_reason:
        reasons.append(time_reason)

    parts = {"relevance": relevance, "completeness": completeness, "tone": tone}
    if timeliness is not None:
        parts["timeliness"] = timeliness
    weight_sum = sum(_WEIGHTS[k] for k in parts)
    total = sum(_WEIGHTS[k] * v for k, v in parts.items()) / weight_sum
    # A reply that does not engage with the appeal cannot be rescued by politeness or speed.
    if relevance < 25.0 and completeness < 40.0:
        total = min(total, _FAIR - 1.0)
        reasons.append("overall: 答复与留言内容基本无关 (reply does not engage with the appeal)")
    total = round(total, 1)
    return ReplyScore(
        total=total,
        relevance=round(relevance, 1),
        completeness=round(completeness, 1),
        timeliness=timeliness,
        tone=round(tone, 1),
        reasons=reasons,
        grade=_grade(total),
    )
