"""Reply quality: complete replies beat brush-offs, empty is poor, sub-scores behave."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from haoban.feedback.reply_quality import ReplyScore, appeal_points, score_reply

APPEAL = (
    "A5区劳动东路魅力之城小区临街门面油烟扰民。小区一楼门面开了多家烧烤夜宵店，油烟直排，每天营业到凌晨"
    "两点，噪音很大。请问相关部门能否尽快处理？希望责令安装油烟净化设备。"
)
COMPLETE = (
    "您好！您反映的魅力之城小区临街门面油烟扰民问题已收悉。A5区城管局于2019年9月6日组织执法人员到现场核查，"
    "确认3家烧烤夜宵店存在油烟直排、夜间噪音扰民问题，已当场下达《责令限期整改通知书》，要求其在10个工作日内"
    "安装油烟净化设备并停止凌晨经营。我局将加强夜间巡查，对拒不整改的依法处罚。如有疑问请联系A5区城管局，"
    "电话0731-12345678。感谢您对我们工作的支持！"
)
BRUSH_OFF = "此事不属于我单位职责范围。"
AT = datetime(2019, 9, 1, 10, 0)


def _score(reply: str, **kw: object) -> ReplyScore:
    return score_reply(appeal=APPEAL, reply=reply, **kw)  # type: ignore[arg-type]


def test_complete_reply_ranks_above_brush_off() -> None:
    good = _score(COMPLETE, appeal_at=AT, replied_at=AT + timedelta(days=5))
    bad = _score(BRUSH_OFF, appeal_at=AT, replied_at=AT + timedelta(days=5))
    assert good.total > bad.total + 40
    assert good.grade == "good" and bad.grade == "poor"
    assert good.relevance > bad.relevance and good.completeness > bad.completeness and good.tone > bad.tone
    assert any(r.startswith("tone.brush_off") for r in bad.reasons)
    assert all(":" in r for r in good.reasons + bad.reasons)  # "english.key: 中文说明"


def test_empty_reply_is_poor_with_a_reason() -> None:
    for empty in ("", "   ", "。。！"):
        s = _score(empty)
        assert s.grade == "poor" and s.total == 0.0
        assert any(r.startswith("empty:") and "答复为空" in r for r in s.reasons)


def test_receipt_only_and_unrelated_replies_are_poor() -> None:
    assert _score("网友：您好！留言已收悉").grade == "poor"
    unrelated = "您好！关于公积金贷款额度问题，根据规定最高可贷60万元，请咨询公积金中心，电话12329。谢谢！"
    s = _score(unrelated)
    assert s.grade == "poor" and any(r.startswith("overall:") for r in s.reasons)


def test_referral_softens_a_brush_off() -> None:
    plain = _score("油烟扰民问题不属于我局职责范围。")
    referred = _score(
        "油烟扰民问题不属于我局职责范围，已转A5区城管局处理，请您联系城管局，电话0731-1234567。"
    )
    assert referred.tone > plain.tone
    assert referred.total > plain.total


def test_timeliness() -> None:
    assert _score(COMPLETE).timeliness is None
    fast = _score(COMPLETE, appeal_at=AT, replied_at=AT + timedelta(days=2))
    slow = _score(COMPLETE, appeal_at=AT, replied_at=AT + timedelta(days=45))
    assert fast.timeliness == 100.0 and slow.timeliness is not None and slow.timeliness < 30
    assert fast.total > slow.total
    backwards = _score(COMPLETE, appeal_at=AT, replied_at=AT - timedelta(days=1))
    assert backwards.timeliness is None
    assert any(r.startswith("timeliness:") for r in backwards.reasons)
    # Without timeliness the other parts are rescaled, so a perfect reply can still reach 100.
    assert _score(COMPLETE).total >= fast.total - 5


def test_consultation_needs_an_explanation_not_a_measure() -> None:
    appeal = "咨询A市人才购房补贴需要什么条件？申请后多久能发放？"
    answer = (
        "您好！根据《A市人才购房及购房补贴实施办法》规定，全日制本科及以上学历人才在我市首次购房可申请补贴，"
        "需提供学历证明、社保缴纳证明和购房合同。审核通过后30个工作日内发放。咨询电话0731-88888888。"
    )
    s = score_reply(appeal=appeal, reply=answer)
    assert s.grade == "good"
    assert any(r.startswith("completeness.elements") and "具体措施或政策依据" in r for r in s.reasons)


def test_appeal_points() -> None:
    pts = appeal_points("小区门口路灯坏了。请问什么时候修？希望尽快安排维修。另外垃圾没人清运。")
    assert pts == ["请问什么时候修?", "希望尽快安排维修。"]  # NFKC-folded
    numbered = appeal_points("1、路灯何时修复？2、垃圾站能否搬迁？3、停车费是否合规？")
    assert len(numbered) == 3
    assert appeal_points("路灯坏了") == ["路灯坏了"]
    assert appeal_points("") == []


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.text(max_size=80), st.text(max_size=80))
def test_scores_are_bounded(appeal: str, reply: str) -> None:
    s = score_reply(appeal=appeal, reply=reply)
    for v in (s.total, s.relevance, s.completeness, s.tone):
        assert 0.0 <= v <= 100.0
    assert s.grade in ("good", "fair", "poor")
    assert s.reasons
