"""Where a report is about: roads, crossings, estates and landmarks, house numbers (地点抽取与归一).

Callers name one place in many ways: "红湘路与解放大道交叉口", "解放大道红湘路路口", "红湘路和解放大道路口"
are one crossing; "丽发新城小区" and "丽发新城社区" one estate. :func:`extract_places` turns a text
into a small set of normalised keys that two reports of one place share:

``road:红湘路``
    a road, street or lane (路, 大道, 街, 巷, 公路, 国道 …). Digits-only names are bus routes (6路) and
    are skipped.
``cross:红湘路|解放大道``
    two roads named together with a connector (与, 和, 及, 、) or run together, followed by a crossing
    word (交叉口, 路口, 交汇处, 十字路口, 口 …): the pair is sorted, so the order does not matter.
``no:谷园路|39``
    a house number on a road.
``spot:丽发新城``
    an estate, landmark or village (小区, 花园, 新城, 广场, 医院, 学校, 村 …).
``org:利聚`` (an organisation)
    a company, platform or home named by several callers is the place of a fraud, wage or service
    complaint: "西地省聚利人普惠投资有限公司", "利聚网平台". The name before 公司/集团/平台/网/公寓 is cut to
    its trade name (字号): the region before it and the trade words after it (投资, 实业发展, 养老 …)
    go, as a company name is built (region + trade name + trade + form). Its characters are sorted,
    so a name spelt in another order is one key (聚利 = 利聚), and a trade name of 3–4 characters
    also yields its first two (聚利人 → 聚利, for the platform "利聚网"). Utilities and other names
    every caller may mention (供电公司, 物业公司, 开发商) are no key.
``whole:泉水村`` (a whole three-character name)
    a spot name of two characters and a one-character suffix with a break right before it ("…镇泉水村",
    "A市双水湾小区"): the whole name, not the tail of a longer one (力之城 of 魅力之城), so two reports that
    share it name one place as surely as an estate.
``spot:十里天池`` (a bare estate name)
    callers often drop the suffix: "南山十里天池小区" and "我是南山十里天池的业主". A name before 小区 or
    社区, or before (的)业主 ("the owners of …"), and any name of the learnt list *names* (estates that
    recur as the subject of 小区 complaints, ``wordlists/estate_names.txt``) also yields its bare tails
    of 4–6 characters, so both reports share "spot:十里天池".

Names are found right to left from a place suffix, the way :func:`haoban.hotspots.phrases.place_candidates`
does; a name never reaches back over punctuation, a function word, a district or street from the
gazetteer, or the end of the place before it. Each occurrence yields its *tails* — the name cut to
its last 2, 3 … characters plus the suffix — so "咨询红湘路" and "红湘路" share "road:红湘路" even
though the first one's left edge is wrong. A key that contains a problem term ("垃圾站", "搅拌站")
describes the problem, not the place, and is dropped — unless the term stands right before an estate's
suffix after a name of its own ("一师范安置小区", "朝阳烧烤城"): then it is part of the name, the key is
kept, and :func:`analyse` says where the term stands, so that it names no problem of the report.

Pure and fast (one left-to-right scan, ~50 µs for a typical report), no database.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["PlaceSet", "analyse", "extract_places", "org_names", "place_spans"]

ROAD_SUFFIXES: tuple[str, ...] = ("大道", "大街", "公路", "国道", "省道", "高速", "路", "街", "巷")
SPOT_SUFFIXES: tuple[str, ...] = (
    "小区", "花园", "家园", "新城", "新村", "公寓", "大厦", "广场", "华府", "华庭", "公馆", "山庄", "商城",
    "名苑", "雅苑", "花苑", "社区", "公园", "学校", "小学", "中学", "学院", "大学", "幼儿园", "医院",
    "卫生院", "市场", "超市", "酒店", "宾馆", "商场", "车站", "大桥", "隧道", "校区", "景区", "物流园",
    "工业园", "产业园", "苑", "府", "城", "园", "湾", "郡", "庭", "村", "桥", "湖", "站", "寺", "厂",
)  # fmt: skip
# Administrative areas: they bound a name but are too large to say "the same place".
AREA_SUFFIXES: tuple[str, ...] = ("街道", "镇", "乡", "区", "县", "市", "省")

_SUFFIXES = sorted(
    [(s, "road") for s in ROAD_SUFFIXES]
    + [(s, "spot") for s in SPOT_SUFFIXES]
    + [(s, "area") for s in AREA_SUFFIXES],
    key=lambda x: -len(x[0]),
)
_SUFFIX_CLASS = dict(_SUFFIXES)
_SUFFIX_LENS = sorted({len(s) for s, _ in _SUFFIXES}, reverse=True)

# Characters that never belong to a place name (function words, verbs of complaint, pronouns).
_BREAK_CHARS = frozenset(
    "的了在是和与及或跟同至到往从于把被将对向给让说请问诉映要想我你他她它们这那该本此其每等个"
)
# Words that end a name on their left even though their characters could be part of one ("小区配套小学":
# the estate's own school, no school named 配套).
_BREAK_WORDS: tuple[str, ...] = (
    "附近", "周边", "旁边", "对面", "门口", "一带", "路段", "路口", "交叉口", "交汇处", "交界处", "十字路口",
    "楼下", "里面", "外面", "后面", "前面", "东边", "西边", "南边", "北边", "关于", "反映", "投诉", "咨询",
    "举报", "建议", "希望", "请求", "强烈", "严重", "经常", "一直", "每天", "晚上", "半夜", "凌晨", "今天",
    "昨天", "目前", "现在", "居民", "业主", "市民", "临街", "沿街", "配套",
)  # fmt: skip
# Names that end in a suffix but name no particular place.
_GENERIC: frozenset[str] = frozenset(
    [
        "道路",
        "马路",
        "公路",
        "线路",
        "思路",
        "出路",
        "门路",
        "销路",
        "电路",
        "水路",
        "网路",
        "一路",
        "沿路",
        "上路",
        "半路",
        "走路",
        "修路",
        "过路",
        "让路",
        "带路",
        "这条路",
        "那条路",
        "城市",
        "县城",
        "城区",
        "城乡",
        "市区",
        "郊区",
        "全城",
        "进城",
        "小区",
        "社区",
        "学校",
        "医院",
        "公园",
        "市场",
        "车站",
        "街道",
        "大街",
        "农村",
        "乡村",
        "本村",
        "全村",
        "该村",
        "村组",
        "中小学",
        "老旧小区",
        "周边小区",
        "附近小区",
        "整个小区",
        "我们小区",
        "本小区",
        "该小区",
        "居民小区",
        "住宅小区",
        "安置小区",
        "新建小区",
        "商品房小区",
        "停车场",
        "菜市场",
        "农贸市场",
        "公交站",
        "地铁站",
        "火车站",
        "汽车站",
        "高铁站",
        "加油站",
        "派出所",
        "国道",
        "高速",
        "省道",
        "大道",
        "小巷",
        "街巷",
        "背街小巷",
        "公立幼儿园",
        "公办幼儿园",
        "民办幼儿园",
        "幼儿园",
        "小学",
        "中学",
        "大学",
        "学院",
        "超市",
        "酒店",
        "宾馆",
        "商场",
        "工厂",
        "厂",
        "桥",
        "湖",
        "站",
        "寺",
        "苑",
        "府",
        "城",
        "园",
        "湾",
        "郡",
        "庭",
        "村",
    ]
)  # fmt: skip
# Endings that look like a place suffix but name an institution or an act: "期盼政府" (府),
# "办成公办园", "九月开园" (园), "老板跑路" (abscond), "套路" (a trick).
_NOT_PLACE_ENDINGS: tuple[str, ...] = ("政府", "办园", "开园", "入园", "建园", "出路", "生路", "跑路", "套路")
# Words whose first character is a place suffix: "开展城镇…" names no 城, "找城管" no 城, "长株潭城际铁路"
# (intercity) no 长株潭城.
_NOT_PLACE_WORDS: frozenset[str] = frozenset({"城镇", "城管", "城乡", "城区", "城市", "城际"})
# "路口" and "交叉口" are not breaks: their 路 may end a road ("红湘路口").
_BREAK_WORDS_RE = re.compile(
    "|".join(re.escape(w) for w in sorted(set(_BREAK_WORDS) - {"路口", "交叉口"}, key=len, reverse=True))
)
# One scan: breaks (anything not a content character, break characters, break words) are tried
# before suffixes at each position; suffixes longest first ("新城小区" ends in 小区, not 区).
_TOKEN_RE = re.compile(
    "(?P<b>[^\u4e00-\u9fff0-9a-z]|["
    + re.escape("".join(sorted(_BREAK_CHARS)))
    + "]|"
    + _BREAK_WORDS_RE.pattern
    + ")|(?P<s>"
    + "|".join(re.escape(x) for x, _ in _SUFFIXES)
    + ")"
)
_CROSS_WORDS: tuple[str, ...] = (
    "十字路口",
    "交叉路口",
    "交叉口",
    "交汇处",
    "交界处",
    "交汇",
    "交叉",
    "路口",
    "丁字路口",
    "口",
)
_CONNECTORS = frozenset("与和及跟、/")
_MASK_RE = re.compile(r"[A-Z]{1,2}\d{0,3}[市区县]|[A-Z]{1,3}\d{4,}")
_NUMBER_RE = re.compile(r"\d{1,5}(?=号)")
_MAX_NAME = 8
_MIN_NAME = 2
# A problem term right before an estate's suffix may be part of its name (一师范安置小区): the stem
# before it needs this many characters, no complaint word, and the suffix is no stop or school
# (完善公交站, 划分入学学校).
_NAMED_MIN = 2
_NAMED_NOT_SUFFIXES = frozenset({"站", "车站", "学校", "小学", "中学", "幼儿园"})
_NAMED_NOT_STEM = re.compile(
    "尽快|领导|非法|违法|违规|擅自|私自|关注|要求|请求|希望|建议|解决|问题|投诉|反映|咨询|关于|请问|何时|政府|部门"
    "|开发商|没有|影响|导致|造成|严重|优化|完善|具体|增加|增设|取消|排入|进入"
)
# Bare estate names: the suffixes whose name is an estate's whole name, the owners' marker, and the
# lengths of bare tails (shorter ones are too often words: 时代, 国际).
_ESTATE_SUFFIXES = frozenset({"小区", "社区"})
_OWNERS_RE = re.compile("的?业主")
_BARE_MIN, _BARE_MAX = 4, 6
# Words that stand before 业主 but name a share of the owners or what is done to them, not an
# estate (广大业主, 全体业主, 影响业主, 通知业主).
_NOT_ESTATE = re.compile(
    "众位|各位|广大|全体|所有|部分|很多|许多|一些|其他|其它|大多|多数|新老|相关|个别|少数|房屋|购房|入住|小区"
    "|一期|二期|三期|影响|导致|以后|造成|损害|侵害|维护|保障|保护|通知|告知|欺骗|伤害|要求|组织|联系|号召"
    "|普通|一名|一位|一个|一房"
)
_BUILDING_TAIL = re.compile(r"(?:[0-9a-z]+[期栋号楼座单元户]*)+$")
_NAME_CHAR = re.compile(r"[\u4e00-\u9fff0-9a-z]")
MAX_CHARS = 400

# Organisations (``org:`` keys): a form word after the name, the trade words that stand between the
# trade name and the form (stripped from the right, repeatedly), and trade names that are no
# particular organisation (utilities and services that any caller may name).
_ORG_RE = re.compile("股份有限公司|有限责任公司|有限公司|集团|公司|平台|网|公寓")
_ORG_TRADE = re.compile(
    "(?:普惠|投资|实业|发展|科技|贸易|汽车|资产|管理|置业|房地产|地产|开发|建设|建筑|工程|教育|培训|咨询"
    "|网络|信息|文化|传媒|商贸|物业|服务|金融|控股|股份|集团|健康|医疗|养老|旅游|物流|餐饮|酒店|电子|商务"
    "|技术|国际|中国|有限|责任|总|分|子|网|平台|公司)$"
)
_ORG_REGION = re.compile(
    ".*[省市县区州]|(?:中国|北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北"
    "|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门|衡阳)+"
)
_ORG_NOT: frozenset[str] = frozenset(
    {
        "自来水", "供水", "供电", "电力", "燃气", "物业", "公交", "移动", "联通", "电信", "国家电", "国家",
        "开发", "开发商", "互联", "上", "官", "路", "管", "联", "水", "电", "光", "铁", "局域", "物联",
        "保险", "银行", "快递", "出租", "家政", "中介", "担保", "劳务", "装修", "施工", "建筑", "网约",
    }
)  # fmt: skip
_ORG_MAX = 10


@dataclass(frozen=True, slots=True)
class PlaceSet:
    """The place keys of one text (``road:…``, ``cross:…|…``, ``no:…|…``, ``spot:…``) and its roads'
    canonical names. Either may be a tuple (the index stores them so: a tuple is a fifth the size)."""

    keys: Collection[str]
    roads: Collection[str]

    @property
    def empty(self) -> bool:
        return not self.keys

    @property
    def crossings(self) -> set[tuple[str, str]]:
        return {tuple(k[6:].split("|", 1)) for k in self.keys if k.startswith("cross:")}  # type: ignore[misc]

    @property
    def numbers(self) -> set[tuple[str, str]]:
        return {tuple(k[3:].split("|", 1)) for k in self.keys if k.startswith("no:")}  # type: ignore[misc]


def _normalise(text: str, blanks: Iterable[str]) -> str:
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])
    text = _MASK_RE.sub("|", text).lower()[:MAX_CHARS]
    pattern = _blank_re(tuple(blanks))
    if pattern is not None:
        text = pattern.sub(lambda m: "|" * len(m.group()), text)
    return text


@lru_cache(maxsize=8)
def _blank_re(names: tuple[str, ...]) -> re.Pattern[str] | None:
    if not names:
        return None
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


@lru_cache(maxsize=8)
def _problem_terms(terms: frozenset[str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    return re.compile("|".join(map(re.escape, sorted(terms, key=len, reverse=True))))


def place_spans(text: str) -> list[tuple[int, int, int, str]]:
    """Place names in normalised *text*: (start, suffix start, end, class), left to right.

    ``start`` is the maximal left edge (the name may carry a prefix such as a verb: its tails fix it).
    One regex scan finds the breaks and the suffixes; the text between them is name material.
    """
    barrier = 0  # a name never reaches left of this (end of the previous place, or a break)
    out: list[tuple[int, int, int, str]] = []
    for m in _TOKEN_RE.finditer(text):
        if m.lastgroup == "b":
            barrier = m.end()
            continue
        i, found = m.start(), m.group()
        cls = _SUFFIX_CLASS[found]
        start = max(barrier, i - _MAX_NAME)
        name = text[start:i]
        if found == "路" and len(name) < _MIN_NAME and text.startswith("路口", i):
            barrier = i + 2  # "…路路口": the second 路 starts the crossing word, not a road
            continue
        if len(name) >= _MIN_NAME and not name.isdigit():
            out.append((start, i, m.end(), cls))
            barrier = m.end()
    return out


def extract_places(
    text: str, *, blanks: Iterable[str] = (), problem_terms: frozenset[str] = frozenset()
) -> PlaceSet:
    """The place keys of *text*. *blanks*: names to blank out first (districts, streets of the
    gazetteer: they say where in the city, not which place); *problem_terms*: keys containing one
    of them are dropped (they name the problem: 垃圾站, 搅拌站)."""
    return analyse(text, blanks=blanks, problem_terms=problem_terms)[0]


def _terms_in_name(
    name: str, suffix: str, cls: str, problems: re.Pattern[str] | None
) -> list[tuple[int, int]] | None:
    """Where a problem term stands in the place name *name* (ending in *suffix*), or None when the
    name describes the problem rather than a place.

    A name with a problem term in it names the problem (垃圾站, 搅拌站, 拆迁安置小区, 油烟排入小区), with
    one exception: an estate or landmark whose name puts one term right before its suffix, after a
    stem of at least ``_NAMED_MIN`` characters with no other term and no complaint word in it
    (一师范安置小区, 泉塘安置小区, 朝阳烧烤城). That place is kept, and the term, which names no problem
    of the report, is returned. Not for roads, stops or schools (完善公交站 is a wish, not a stop)."""
    if problems is None:
        return []
    found = [(m.start(), m.end()) for m in problems.finditer(name)]
    if not found:
        return []
    body = len(name) - len(suffix)
    if (
        len(found) == 1
        and found[0][1] == body
        and found[0][0] >= _NAMED_MIN
        and cls == "spot"
        and suffix not in _NAMED_NOT_SUFFIXES
        and not _NAMED_NOT_STEM.search(name, 0, found[0][0])
    ):
        return found
    return None


def _bare_tails(name: str, problems: re.Pattern[str] | None) -> list[str]:
    """Tails of 4–6 characters of a bare estate name (its left edge may carry junk)."""
    out = []
    for n in range(_BARE_MIN, min(_BARE_MAX, len(name)) + 1):
        t = name[-n:]
        if t[0].isdigit() or _NOT_ESTATE.search(t) or (problems is not None and problems.search(t)):
            continue
        out.append(t)
    return out


def _owners_names(norm: str, ends: Collection[int]) -> Iterable[tuple[int, int]]:
    """(start, end) of the names in "是…(的)业主" ("我是南山十里天池的业主", "我们是X业主"): the run of
    name characters back to 是, at most 8 long, not over the end of a place found before. Without
    the 是 the run is too often a phrase (半数以上业主, 未经相邻业主同意)."""
    for m in _OWNERS_RE.finditer(norm):
        end = m.start()
        start = end
        while start > 0 and end - start < _MAX_NAME and start not in ends:
            c = norm[start - 1]
            if c in _BREAK_CHARS or not _NAME_CHAR.match(c):
                break
            start -= 1
        if start == 0 or norm[start - 1] != "是":
            continue
        m2 = _BUILDING_TAIL.search(norm, start, end)
        if m2 is not None:
            end = m2.start()  # "长房云时代13栋的业主": the building is not the estate's name
        if end - start >= _BARE_MIN and not _BREAK_WORDS_RE.search(norm, start, end):
            yield start, end


def org_names(norm: str, problems: re.Pattern[str] | None = None) -> list[tuple[int, int, str]]:
    """Organisations in normalised *norm*: (start, end, trade name).

    The name is the run of name characters before a form word (公司, 集团, 平台, 网, 公寓), at most
    ``_ORG_MAX`` long, cut after its region (省 市 县 区 州, or a province written bare: "湖南衡利人…")
    and stripped of trade words on the right ("普惠投资", "实业发展"); the trade name left must be 2–4
    characters, hold no problem term and not be a common service ("供电公司")."""
    out = []
    for m in _ORG_RE.finditer(norm):
        end = m.start()
        start = end
        while start > 0 and end - start < _ORG_MAX:
            c = norm[start - 1]
            if c in _BREAK_CHARS or not _NAME_CHAR.match(c):
                break
            start -= 1
        name = norm[start:end]
        region = _ORG_REGION.match(name)
        if region is not None:
            name = name[region.end() :]
        while (t := _ORG_TRADE.search(name)) is not None and t.start() >= 2:
            name = name[: t.start()]
        if not 2 <= len(name) <= 4 or name in _ORG_NOT or any(c.isdigit() for c in name):
            continue
        if any(len(w) >= 2 and name.endswith(w) for w in _ORG_NOT):
            continue  # "找供电公司": a service with a verb before it
        if problems is not None and problems.search(name):
            continue
        if _BREAK_WORDS_RE.search(name):
            continue
        out.append((start, m.end(), name))
    return out


def analyse(
    text: str,
    *,
    blanks: Iterable[str] = (),
    problem_terms: frozenset[str] = frozenset(),
    names: Collection[str] = frozenset(),
) -> tuple[PlaceSet, str, list[tuple[int, int]], list[tuple[int, int]]]:
    """:func:`extract_places`, the normalised text, where in it the place names stand, and where
    problem terms stand that are part of a place's name (安置 in 一师范安置小区: no problem of the report).

    *names*: bare estate names learnt from earlier reports (``wordlists/estate_names.txt``)."""
    norm = _normalise(text or "", blanks)
    problems = _problem_terms(problem_terms)
    keys: set[str] = set()
    roads: list[tuple[int, int, str]] = []  # (start of name, end, road key name)
    spans: list[tuple[int, int]] = []
    named: set[tuple[int, int]] = set()  # problem words that are part of a place's name
    found = place_spans(norm)
    for start, end in _owners_names(norm, {e for _, _, e, _ in found}):
        keys.update("spot:" + t for t in _bare_tails(norm[start:end], problems))
        spans.append((start, end))
    if names:
        lens = sorted({len(n) for n in names}, reverse=True)
        i, n = 0, len(norm)
        while i < n:
            for ln in lens:
                if norm[i : i + ln] in names:
                    keys.update("spot:" + t for t in _bare_tails(norm[i : i + ln], problems))
                    spans.append((i, i + ln))
                    i += ln - 1
                    break
            i += 1
    for start, suf_start, end, cls in found:
        spans.append((start, end))
        if cls == "area":
            continue
        if norm[suf_start:end] in _ESTATE_SUFFIXES:
            bare = norm[max(start, suf_start - _BARE_MAX) : suf_start]
            keys.update("spot:" + t for t in _bare_tails(bare, problems))
        if norm[max(0, end - 2) : end] in _NOT_PLACE_ENDINGS or norm[end - 1 : end + 1] in _NOT_PLACE_WORDS:
            continue
        tails = []
        # At most four tails (names of 2–5 characters): longer prefixes are the junk a tail removes.
        for cut in range(suf_start - _MIN_NAME, max(start, suf_start - 5) - 1, -1):
            name = norm[cut:end]
            if name in _GENERIC:
                continue
            inside = _terms_in_name(name, norm[suf_start:end], cls, problems)
            if inside is None:
                continue
            if norm[cut].isdigit() or norm[cut] == "号":
                continue  # "39号维也纳酒店": the number belongs to the road before it
            tails.append(name)
            named.update((cut + s, cut + e) for s, e in inside)
        if not tails:
            continue
        prefix = "road:" if cls == "road" else "spot:"
        keys.update(prefix + t for t in tails)
        if (
            cls == "spot"
            and suf_start - start == _MIN_NAME
            and end - suf_start == 1
            and tails == [norm[start:end]]
        ):
            keys.add("whole:" + tails[0])  # nothing but a break before its two name characters
        if cls == "road":
            # The shortest tail is the road's canonical name for crossings and numbers: both callers
            # write at least that much of it.
            roads.append((start, end, tails[0]))
            m = _NUMBER_RE.match(norm, end)
            if m:
                keys.add(f"no:{tails[0]}|{m.group()}")
    for start, end, key in org_names(norm, problems):
        keys.add("org:" + "".join(sorted(key)))
        if len(key) >= 3:
            keys.add("org:" + "".join(sorted(key[:2])))
        spans.append((start, end))
    for (_, e1, r1), (s2, e2, r2) in itertools.pairwise(roads):
        gap = norm[e1:s2]
        if len(gap) > 1 or (gap and gap not in _CONNECTORS) or r1 == r2:
            continue
        after = norm[e2 : e2 + 6]
        if any(after.startswith(w) for w in _CROSS_WORDS) or any(
            w in after[:5] for w in ("交叉", "交汇", "路口")
        ):
            pair = (min(r1, r2), max(r1, r2))
            keys.add(f"cross:{pair[0]}|{pair[1]}")
    places = PlaceSet(keys=frozenset(keys), roads=frozenset(r for _, _, r in roads))
    return places, norm, spans, sorted(named)
