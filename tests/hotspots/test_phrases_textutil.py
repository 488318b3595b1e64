"""Place and key-phrase extraction; the shared text helpers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from haoban.hotspots.phrases import PhraseStats, extract_place, key_phrases, place_candidates
from haoban.textutil import (
    char_ngrams,
    content_chars,
    decode_ngram,
    extract_districts,
    ngram_matrix_codes,
    normalize,
    shingles,
    split_sentences,
    strip_masks,
    tokenize,
)


def test_normalize_folds_full_width_and_case() -> None:
    assert normalize("Ａ３区　１１０ＫＶ  高压线") == "a3区 110kv 高压线"
    assert normalize("") == ""


def test_masks_and_districts() -> None:
    text = "A市A3区联丰路米兰春天G2栋，网友UU0081176反映；A7县也有"
    assert "A市" not in strip_masks(text) and "A3区" not in strip_masks(text)
    assert "UU0081176" not in strip_masks(text)
    assert "G2栋" in strip_masks(text)  # a building number is not a mask
    assert extract_districts(text) == ["A3区", "A7县"]
    assert extract_districts("Ａ２区丽发新城") == ["A2区"]


def test_sentences_ngrams_shingles() -> None:
    assert split_sentences("第一句。第二句！第三句？尾巴") == ["第一句。", "第二句！", "第三句？", "尾巴"]
    assert char_ngrams("丽发新城，噪音", 2) == ["丽发", "发新", "新城", "噪音"]
    assert content_chars("丽发 新城，噪音!") == "丽发新城噪音"
    assert shingles("停水") == {"停水"}
    assert shingles("丽发新城") == {"丽发新", "发新城"}
    assert shingles("，。") == set()


def test_tokenize_drops_stopwords_and_masks() -> None:
    words = tokenize("请问A市A3区用住房公积金买房贷款要带哪些证件？", search=True)
    assert "公积金" in words and "贷款" in words
    assert not {"请问", "哪些", "A3", "a3"} & set(words)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.text(alphabet=st.sampled_from(list("丽发新城噪音ＡＢab12，。 \n")), max_size=15), max_size=6)
)
def test_vectorised_ngrams_match_the_simple_ones(texts: list[str]) -> None:
    for n in (1, 2, 3):
        doc, code = ngram_matrix_codes(texts, n)
        got: list[list[str]] = [[] for _ in texts]
        for d, c in zip(doc.tolist(), code.tolist(), strict=True):
            got[d].append(decode_ngram(c, n))
        assert got == [char_ngrams(t, n) for t in texts]


def test_place_candidates_and_extract_place() -> None:
    cands = place_candidates("投诉A2区丽发新城附近建搅拌站噪音扰民，我们小区业主很苦恼")
    assert "丽发新城" in cands
    assert not any("我们" in c for c in cands)
    assert "伊景园滨河苑" in place_candidates("关于A市伊景园滨河苑捆绑销售车位的维权投诉")
    assert "市政府" not in place_candidates("请市政府关注")
    subjects = [
        "投诉A2区丽发新城附近建搅拌站噪音扰民",
        "丽发新城小区旁边建搅拌站",
        "A市丽发新城违建搅拌站，彻夜施工扰民",
        "投诉小区附近搅拌站噪音扰民",
    ]
    assert extract_place(subjects) == "丽发新城"
    assert extract_place(["路灯不亮", "垃圾没人清理"]) is None
    assert extract_place([]) is None


def test_key_phrases_prefer_cluster_specific_words() -> None:
    background = PhraseStats(["物业乱收费", "道路破损严重", "学校招生", "公积金贷款", "噪音扰民"] * 5)
    texts = [
        "丽发新城附近建搅拌站噪音扰民",
        "丽发新城小区旁边建搅拌站，灰尘污染",
        "搅拌站彻夜施工，噪音污染",
    ]
    phrases = key_phrases(texts, background, exclude=["丽发新城"])
    assert phrases[0] == "搅拌站"
    assert not any("丽发" in p for p in phrases)
    assert key_phrases([], background) == []
