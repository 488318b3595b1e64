from __future__ import annotations

import pytest

from haoban.dispatch.gazetteer import HENGYANG_DISTRICTS, Gazetteer, default_gazetteer, find_district


def test_district_name() -> None:
    m = find_district("我住在衡阳市珠晖区，小区门口路灯坏了")
    assert m is not None and m.district == "珠晖区" and m.surface == "珠晖区" and m.kind == "district"


def test_longest_match_wins() -> None:
    # 蔡子池街道 (5 characters) beats 耒阳市 (3) and the alias 耒阳 (2).
    m = find_district("耒阳市蔡子池街道某小区噪音扰民")
    assert m is not None and m.surface == "蔡子池街道" and m.district == "耒阳市"
    # 衡南县 beats its alias 衡南 at the same place.
    m = find_district("衡南县车江镇")
    assert m is not None and m.surface in ("衡南县", "车江镇") and m.district == "衡南县"


def test_equal_length_first_occurrence_wins() -> None:
    m = find_district("从石鼓区搬到雁峰区")
    assert m is not None and m.district == "石鼓区" and m.start == 1


def test_towns_map_to_their_county() -> None:
    for text, district in [
        ("西渡镇", "衡阳县"),
        ("白果镇", "衡山县"),
        ("水口山镇", "常宁市"),
        ("祝融街道", "南岳区"),
    ]:
        m = find_district(f"反映{text}的问题")
        assert m is not None and m.district == district, text


def test_masked_codes_of_the_public_data() -> None:
    m = find_district("A市A3区杜鹃文苑小区")
    assert m is not None and m.surface == "A3区" and m.kind == "masked"
    assert find_district("A市的问题") is None  # a masked city, not a district


def test_no_match_and_empty() -> None:
    assert find_district("今天天气很好") is None
    assert find_district("") is None


def test_extra_entries_and_custom_gazetteer() -> None:
    g = default_gazetteer().extended({"华新开发区": "蒸湘区", "珠晖区": "珠晖区"})
    m = find_district("华新开发区某小区", gazetteer=g)
    assert m is not None and m.district == "蒸湘区" and m.kind == "extra"
    custom = Gazetteer({"岳麓区": "岳麓区"}, match_masked=False)
    assert find_district("A3区", gazetteer=custom) is None
    assert find_district("长沙岳麓区", gazetteer=custom).district == "岳麓区"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        Gazetteer({"": "x"})


def test_every_district_is_known() -> None:
    assert set(default_gazetteer().districts) == set(HENGYANG_DISTRICTS)
