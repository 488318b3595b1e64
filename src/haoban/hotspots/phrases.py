"""Readable descriptions of a group of appeals: key phrases and the place they are about.

Both work on a handful of texts (a cluster's members against a background sample), so they can
afford jieba even when the clustering itself could not.

Key phrases
    Candidate phrases are jieba words (≥ 2 characters, no stop words) and pairs of adjacent words
    ("噪音" + "扰民" → "噪音扰民", "滨河" + "苑" → "滨河苑"), which keeps compounds that jieba splits.
    A phrase scores ``share × idf``: the share of cluster members that contain it times its inverse
    document frequency in the background. Phrases contained in a better one are dropped.

Place
    Public data masks district names (A市, A3区) but keeps estate, road and village names, and a
    hotspot is usually "residents of X estate complain about Y". :func:`place_candidates` proposes
    every string of 2–8 characters that ends in a place suffix (小区, 花园, 新城, 苑, 路, 村…);
    :func:`extract_place` picks, among the candidates most members mention, the longest one — so
    "丽发新城" wins over "新城" and "投诉丽发新城" (fewer members say the latter).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

from haoban.textutil import HOTLINE_STOPWORDS, is_content_char, normalize, strip_masks, tokenize

__all__ = ["PhraseStats", "extract_place", "key_phrases", "phrase_candidates", "place_candidates"]

# Longest suffixes first so "新城小区" is seen as ending in 小区, not 区.
_PLACE_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        [
            "小区",
            "花园",
            "家园",
            "新城",
            "新村",
            "公寓",
            "大厦",
            "广场",
            "华府",
            "华庭",
            "雅苑",
            "名苑",
            "花苑",
            "公馆",
            "山庄",
            "别墅",
            "商城",
            "商业街",
            "步行街",
            "社区",
            "街道",
            "大道",
            "高速",
            "高铁",
            "地铁",
            "号线",
            "地铁站",
            "汽车站",
            "火车站",
            "公园",
            "学校",
            "小学",
            "中学",
            "学院",
            "大学",
            "幼儿园",
            "医院",
            "市场",
            "工业园",
            "产业园",
            "开发区",
            "新区",
            "片区",
            "水库",
            "项目",
            "楼盘",
            "苑",
            "府",
            "城",
            "园",
            "湾",
            "郡",
            "村",
            "组",
            "镇",
            "乡",
            "路",
            "街",
            "巷",
            "桥",
            "湖",
            "河",
            "里",
        ],
        key=len,
        reverse=True,
    )
)
# A place name does not contain these (function words, pronouns, "附近" etc.), so a candidate that
# does is a phrase like "在丽发新城" or "我们小区" rather than a name.
_PLACE_BREAKS = frozenset("的了在是和与对向从到于把被将及或我你他她们这那该本此其个各每等请问诉映要想让给说")
# Generic nouns that end in a place suffix but name no place.
_GENERIC_PLACES = frozenset(
    [
        "道路",
        "马路",
        "公路",
        "城市",
        "县城",
        "乡村",
        "农村",
        "城乡",
        "城区",
        "市区",
        "郊区",
        "小区",
        "社区",
        "街道",
        "学校",
        "医院",
        "公园",
        "市场",
        "项目",
        "楼盘",
        "线路",
        "思路",
        "出路",
        "门路",
        "销路",
        "老旧小区",
        "周边小区",
        "附近小区",
        "整个小区",
        "其他小区",
        "新建小区",
        "住宅小区",
        "安置小区",
        "居民小区",
        "商品房小区",
        "保障房小区",
        "开放式小区",
        "全市",
        "全省",
        "全国",
        "乡镇",
        "村组",
        "村民小组",
        "城镇",
        "新城区",
        "老城区",
        "中小学",
        "公办学校",
        "民办学校",
        "高速公路",
        "地铁站",
        "高铁站",
        "火车站",
        "汽车站",
        "停车场",
        "菜市场",
        "农贸市场",
        "各个小区",
    ]
)
_SUFFIX_SET = frozenset(_PLACE_SUFFIXES)
_SUFFIX_LENGTHS = tuple(sorted({len(x) for x in _PLACE_SUFFIXES}, reverse=True))
# Candidates ending in these are descriptions, not names ("市政府", "确定线路", "城市道路").
_GENERIC_ENDINGS = tuple(
    [
        "政府",
        "线路",
        "道路",
        "马路",
        "公路",
        "城市",
        "县城",
        "农村",
        "乡村",
        "城乡",
        "市区",
        "城区",
        "郊区",
        "思路",
        "出路",
        "全市",
        "全省",
        "学院路",
    ]
)
_MIN_PREFIX = 2
_MAX_PLACE = 10


def place_candidates(text: str) -> set[str]:
    """All strings of the text that look like a place name: 2–8 content characters + a place suffix.

    Anonymisation codes are removed first; candidates never cross punctuation or break words.
    """
    clean = normalize(strip_masks(text, repl="|"))
    out: set[str] = set()
    for end in range(_MIN_PREFIX + 1, len(clean) + 1):
        # The longest suffix ending here decides ("新城小区" ends in 小区, not 区).
        suf_len = next((k for k in _SUFFIX_LENGTHS if clean[end - k : end] in _SUFFIX_SET), 0)
        if not suf_len:
            continue
        start_suf = end - suf_len
        i = start_suf
        # Walk left over content characters, emitting each prefix of at least _MIN_PREFIX chars.
        while i > 0 and end - (i - 1) <= _MAX_PLACE:
            ch = clean[i - 1]
            if not is_content_char(ch) or ch in _PLACE_BREAKS:
                break
            i -= 1
            if start_suf - i >= _MIN_PREFIX:
                cand = clean[i:end]
                if (
                    cand not in _GENERIC_PLACES
                    and not cand.endswith(_GENERIC_ENDINGS)
                    and not cand[: start_suf - i].isdigit()
                ):
                    out.add(cand)
    return out


def extract_place(
    subjects: Sequence[str],
    details: Sequence[str] = (),
    *,
    min_share: float = 0.25,
    keep: float = 0.6,
) -> str | None:
    """The place that most of a group of appeals talk about, or None.

    An appeal votes 2 for each candidate in its subject (the citizen's own summary names the
    place) and 1 for each candidate only in its detail. The most voted candidate wins (the longer
    on ties: "丽发新城" over "发新城"), then is extended to the longest candidate that contains it
    and keeps ``keep ×`` its votes ("丽发新城" → "丽发新城小区" when most say so). It must be
    mentioned by ``min_share`` of the appeals (and by two, when there are two or more).
    """
    n = len(subjects)
    if n == 0:
        return None
    votes: Counter[str] = Counter()
    mentions: Counter[str] = Counter()
    for k, subject in enumerate(subjects):
        in_subject = place_candidates(subject)
        in_detail = place_candidates(details[k]) if k < len(details) else set()
        for c in in_subject | in_detail:
            votes[c] += 2 if c in in_subject else 1
            mentions[c] += 1
    if not votes:
        return None
    best = min(votes, key=lambda c: (-votes[c], -len(c), c))
    if mentions[best] < max(2 if n >= 2 else 1, math.ceil(min_share * n)):
        return None
    longer = [c for c in votes if best in c and votes[c] >= keep * votes[best]]
    return min(longer, key=lambda c: (-len(c), -votes[c], c))


def phrase_candidates(text: str) -> set[str]:
    """jieba words (≥ 2 chars, no stop words) and adjacent word pairs of 3–8 characters."""
    words = tokenize(text, stopwords=HOTLINE_STOPWORDS, keep_single=True)
    out = {w for w in words if len(w) >= 2 and not w.isdigit()}
    for a, b in pairwise(words):
        # A single character joins a pair only as a name suffix ("滨河"+"苑"); otherwise jieba's
        # leftovers make fragments like "号线松".
        if (len(a) == 1 and a not in _NAME_CHARS) or (len(b) == 1 and b not in _NAME_CHARS):
            continue
        pair = a + b
        if 3 <= len(pair) <= 8 and not pair.isdigit():
            out.add(pair)
    return out


_NAME_CHARS = frozenset("苑城园湾郡村路街站府楼栋镇乡桥湖河山")


class PhraseStats:
    """Document frequencies of phrase candidates in a background sample (the IDF side of key phrases)."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.df: Counter[str] = Counter()
        self.n = 0
        for t in texts:
            self.df.update(phrase_candidates(t))
            self.n += 1

    def idf(self, phrase: str) -> float:
        return math.log((self.n + 1) / (self.df.get(phrase, 0) + 1)) + 1.0


def key_phrases(
    texts: Sequence[str],
    background: PhraseStats,
    *,
    top: int = 5,
    min_share: float = 0.2,
    exclude: Iterable[str] = (),
) -> list[str]:
    """Top phrases of *texts* (a cluster) scored ``share × idf`` against *background*.

    A phrase must occur in at least ``min_share`` of the texts (and in two of them when there are
    two or more). Phrases that are part of a chosen phrase, or contain one, are skipped, as are
    those overlapping *exclude* (typically the place, which is reported separately).
    """
    if not texts:
        return []
    per_doc = [phrase_candidates(t) for t in texts]
    df: Counter[str] = Counter()
    for cands in per_doc:
        df.update(cands)
    n = len(texts)
    need = max(2 if n >= 2 else 1, math.ceil(min_share * n))
    scored = sorted(((k / n) * background.idf(p), p) for p, k in df.items() if k >= need)
    scored.sort(key=lambda sp: (-sp[0], -len(sp[1]), sp[1]))
    chosen: list[str] = []
    # Bigrams of the excluded strings: "暮云丽发" repeats the place "丽发新城" through "丽发".
    banned = {e[i : i + 2] for e in exclude if e for i in range(max(1, len(e) - 1))}
    for _, p in scored:
        if any(p in c or c in p for c in chosen):
            continue
        if any(p[i : i + 2] in banned for i in range(max(1, len(p) - 1))):
            continue
        chosen.append(p)
        if len(chosen) >= top:
            break
    return chosen
