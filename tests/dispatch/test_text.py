from __future__ import annotations

from haoban.dispatch import text


def test_raw_and_presegmented_forms_normalise_alike() -> None:
    # The same message in train_sample_fields.csv (raw) and train_tokenised.csv (pre-segmented).
    raw = (
        "A市西湖建筑集团占道施工有安全隐患A3区大道西行便道，未管所路口至加油站路段，人行道包括路灯杆，"
        "被圈西湖建筑集团燕子山安置房项目施工围墙内。"
    )
    seg = (
        "市 西湖 建筑 集团 占 道 施工 安全隐患 A3 区 大道 西行 道 未管 路口 加油站 路段 "
        "人行道 包括 路灯 杆 圈 西湖 建筑 集团 燕子 山 安置 房 项目 施工 围墙"
    )
    assert text.prepare(raw) == text.prepare(seg)


def test_masked_places_keep_only_their_suffix() -> None:
    assert text.clean("D12市和G7县、A3区") == "市和县、区"
    # Ordinary Latin text is left alone.
    assert text.clean("CBD区 5A级景区") == "CBD区 5A级景区"


def test_stopwords_numbers_and_punctuation_are_dropped() -> None:
    toks = text.tokens("我们的小区2019年12月停水了！！！请尽快处理。")
    assert "的" not in toks and "我们" not in toks and "2019" not in toks and "！" not in toks
    assert "小区" in toks and "停水" in toks


def test_full_width_is_normalised_and_length_capped() -> None:
    assert text.clean("ＡＢＣ１２３") == "ABC123"
    assert len(text.clean("路" * (text.MAX_CHARS * 3))) == text.MAX_CHARS


def test_has_chinese_and_looks_presegmented() -> None:
    assert text.has_chinese("abc 停车") and not text.has_chinese("hello 123 😀")
    assert text.looks_presegmented("投诉 小区 物业 违规 收费 停车费")
    assert not text.looks_presegmented("投诉小区物业违规收停车费")
